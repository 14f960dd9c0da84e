package policy

import (
	"context"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// anyIdentity accepts every Fulcio certificate identity: the signature,
// chain, log entries and timestamps are still verified by pkg/verify, and
// Evaluate then decides which named signer, if any, the identity is.
var anyIdentity = verify.Identity{SANRegexp: ".*", IssuerRegexp: ".*"}

// VerifyPolicies returns the verify.Policy values under which the bundles
// this policy may accept are to be verified, before Evaluate: first one for
// keyless bundles that accepts any certificate identity (the identity is
// matched against the signers by Evaluate), then one per key signer, in
// order, all with the trust section's thresholds. A key-signed bundle is
// verified under each key policy until one accepts it.
//
// A policy without keyless signers has no keyless entry, one without key
// signers no key entries.
func (p *Policy) VerifyPolicies() []verify.Policy {
	base := verify.Policy{MinTlogEntries: p.Trust.MinTlogEntries, MinTimestamps: p.Trust.MinTimestamps}
	var out []verify.Policy
	keyless := false
	for _, s := range p.Signers {
		keyless = keyless || !s.IsKey()
	}
	if keyless {
		vp := base
		id := anyIdentity
		vp.Identity = &id
		out = append(out, vp)
	}
	for _, s := range p.Signers {
		if s.IsKey() {
			vp := base
			vp.Key = s.PublicKey
			out = append(out, vp)
		}
	}
	return out
}

// Verifiers verifies bundles for a policy: one verify.Verifier per entry
// of VerifyPolicies, built once over the trust roots and safe for
// concurrent use. Every cryptographic check is pkg/verify's.
type Verifiers struct {
	keyless *verify.Verifier
	keys    []*verify.Verifier
}

// NewVerifiers builds the verifiers of p's VerifyPolicies over roots (one
// trust load for any number of bundles). The error wraps verify.ErrPolicy
// when a policy is unusable.
func NewVerifiers(p *Policy, roots []root.TrustedMaterial) (*Verifiers, error) {
	vs := &Verifiers{}
	for _, vp := range p.VerifyPolicies() {
		v, err := verify.NewWithRoots(roots, vp)
		if err != nil {
			return nil, err
		}
		if vp.Identity != nil {
			vs.keyless = v
		} else {
			vs.keys = append(vs.keys, v)
		}
	}
	return vs, nil
}

// Verify verifies b for artifact a (verify.StatementOnly for an attestation
// whose artifact is not at hand): a certificate-signed bundle under the
// any-identity policy, a key-signed one under each key signer's policy
// until one accepts it. The errors are pkg/verify's; a bundle no policy
// entry can verify (a key bundle and no key signer) is a
// *verify.RejectedError with verify.CauseSignerKind.
func (vs *Verifiers) Verify(ctx context.Context, b *bundle.Bundle, a verify.Artifact) (*verify.Result, error) {
	keyed := true
	if vc, err := b.VerificationContent(); err == nil && vc.Certificate() != nil {
		keyed = false
	}
	switch {
	case !keyed && vs.keyless != nil:
		return vs.keyless.Verify(ctx, b, a)
	case !keyed:
		return vs.refuse(a, "the bundle is signed with a Fulcio certificate, and the policy names key signers only")
	case len(vs.keys) == 0:
		return vs.refuse(a, "the bundle is signed with a key, and the policy names no key signer")
	}
	var res *verify.Result
	var err error
	for _, v := range vs.keys {
		res, err = v.Verify(ctx, b, a)
		if err == nil || !verify.IsRejected(err) {
			return res, err
		}
	}
	return res, err
}

func (vs *Verifiers) refuse(a verify.Artifact, reason string) (*verify.Result, error) {
	err := &verify.RejectedError{Cause: verify.CauseSignerKind, Reason: reason}
	return &verify.Result{Artifact: a.Name, Error: verify.FailureOf(err)}, err
}
