package attest_test

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/pkg/attest"
)

func TestPredicateTypeTable(t *testing.T) {
	for _, tc := range []struct{ in, uri string }{
		{"slsaprovenance1", "https://slsa.dev/provenance/v1"},
		{"SLSAProvenance1", "https://slsa.dev/provenance/v1"},
		{"spdxjson", "https://spdx.dev/Document/v2.3"},
		{"cyclonedx", "https://cyclonedx.org/bom"},
		{"vuln", "https://in-toto.io/attestation/vulns/v0.2"},
		{"openvex", "https://openvex.dev/ns/v0.2.0"},
		{"link", "https://in-toto.io/attestation/link/v0.3"},
		{"release", "https://in-toto.io/attestation/release/v0.1"},
		{"vsa", "https://slsa.dev/verification_summary/v1"},
		{"https://example.com/x/v1", "https://example.com/x/v1"},
		{"nosuch", ""},
		{"example.com/x", ""},
		{"urn:x", ""},
		{"", ""},
	} {
		uri, ok := attest.PredicateType(tc.in)
		if uri != tc.uri || ok != (tc.uri != "") {
			t.Errorf("PredicateType(%q) = %q, %v; want %q", tc.in, uri, ok, tc.uri)
		}
	}
	for _, kt := range attest.Types() {
		if got := attest.ShortName(kt.URI); got != kt.Name {
			t.Errorf("ShortName(%q) = %q, want %q", kt.URI, got, kt.Name)
		}
	}
	for uri, want := range map[string]string{
		"https://spdx.dev/Document":      "spdxjson",
		"https://spdx.dev/Document/v3.0": "spdxjson",
		"https://spdx.dev/Documents":     "",
		"https://example.com/x":          "",
	} {
		if got := attest.ShortName(uri); got != want {
			t.Errorf("ShortName(%q) = %q, want %q", uri, got, want)
		}
	}
}

// validPredicates are one valid predicate per known type.
var validPredicates = map[string]string{
	"slsaprovenance1": `{"buildDefinition":{"buildType":"https://example.com/t","externalParameters":{"a":"b"}},"runDetails":{"builder":{"id":"https://example.com/b"}}}`,
	"spdxjson":        `{"spdxVersion":"SPDX-2.3","dataLicense":"CC0-1.0","SPDXID":"SPDXRef-DOCUMENT","name":"app","documentNamespace":"https://example.com/a","creationInfo":{"created":"2026-01-01T00:00:00Z","creators":["Tool: t"]}}`,
	"cyclonedx":       `{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}`,
	"vuln":            `{"scanner":{"uri":"https://example.com/s","result":[{"id":"CVE-2026-1"}]}}`,
	"openvex":         `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{"status":"fixed"}]}`,
	"link":            `{"name":"build","command":["make"],"byproducts":{"exitCode":0}}`,
	"release":         `{"purl":"pkg:github/o/r@v1","releaseId":"1"}`,
	"vsa":             `{"verifier":{"id":"https://example.com/v"},"resourceUri":"pkg:npm/a@1","verificationResult":"PASSED"}`,
}

