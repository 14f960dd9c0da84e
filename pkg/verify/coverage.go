package verify

import (
	"encoding/hex"

	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// Coverage is what a bundle says it covers, read without verifying
// anything: for finding the bundles that may be about an artifact before
// verifying them.
type Coverage struct {
	// Digests are the message digest of a message-signature bundle, or the
	// subject digests of a DSSE statement (every algorithm of every subject).
	Digests []Digest
	// PredicateType is the statement's predicate type; empty for a message
	// signature.
	PredicateType string
}

// Covers reports whether c names digest d.
func (c *Coverage) Covers(d Digest) bool {
	for _, x := range c.Digests {
		if x == d {
			return true
		}
	}
	return false
}

// BundleCoverage reads the digests bundle b claims to cover and its
// predicate type. The claim is unverified: Verify is what checks it. A
// bundle whose content cannot be read is a *RejectedError (CauseMalformed).
func BundleCoverage(b *bundle.Bundle) (*Coverage, error) {
	sc, err := b.SignatureContent()
	if err != nil {
		return nil, reject(CauseMalformed, err, "malformed bundle: %v", err)
	}
	if env := sc.EnvelopeContent(); env != nil {
		st, err := summarize(env.RawEnvelope().PayloadType, env.RawEnvelope().Payload)
		if err != nil {
			return nil, err
		}
		c := &Coverage{PredicateType: st.PredicateType}
		for _, s := range st.Subjects {
			for alg, v := range s.Digest {
				c.Digests = append(c.Digests, Digest{Algorithm: alg, Value: v})
			}
		}
		return c, nil
	}
	msg := sc.MessageSignatureContent()
	if msg == nil {
		return nil, reject(CauseMalformed, nil, "malformed bundle: neither a message signature nor a DSSE envelope")
	}
	return &Coverage{Digests: []Digest{{Algorithm: digestAlgorithmName(msg.DigestAlgorithm()), Value: hex.EncodeToString(msg.Digest())}}}, nil
}

// CauseNoAttestation: no bundle given covers the artifact's digest, or
// every one that does was refused (Result.Refused says why).
const CauseNoAttestation Cause = "no-attestation"

// NoAttestation is the rejection of an artifact that no bundle covers:
// "no attestation for DIGEST", with detail (which bundles were searched,
// why those that cover it were refused) when not empty.
func NoAttestation(d Digest, detail string) *RejectedError {
	r := reject(CauseNoAttestation, nil, "no attestation for %s", d)
	if detail != "" {
		r.Reason += ": " + detail
	}
	r.ownWords = true
	return r
}
