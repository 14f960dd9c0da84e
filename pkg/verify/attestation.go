package verify

import (
	"fmt"
	"strings"

	linkv0 "github.com/in-toto/attestation/go/predicates/link/v0"
	provenancev02 "github.com/in-toto/attestation/go/predicates/provenance/v02"
	provenancev1 "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/pkg/attest"
)

// Predicate types and build types the statement checks read.
const (
	// PredicateSLSAProvenance02 is SLSA provenance v0.2 (older npm and
	// slsa-github-generator attestations).
	PredicateSLSAProvenance02 = "https://slsa.dev/provenance/v0.2"
	// BuildTypeGitHubSLSA is the GitHub Actions build type of
	// slsa-framework (npm's provenance): the same workflow parameters as
	// attest.BuildTypeGitHub, with the runner as builder.
	BuildTypeGitHubSLSA = "https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1"
	// LinkByproductExitCode is the key of a step's exit code in an in-toto
	// link's byproducts.
	LinkByproductExitCode = attest.LinkByproductExitCode
)

// CheckProvenance is the check of a GitHub Actions provenance against its
// Fulcio certificate: skipped when the certificate carries no GitHub
// Actions claims to compare with.
const CheckProvenance Check = "provenance-certificate"

// Provenance summarises SLSA build provenance (v1 or v0.2): what built the
// artifact and from which source.
type Provenance struct {
	BuildType string `json:"buildType,omitempty"`
	Builder   string `json:"builder,omitempty"`
	// SourceRepository, SourceRef and SourceCommit are the source built: the
	// workflow's repository and ref, and the git commit.
	SourceRepository string `json:"sourceRepository,omitempty"`
	SourceRef        string `json:"sourceRef,omitempty"`
	SourceCommit     string `json:"sourceCommit,omitempty"`
	// Workflow is the workflow (or entry point) path in the repository.
	Workflow string `json:"workflow,omitempty"`
}

// Link summarises an in-toto link predicate: one recorded build step.
// Its products are the statement's subjects.
type Link struct {
	Name    string   `json:"name"`
	Command []string `json:"command,omitempty"`
	// ExitCode is the command's exit code, when the link records it.
	ExitCode  *int      `json:"exitCode,omitempty"`
	Materials []Subject `json:"materials,omitempty"`
	Products  []Subject `json:"products,omitempty"`
}

// predicateTypeMatches reports whether a statement of predicate type got
// satisfies want: a short name of the type table matches every URI of that
// name (all SPDX document versions are "spdxjson"), a URI only itself.
func predicateTypeMatches(want, got string) bool {
	if !strings.Contains(want, ":") {
		name := attest.ShortName(got)
		return name != "" && strings.EqualFold(name, want)
	}
	return want == got
}

// describePredicateType is a predicate type with its short name, if any.
func describePredicateType(uri string) string {
	if name := attest.ShortName(uri); name != "" {
		return fmt.Sprintf("%q (%s)", uri, name)
	}
	return fmt.Sprintf("%q", uri)
}

// decodeStatement fills st.Provenance or st.Link from its predicate. A
// predicate that does not parse as its type is a rejection: a verified
// statement that says it is provenance must be readable as provenance.
func decodeStatement(st *Statement) error {
	if len(st.Predicate) == 0 {
		return nil
	}
	opts := protojson.UnmarshalOptions{DiscardUnknown: true}
	switch {
	case st.PredicateType == attest.TypeSLSAProvenance1:
		var p provenancev1.Provenance
		if err := opts.Unmarshal(st.Predicate, &p); err != nil {
			return reject(CauseProvenance, err, "the statement's SLSA v1 provenance predicate does not parse")
		}
		st.Provenance = provenanceV1(&p)
	case st.PredicateType == PredicateSLSAProvenance02:
		var p provenancev02.Provenance
		if err := opts.Unmarshal(st.Predicate, &p); err != nil {
			return reject(CauseProvenance, err, "the statement's SLSA v0.2 provenance predicate does not parse")
		}
		cs := p.GetInvocation().GetConfigSource()
		repo, ref := splitGitURI(cs.GetUri())
		st.Provenance = &Provenance{BuildType: p.GetBuildType(), Builder: p.GetBuilder().GetId(),
			SourceRepository: repo, SourceRef: ref, SourceCommit: cs.GetDigest()["sha1"], Workflow: cs.GetEntryPoint()}
	case st.PredicateType == attest.TypeLink:
		var l linkv0.Link
		if err := opts.Unmarshal(st.Predicate, &l); err != nil {
			return reject(CauseMalformed, err, "the statement's in-toto link predicate does not parse")
		}
		st.Link = &Link{Name: l.GetName(), Command: l.GetCommand(), Materials: subjectsOf(l.GetMaterials()), Products: st.Subjects}
		if v, ok := l.GetByproducts().GetFields()[LinkByproductExitCode]; ok {
			code := int(v.GetNumberValue())
			st.Link.ExitCode = &code
		}
	}
	return nil
}

func provenanceV1(p *provenancev1.Provenance) *Provenance {
	bd := p.GetBuildDefinition()
	out := &Provenance{BuildType: bd.GetBuildType(), Builder: p.GetRunDetails().GetBuilder().GetId()}
	if wf := bd.GetExternalParameters().GetFields()["workflow"].GetStructValue(); wf != nil {
		f := wf.GetFields()
		out.SourceRepository = f["repository"].GetStringValue()
		out.SourceRef = f["ref"].GetStringValue()
		out.Workflow = f["path"].GetStringValue()
	}
	for _, d := range bd.GetResolvedDependencies() {
		commit := d.GetDigest()["gitCommit"]
		if commit == "" {
			continue
		}
		out.SourceCommit = commit
		if out.SourceRepository == "" {
			out.SourceRepository, out.SourceRef = splitGitURI(d.GetUri())
		}
		break
	}
	return out
}

