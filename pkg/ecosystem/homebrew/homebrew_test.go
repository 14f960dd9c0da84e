package homebrew_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/homebrew"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

var bottleNames = []struct {
	in   string
	want homebrew.Bottle // zero: ErrBottleName
}{
	{"jq--1.7.1.arm64_sonoma.bottle.tar.gz", homebrew.Bottle{Name: "jq", Version: "1.7.1", Tag: "arm64_sonoma"}},
	{"jq--1.7.1.arm64_sonoma.bottle.1.tar.gz", homebrew.Bottle{Name: "jq", Version: "1.7.1", Tag: "arm64_sonoma", Rebuild: 1}},
	{"python@3.12--3.12.1_1.x86_64_linux.bottle.tar.gz", homebrew.Bottle{Name: "python@3.12", Version: "3.12.1_1", Tag: "x86_64_linux"}},
	{"ca-certificates--2024-03-11.all.bottle.tar.gz", homebrew.Bottle{Name: "ca-certificates", Version: "2024-03-11", Tag: "all"}},
	{"jq--1.7.1.arm64_sonoma.bottle.tar", homebrew.Bottle{}},
	{"jq-1.7.1.arm64_sonoma.bottle.tar.gz", homebrew.Bottle{}},
	{"jq--1.7.1.bottle.tar.gz", homebrew.Bottle{}},
	{"jq--1.7.1.arm64_sonoma.bottle.x.tar.gz", homebrew.Bottle{}},
	{"jq--1.7.1.arm64_sonoma.bottle.-1.tar.gz", homebrew.Bottle{}},
	{"dir/jq--1.7.1.arm64_sonoma.bottle.tar.gz", homebrew.Bottle{}},
	{"--1.7.1.arm64_sonoma.bottle.tar.gz", homebrew.Bottle{}},
	{"jq--1.7.1.tar.gz", homebrew.Bottle{}},
}

