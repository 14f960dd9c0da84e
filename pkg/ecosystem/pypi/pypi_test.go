package pypi_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/ecosystem/pypi"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func TestParseFilename(t *testing.T) {
	for _, c := range []struct {
		name, project, kind string
		tags                string // comma-separated
		bad                 string // part of the reason
	}{
		{name: "pypi_attestation_models-0.0.4a2.tar.gz", project: "pypi-attestation-models", kind: "sdist"},
		{name: "Foo.Bar-1.0.zip", project: "foo-bar", kind: "sdist"},
		{name: "foo-bar-1.0.tar.gz", project: "foo-bar", kind: "sdist"},
		{name: "spt3g-1.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", project: "spt3g", kind: "wheel",
			tags: "cp310-cp310-manylinux2014_x86_64,cp310-cp310-manylinux_2_17_x86_64"},
		{name: "six-1.16.0-py2.py3-none-any.whl", project: "six", kind: "wheel", tags: "py2-none-any,py3-none-any"},
		{name: "pkg-1.0-1local-py3-none-any.whl", project: "pkg", kind: "wheel", tags: "py3-none-any"},
		{name: "pkg-1.0.tgz", bad: "ends in neither"},
		{name: "dir/pkg-1.0.tar.gz", bad: "path"},
		{name: "pkg.tar.gz", bad: "no dash"},
		{name: "-1.0.tar.gz", bad: "empty"},
		{name: "pkg-notaversion.tar.gz", bad: "not a PEP 440 version"},
		{name: "pkg-1.0-py3-none.whl", bad: "5 or 6"},
		{name: "pkg-1.0-x-y-py3-none-any.whl", bad: "5 or 6"},
		{name: "foo-bar-1.0-py3-none-any.whl", bad: "not a PEP 440 version"}, // a name with a dash: "bar" is read as the version
		{name: "foo__bar-1.0-py3-none-any.whl", bad: "escaped"},
		{name: "foo+bar-1.0-py3-none-any.whl", bad: "escaped"},
		{name: "pkg-1.0-beta-py3-none-any.whl", bad: "build tag"},
		{name: "pkg-1.0.0.0.0.0.0.x-py3-none-any.whl", bad: "PEP 440"},
	} {
		f, err := pypi.ParseFilename(c.name)
		if c.bad != "" {
			var fe *pypi.FilenameError
			if !errors.As(err, &fe) || !errors.Is(err, pypi.ErrFilename) || !strings.Contains(fe.Reason, c.bad) {
				t.Errorf("%s: want a FilenameError saying %q, got %v", c.name, c.bad, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if f.Project != c.project || f.Kind != c.kind || strings.Join(f.Tags, ",") != c.tags {
			t.Errorf("%s: got %+v", c.name, f)
		}
	}
}

// Two names are one distribution when pypi-attestations' parsed tuples
// are equal: canonical project, version by value, build tag, tag set.
func TestFilenameEqual(t *testing.T) {
	for _, c := range []struct {
		a, b  string
		equal bool
	}{
		{"pypi_attestation_models-0.0.4a2.tar.gz", "pypi_attestation_models-0.0.4a2.tar.gz", true},
		{"pypi_attestation_models-0.0.4a2.tar.gz", "pypi_attestation_models-0.0.4a3.tar.gz", false},
		{"Pypi.Attestation-Models-0.0.4a2.tar.gz", "pypi_attestation_models-0.0.4a2.tar.gz", true},
		{"foo-1.0.tar.gz", "foo-1.0.0.tar.gz", true},
		{"foo-1.0a1.tar.gz", "foo-1.0.alpha.1.tar.gz", true},
		{"foo-1.0.post1.tar.gz", "foo-1.0.rev1.tar.gz", true},
		{"foo-1.0.post1.tar.gz", "foo-1.0-1.tar.gz", false}, // split at the last dash: project foo-1.0, version 1
		{"foo-1.0.tar.gz", "foo-1.0.zip", true},
		{"foo-1.0.tar.gz", "foo-1.0-py3-none-any.whl", false},
		{"foo-1.0.tar.gz", "bar-1.0.tar.gz", false},
		{"foo-1.0.dev1.tar.gz", "foo-1.0.tar.gz", false},
		{"foo-1.0+local.tar.gz", "foo-1.0.tar.gz", false},
		{"six-1.16.0-py2.py3-none-any.whl", "six-1.16.0-py3.py2-none-any.whl", true},
		{"six-1.16.0-py2.py3-none-any.whl", "six-1.16.0-py3-none-any.whl", false},
		{"six-1.16.0-PY3-None-Any.whl", "six-1.16.0-py3-none-any.whl", true},
		{"six-1.16.0-1-py3-none-any.whl", "six-1.16.0-py3-none-any.whl", false},
		{"six-1.16.0-1-py3-none-any.whl", "six-1.16.0-01-py3-none-any.whl", true},
		{"six-1.16.0-1a-py3-none-any.whl", "six-1.16.0-1b-py3-none-any.whl", false},
	} {
		fa, err := pypi.ParseFilename(c.a)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := pypi.ParseFilename(c.b)
		if err != nil {
			t.Fatal(err)
		}
		if got := fa.Equal(fb); got != c.equal {
			t.Errorf("%s == %s: %v, want %v", c.a, c.b, got, c.equal)
		}
		if fa.Equal(fb) != fb.Equal(fa) {
			t.Errorf("%s, %s: Equal is not symmetric", c.a, c.b)
		}
	}
}

func TestParsePublisher(t *testing.T) {
	for _, c := range []struct {
		in   string
		want pypi.Publisher
		bad  bool
	}{
		{in: "github:trailofbits/pypi-attestation-models/release.yml", want: pypi.Publisher{Kind: pypi.KindGitHub, Repository: "trailofbits/pypi-attestation-models", Workflow: "release.yml"}},
		{in: "github:o/r/.github/workflows/release.yaml", want: pypi.Publisher{Kind: pypi.KindGitHub, Repository: "o/r", Workflow: "release.yaml"}},
		{in: "GitHub:o/r", want: pypi.Publisher{Kind: pypi.KindGitHub, Repository: "o/r"}},
		{in: "gitlab:group/sub/project//ci/release.yml", want: pypi.Publisher{Kind: pypi.KindGitLab, Repository: "group/sub/project", Workflow: "ci/release.yml"}},
		{in: "gitlab:ns/project/.gitlab-ci.yml", want: pypi.Publisher{Kind: pypi.KindGitLab, Repository: "ns/project", Workflow: ".gitlab-ci.yml"}},
		{in: "gitlab:ns/sub/project", want: pypi.Publisher{Kind: pypi.KindGitLab, Repository: "ns/sub/project"}},
		{in: "google:sa@proj.iam.gserviceaccount.com", want: pypi.Publisher{Kind: pypi.KindGoogle, Email: "sa@proj.iam.gserviceaccount.com"}},
		{in: "github:o", bad: true},
		{in: "github:o/r/wf.sh", bad: true},
		{in: "github:o/r/a/b.yml", bad: true},
		{in: "github:o/r/release.yml@refs/heads/main", bad: true},
		{in: "gitlab:project", bad: true},
		{in: "gitlab:ns/p//", bad: true},
		{in: "google:", bad: true},
		{in: "sourceforge:x", bad: true},
		{in: "o/r", bad: true},
	} {
		got, err := pypi.ParsePublisher(c.in)
		if c.bad {
			if !errors.Is(err, pypi.ErrPublisher) {
				t.Errorf("%q: want ErrPublisher, got %+v, %v", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v", c.in, got, err, c.want)
		}
		if back, err := pypi.ParsePublisher(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q does not read back: %+v, %v", c.in, got.String(), back, err)
		}
	}
}

func githubSigner(repo, configWF, ref string) *verify.Signer {
	return &verify.Signer{Kind: "certificate", SAN: configWF + "@" + ref, Issuer: verify.GitHubIssuer, GitHub: &verify.GitHubClaims{
		SourceRepository: "https://github.com/" + repo, SourceRef: ref, SourceDigest: "0123abcd",
		ConfigWorkflow: configWF + "@" + ref, SignerWorkflow: configWF + "@" + ref,
	}}
}

// Publisher.Match is pypi-attestations' policy: issuer, source
// repository, the Build Config URI at the certificate's own ref or commit.
func TestPublisherMatch(t *testing.T) {
	gh := pypi.Publisher{Kind: pypi.KindGitHub, Repository: "o/r", Workflow: "release.yml"}
	anyWF := pypi.Publisher{Kind: pypi.KindGitHub, Repository: "o/r"}
	gl := pypi.Publisher{Kind: pypi.KindGitLab, Repository: "ns/sub/p", Workflow: ".gitlab-ci.yml"}
	goog := pypi.Publisher{Kind: pypi.KindGoogle, Email: "sa@p.iam.gserviceaccount.com"}
	release := githubSigner("o/r", "https://github.com/o/r/.github/workflows/release.yml", "refs/tags/v1")
	bySHA := githubSigner("o/r", "https://github.com/o/r/.github/workflows/release.yml", "refs/tags/v1")
	bySHA.GitHub.ConfigWorkflow = "https://github.com/o/r/.github/workflows/release.yml@0123abcd"
	otherRef := githubSigner("o/r", "https://github.com/o/r/.github/workflows/release.yml", "refs/tags/v1")
	otherRef.GitHub.ConfigWorkflow = "https://github.com/o/r/.github/workflows/release.yml@refs/heads/evil"
	noRef := githubSigner("o/r", "https://github.com/o/r/.github/workflows/release.yml", "refs/tags/v1")
	noRef.GitHub.SourceRef, noRef.GitHub.SourceDigest = "", ""
	publish := githubSigner("o/r", "https://github.com/o/r/.github/workflows/publish.yml", "refs/tags/v1")
	otherRepo := githubSigner("o/r2", "https://github.com/o/r2/.github/workflows/release.yml", "refs/tags/v1")
	nested := githubSigner("o/r", "https://github.com/o/r/.github/workflows/sub/release.yml", "refs/tags/v1")
	gitlab := &verify.Signer{Kind: "certificate", SAN: "https://gitlab.com/ns/sub/p//.gitlab-ci.yml@refs/heads/main", Issuer: pypi.GitLabIssuer,
		GitHub: &verify.GitHubClaims{SourceRepository: "https://gitlab.com/ns/sub/p", SourceRef: "refs/heads/main", SourceDigest: "beef",
			ConfigWorkflow: "https://gitlab.com/ns/sub/p//.gitlab-ci.yml@refs/heads/main"}}
	google := &verify.Signer{Kind: "certificate", SAN: "sa@p.iam.gserviceaccount.com", Issuer: pypi.GoogleIssuer}
	wrongIssuer := githubSigner("o/r", "https://github.com/o/r/.github/workflows/release.yml", "refs/tags/v1")
	wrongIssuer.Issuer = "https://token.actions.octo.ghe.com"

	for _, c := range []struct {
		name   string
		p      pypi.Publisher
		s      *verify.Signer
		failed string // the field that mismatches, "" for a match
	}{
		{"github", gh, release, ""},
		{"github-by-commit", gh, bySHA, ""},
		{"github-any-workflow", anyWF, publish, ""},
		{"github-other-workflow", gh, publish, "build config"},
		{"github-config-at-another-ref", gh, otherRef, "build config"},
		{"github-no-ref-claims", gh, noRef, "build config"},
		{"github-other-repository", gh, otherRepo, "source repository"},
		{"github-any-workflow-not-nested", anyWF, nested, "build config"},
		{"github-wrong-issuer", gh, wrongIssuer, "issuer"},
		{"gitlab", gl, gitlab, ""},
		{"gitlab-for-github", gl, release, "issuer"},
		{"google", goog, google, ""},
		{"google-other-account", pypi.Publisher{Kind: pypi.KindGoogle, Email: "x@p.iam.gserviceaccount.com"}, google, "identity (SAN)"},
		{"google-for-github", goog, release, "issuer"},
		{"key-signed", gh, &verify.Signer{Kind: "key"}, "signer"},
		{"github-tenant-issuer", pypi.Publisher{Kind: pypi.KindGitHub, Repository: "o/r", Issuer: "https://token.actions.octo.ghe.com"}, wrongIssuer, ""},
		{"github-tenant-issuer-not-github", pypi.Publisher{Kind: pypi.KindGitHub, Repository: "o/r", Issuer: "https://token.actions.octo.ghe.com"}, release, "issuer"},
	} {
		err := c.p.Match(c.s)
		if c.failed == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var pm *pypi.PublisherMismatchError
		if !errors.As(err, &pm) {
			t.Errorf("%s: want a PublisherMismatchError on %q, got %v", c.name, c.failed, err)
			continue
		}
		found := false
		for _, cmp := range pm.Comparisons {
			if cmp.Field == c.failed && !cmp.Match {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: %q is not a failed comparison: %+v", c.name, c.failed, pm.Comparisons)
		}
	}
}

func TestParseDocument(t *testing.T) {
	for _, c := range []struct {
		name, doc, want string
	}{
		{"not-json", `{`, "not a JSON object"},
		{"neither", `{"version": 1}`, "neither"},
		{"both", `{"attestation_bundles": [], "verification_material": {}}`, "both"},
		{"provenance-version", `{"version": 2, "attestation_bundles": []}`, "version 2"},
		{"provenance-no-version", `{"attestation_bundles": []}`, "version missing"},
		{"no-publisher", `{"version": 1, "attestation_bundles": [{"attestations": []}]}`, "no publisher"},
		{"bad-kind", `{"version": 1, "attestation_bundles": [{"publisher": {"kind": "Jenkins"}, "attestations": []}]}`, "Jenkins"},
		{"attestation-version", `{"version": 2, "verification_material": {}, "envelope": {}}`, "version 2"},
		{"no-certificate", `{"version": 1, "verification_material": {"transparency_entries": [{}]}, "envelope": {"statement": "eA==", "signature": "eA=="}}`, "no certificate"},
		{"no-entry", `{"version": 1, "verification_material": {"certificate": "eA==", "transparency_entries": []}, "envelope": {"statement": "eA==", "signature": "eA=="}}`, "no transparency log entry"},
		{"bad-base64", `{"version": 1, "verification_material": {"certificate": "!!"}}`, "base64"},
		{"type", "{\"version\": 1,\n \"verification_material\": {\"certificate\": 5}}", "line 2"},
	} {
		_, err := pypi.Parse([]byte(c.doc))
		if !errors.Is(err, pypi.ErrMalformed) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want ErrMalformed saying %q, got %v", c.name, c.want, err)
		}
	}
	doc, err := pypi.Parse([]byte(`{"version": 1, "attestation_bundles": [{"publisher": {"kind": "GitLab", "repository": "ns/p", "workflow_filepath": ".gitlab-ci.yml", "environment": null, "claims": null}, "attestations": []}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p := doc.Claimed(); p == nil || p.String() != "gitlab:ns/p//.gitlab-ci.yml" || doc.Count() != 0 || doc.Kind != "provenance" {
		t.Errorf("parsed %+v", doc)
	}
}
