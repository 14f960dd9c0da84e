package scan

import (
	"encoding/json"
	"errors"
	"testing"
)

// aff builds an Affected from its JSON (the OSV schema's own spelling).
func aff(t *testing.T, js string) *Affected {
	t.Helper()
	var a Affected
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatalf("bad test record %s: %v", js, err)
	}
	return &a
}

func TestAffectsVersion(t *testing.T) {
	const (
		fixed123    = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.2.3"}]}]}`
		lastAff15   = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"last_affected":"1.5"}]}]}`
		limit20     = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"},{"limit":"2.0"}]}]}`
		limitFixed  = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"3.0"},{"limit":"2.0"}]}]}`
		twoWindows  = `{"ranges":[{"type":"ECOSYSTEM","events":[{"fixed":"2.2.10"},{"introduced":"2.2"},{"fixed":"1.11.28"},{"introduced":"1.11"}]}]}`
		gitFirst    = `{"ranges":[{"type":"GIT","repo":"https://github.com/django/django","events":[{"introduced":"0"},{"fixed":"eb31d845323618d688ad429479c6dda973056136"}]},{"type":"ECOSYSTEM","events":[{"introduced":"2.2"},{"fixed":"2.2.10"}]}]}`
		gitOnly     = `{"ranges":[{"type":"GIT","repo":"https://example.com/r","events":[{"introduced":"aaaa1111"},{"fixed":"bbbb2222"}]}]}`
		versionList = `{"versions":["1.0.0","1.0.1"]}`
		semverV     = `{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"v1.4.2"}]}]}`
		fixed10     = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0"}]}]}`
		fixedPost   = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0.post1"}]}]}`
		fixed101    = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0.1"}]}]}`
		debEpoch    = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1:1.0-1"}]}]}`
		debTilde    = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.0-1"}]}]}`
		goPseudo    = `{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"0.0.0-20210101000000-abcdef123456"}]}]}`
		goFixed120  = `{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"1.2.0"}]}]}`
		npmFixed    = `{"ranges":[{"type":"SEMVER","events":[{"introduced":"0"},{"fixed":"4.17.21"}]}]}`
		npmPreIntro = `{"ranges":[{"type":"SEMVER","events":[{"introduced":"1.0.0-beta.2"},{"fixed":"1.0.0"}]}]}`
		badEvent    = `{"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"not a version!"}]}]}`
		unknownType = `{"ranges":[{"type":"FANCY","events":[{"introduced":"0"}]}]}`
	)
	tests := []struct {
		name, eco, a, version, commit string
		want                          bool
		err                           error
	}{
		{"before fixed", "PyPI", fixed123, "1.2.2", "", true, nil},
		{"at fixed", "PyPI", fixed123, "1.2.3", "", false, nil},
		{"after fixed", "PyPI", fixed123, "1.10", "", false, nil},
		{"last_affected itself", "PyPI", lastAff15, "1.5", "", true, nil},
		{"after last_affected", "PyPI", lastAff15, "1.5.1", "", false, nil},
		{"before introduced", "PyPI", lastAff15, "0.9", "", false, nil},
		{"below limit", "PyPI", limit20, "1.9", "", true, nil},
		{"at limit", "PyPI", limit20, "2.0", "", false, nil},
		{"limit bounds a later fixed", "PyPI", limitFixed, "2.5", "", false, nil},
		{"limit keeps earlier", "PyPI", limitFixed, "1.5", "", true, nil},
		{"unsorted events, first window", "PyPI", twoWindows, "1.11.5", "", true, nil},
		{"unsorted events, between windows", "PyPI", twoWindows, "2.0", "", false, nil},
		{"unsorted events, second window", "PyPI", twoWindows, "2.2.0", "", true, nil},
		{"GIT range first does not hide ECOSYSTEM", "PyPI", gitFirst, "2.2.0", "", true, nil},
		{"GIT range first, fixed version", "PyPI", gitFirst, "2.2.10", "", false, nil},
		{"GIT without commit is not evaluated", "PyPI", gitOnly, "1.0", "", false, nil},
		{"GIT with the introducing commit", "PyPI", gitOnly, "", "aaaa1111", true, nil},
		{"GIT with another commit", "PyPI", gitOnly, "", "cccc3333", false, nil},
		{"versions list hit", "npm", versionList, "1.0.1", "", true, nil},
		{"versions list miss", "npm", versionList, "1.0.2", "", false, nil},
		{"versions list, Go v prefix", "Go", versionList, "v1.0.0", "", true, nil},
		{"versions list, unsupported ecosystem, exact", "Foo", versionList, "1.0.0", "", true, nil},
		{"SEMVER v prefix", "Go", semverV, "1.4.1", "", true, nil},
		{"SEMVER v prefix at fix", "Go", semverV, "v1.4.2", "", false, nil},
		// PEP 440
		{"PEP 440 dev release before final", "PyPI", fixed10, "1.0.dev1", "", true, nil},
		{"PEP 440 rc before final", "PyPI", fixed10, "1.0rc1", "", true, nil},
		{"PEP 440 post after final", "PyPI", fixed10, "1.0.post1", "", false, nil},
		{"PEP 440 final before post fix", "PyPI", fixedPost, "1.0", "", true, nil},
		{"PEP 440 local version", "PyPI", fixed101, "1.0+ubuntu1", "", true, nil},
		{"PEP 440 normalized spelling", "PyPI", fixed10, "1.0-RC1", "", true, nil},
		{"PEP 440 epoch", "PyPI", fixed10, "1!0.5", "", false, nil},
		// Maven
		{"Maven SNAPSHOT before release", "Maven", fixed10, "1.0-SNAPSHOT", "", true, nil},
		{"Maven alpha before release", "Maven", fixed10, "1.0-alpha-1", "", true, nil},
		{"Maven RC before release", "Maven", fixed10, "1.0-RC2", "", true, nil},
		{"Maven final equals release", "Maven", fixed10, "1.0-final", "", false, nil},
		{"Maven ga equals release", "Maven", fixed10, "1.0.ga", "", false, nil},
		{"Maven sp after release", "Maven", fixed10, "1.0-sp1", "", false, nil},
		// Debian
		{"Debian epoch 0 below epoch 1", "Debian:11", debEpoch, "2.0-1", "", true, nil},
		{"Debian epoch 1 at fix", "Debian:11", debEpoch, "1:1.0-1", "", false, nil},
		{"Debian epoch 1 below fix", "Debian", debEpoch, "1:0.9-3", "", true, nil},
		{"Debian tilde sorts before", "Debian", debTilde, "1.0~rc1-1", "", true, nil},
		{"Debian revision after", "Debian", debTilde, "1.0-2", "", false, nil},
		// Go
		{"Go pseudo-version before fix", "Go", goPseudo, "0.0.0-20200622213623-75b288015ac9", "", true, nil},
		{"Go pseudo-version after fix", "Go", goPseudo, "0.0.0-20220101000000-0123456789ab", "", false, nil},
		{"Go pseudo-version of the next patch", "Go", goFixed120, "1.2.1-0.20210101000000-abcdef123456", "", false, nil},
		{"Go pseudo-version before a tag", "Go", goFixed120, "1.2.0-0.20210101000000-abcdef123456", "", true, nil},
		{"Go toolchain version", "Go", goFixed120, "go1.1.5", "", true, nil},
		{"Go short toolchain version", "Go", goFixed120, "1.2", "", false, nil},
		{"Go +incompatible", "Go", goFixed120, "1.1.0+incompatible", "", true, nil},
		// npm
		{"npm prerelease before release", "npm", npmFixed, "4.17.21-beta.1", "", true, nil},
		{"npm release", "npm", npmFixed, "4.17.21", "", false, nil},
		{"npm prerelease numeric order", "npm", npmPreIntro, "1.0.0-beta.10", "", true, nil},
		{"npm prerelease before introduced", "npm", npmPreIntro, "1.0.0-beta.1", "", false, nil},
		{"npm prerelease alpha before beta", "npm", npmPreIntro, "1.0.0-alpha.9", "", false, nil},
		// errors: reported, never a panic
		{"unsupported ecosystem", "Foo", fixed123, "1.0", "", false, ErrUnsupportedEcosystem},
		{"unparseable package version", "PyPI", fixed123, "not a version!", "", false, ErrInvalidVersion},
		{"unparseable event version", "PyPI", badEvent, "1.0", "", true, ErrInvalidVersion},
		{"unparseable Debian version", "Debian", debTilde, "a:1.0", "", false, ErrInvalidVersion},
		{"unknown range type ignored", "npm", unknownType, "1.0.0", "", false, nil},
		// semantic parses any string in these ecosystems; a version that
		// is not one is an error, never a match of every range from 0.
		{"npm not a version", "npm", npmFixed, "not a version!!", "", false, ErrInvalidVersion},
		{"npm not a version, ECOSYSTEM range", "npm", fixed123, "not a version!!", "", false, ErrInvalidVersion},
		{"npm git URL is not a version", "npm", npmFixed, "github:user/repo#abc", "", false, ErrInvalidVersion},
		{"npm empty prerelease", "npm", npmFixed, "4.17.20-", "", false, ErrInvalidVersion},
		{"crates.io word", "crates.io", fixed123, "latest", "", false, ErrInvalidVersion},
		{"Go (devel)", "Go", goFixed120, "(devel)", "", false, ErrInvalidVersion},
		{"NuGet four components", "NuGet", fixed123, "1.2.2.9", "", true, nil},
		{"RubyGems prerelease", "RubyGems", fixed123, "1.2.3.pre", "", true, nil},
		{"RubyGems space inside", "RubyGems", fixed123, "1.0 beta", "", false, ErrInvalidVersion},
		{"Maven stays free-form, ordered as Maven does", "Maven", fixed10, "RELEASE", "", true, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AffectsVersion(aff(t, tc.a), tc.eco, tc.version, tc.commit)
			if got != tc.want {
				t.Errorf("AffectsVersion(%s, %q) = %v, want %v (err %v)", tc.eco, tc.version, got, tc.want, err)
			}
			if tc.err == nil && err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Errorf("error %v, want %v", err, tc.err)
			}
		})
	}
}