func TestReadPredicate(t *testing.T) {
	for name, data := range validPredicates {
		p, uri, err := attest.ReadPredicate(name, []byte(data))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		want, _ := attest.PredicateType(name)
		if uri != want || p == nil {
			t.Errorf("%s: type %q, want %q", name, uri, want)
		}
	}
	for _, tc := range []struct {
		name, typ, data, field string
	}{
		{"not json", "slsaprovenance1", `{`, ""},
		{"array", "https://example.com/x", `[]`, ""},
		{"two objects", "vuln", `{} {}`, ""},
		{"null", "link", `null`, ""},
		{"slsa no buildType", "slsaprovenance1", `{"buildDefinition":{"externalParameters":{"a":1}},"runDetails":{"builder":{"id":"x"}}}`, "buildDefinition.buildType"},
		{"slsa buildType number", "slsaprovenance1", `{"buildDefinition":{"buildType":3},"runDetails":{"builder":{"id":"x"}}}`, "buildDefinition.buildType"},
		{"slsa no builder", "slsaprovenance1", `{"buildDefinition":{"buildType":"t","externalParameters":{"a":1}}}`, "runDetails.builder.id"},
		{"slsa no externalParameters", "slsaprovenance1", `{"buildDefinition":{"buildType":"t"},"runDetails":{"builder":{"id":"x"}}}`, "buildDefinition.externalParameters"},
		{"slsa bad time", "slsaprovenance1", `{"buildDefinition":{"buildType":"t","externalParameters":{"a":1}},"runDetails":{"builder":{"id":"x"},"metadata":{"startedOn":"yesterday"}}}`, ""},
		{"spdx no version", "spdxjson", `{"SPDXID":"SPDXRef-DOCUMENT","name":"a"}`, "spdxVersion"},
		{"spdx no name", "spdxjson", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT"}`, "name"},
		{"spdx 9", "spdxjson", `{"spdxVersion":"SPDX-9.0","SPDXID":"SPDXRef-DOCUMENT","name":"a"}`, "spdxVersion"},
		{"spdx packages not a list", "spdxjson", `{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"a","packages":3}`, ""},
		{"spdx3 bad context", "spdxjson", `{"@context":"https://example.com","@graph":[{}]}`, "@context"},
		{"spdx3 no graph", "spdxjson", `{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld"}`, "@graph"},
		{"cdx no format", "cyclonedx", `{"specVersion":"1.5"}`, "bomFormat"},
		{"cdx wrong format", "cyclonedx", `{"bomFormat":"SPDX","specVersion":"1.5"}`, "bomFormat"},
		{"cdx bad spec", "cyclonedx", `{"bomFormat":"CycloneDX","specVersion":"9.9"}`, ""},
		{"cdx components not a list", "cyclonedx", `{"bomFormat":"CycloneDX","specVersion":"1.5","components":{}}`, ""},
		{"vuln no scanner", "vuln", `{}`, "scanner.uri"},
		{"vuln bad result", "vuln", `{"scanner":{"uri":"x","result":"none"}}`, ""},
		{"openvex context", "openvex", `{"@context":"https://example.com","statements":[]}`, "@context"},
		{"openvex no statements", "openvex", `{"@context":"https://openvex.dev/ns/v0.2.0"}`, "statements"},
		{"openvex no status", "openvex", `{"@context":"https://openvex.dev/ns/v0.2.0","statements":[{}]}`, "statements[0].status"},
		{"link no name", "link", `{"command":["make"]}`, "name"},
		{"link command string", "link", `{"name":"b","command":"make"}`, ""},
		{"release no purl", "release", `{"releaseId":"1"}`, "purl"},
		{"vsa no verifier", "vsa", `{"resourceUri":"x","verificationResult":"PASSED"}`, "verifier.id"},
		{"vsa result", "vsa", `{"verifier":{"id":"v"},"resourceUri":"x","verificationResult":"OK"}`, "verificationResult"},
	} {
		_, _, err := attest.ReadPredicate(tc.typ, []byte(tc.data))
		var pe *attest.PredicateError
		if !errors.As(err, &pe) || !errors.Is(err, attest.ErrPredicate) {
			t.Errorf("%s: %v, want a *PredicateError", tc.name, err)
			continue
		}
		if pe.Field != tc.field {
			t.Errorf("%s: field %q, want %q (%v)", tc.name, pe.Field, tc.field, err)
		}
		if tc.field != "" && !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %q does not name %s", tc.name, err, tc.field)
		}
	}
	if _, _, err := attest.ReadPredicate("nosuch", []byte(`{}`)); !errors.Is(err, attest.ErrType) {
		t.Errorf("unknown type: %v, want ErrType", err)
	}
}

func TestSPDXVersionDecidesType(t *testing.T) {
	for data, want := range map[string]string{
		`{"spdxVersion":"SPDX-2.2","SPDXID":"SPDXRef-DOCUMENT","name":"a"}`:                                "https://spdx.dev/Document/v2.2",
		`{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"a"}`:                                "https://spdx.dev/Document/v2.3",
		`{"@context":"https://spdx.org/rdf/3.0.1/spdx-context.jsonld","@graph":[{"type":"SpdxDocument"}]}`: "https://spdx.dev/Document/v3.0",
	} {
		_, uri, err := attest.ReadPredicate("spdxjson", []byte(data))
		if err != nil || uri != want {
			t.Errorf("%s: %q, %v; want %q", data, uri, err, want)
		}
	}
}

