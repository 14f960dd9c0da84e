package verify

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"slices"
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
// anchoredCA splits the chain in two, each half verified by Go's x509
// verifier: once per CA, in prepare, each intermediate A up to the root
// (A.Verify with the root as the only root and the other intermediates as
// intermediates), which gives an upper chain U = A, U1, …, R; then, for each
// leaf, the leaf up to A (leaf.Verify with A as the only root), plus the
// validity of U1 … R at the signing time. It uses that fast path only where
// it provably accepts nothing that sigstore-go's
// FulcioCertificateAuthority.Verify refuses, that is leaf.Verify with R as
// the root and all the intermediates, at the same time, for code signing.
// Go's verifier builds every chain it can and accepts when one passes, so it
// suffices that the whole chain C = leaf, A, U1, …, R passes each of its
// checks (crypto/x509 verify.go, Go 1.27):
//
//   - Signatures, issuer and subject names, unhandled critical extensions
//     and validity at the signing time: every link and every certificate of
//     C is checked in one of the two halves, at the signing time (U1 … R by
//     anchor.verify).
//   - An intermediate must be a CA: Go's signature check refuses a parent
//     whose basic constraints deny it, or a version 3 one without them, but
//     only an intermediate must have them whatever its version. A is a leaf
//     in the first half and a root in the second, so prepare requires basic
//     constraints marking A a CA; U1 … are intermediates in U.
//   - Path lengths: Go allows the certificate at index i of a chain (the
//     leaf at 0) at most MaxPathLen intermediates below it, i-1. A is at
//     index 1 in the leaf's half as in C, but Uj is at index j in U and at
//     j+1 in C, so Go counted one intermediate too few for it; prepare
//     requires MaxPathLen ≥ j, the check C gets.
//   - Extended key usage: with code signing the one usage asked for, Go's
//     check is that every certificate of the chain has no EKU, anyEKU or
//     code signing, which the two halves cover between them.
//   - Name constraints: Go applies a certificate's constraints to every
//     certificate below it in the chain, so neither half would apply R's or
//     U1's constraints to the leaf. A CA of which any certificate has a name
//     constraints extension is not eligible; then C has none to apply (a
//     leaf's own constraints bind nothing below it).
//   - Policies (RFC 5280 as updated by RFC 9618): without policyConstraints,
//     policyMappings or inhibitAnyPolicy in the CA's certificates and without
//     policyConstraints in the leaf, the check cannot fail. explicit_policy
//     starts at n+1 and falls by at most n, so only a policyConstraints
//     extension brings it to 0, and the only other failure is a mapping to or
//     from anyPolicy. A CA with any of these is not eligible, and a leaf with
//     policy constraints is left to the library.
//   - Loops: Go skips a candidate with the subject and key (and SAN) of a
//     certificate already in the chain. C has the leaf in front of U1 … R,
//     which the first half never saw, so a leaf with the subject and key of
//     one of them is left to the library.
//   - The search budget: Go gives up after 100 signature checks. With at
//     most 3 intermediates in the CA its search visits at most 16 partial
//     chains (1 + 3 + 3·2 + 3·2·1) of at most 4 candidates each, 64 checks,
//     so it reaches C; a CA with more intermediates is not eligible.
//   - Distrusted keys: each half checks its certificates.
//   - A leaf that is the root itself: Go does not build chains for it; it is
//     left to the library. A leaf that is A itself: the first half returns
//     just A, and the fast path's chain is U, which the library builds from
//     A with the checks prepare made (its path-length counts are U's, which
//     prepare's exceed).
//   - The CA's validity window in the trust root: checked as sigstore-go
//     does.
//
// So the fast path accepts only what the library accepts, with a chain, C,
// that is one of those the library returns (sigstore-go checks SCTs against
// chain[1] of any of them). Whatever the fast path does not take, an
// ineligible CA or a leaf it does not verify, goes to
// FulcioCertificateAuthority.Verify, so anchoredCA.Verify accepts exactly
// what the library accepts. sigstore-go adds a bundle's own intermediates
// only to a *root.FulcioCertificateAuthority, so an anchoredCA never sees
// them; the Verifier retries whatever the anchored verifier refuses with
// the library's (see Verifier.verify).
type anchoredCA struct {
	ca *root.FulcioCertificateAuthority

	once    sync.Once
	anchors []anchor // none when the CA is not eligible
}

// anchor is an intermediate whose chain up to the root verified.
type anchor struct {
	pool  *x509.CertPool      // just the intermediate
	upper []*x509.Certificate // the intermediate, …, the root
}

// maxAnchoredIntermediates bounds the intermediates of an eligible CA, so
// that Go's chain search cannot run out of signature checks (see anchoredCA).
const maxAnchoredIntermediates = 3

var (
	oidNameConstraints   = asn1.ObjectIdentifier{2, 5, 29, 30}
	oidPolicyMappings    = asn1.ObjectIdentifier{2, 5, 29, 33}
	oidPolicyConstraints = asn1.ObjectIdentifier{2, 5, 29, 36}
	oidInhibitAnyPolicy  = asn1.ObjectIdentifier{2, 5, 29, 54}
)

var _ root.CertificateAuthority = (*anchoredCA)(nil)

func (a *anchoredCA) Verify(leaf *x509.Certificate, t time.Time) ([][]*x509.Certificate, error) {
	if chain, ok := a.fast(leaf, t); ok {
		return [][]*x509.Certificate{chain}, nil
	}
	return a.ca.Verify(leaf, t)
}