// splitGitURI splits git+https://HOST/OWNER/NAME@REF into the repository
// URL and the ref.
func splitGitURI(uri string) (repo, ref string) {
	uri = strings.TrimPrefix(uri, "git+")
	if i := strings.LastIndex(uri, "@"); i > strings.Index(uri, "://")+2 {
		return uri[:i], uri[i+1:]
	}
	return uri, ""
}

func subjectsOf(rds []*intotov1.ResourceDescriptor) []Subject {
	var out []Subject
	for _, rd := range rds {
		s := Subject{Name: rd.GetName(), Digest: rd.GetDigest()}
		if s.Name == "" {
			s.Name = rd.GetUri()
		}
		out = append(out, s)
	}
	return out
}

// isGitHubBuild reports whether a provenance describes a GitHub Actions
// workflow run, whose workflow parameters the certificate can confirm.
func isGitHubBuild(p *Provenance) bool {
	return p != nil && (p.BuildType == attest.BuildTypeGitHub || p.BuildType == BuildTypeGitHubSLSA)
}

// checkStatement applies the policy's statement rules to a verified
// statement: the predicate type, the builder, and a GitHub Actions
// provenance's agreement with the certificate s (nil for keys).
func (v *Verifier) checkStatement(st *Statement, s *certificate.Summary, res *Result) error {
	if st == nil {
		return nil
	}
	if err := decodeStatement(st); err != nil || v.policy.SkipStatementChecks {
		// Unchecked, an undecodable predicate only goes unsummarised.
		if v.policy.SkipStatementChecks {
			return nil
		}
		return err
	}
	if want := firstSet(v.policy.PredicateType, v.policy.AttestationPredicateType); want != "" && !predicateTypeMatches(want, st.PredicateType) {
		expected := fmt.Sprintf("%q", want)
		if uri, ok := attest.PredicateType(want); ok && uri != want {
			expected = fmt.Sprintf("%q (%s)", want, uri)
		}
		return &RejectedError{
			Cause:       CausePredicateType,
			Reason:      fmt.Sprintf("the statement's predicate type is %s, not %s", describePredicateType(st.PredicateType), expected),
			Comparisons: []Comparison{{Field: "predicate type", Expected: expected, Actual: st.PredicateType}},
		}
	}
	if want := v.policy.BuilderID; want != "" {
		if st.Provenance == nil {
			return &RejectedError{Cause: CauseProvenance,
				Reason:      fmt.Sprintf("the statement is not SLSA provenance (predicate type %q), so it names no builder", st.PredicateType),
				Comparisons: []Comparison{{Field: "builder", Expected: fmt.Sprintf("%q", want), Actual: ""}}}
		}
		if st.Provenance.Builder != want {
			return &RejectedError{Cause: CauseProvenance,
				Reason:      "the provenance's builder is not the one the policy asks for",
				Comparisons: []Comparison{{Field: "builder", Expected: fmt.Sprintf("%q", want), Actual: st.Provenance.Builder}}}
		}
	}
	if !isGitHubBuild(st.Provenance) {
		return nil
	}
	if v.policy.InsecureIgnoreProvenance {
		res.SkippedChecks = append(res.SkippedChecks, SkippedCheck{Check: CheckProvenance,
			Reason: "the policy ignores whether the provenance agrees with the certificate (insecure-ignore-provenance)"})
		return nil
	}
	if s == nil || s.SourceRepositoryURI == "" {
		res.SkippedChecks = append(res.SkippedChecks, SkippedCheck{Check: CheckProvenance,
			Reason: "the provenance says it was built by GitHub Actions, but the signer's certificate carries no GitHub Actions claims to check it against"})
		return nil
	}
	cs := compareProvenance(st.Provenance, s)
	for _, c := range cs {
		if !c.Match {
			return &RejectedError{
				Cause:       CauseProvenance,
				Reason:      "the provenance does not agree with the signer's certificate: it claims a build the certificate does not vouch for",
				Comparisons: cs,
			}
		}
	}
	return nil
}

// compareProvenance lists each workflow fact of a GitHub Actions provenance
// against the certificate claim that vouches for it. Expected is the
// certificate's value; Actual is the provenance's.
func compareProvenance(p *Provenance, s *certificate.Summary) []Comparison {
	var out []Comparison
	add := func(field, claim, cert, prov string) {
		if cert == "" {
			return
		}
		out = append(out, Comparison{Field: "provenance " + field,
			Expected: fmt.Sprintf("%q (the certificate's %s)", cert, claim), Actual: prov, Match: cert == prov})
	}
	add("workflow repository", "source repository", s.SourceRepositoryURI, p.SourceRepository)
	add("workflow ref", "source ref", s.SourceRepositoryRef, p.SourceRef)
	workflow := ""
	if p.SourceRepository != "" || p.Workflow != "" {
		workflow = p.SourceRepository + "/" + p.Workflow + "@" + p.SourceRef
	}
	add("workflow", "build config URI", s.BuildConfigURI, workflow)
	if p.SourceCommit != "" {
		// Optional in SLSA v1 (resolvedDependencies): checked when given.
		add("source commit", "source digest", s.SourceRepositoryDigest, p.SourceCommit)
	}
	if p.BuildType == attest.BuildTypeGitHub {
		// actions/attest-build-provenance names the workflow whose job ran
		// (job_workflow_ref) as builder: the certificate's build signer.
		add("builder", "build signer URI", s.BuildSignerURI, p.Builder)
	}
	return out
}

// firstSet returns the first non-empty value.
func firstSet(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
