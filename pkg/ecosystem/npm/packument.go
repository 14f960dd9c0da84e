package npm

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// MaxPackumentSize is the largest packument read (popular packages' run to
// tens of megabytes).
const MaxPackumentSize = 64 << 20

// Packument is the part of a registry packument (GET <registry>/NAME) that
// the registry signature covers.
type Packument struct {
	Name     string
	versions map[string]packumentVersion
	times    map[string]time.Time
}

type packumentVersion struct {
	Dist struct {
		Integrity  string `json:"integrity"`
		Signatures []struct {
			KeyID string `json:"keyid"`
			Sig   string `json:"sig"`
		} `json:"signatures"`
	} `json:"dist"`
}

// ErrPackument is wrapped by the errors of a packument that does not parse
// or lacks the version asked for.
var ErrPackument = errors.New("not an npm packument")

// ParsePackument reads a packument: {"name", "versions": {V: {"dist":
// {"integrity", "signatures": [{"keyid", "sig"}]}}}, "time": {V: ...}}.
// Also accepted is the document of one version (GET <registry>/NAME/V),
// {"name", "version", "dist"}.
func ParsePackument(data []byte) (*Packument, error) {
	if len(data) > MaxPackumentSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrPackument, len(data), MaxPackumentSize)
	}
	var raw struct {
		Name     string                      `json:"name"`
		Version  string                      `json:"version"`
		Versions map[string]packumentVersion `json:"versions"`
		Time     map[string]json.RawMessage  `json:"time"`
		packumentVersion
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPackument, err)
	}
	if raw.Name == "" {
		return nil, fmt.Errorf("%w: no name", ErrPackument)
	}
	p := &Packument{Name: raw.Name, versions: raw.Versions, times: map[string]time.Time{}}
	if p.versions == nil && raw.Version != "" {
		p.versions = map[string]packumentVersion{raw.Version: raw.packumentVersion}
	}
	if len(p.versions) == 0 {
		return nil, fmt.Errorf("%w: %q has no versions", ErrPackument, raw.Name)
	}
	for v, t := range raw.Time {
		var ts time.Time
		if json.Unmarshal(t, &ts) == nil {
			p.times[v] = ts
		}
	}
	return p, nil
}

// RegistrySignature is a verified registry signature of a package version.
type RegistrySignature struct {
	KeyID string `json:"keyId"`
	// Time is the version's publish time by the packument, at which the
	// key had to be valid (the registry signature has no time of its own;
	// npm audit signatures checks the same).
	Time time.Time `json:"time,omitzero"`
}

// VerifyRegistrySignature checks the registry's signature of p in the
// packument: its dist.integrity must be the tarball's digest, and one of its
// dist.signatures must be an ECDSA P-256 signature over
// "NAME@VERSION:INTEGRITY" by a registry key of usage npm:signatures valid
// at the version's publish time (now when the packument has none). A
// refusal is a *verify.RejectedError (CauseRegistrySignature, or
// verify.CauseArtifact for another integrity).
func (pk *Packument) VerifyRegistrySignature(keys Keys, p Package, digest verify.Digest, now time.Time) (*RegistrySignature, error) {
	if pk.Name != p.Name {
		return nil, &verify.RejectedError{Cause: CauseRegistrySignature, Reason: "the packument is of another package",
			Comparisons: []verify.Comparison{{Field: "packument name", Expected: fmt.Sprintf("%q", p.Name), Actual: pk.Name}}}
	}
	pv, ok := pk.versions[p.Version]
	if !ok {
		return nil, fmt.Errorf("%w: %s has no version %q", ErrPackument, pk.Name, p.Version)
	}
	integrity := pv.Dist.Integrity
	got, err := ParseIntegrity(integrity)
	if err != nil || got.Value != digest.Value {
		return nil, &verify.RejectedError{Cause: verify.CauseArtifact, Reason: "the packument's integrity is not the tarball's",
			Comparisons: []verify.Comparison{{Field: "dist.integrity", Expected: fmt.Sprintf("%q", Integrity(digest)), Actual: integrity}}}
	}
	at, ok := pk.times[p.Version]
	if !ok {
		at = now
	}
	msg := sha256.Sum256([]byte(p.Name + "@" + p.Version + ":" + integrity))
	var why []string
	for _, s := range pv.Dist.Signatures {
		key, ok := keys.Lookup(s.KeyID, UsageSignatures)
		if !ok {
			why = append(why, fmt.Sprintf("key %q is not one of the registry's %s keys", s.KeyID, UsageSignatures))
			continue
		}
		if !key.ValidAt(at) {
			why = append(why, fmt.Sprintf("key %q was not valid at %s (valid %s)", s.KeyID, at.UTC().Format(time.RFC3339), key.Window()))
			continue
		}
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || !ecdsa.VerifyASN1(key.PublicKey, msg[:], sig) {
			why = append(why, fmt.Sprintf("the signature by key %q does not verify", s.KeyID))
			continue
		}
		return &RegistrySignature{KeyID: key.ID, Time: pk.times[p.Version]}, nil
	}
	if len(why) == 0 {
		why = append(why, "the version has no dist.signatures")
	}
	r := &verify.RejectedError{Cause: CauseRegistrySignature,
		Reason: fmt.Sprintf("the registry signature of %s does not verify: %s", p, joinSemi(why))}
	return nil, r
}

func joinSemi(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}
