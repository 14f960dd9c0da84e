package verify

import (
	"crypto/x509"
	"sync"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Fulcio chains are leaf → intermediate → root, and the intermediate and the
// root both come from the trust root, never from the bundle. Go's x509
// verifier re-checks the intermediate's signature by the root (a P-384
// ECDSA verification, about half the CPU of a whole bundle verification)
// for every bundle, although that link never changes.
//
// anchoredCA verifies the intermediate → root link once, with Go's x509
// verifier, and then verifies leaves with the intermediate as the trust
// anchor, again with Go's x509 verifier (which also checks the anchor's
// validity at the signing time and the code-signing key usage); the rest of
// the chain is checked for validity at the signing time. Whenever that fast
// path does not succeed, it defers to sigstore-go's own
// FulcioCertificateAuthority.Verify, so every rejection and every unusual
// chain takes the library's path.
type anchoredCA struct {
	ca *root.FulcioCertificateAuthority

	once    sync.Once
	anchors []anchor
}

// anchor is an intermediate whose chain up to the root verified.
type anchor struct {
	pool  *x509.CertPool // just the intermediate
	upper []*x509.Certificate
}

var _ root.CertificateAuthority = (*anchoredCA)(nil)

func (a *anchoredCA) Verify(leaf *x509.Certificate, t time.Time) ([][]*x509.Certificate, error) {
	a.once.Do(a.prepare)
	if a.withinWindow(t) {
		for _, an := range a.anchors {
			if chain, ok := an.verify(leaf, t); ok {
				return [][]*x509.Certificate{chain}, nil
			}
		}
	}
	return a.ca.Verify(leaf, t)
}

func (a *anchoredCA) withinWindow(t time.Time) bool {
	if !a.ca.ValidityPeriodStart.IsZero() && t.Before(a.ca.ValidityPeriodStart) {
		return false
	}
	return a.ca.ValidityPeriodEnd.IsZero() || !t.After(a.ca.ValidityPeriodEnd)
}

// prepare verifies each intermediate's chain to the root once, at a time
// when every certificate in it is valid.
func (a *anchoredCA) prepare() {
	roots := x509.NewCertPool()
	roots.AddCert(a.ca.Root)
	for _, inter := range a.ca.Intermediates {
		others := x509.NewCertPool()
		for _, o := range a.ca.Intermediates {
			if o != inter {
				others.AddCert(o)
			}
		}
		at := latest(inter.NotBefore, a.ca.Root.NotBefore)
		chains, err := inter.Verify(x509.VerifyOptions{
			CurrentTime:   at,
			Roots:         roots,
			Intermediates: others,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		})
		if err != nil || len(chains) == 0 {
			continue // the fast path does not apply; the library's path decides
		}
		pool := x509.NewCertPool()
		pool.AddCert(inter)
		a.anchors = append(a.anchors, anchor{pool: pool, upper: chains[0]})
	}
}

func latest(ts ...time.Time) time.Time {
	var m time.Time
	for _, t := range ts {
		if t.After(m) {
			m = t
		}
	}
	return m
}

// verify checks leaf against the intermediate at time t; the certificates
// above the intermediate must be valid at t too.
func (an anchor) verify(leaf *x509.Certificate, t time.Time) ([]*x509.Certificate, bool) {
	for _, c := range an.upper[1:] {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return nil, false
		}
	}
	chains, err := leaf.Verify(x509.VerifyOptions{
		CurrentTime: t,
		Roots:       an.pool,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	})
	if err != nil || len(chains) == 0 {
		return nil, false
	}
	// chains[0] is leaf, intermediate; the rest of the chain is an.upper[1:].
	chain := append(append([]*x509.Certificate{}, chains[0]...), an.upper[1:]...)
	return chain, true
}

// anchoredMaterial is trusted material whose Fulcio CAs are anchoredCAs.
type anchoredMaterial struct {
	root.TrustedMaterial
	cas []root.CertificateAuthority
}

func (m *anchoredMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority { return m.cas }

// withAnchoredCAs wraps tm so that its Fulcio CAs verify through anchors,
// or returns nil when no CA can (then there is nothing to gain).
func withAnchoredCAs(tm root.TrustedMaterial) root.TrustedMaterial {
	var cas []root.CertificateAuthority
	gain := false
	for _, ca := range tm.FulcioCertificateAuthorities() {
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok && f.Root != nil && len(f.Intermediates) > 0 {
			cas = append(cas, &anchoredCA{ca: f})
			gain = true
			continue
		}
		cas = append(cas, ca)
	}
	if !gain {
		return nil
	}
	return &anchoredMaterial{TrustedMaterial: tm, cas: cas}
}