// fast is the fast path alone, without the fallback: the chain and true
// when it accepts leaf at t, false when the library must decide.
func (a *anchoredCA) fast(leaf *x509.Certificate, t time.Time) ([]*x509.Certificate, bool) {
	a.once.Do(a.prepare)
	if len(a.anchors) == 0 || !a.withinWindow(t) || hasExtension(leaf, oidPolicyConstraints) || leaf.Equal(a.ca.Root) {
		return nil, false
	}
	for _, an := range a.anchors {
		if chain, ok := an.verify(leaf, t); ok {
			return chain, true
		}
	}
	return nil, false
}

func (a *anchoredCA) withinWindow(t time.Time) bool {
	if !a.ca.ValidityPeriodStart.IsZero() && t.Before(a.ca.ValidityPeriodStart) {
		return false
	}
	return a.ca.ValidityPeriodEnd.IsZero() || !t.After(a.ca.ValidityPeriodEnd)
}

// eligible reports whether the fast path may serve ca at all: a root, one to
// maxAnchoredIntermediates intermediates, and no certificate with an
// extension whose effect on a leaf the split chain would miss.
func eligible(ca *root.FulcioCertificateAuthority) bool {
	if ca.Root == nil || len(ca.Intermediates) == 0 || len(ca.Intermediates) > maxAnchoredIntermediates {
		return false
	}
	for _, c := range append([]*x509.Certificate{ca.Root}, ca.Intermediates...) {
		if c == nil || len(c.UnhandledCriticalExtensions) > 0 {
			return false
		}
		for _, oid := range []asn1.ObjectIdentifier{oidNameConstraints, oidPolicyMappings, oidPolicyConstraints, oidInhibitAnyPolicy} {
			if hasExtension(c, oid) {
				return false
			}
		}
	}
	return true
}

func hasExtension(c *x509.Certificate, oid asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(oid) {
			return true
		}
	}
	return false
}

// prepare finds, for each intermediate that is a CA, a chain up to the root
// that Go's verifier accepts and whose path-length limits still hold with a
// leaf below it. A chain's validity depends on time only through its
// certificates' windows, so if it is valid at some time it is valid at the
// latest NotBefore among them: trying each certificate's NotBefore finds it.
func (a *anchoredCA) prepare() {
	if !eligible(a.ca) {
		return
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.ca.Root)
	times := []time.Time{a.ca.Root.NotBefore}
	for _, c := range a.ca.Intermediates {
		times = append(times, c.NotBefore)
	}
	slices.SortFunc(times, time.Time.Compare)
	times = slices.CompactFunc(times, time.Time.Equal)
	for _, inter := range a.ca.Intermediates {
		if !inter.BasicConstraintsValid || !inter.IsCA {
			continue // the library decides leaves below it
		}
		others := x509.NewCertPool()
		for _, o := range a.ca.Intermediates {
			if o != inter {
				others.AddCert(o)
			}
		}
		if upper := upperChain(inter, roots, others, times); upper != nil {
			pool := x509.NewCertPool()
			pool.AddCert(inter)
			a.anchors = append(a.anchors, anchor{pool: pool, upper: upper})
		}
	}
}

func upperChain(inter *x509.Certificate, roots, others *x509.CertPool, times []time.Time) []*x509.Certificate {
	for _, at := range times {
		chains, err := inter.Verify(x509.VerifyOptions{
			CurrentTime:   at,
			Roots:         roots,
			Intermediates: others,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		})
		if err != nil {
			continue
		}
		for _, chain := range chains {
			if pathLenHoldsBelowLeaf(chain) {
				return chain
			}
		}
	}
	return nil
}

// pathLenHoldsBelowLeaf applies Go's path-length check to upper chain u as
// it stands in a chain with a leaf below it: u[j] is then at index j+1, with
// j intermediates below it (Go's check in Certificate.isValid).
func pathLenHoldsBelowLeaf(u []*x509.Certificate) bool {
	for j, c := range u {
		if c.BasicConstraintsValid && c.MaxPathLen >= 0 && j > c.MaxPathLen {
			return false
		}
	}
	return true
}

// verify checks leaf against the intermediate at time t; the certificates
// above the intermediate must be valid at t too.
func (an anchor) verify(leaf *x509.Certificate, t time.Time) ([]*x509.Certificate, bool) {
	for _, c := range an.upper[1:] {
		if t.Before(c.NotBefore) || t.After(c.NotAfter) {
			return nil, false
		}
		if bytes.Equal(leaf.RawSubject, c.RawSubject) && bytes.Equal(leaf.RawSubjectPublicKeyInfo, c.RawSubjectPublicKeyInfo) {
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
	// chains[0] is leaf, intermediate (or just the intermediate, when the
	// leaf is that very certificate); the rest of the chain is an.upper[1:].
	return append(slices.Clone(chains[0]), an.upper[1:]...), true
}

// anchoredMaterial is trusted material whose Fulcio CAs are anchoredCAs.
type anchoredMaterial struct {
	root.TrustedMaterial
	cas []root.CertificateAuthority
}

func (m *anchoredMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority { return m.cas }

// withAnchoredCAs wraps tm so that its eligible Fulcio CAs verify through
// anchors, or returns nil when no CA is eligible (then there is nothing to
// gain).
func withAnchoredCAs(tm root.TrustedMaterial) root.TrustedMaterial {
	var cas []root.CertificateAuthority
	gain := false
	for _, ca := range tm.FulcioCertificateAuthorities() {
		if f, ok := ca.(*root.FulcioCertificateAuthority); ok && eligible(f) {
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
