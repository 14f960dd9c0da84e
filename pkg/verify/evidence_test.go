package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// duplicateEvidence returns bundleJSON with its first RFC 3161 timestamp
// (field "rfc3161Timestamps") or its first tlog entry ("tlogEntries")
// repeated, as a bundle that counts one piece of evidence twice.
func duplicateEvidence(t *testing.T, bundleJSON []byte, field string) []byte {
	t.Helper()
	var b map[string]any
	if err := json.Unmarshal(bundleJSON, &b); err != nil {
		t.Fatal(err)
	}
	vm := b["verificationMaterial"].(map[string]any)
	holder := vm
	if field == "rfc3161Timestamps" {
		holder = vm["timestampVerificationData"].(map[string]any)
	}
	list := holder[field].([]any)
	if len(list) == 0 {
		t.Fatalf("bundle has no %s to duplicate", field)
	}
	holder[field] = append(list, list[0])
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Thresholds count distinct evidence: one timestamp (or log entry) carried
// twice counts once.
func TestThresholdsCountDistinctEvidence(t *testing.T) {
	w := getWorld(t)
	noTlogPolicy := func(minTS int) verify.Policy {
		p := demoPolicy()
		p.InsecureIgnoreTlog = true
		p.MinTimestamps = minTS
		return p
	}
	tests := []struct {
		name   string
		bundle []byte
		policy verify.Policy
		cause  verify.Cause // "" when accepted
	}{
		{name: "one timestamp twice is one", bundle: duplicateEvidence(t, w.bundles["no-tlog"], "rfc3161Timestamps"),
			policy: noTlogPolicy(2), cause: verify.CauseTimestamp},
		{name: "one timestamp twice meets a threshold of one", bundle: duplicateEvidence(t, w.bundles["no-tlog"], "rfc3161Timestamps"),
			policy: noTlogPolicy(1)},
		{name: "log time and a timestamp twice are two, not three", bundle: duplicateEvidence(t, w.bundles["blob"], "rfc3161Timestamps"),
			policy: func() verify.Policy { p := demoPolicy(); p.MinTimestamps = 3; return p }(), cause: verify.CauseTimestamp},
		{name: "one log entry twice is one", bundle: duplicateEvidence(t, w.bundles["blob"], "tlogEntries"),
			policy: func() verify.Policy { p := demoPolicy(); p.MinTlogEntries = 2; return p }(), cause: verify.CauseTlog},
		{name: "one log entry twice meets a threshold of one", bundle: duplicateEvidence(t, w.bundles["blob"], "tlogEntries"),
			policy: demoPolicy()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, w.tm, tt.policy)
			r, err := run(t, v, tt.bundle, verify.FileArtifact(writeTemp(t, w.artifact)))
			if tt.cause == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != tt.cause {
				t.Fatalf("err = %v, want a %s rejection", err, tt.cause)
			}
			if !strings.Contains(err.Error(), "count") || !strings.Contains(err.Error(), "once") {
				t.Errorf("message %q does not say that the copies count once", err)
			}
			checkNoDebris(t, err, r)
		})
	}
}

// checkNoDebris fails on Go formatting debris ("%!w(<nil>)") in a message.
func checkNoDebris(t *testing.T, err error, r *verify.Result) {
	t.Helper()
	if strings.Contains(err.Error(), "%!") || (r != nil && r.Error != nil && strings.Contains(r.Error.Message, "%!")) {
		t.Errorf("message has formatting debris: %q", err)
	}
}

