package npm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// TestParseIntegrityHostile: an integrity with two different sha512
// values is refused (npm installs a tarball matching either, so verifying
// one would vouch for the other); one of other algorithms only is
// ErrNoSHA512, malformed ones are ErrIntegrity but not ErrNoSHA512;
// unknown algorithms are ignored beside a sha512.
func TestParseIntegrityHostile(t *testing.T) {
	a, b := npmtest.Integrity([]byte("a")), npmtest.Integrity([]byte("b"))
	for _, tc := range []struct {
		in       string
		want     error // nil: parses to a's digest
		noSHA512 bool
	}{
		{a + " " + b, npm.ErrIntegrity, false},
		{b + " " + a, npm.ErrIntegrity, false},
		{a + " " + a, nil, false},
		{"md5-abc " + a, nil, false},
		{"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", npm.ErrIntegrity, true},
		{"sha384-" + strings.Repeat("A", 64), npm.ErrIntegrity, true},
		{"sha512-!!!", npm.ErrIntegrity, false},
		{"md5-abc", npm.ErrIntegrity, false},
		{a + " sha512-AAAA", npm.ErrIntegrity, false},
	} {
		d, err := npm.ParseIntegrity(tc.in)
		if tc.want == nil {
			if err != nil || d.Value != npmtest.SHA512([]byte("a")) {
				t.Errorf("%q: %v %v, want a's digest", tc.in, d, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) || errors.Is(err, npm.ErrNoSHA512) != tc.noSHA512 {
			t.Errorf("%q: got %v, want %v (ErrNoSHA512 %v)", tc.in, err, tc.want, tc.noSHA512)
		}
	}
}

// TestParseLockfileHostile: entries that name registry packages with names,
// versions or integrities npm never writes (path traversal, NUL, a
// malformed sha512) are skipped as Invalid, to be refused; a sha1-only
// integrity is skipped as NoSHA512; links and git dependencies are
// skipped as neither.
func TestParseLockfileHostile(t *testing.T) {
	sri := npmtest.Integrity([]byte("a"))
	entry := func(name, version, integrity string) string {
		return `"node_modules/` + name + `": {"version": "` + version + `", "integrity": "` + integrity + `"}`
	}
	entries := []string{
		entry("../../etc/passwd", "1.0.0", sri),
		entry("/etc/passwd", "1.0.0", sri),
		entry("@scope/../x", "1.0.0", sri),
		entry(`a\u0000b`, "1.0.0", sri),
		entry(`x\ny`, "1.0.0", sri),
		entry("ok1", "1.0.0/../../x", sri),
		entry("ok2", "1.0.0", "sha512-!!!"),
		entry("ok3", "1.0.0", sri+" "+npmtest.Integrity([]byte("b"))),
		`"node_modules/alias": {"name": "../../x", "version": "1.0.0", "integrity": "` + sri + `"}`,
		entry("old", "1.0.0", "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk="),
		`"node_modules/linked": {"resolved": "../x", "link": true}`,
		`"node_modules/gitdep": {"version": "1.0.0", "resolved": "git+ssh://git@github.com/a/b.git#abc"}`,
		entry("good", "1.0.0", sri),
	}
	locked, skipped, err := npm.ParseLockfile([]byte(`{"lockfileVersion": 3, "packages": {` + strings.Join(entries, ",\n") + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(locked) != 1 || locked[0].String() != "good@1.0.0" {
		t.Errorf("locked %+v, want good@1.0.0 only", locked)
	}
	invalid, noSHA512 := 0, 0
	for _, s := range skipped {
		switch {
		case s.Invalid && s.NoSHA512:
			t.Errorf("%q: both Invalid and NoSHA512", s.Path)
		case s.Invalid:
			invalid++
		case s.NoSHA512:
			noSHA512++
			if s.Path != "node_modules/old" {
				t.Errorf("%q: NoSHA512, want only node_modules/old", s.Path)
			}
		case s.Path != "node_modules/linked" && s.Path != "node_modules/gitdep":
			t.Errorf("%q skipped as neither Invalid nor NoSHA512: %s", s.Path, s.Reason)
		}
	}
	if invalid != 9 || noSHA512 != 1 || len(skipped) != 12 {
		t.Errorf("%d invalid, %d without sha512, %d skipped: %+v", invalid, noSHA512, len(skipped), skipped)
	}
}
