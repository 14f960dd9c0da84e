package verify_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

func TestBundleCoverage(t *testing.T) {
	key, err := sigtest.GenerateKey(sigtest.KeyECDSAP384)
	if err != nil {
		t.Fatal(err)
	}
	art := []byte("covered\n")
	sum := sha256.Sum256(art)
	st, err := sigtest.Statement("covered", art, "https://example.com/p", nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := sigtest.SignBlobWithKey(key, art)
	if err != nil {
		t.Fatal(err)
	}
	dsse, err := sigtest.SignStatementWithKey(key, st)
	if err != nil {
		t.Fatal(err)
	}
	notInToto, err := sigtest.SignStatementWithKey(key, []byte("not a statement"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		bundle  []byte
		alg, pt string
		cause   verify.Cause
	}{
		{"message signature (P-384 records SHA-384)", msg, "sha384", "", ""},
		{"dsse statement", dsse, "sha256", "https://example.com/p", ""},
		{"dsse payload that is no statement", notInToto, "", "", verify.CauseMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, err := verify.ParseBundle(c.bundle)
			if err != nil {
				t.Fatal(err)
			}
			cov, err := verify.BundleCoverage(b)
			if c.cause != "" {
				var rej *verify.RejectedError
				if !errors.As(err, &rej) || rej.Cause != c.cause {
					t.Fatalf("err = %v, want a %s rejection", err, c.cause)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cov.PredicateType != c.pt || len(cov.Digests) != 1 || cov.Digests[0].Algorithm != c.alg {
				t.Fatalf("coverage %+v, want one %s digest and predicate type %q", cov, c.alg, c.pt)
			}
			if c.alg == "sha256" && !cov.Covers(verify.Digest{Algorithm: "sha256", Value: hex.EncodeToString(sum[:])}) {
				t.Errorf("coverage %+v does not cover the artifact", cov)
			}
		})
	}
}

func TestNoAttestation(t *testing.T) {
	d := verify.Digest{Algorithm: "sha256", Value: "ab"}
	err := verify.NoAttestation(d, "none of the 3 bundles given covers it")
	if !verify.IsRejected(err) || err.Cause != verify.CauseNoAttestation {
		t.Fatalf("%v is not a no-attestation rejection", err)
	}
	if got, want := err.Error(), "no attestation for sha256:ab: none of the 3 bundles given covers it"; got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	if f := verify.FailureOf(err); f.Cause != verify.CauseNoAttestation || f.Kind != "rejected" {
		t.Errorf("failure %+v, want a rejected no-attestation", f)
	}
}
