package verify_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// TestTimestampsOnlyRoot: a root with timestamp authorities and no
// transparency or CT logs (as GitHub's) verifies certificates with signed
// timestamps only, says so in SkippedChecks, and still needs a timestamp of
// its own TSAs; next to another instance's root each bundle is checked
// against the root that issued it.
func TestTimestampsOnlyRoot(t *testing.T) {
	w := getWorld(t)
	tsOnly, err := root.NewTrustedRoot(root.TrustedRootMediaType01, w.tm.FulcioCertificateAuthorities(), nil, w.tm.TimestampingAuthorities(), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		roots  []root.TrustedMaterial
		bundle string
		cause  verify.Cause
	}{
		{"alone", []root.TrustedMaterial{tsOnly}, "blob", ""},
		{"next to another instance", []root.TrustedMaterial{w.other, tsOnly}, "blob", ""},
		{"the other instance only", []root.TrustedMaterial{w.other, w.other}, "blob", verify.CauseCertificate},
		{"no RFC 3161 timestamp", []root.TrustedMaterial{w.other, tsOnly}, "no-tlog-no-tsa", verify.CauseTimestamp},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := verify.NewWithRoots(c.roots, demoPolicy())
			if err != nil {
				t.Fatal(err)
			}
			res, err := run(t, v, w.bundles[c.bundle], verify.FileArtifact(writeTemp(t, w.artifact)))
			if c.cause != "" {
				var rej *verify.RejectedError
				if !errors.As(err, &rej) || rej.Cause != c.cause {
					t.Fatalf("err = %v, want a %s rejection", err, c.cause)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			got := map[verify.Check]bool{}
			for _, s := range res.SkippedChecks {
				got[s.Check] = strings.Contains(s.Reason, "signed timestamps only")
			}
			if !got[verify.CheckTlog] || !got[verify.CheckSCT] {
				t.Errorf("skippedChecks = %+v, want tlog and sct with the reason", res.SkippedChecks)
			}
		})
	}
}