// Messages say in hallmark's words which evidence was missing.
func TestRejectionsInOwnWords(t *testing.T) {
	w := getWorld(t)
	// Without timestamp authorities either: a root with TSAs and no logs
	// is a signed-timestamps-only instance (TestTimestampsOnlyRoot).
	noTlogRoot, err := root.NewTrustedRoot(root.TrustedRootMediaType01, w.tm.FulcioCertificateAuthorities(), w.tm.CTLogs(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ignoreTlog := demoPolicy()
	ignoreTlog.InsecureIgnoreTlog = true
	tests := []struct {
		name   string
		tm     root.TrustedMaterial
		policy verify.Policy
		bundle string
		cause  verify.Cause
		want   string // in the message
		not    string // never in the message
	}{
		{name: "log time was the only timestamp", policy: ignoreTlog, bundle: "no-tsa", cause: verify.CauseTlogTimeIgnored,
			want: "only timestamp is the integrated time of its transparency log entry", not: "threshold"},
		{name: "no time evidence at all", policy: ignoreTlog, bundle: "no-tlog-no-tsa", cause: verify.CauseTimestamp,
			want: "has no timestamp", not: "threshold"},
		{name: "trust root without transparency logs", tm: noTlogRoot, policy: demoPolicy(), bundle: "blob", cause: verify.CauseUnknownLog,
			want: "the trust root has no transparency logs"},
		{name: "another key of another curve", policy: verify.Policy{Key: parseKey(t, w.keys["ecdsa-p384"]), InsecureIgnoreTlog: true},
			tm: nil, bundle: "key-ecdsa-p256", cause: verify.CauseSignature,
			want: "with the ECDSA P-384 key given (sha256:", not: "unexpected length"},
		{name: "another key", policy: verify.Policy{Key: parseKey(t, w.keys["ed25519"]), InsecureIgnoreTlog: true},
			tm: nil, bundle: "key-ecdsa-p256", cause: verify.CauseSignature, want: "another key signed the bundle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tm := tt.tm
			if tm == nil && tt.policy.Key == nil {
				tm = w.tm
			}
			v := mustVerifier(t, tm, tt.policy)
			r, err := run(t, v, w.bundles[tt.bundle], verify.FileArtifact(writeTemp(t, w.artifact)))
			var rej *verify.RejectedError
			if !errors.As(err, &rej) || rej.Cause != tt.cause {
				t.Fatalf("err = %v, want a %s rejection", err, tt.cause)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(r.Error.Message, tt.want) {
				t.Errorf("message %q lacks %q", err, tt.want)
			}
			if tt.not != "" && strings.Contains(err.Error(), tt.not) {
				t.Errorf("message %q has %q", err, tt.not)
			}
			checkNoDebris(t, err, r)
		})
	}
}

// A check the trust root or the policy turns off is listed in the result.
// The sigtest trust root has no CT logs, so its keyless bundles are never
// SCT-checked; a root with a CT log checks (and rejects) them.
func TestSkippedChecks(t *testing.T) {
	w := getWorld(t)
	ctKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ct := map[string]*root.TransparencyLog{"ct": {BaseURL: "https://ct.example", ID: []byte("ct"), PublicKey: ctKey.Public(),
		SignatureHashFunc: crypto.SHA256, ValidityPeriodStart: time.Now().Add(-24 * time.Hour)}}
	withCT, err := root.NewTrustedRoot(root.TrustedRootMediaType01, w.tm.FulcioCertificateAuthorities(), ct, w.tm.TimestampingAuthorities(), w.tm.RekorLogs())
	if err != nil {
		t.Fatal(err)
	}
	ignoreTlog := demoPolicy()
	ignoreTlog.InsecureIgnoreTlog = true
	ignoreSCT := demoPolicy()
	ignoreSCT.InsecureIgnoreSCT = true
	tests := []struct {
		name   string
		tm     root.TrustedMaterial
		policy verify.Policy
		bundle string
		want   []verify.Check
		reason string // in the first reason
		cause  verify.Cause
	}{
		{name: "trust root without CT logs", tm: w.tm, policy: demoPolicy(), bundle: "blob", want: []verify.Check{verify.CheckSCT},
			reason: "the trust root has no certificate transparency logs"},
		{name: "trust root with a CT log", tm: withCT, policy: demoPolicy(), bundle: "blob", cause: verify.CauseSCT},
		{name: "SCT ignored by the policy", tm: withCT, policy: ignoreSCT, bundle: "blob", want: []verify.Check{verify.CheckSCT},
			reason: "the policy ignores signed certificate timestamps"},
		{name: "log ignored by the policy", tm: w.tm, policy: ignoreTlog, bundle: "no-tlog", want: []verify.Check{verify.CheckSCT, verify.CheckTlog}},
		{name: "trust root without timestamp authority", tm: w.noTSA, policy: demoPolicy(), bundle: "blob",
			want: []verify.Check{verify.CheckSCT, verify.CheckTimestampAuthority}},
		{name: "key", policy: verify.Policy{Key: parseKey(t, w.keys["ed25519"]), InsecureIgnoreTlog: true}, bundle: "key-ed25519",
			want: []verify.Check{verify.CheckTlog}, reason: "the trust root has no transparency logs, and the policy ignores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustVerifier(t, tt.tm, tt.policy)
			r, err := run(t, v, w.bundles[tt.bundle], verify.FileArtifact(writeTemp(t, w.artifact)))
			if tt.cause != "" {
				var rej *verify.RejectedError
				if !errors.As(err, &rej) || rej.Cause != tt.cause {
					t.Fatalf("err = %v, want a %s rejection", err, tt.cause)
				}
			} else if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var got []verify.Check
			for _, s := range r.SkippedChecks {
				if s.Reason == "" {
					t.Errorf("skipped check %s without a reason", s.Check)
				}
				got = append(got, s.Check)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("skipped checks = %+v, want %v", r.SkippedChecks, tt.want)
			}
			if tt.reason != "" && (len(r.SkippedChecks) == 0 || !strings.Contains(r.SkippedChecks[0].Reason, tt.reason)) {
				t.Errorf("skipped checks = %+v, want a first reason with %q", r.SkippedChecks, tt.reason)
			}
		})
	}
}