func TestParseBottle(t *testing.T) {
	for _, tt := range bottleNames {
		got, err := homebrew.ParseBottle(tt.in)
		if tt.want.Name == "" {
			if !errors.Is(err, homebrew.ErrBottleName) {
				t.Errorf("ParseBottle(%q) = %+v, %v; want ErrBottleName", tt.in, got, err)
			}
			continue
		}
		tt.want.FileName = tt.in
		if err != nil || got != tt.want {
			t.Errorf("ParseBottle(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParseBottle(f *testing.F) {
	if len(bottleNames) < 4 {
		f.Fatal("no seeds")
	}
	for _, tt := range bottleNames {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, name string) {
		b, err := homebrew.ParseBottle(name)
		if err != nil {
			if !errors.Is(err, homebrew.ErrBottleName) {
				t.Fatalf("error %v does not wrap ErrBottleName", err)
			}
			return
		}
		// A parsed bottle is named by its own parts.
		rebuild := ""
		if b.Rebuild > 0 || strings.HasSuffix(name, ".bottle.0.tar.gz") || strings.Contains(name, ".bottle.0") {
			rebuild = strings.TrimSuffix(name[strings.LastIndex(name, ".bottle")+len(".bottle"):], ".tar.gz")
		}
		if want := b.Name + "--" + b.Version + "." + b.Tag + ".bottle" + rebuild + ".tar.gz"; want != name {
			t.Fatalf("ParseBottle(%q) = %+v, which names %q", name, b, want)
		}
		if strings.ContainsAny(b.Tag, ".") || b.Name == "" || strings.Contains(b.Name, "--") {
			t.Fatalf("ParseBottle(%q) = %+v: bad parts", name, b)
		}
	})
}

func TestLookup(t *testing.T) {
	if p, err := homebrew.Lookup("homebrew-core", ""); err != nil || p.Repo != homebrew.CoreRepo || !p.Backfill {
		t.Errorf("Lookup(homebrew-core) = %+v, %v", p, err)
	}
	if p, err := homebrew.Lookup("homebrew", "octo/homebrew-tap"); err != nil || p.Repo != "octo/homebrew-tap" || p.Backfill {
		t.Errorf("Lookup(homebrew, octo/homebrew-tap) = %+v, %v", p, err)
	}
	for _, c := range [][2]string{{"homebrew", ""}, {"homebrew", "octo"}, {"homebrew-core", "octo/tap"}, {"npm", ""}} {
		if p, err := homebrew.Lookup(c[0], c[1]); !errors.Is(err, verify.ErrPolicy) {
			t.Errorf("Lookup(%q, %q) = %+v, %v; want ErrPolicy", c[0], c[1], p, err)
		}
	}
	if p, b := homebrew.Core().Policy(), homebrew.BackfillPolicy(); p.PredicateType != homebrew.PredicateType || b.PredicateType != homebrew.PredicateType {
		t.Errorf("policies require predicate types %q and %q, want SLSA provenance v1", p.PredicateType, b.PredicateType)
	}
	id := homebrew.Core().Identity()
	if id.Issuer != verify.GitHubIssuer || id.SourceRepositoryURI != "https://github.com/Homebrew/homebrew-core" ||
		id.SANRegexp != `https://github\.com/Homebrew/homebrew-core/.*` {
		t.Errorf("Core().Identity() = %+v", id)
	}
}

const (
	bottleURL = "https://ghcr.io/v2/homebrew/core/jq/blobs/sha256:"
	coreRepo  = "https://github.com/Homebrew/homebrew-core"
)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// result is a verified result of an attestation with the given subjects
// (name -> sha256), predicate type and time.
func result(predicate string, at time.Time, subjects map[string]string) *verify.Result {
	st := &verify.Statement{PredicateType: predicate}
	for name, d := range subjects {
		st.Subjects = append(st.Subjects, verify.Subject{Name: name, Digest: map[string]string{"sha256": d}})
	}
	return &verify.Result{Verified: true, Statement: st, Timestamps: []verify.Timestamp{{Kind: "tlog", Time: at}},
		Signer: &verify.Signer{Kind: "certificate", SAN: coreRepo + "/.github/workflows/publish-commit-bottles.yml@refs/heads/main",
			GitHub: &verify.GitHubClaims{SourceRepository: coreRepo, RunInvocation: coreRepo + "/actions/runs/7/attempts/1"}}}
}

func TestCheck(t *testing.T) {
	const name = "jq--1.7.1.arm64_sonoma.bottle.tar.gz"
	d := digestOf([]byte("bottle"))
	other := digestOf([]byte("other"))
	url := bottleURL + d
	backfillSubject := digestOf([]byte(url)) + "--" + name
	before := time.Date(2024, 3, 13, 12, 0, 0, 0, time.UTC)
	after := time.Date(2024, 3, 14, 0, 0, 1, 0, time.UTC)
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	slsa := homebrew.PredicateType
	ev := func(rs ...*verify.Result) homebrew.Evidence { return homebrew.Evidence{Verified: rs} }
	refused := homebrew.Evidence{Refused: 1, Reasons: []string{"the signer does not match the identity policy"}}
	tests := []struct {
		name     string
		preset   homebrew.Preset
		bottle   string
		url      string
		own      homebrew.Evidence
		backfill homebrew.Evidence
		want     homebrew.Reason
		subject  string
		isBack   bool
	}{
		{name: "bottle is a subject", bottle: name, own: ev(result(slsa, now, map[string]string{name: d})), want: homebrew.ReasonVerified, subject: name},
		{name: "every subject of every attestation", bottle: name, own: ev(
			result(slsa, now, map[string]string{"x--1.x86_64_linux.bottle.tar.gz": other}),
			result(slsa, now, map[string]string{"jq--1.7.1.sonoma.bottle.tar.gz": other, name: d})),
			want: homebrew.ReasonVerified, subject: name},
		{name: "renamed bottle", bottle: "jq--1.7.2.arm64_sonoma.bottle.tar.gz", own: ev(result(slsa, now, map[string]string{name: d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "name of one subject, digest of another", bottle: name,
			own:  ev(result(slsa, now, map[string]string{name: other, "jq--1.7.1.sonoma.bottle.tar.gz": d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "all bottle by prefix", bottle: "jq--1.7.1.all.bottle.tar.gz",
			own:  ev(result(slsa, now, map[string]string{"jq--1.7.1.arm64_sonoma.bottle.tar.gz": d})),
			want: homebrew.ReasonVerified, subject: name},
		{name: "all bottle needs the whole version", bottle: "jq--1.7.all.bottle.tar.gz",
			own:  ev(result(slsa, now, map[string]string{"jq--1.7.1.arm64_sonoma.bottle.tar.gz": d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "not SLSA provenance v1", bottle: name, own: ev(result("https://slsa.dev/provenance/v0.2", now, map[string]string{name: d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "nothing at all", bottle: name, want: homebrew.ReasonNoAttestation},
		{name: "refused attestations", bottle: name, own: refused, want: homebrew.ReasonInvalidAttestation},
		{name: "backfill before cutoff", bottle: name, url: url, backfill: ev(result(slsa, before, map[string]string{backfillSubject: d})),
			want: homebrew.ReasonVerified, subject: backfillSubject, isBack: true},
		{name: "backfill on the cutoff", bottle: name, url: url, backfill: ev(result(slsa, homebrew.BackfillCutoff, map[string]string{backfillSubject: d})),
			want: homebrew.ReasonVerified, subject: backfillSubject, isBack: true},
		{name: "backfill after cutoff", bottle: name, url: url, backfill: ev(result(slsa, after, map[string]string{backfillSubject: d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "backfill with one time after cutoff", bottle: name, url: url, backfill: ev(func() *verify.Result {
			r := result(slsa, before, map[string]string{backfillSubject: d})
			r.Timestamps = append(r.Timestamps, verify.Timestamp{Kind: "tsa", Time: after})
			return r
		}()), want: homebrew.ReasonInvalidAttestation},
		{name: "backfill of another URL", bottle: name, url: url + "0", backfill: ev(result(slsa, before, map[string]string{backfillSubject: d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "backfill without the URL", bottle: name, backfill: ev(result(slsa, before, map[string]string{backfillSubject: d})),
			want: homebrew.ReasonInvalidAttestation},
		{name: "no backfill for a tap", preset: homebrew.Preset{Name: "homebrew", Repo: "octo/homebrew-tap"}, bottle: name, url: url,
			backfill: ev(result(slsa, before, map[string]string{backfillSubject: d})), want: homebrew.ReasonNoAttestation},
		{name: "own attestation wins over backfill", bottle: name, url: url, own: ev(result(slsa, now, map[string]string{name: d})),
			backfill: ev(result(slsa, after, map[string]string{backfillSubject: d})), want: homebrew.ReasonVerified, subject: name},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.preset
			if p.Name == "" {
				p = homebrew.Core()
			}
			b, err := homebrew.ParseBottle(tt.bottle)
			if err != nil {
				t.Fatal(err)
			}
			b.URL = tt.url
			v, err := homebrew.Check(p, b, verify.Digest{Algorithm: "sha256", Value: d}, tt.own, tt.backfill, homebrew.BackfillCutoff)
			if got := homebrew.ReasonOf(err); got != tt.want {
				t.Fatalf("Check = %+v, %v (%s); want %s", v, err, got, tt.want)
			}
			if err != nil {
				return
			}
			if v.Subject != tt.subject || v.Backfill != tt.isBack || v.Repository != coreRepo || v.Run == "" || v.Time.IsZero() {
				t.Errorf("verdict %+v; want subject %q backfill %v", v, tt.subject, tt.isBack)
			}
		})
	}
}

func TestReasonOf(t *testing.T) {
	for err, want := range map[error]homebrew.Reason{
		nil:                                homebrew.ReasonVerified,
		homebrew.ErrNoAttestation:          homebrew.ReasonNoAttestation,
		homebrew.ErrInvalidAttestation:     homebrew.ReasonInvalidAttestation,
		errors.New("anything else"):        homebrew.ReasonInvalidAttestation,
		errors.Join(homebrew.ErrRateLimit): homebrew.ReasonRateLimit,
		errors.Join(homebrew.ErrAuth):      homebrew.ReasonAuth,
		errors.Join(homebrew.ErrNetwork):   homebrew.ReasonNetwork,
	} {
		if got := homebrew.ReasonOf(err); got != want {
			t.Errorf("ReasonOf(%v) = %s, want %s", err, got, want)
		}
	}
}

// TestPresetPolicy verifies sigtest bundles with GitHub claims against the
// preset's policies: homebrew-core's workflows pass, another repository's
// and the backfill's own identity are told apart.
func TestPresetPolicy(t *testing.T) {
	inst, err := sigtest.New()
	if err != nil {
		t.Fatal(err)
	}
	tm, err := inst.TrustedRoot()
	if err != nil {
		t.Fatal(err)
	}
	bottle := []byte("bottle bytes")
	const name = "jq--1.7.1.arm64_sonoma.bottle.tar.gz"
	stmt, err := sigtest.Statement(name, bottle, homebrew.PredicateType, nil)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(repo, wf string) []byte {
		uri := "https://github.com/" + repo
		id := uri + "/.github/workflows/" + wf + "@refs/heads/main"
		bj, err := inst.Attest(stmt, sigtest.Options{Identity: id, GitHub: &sigtest.GitHubClaims{
			BuildSignerURI: id, SourceRepositoryURI: uri, SourceRepositoryRef: "refs/heads/main", RunnerEnvironment: "github-hosted",
			RunInvocationURI: uri + "/actions/runs/1/attempts/1"}})
		if err != nil {
			t.Fatal(err)
		}
		return bj
	}
	tests := []struct {
		name   string
		policy verify.Policy
		bundle []byte
		ok     bool
	}{
		{"core, publish workflow", homebrew.Core().Policy(), sign(homebrew.CoreRepo, "publish-commit-bottles.yml"), true},
		{"core, any workflow", homebrew.Core().Policy(), sign(homebrew.CoreRepo, "tests.yml"), true},
		{"core policy, another repository", homebrew.Core().Policy(), sign("Homebrew/homebrew-core-evil", "publish-commit-bottles.yml"), false},
		{"core policy, backfill attestation", homebrew.Core().Policy(), sign(homebrew.BackfillRepo, "backfill_signatures.yml"), false},
		{"backfill policy", homebrew.BackfillPolicy(), sign(homebrew.BackfillRepo, "backfill_signatures.yml"), true},
		{"backfill policy, core attestation", homebrew.BackfillPolicy(), sign(homebrew.CoreRepo, "publish-commit-bottles.yml"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := verify.New(tm, tt.policy)
			if err != nil {
				t.Fatal(err)
			}
			b, err := verify.ParseBundle(tt.bundle)
			if err != nil {
				t.Fatal(err)
			}
			art, err := verify.ParseDigest("sha256:" + digestOf(bottle))
			if err != nil {
				t.Fatal(err)
			}
			r, err := v.Verify(context.Background(), b, art)
			if tt.ok != (err == nil) {
				t.Fatalf("Verify = %v, want ok=%v", err, tt.ok)
			}
			var rej *verify.RejectedError
			if !tt.ok && (!errors.As(err, &rej) || rej.Cause != verify.CauseIdentity) {
				t.Fatalf("Verify = %v, want an identity rejection", err)
			}
			if tt.ok {
				b, _ := homebrew.ParseBottle(name)
				if _, err := homebrew.Check(homebrew.Core(), b, *r.Digest, homebrew.Evidence{Verified: []*verify.Result{r}}, homebrew.Evidence{}, homebrew.BackfillCutoff); err != nil && tt.policy.Identity.SourceRepositoryURI == coreRepo {
					t.Errorf("Check = %v", err)
				}
			}
		})
	}
}

// TestVerdictJSON pins the JSON shape of a verdict.
func TestVerdictJSON(t *testing.T) {
	b, _ := homebrew.ParseBottle("jq--1.7.1.arm64_sonoma.bottle.tar.gz")
	v := homebrew.Verdict{Bottle: b, Subject: b.FileName, Repository: coreRepo, Workflow: "w", Run: "r", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	got, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bottle":{"fileName":"jq--1.7.1.arm64_sonoma.bottle.tar.gz","formula":"jq","version":"1.7.1","tag":"arm64_sonoma"},"subject":"jq--1.7.1.arm64_sonoma.bottle.tar.gz","backfill":false,"repository":"https://github.com/Homebrew/homebrew-core","workflow":"w","run":"r","time":"2026-01-02T03:04:05Z"}`
	if string(got) != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
}