func TestNormalizeName(t *testing.T) {
	tests := []struct{ eco, in, want string }{
		{"PyPI", "Django_Rest.Framework", "django-rest-framework"},
		{"pypi", "zope..interface", "zope-interface"},
		{"npm", "@Babel/Core", "@babel/core"},
		{"Maven", "org.apache.logging.log4j:log4j-core", "org.apache.logging.log4j:log4j-core"},
		{"Go", "github.com/Foo/bar/", "github.com/Foo/bar"},
		{"crates.io", "serde_json", "serde-json"},
		{"NuGet", "Newtonsoft.Json", "newtonsoft.json"},
		{"Debian:11", "OpenSSL", "OpenSSL"},
	}
	for _, tc := range tests {
		if got := NormalizeName(tc.eco, tc.in); got != tc.want {
			t.Errorf("NormalizeName(%q, %q) = %q, want %q", tc.eco, tc.in, got, tc.want)
		}
	}
	for in, want := range map[string]string{"pypi": "PyPI", "debian:11": "Debian:11", "GO": "Go", "Crates.io": "crates.io", "Weird": "Weird"} {
		if got := NormalizeEcosystem(in); got != want {
			t.Errorf("NormalizeEcosystem(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParsePURL(t *testing.T) {
	tests := []struct {
		purl, eco, name, version string
		ok                       bool
	}{
		{"pkg:npm/%40babel/core@7.0.0", "npm", "@babel/core", "7.0.0", true},
		{"pkg:pypi/Django@2.2.0", "PyPI", "Django", "2.2.0", true},
		{"pkg:maven/org.webjars.npm/jquery@3.3.1?type=jar", "Maven", "org.webjars.npm:jquery", "3.3.1", true},
		{"pkg:golang/golang.org/x/net@v0.1.0#sub", "Go", "golang.org/x/net", "v0.1.0", true},
		{"pkg:deb/debian/openssl@1.1.1n-0%2Bdeb11u3?distro=debian-11", "Debian", "openssl", "1.1.1n-0+deb11u3", true},
		{"pkg:generic/foo@1", "", "", "1", false},
		{"not a purl", "", "", "", false},
		{"pkg:npm", "", "", "", false},
	}
	for _, tc := range tests {
		p, ok := ParsePURL(tc.purl)
		eco, name, ok2 := p.EcosystemName()
		if ok && ok2 != tc.ok || !ok && tc.ok {
			t.Errorf("%s: ok %v/%v, want %v", tc.purl, ok, ok2, tc.ok)
			continue
		}
		if tc.ok && (eco != tc.eco || name != tc.name || p.Version != tc.version) {
			t.Errorf("%s: got %s %s %s, want %s %s %s", tc.purl, eco, name, p.Version, tc.eco, tc.name, tc.version)
		}
	}
}