func TestHashFileAndSubjects(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "app.tgz")
	data := []byte(strings.Repeat("hallmark ", 300000))
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s256 := sha256.Sum256(data)
	s512 := sha512.Sum512(data)
	rd, err := attest.HashFile(context.Background(), p, "", attest.SHA256, attest.SHA512)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"sha256": hex.EncodeToString(s256[:]), "sha512": hex.EncodeToString(s512[:])}
	if rd.GetName() != "app.tgz" || !reflect.DeepEqual(rd.GetDigest(), want) {
		t.Fatalf("subject %v", rd)
	}
	if rd, _ := attest.HashFile(context.Background(), p, "renamed"); rd.GetName() != "renamed" || len(rd.GetDigest()) != 1 {
		t.Fatalf("named subject %v", rd)
	}
	if _, err := attest.HashFile(context.Background(), p, "", "md5"); !errors.Is(err, attest.ErrSubject) {
		t.Errorf("md5: %v", err)
	}
	if _, err := attest.HashFile(context.Background(), dir, ""); !errors.Is(err, attest.ErrNotRegularFile) {
		t.Errorf("a directory was hashed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := attest.HashFile(ctx, p, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}

	good := "app=sha256:" + hex.EncodeToString(s256[:])
	for s, ok := range map[string]bool{
		good:                                     true,
		"a=b=sha256:" + want["sha256"]:           true,
		"app=sha512:" + want["sha512"]:           true,
		"app=sha256:abcd":                        false,
		"app=sha256:" + strings.Repeat("zz", 32): false,
		"=sha256:" + want["sha256"]:              false,
		"app":                                    false,
		"app=" + want["sha256"]:                  false,
		"app=sha1:" + strings.Repeat("ab", 20):   false,
		"app=SHA256:" + want["sha256"]:           true,
	} {
		_, err := attest.ParseSubject(s)
		if (err == nil) != ok || (err != nil && !errors.Is(err, attest.ErrSubject)) {
			t.Errorf("ParseSubject(%q): %v", s, err)
		}
	}
}

func TestStatementRoundTrip(t *testing.T) {
	sub, _ := attest.ParseSubject("app=sha256:" + strings.Repeat("ab", 32))
	p, _, err := attest.ReadPredicate("link", []byte(validPredicates["link"]))
	if err != nil {
		t.Fatal(err)
	}
	st, err := attest.NewStatement([]*intotov1.ResourceDescriptor{sub}, "link", p)
	if err != nil {
		t.Fatal(err)
	}
	data, err := attest.MarshalStatement(st)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil || generic["_type"] != "https://in-toto.io/Statement/v1" || generic["predicateType"] != attest.TypeLink {
		t.Fatalf("statement JSON %s (%v)", data, err)
	}
	back, err := attest.ParseStatement(data)
	if err != nil {
		t.Fatal(err)
	}
	if !attest.HasSubject(back, sub) {
		t.Errorf("the parsed statement lost its subject")
	}
	other, _ := attest.ParseSubject("app=sha256:" + strings.Repeat("cd", 32))
	if attest.HasSubject(back, other) {
		t.Errorf("HasSubject matched another digest")
	}

	for name, tc := range map[string]struct {
		subjects []*intotov1.ResourceDescriptor
		typ      string
		want     error
	}{
		"no subject": {nil, "link", attest.ErrStatement},
		"twice":      {[]*intotov1.ResourceDescriptor{sub, sub}, "link", attest.ErrStatement},
		"bad type":   {[]*intotov1.ResourceDescriptor{sub}, "nosuch", attest.ErrType},
	} {
		if _, err := attest.NewStatement(tc.subjects, tc.typ, p); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	for name, doc := range map[string]string{
		"not json":      `{`,
		"wrong type":    `{"_type":"https://example.com","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("ab", 32) + `"}}],"predicateType":"x","predicate":{}}`,
		"no digest":     `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"x","predicate":{}}`,
		"bad predicate": `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("ab", 32) + `"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`,
		"short digest":  `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"ab"}}],"predicateType":"x","predicate":{}}`,
		"no predicate":  `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` + strings.Repeat("ab", 32) + `"}}],"predicateType":"x"}`,
	} {
		_, err := attest.ParseStatement([]byte(doc))
		if !errors.Is(err, attest.ErrStatement) && !errors.Is(err, attest.ErrPredicate) {
			t.Errorf("%s: %v, want ErrStatement or ErrPredicate", name, err)
		}
	}
}

// githubEnv is a GitHub Actions job's environment for the run of
// sigstore/sigstore-js whose npm provenance is in ../shared.
var githubEnv = []string{
	"GITHUB_ACTIONS=true",
	"GITHUB_SERVER_URL=https://github.com",
	"GITHUB_REPOSITORY=sigstore/sigstore-js",
	"GITHUB_REF=refs/heads/main",
	"GITHUB_WORKFLOW_REF=sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main",
	"GITHUB_EVENT_NAME=push",
	"GITHUB_REPOSITORY_ID=495574555",
	"GITHUB_REPOSITORY_OWNER_ID=71096353",
	"RUNNER_ENVIRONMENT=github-hosted",
	"GITHUB_SHA=f0b49a04e5a62250e0f60fb128004a73110fe311",
	"GITHUB_RUN_ID=5904696764",
	"GITHUB_RUN_ATTEMPT=1",
	"GITHUB_TOKEN=ghs_secret",
}

func provenanceJSON(t *testing.T, o attest.ProvenanceOptions) map[string]any {
	t.Helper()
	p, err := attest.Provenance(o)
	if err != nil {
		t.Fatal(err)
	}
	data, err := protojson.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if _, _, err := attest.ReadPredicate("slsaprovenance1", data); err != nil {
		t.Fatalf("the provenance made is not valid: %v", err)
	}
	if strings.Contains(string(data), "ghs_secret") {
		t.Fatalf("a token reached the provenance")
	}
	return m
}

// TestGitHubProvenanceMatchesActions compares the provenance made for a
// GitHub Actions environment, field by field, with the real one that
// GitHub Actions made for that run (../shared/fixtures/real-bundles/b2):
// the same except what @actions/attest changed since that 2023 run:
// buildType (https://actions.github.io/buildtypes/workflow/v1),
// internalParameters.github.runner_environment (then not recorded) and
// runDetails.builder.id (then the runner, now SERVER/job_workflow_ref).
func TestGitHubProvenanceMatchesActions(t *testing.T) {
	got := provenanceJSON(t, attest.ProvenanceOptions{Env: githubEnv})
	bundle := filepath.Join("..", "..", "..", "shared", "fixtures", "real-bundles", "b2-sigstorejs-2.0.0-provenance", "bundle.sigstore.json")
	data, err := os.ReadFile(bundle)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s is absent (../shared not here): the real provenance cannot be compared", bundle)
	}
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		DsseEnvelope struct{ Payload string } `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(b.DsseEnvelope.Payload)
	if err != nil {
		t.Fatal(err)
	}
	var st struct{ Predicate map[string]any }
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	want := st.Predicate
	bd := want["buildDefinition"].(map[string]any)
	if bd["buildType"] != "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1" {
		t.Fatalf("the fixture changed: buildType %v", bd["buildType"])
	}
	bd["buildType"] = attest.BuildTypeGitHub
	bd["internalParameters"].(map[string]any)["github"].(map[string]any)["runner_environment"] = "github-hosted"
	builder := want["runDetails"].(map[string]any)["builder"].(map[string]any)
	if builder["id"] != "https://github.com/actions/runner/github-hosted" {
		t.Fatalf("the fixture changed: builder %v", builder["id"])
	}
	builder["id"] = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Fatalf("provenance\n%s\nwant\n%s", g, w)
	}
}

func TestGitHubProvenanceFromClaims(t *testing.T) {
	// A step may change GITHUB_REPOSITORY; the token says what Fulcio will
	// certify, and wins.
	env := append(append([]string{}, githubEnv...), "GITHUB_REPOSITORY=evil/fork")
	claims := map[string]any{"iss": attest.GitHubIssuer, "repository": "sigstore/sigstore-js", "ref": "refs/heads/main",
		"workflow_ref": "sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main", "run_attempt": "2",
		"job_workflow_ref": "sigstore/reusable/.github/workflows/build.yml@refs/tags/v1"}
	got := provenanceJSON(t, attest.ProvenanceOptions{Env: env, Claims: claims})
	wf := got["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)["workflow"].(map[string]any)
	if wf["repository"] != "https://github.com/sigstore/sigstore-js" || wf["path"] != ".github/workflows/release.yml" {
		t.Errorf("workflow %v", wf)
	}
	inv := got["runDetails"].(map[string]any)["metadata"].(map[string]any)["invocationId"]
	if inv != "https://github.com/sigstore/sigstore-js/actions/runs/5904696764/attempts/2" {
		t.Errorf("invocationId %v", inv)
	}
	// A reusable workflow is the builder: only the token names it.
	if id := got["runDetails"].(map[string]any)["builder"].(map[string]any)["id"]; id != "https://github.com/sigstore/reusable/.github/workflows/build.yml@refs/tags/v1" {
		t.Errorf("builder id %v", id)
	}
	// A tag holding "@" (changesets: pkg@1.0.0) stays whole.
	at := append(append([]string{}, githubEnv...), "GITHUB_WORKFLOW_REF=sigstore/sigstore-js/.github/workflows/release.yml@refs/tags/pkg@1.0.0")
	wf = provenanceJSON(t, attest.ProvenanceOptions{Env: at})["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)["workflow"].(map[string]any)
	if wf["ref"] != "refs/tags/pkg@1.0.0" || wf["path"] != ".github/workflows/release.yml" {
		t.Errorf("a tag with @: workflow %v", wf)
	}
	// Claims of another issuer are ignored.
	got = provenanceJSON(t, attest.ProvenanceOptions{Env: env, Claims: map[string]any{"iss": "https://example.com", "repository": "x/y"}})
	wf = got["buildDefinition"].(map[string]any)["externalParameters"].(map[string]any)["workflow"].(map[string]any)
	if wf["repository"] != "https://github.com/evil/fork" {
		t.Errorf("workflow %v", wf)
	}
}

func TestGitLabProvenance(t *testing.T) {
	env := []string{
		"GITLAB_CI=true", "CI_PROJECT_URL=https://gitlab.com/group/app", "CI_JOB_NAME=build",
		"CI_JOB_ID=42", "CI_COMMIT_SHA=0123456789abcdef0123456789abcdef01234567", "CI_COMMIT_REF_NAME=main",
		"CI_RUNNER_ID=7", "CI_RUNNER_VERSION=17.5.0", "CI_JOB_URL=https://gitlab.com/group/app/-/jobs/42",
		"CI_JOB_TOKEN=secret-job-token", "CI_RUNNER_EXECUTABLE_ARCH=linux/amd64",
	}
	got := provenanceJSON(t, attest.ProvenanceOptions{Env: env})
	want := map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/v17.5.0/PROVENANCE.md",
			"externalParameters": map[string]any{
				"source": "https://gitlab.com/group/app", "entryPoint": "build",
				"variables": map[string]any{
					"CI_COMMIT_REF_NAME": "main", "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
					"CI_JOB_ID": "42", "CI_JOB_NAME": "build", "CI_JOB_URL": "https://gitlab.com/group/app/-/jobs/42",
					"CI_PROJECT_URL": "https://gitlab.com/group/app", "CI_RUNNER_ID": "7", "CI_RUNNER_VERSION": "17.5.0",
				},
			},
			"internalParameters": map[string]any{"job": "42", "architecture": "linux/amd64"},
			"resolvedDependencies": []any{map[string]any{
				"uri": "git+https://gitlab.com/group/app@main", "digest": map[string]any{"gitCommit": "0123456789abcdef0123456789abcdef01234567"},
			}},
		},
		"runDetails": map[string]any{
			"builder":  map[string]any{"id": "https://gitlab.com/group/app/-/runners/7", "version": map[string]any{"gitlab-runner": "17.5.0"}},
			"metadata": map[string]any{"invocationId": "https://gitlab.com/group/app/-/jobs/42"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		t.Fatalf("provenance\n%s", g)
	}
}

func TestLocalProvenanceAndMissingVariables(t *testing.T) {
	got := provenanceJSON(t, attest.ProvenanceOptions{Env: []string{"HOME=/root"}})
	bd := got["buildDefinition"].(map[string]any)
	if bd["buildType"] != attest.BuildTypeLocal || !strings.Contains(bd["externalParameters"].(map[string]any)["note"].(string), "not made by a CI system") {
		t.Errorf("local provenance %v", got)
	}
	for _, env := range [][]string{{"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r"}, {"GITLAB_CI=true"}} {
		_, err := attest.Provenance(attest.ProvenanceOptions{Env: env})
		if !errors.Is(err, attest.ErrProvenance) {
			t.Errorf("%v: %v, want ErrProvenance", env, err)
		}
	}
	_, err := attest.Provenance(attest.ProvenanceOptions{Env: []string{"GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=o/r"}})
	if err == nil || !strings.Contains(err.Error(), "GITHUB_SHA") || strings.Contains(err.Error(), "GITHUB_REPOSITORY,") {
		t.Errorf("the error does not name what is missing: %v", err)
	}
}
