package verify

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	sgverify "github.com/sigstore/sigstore-go/pkg/verify"
)

// The differential test: generated trust roots (one to three CAs, each a
// root and one to three intermediates, sometimes a second path to the
// lowest one) with name constraints, path lengths, validity windows, EKUs
// and policies drawn at random, and generated leaves, each verified at a few
// times by the fast path alone, by anchoredCA.Verify and by sigstore-go's
// FulcioCertificateAuthority.Verify. The fast path may only accept what
// sigstore-go accepts, with one of its chains, and anchoredCA.Verify must
// accept exactly what sigstore-go accepts.

// seedEnv names the variable that fixes the generator's seed, to rerun a
// failure.
const seedEnv = "HALLMARK_ANCHORS_SEED"

// diffTrustRoots is the number of trust roots a test run generates, each
// with three leaves at two times, against each of its CAs: thousands of
// cases. `make fuzz` runs FuzzAnchoredCAMatchesSigstoreGo for longer.
const diffTrustRoots = 170

func TestAnchoredCAMatchesSigstoreGoOnGeneratedCAs(t *testing.T) {
	seed := rand.Uint64()
	if s := os.Getenv(seedEnv); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", seedEnv, s, err)
		}
	}
	t.Logf("generator seed %d (rerun with %s=%d)", seed, seedEnv, seed)
	n := diffTrustRoots
	if testing.Short() {
		n /= 5
	}
	var c diffCounts
	for i := range n {
		checkGeneratedTrustRoot(t, seed, uint64(i), &c)
	}
	t.Logf("seed %d: %d cases: fast path accepted %d; refused %d that sigstore-go accepted (%d of them from CAs it does not serve); both refused %d (%d of them by the fast path for an eligible CA)",
		seed, c.cases, c.fastAccept, c.fallbackAccept, c.fallbackIneligible, c.bothRefuse, c.refusedEligible)
	// Each kind of outcome must occur, or the agreement above proves little.
	for _, k := range []struct {
		name string
		n    int
	}{
		{"fast-path accepts", c.fastAccept},
		{"fast-path refusals that sigstore-go accepts, from CAs the fast path does not serve", c.fallbackIneligible},
		{"fast-path refusals that sigstore-go accepts, from CAs it serves", c.fallbackAccept - c.fallbackIneligible},
		{"fast-path refusals for an eligible CA that sigstore-go refuses too", c.refusedEligible},
	} {
		if k.n == 0 {
			t.Errorf("seed %d: the generator produced no %s in %d cases", seed, k.name, c.cases)
		}
	}
}

// FuzzAnchoredCAMatchesSigstoreGo is the differential test over a fuzzed
// generator seed, one trust root per input.
func FuzzAnchoredCAMatchesSigstoreGo(f *testing.F) {
	for s := range uint64(8) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) {
		checkGeneratedTrustRoot(t, seed, 0, &diffCounts{})
	})
}

type diffCounts struct {
	cases              int
	fastAccept         int // the fast path accepted (so did sigstore-go)
	fallbackAccept     int // the fast path refused, sigstore-go accepted
	fallbackIneligible int // ... for a CA the fast path does not serve
	bothRefuse         int
	refusedEligible    int // both refused, the CA being one the fast path serves
}

// checkGeneratedTrustRoot generates trust root n of seed and checks every
// CA of it on generated leaves.
func checkGeneratedTrustRoot(t *testing.T, seed, n uint64, c *diffCounts) {
	t.Helper()
	keys, err := diffKeys()
	if err != nil {
		t.Fatal(err)
	}
	g := &caGen{tb: t, r: rand.New(rand.NewPCG(seed, n)), keys: keys}
	cas := make([]*genCA, 1+g.r.IntN(3))
	tm := &casMaterial{}
	for i := range cas {
		name := fmt.Sprintf("ca%d", i)
		if g.r.IntN(5) == 0 {
			name = "ca0" // CAs with the same names
		}
		cas[i] = g.ca(name)
		tm.cas = append(tm.cas, cas[i].fca)
	}
	fastTM := withAnchoredCAs(tm)
	if fastTM == nil {
		fastTM = tm
	}
	outsider := g.issue(g.caTemplate(pick(g.r, cas...).certs[0].cert.Subject.CommonName, false, 1), nil, g.key())
	for l := range 3 {
		ca := pick(g.r, cas...)
		issuer := ca.certs[len(ca.certs)-1] // the lowest intermediate
		switch g.r.IntN(12) {
		case 0, 1:
			issuer = pick(g.r, ca.certs...)
		case 2:
			issuer = outsider
		}
		leaf := g.leaf(issuer, ca)
		for range 2 {
			at := pick(g.r, diffTimes...)
			fail := func(format string, args ...any) {
				t.Helper()
				var b strings.Builder
				for i, ca := range cas {
					fmt.Fprintf(&b, "CA %d:\n%s", i, describeCA(ca.fca))
				}
				fmt.Fprintf(&b, "leaf (issued by %q): %s\n", issuer.cert.Subject.CommonName, describeCert(leaf))
				t.Fatalf("seed %d, trust root %d, leaf %d at %s: %s\n%srerun with %s=%d",
					seed, n, l, at.Sub(diffBase), fmt.Sprintf(format, args...), b.String(), seedEnv, seed)
			}
			for i, ca := range cas {
				c.cases++
				want, libErr := ca.fca.Verify(leaf, at)
				a := ca.anchored
				chain, fastOK := a.fast(leaf, at)
				_, err := a.Verify(leaf, at)
				switch {
				case fastOK && libErr != nil:
					fail("CA %d: the fast path accepted what sigstore-go refuses (%v)", i, libErr)
				case fastOK && !containsChain(want, chain):
					fail("CA %d: the fast path's chain %v is none of sigstore-go's %v", i, subjects([][]*x509.Certificate{chain}), subjects(want))
				case (err == nil) != (libErr == nil):
					fail("CA %d: anchoredCA.Verify err = %v, sigstore-go err = %v", i, err, libErr)
				}
				eligibleCA := len(a.anchors) > 0
				switch {
				case fastOK:
					c.fastAccept++
				case libErr == nil:
					c.fallbackAccept++
					if !eligibleCA {
						c.fallbackIneligible++
					}
				default:
					c.bothRefuse++
					if eligibleCA {
						c.refusedEligible++
					}
				}
			}
			// The whole trust root, as sigstore-go's verifier uses it.
			_, libErr := sgverify.VerifyLeafCertificate(at, leaf, tm)
			_, err := sgverify.VerifyLeafCertificate(at, leaf, fastTM)
			if (err == nil) != (libErr == nil) {
				fail("trust root: anchored err = %v, sigstore-go err = %v", err, libErr)
			}
		}
	}
}

func containsChain(chains [][]*x509.Certificate, chain []*x509.Certificate) bool {
next:
	for _, c := range chains {
		if len(c) != len(chain) {
			continue
		}
		for i := range c {
			if !c[i].Equal(chain[i]) {
				continue next
			}
		}
		return true
	}
	return false
}

// casMaterial is trusted material with just Fulcio CAs.
type casMaterial struct {
	root.BaseTrustedMaterial
	cas []root.CertificateAuthority
}

func (m *casMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority { return m.cas }

// diffKeys are the keys every generated certificate draws from: generated
// once, so that thousands of cases take seconds.
var diffKeys = sync.OnceValues(func() ([]*ecdsa.PrivateKey, error) {
	keys := make([]*ecdsa.PrivateKey, 12)
	for i := range keys {
		k, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
		if err != nil {
			return nil, err
		}
		keys[i] = k
	}
	return keys, nil
})

var diffBase = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

// diffTimes are the signing times tried, around a leaf valid for the ten
// minutes from diffBase; the CA windows that do not span a year begin or
// end at diffBase+5m.
var diffTimes = []time.Time{
	diffBase.Add(-time.Minute),
	diffBase.Add(time.Minute),
	diffBase.Add(5 * time.Minute),
	diffBase.Add(7 * time.Minute),
	diffBase.Add(11 * time.Minute),
}

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.IntN(len(xs))] }

type caGen struct {
	tb     testing.TB
	r      *rand.Rand
	keys   []*ecdsa.PrivateKey
	serial int64
}

type genCert struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// genCA is a generated CA: certs is the root and then each intermediate down
// to the lowest, then any second path to it.
type genCA struct {
	fca      *root.FulcioCertificateAuthority
	anchored *anchoredCA
	certs    []genCert
}

func (g *caGen) key() *ecdsa.PrivateKey { return pick(g.r, g.keys...) }

func (g *caGen) ca(name string) *genCA {
	// Half the CAs are plain, as Fulcio's are (at most a path length that
	// holds, policies without constraints); the others draw every feature.
	wild := g.r.IntN(2) == 0
	ca := &genCA{}
	n := 1 + g.r.IntN(3)
	root0 := g.issue(g.caTemplate(name+" root", wild, n), nil, g.key())
	ca.certs = append(ca.certs, root0)
	for i := n; i > 0; i-- {
		parent := ca.certs[len(ca.certs)-1]
		ca.certs = append(ca.certs, g.issue(g.caTemplate(fmt.Sprintf("%s intermediate %d", name, i), wild, i-1), &parent, g.key()))
	}
	lowest := ca.certs[len(ca.certs)-1]
	inters := append([]genCert{}, ca.certs[1:]...)
	if g.r.IntN(5) == 0 {
		// A second path to the lowest intermediate's name: issued by
		// another certificate of the CA, with its key or another.
		key := lowest.key
		if g.r.IntN(2) == 0 {
			key = g.key()
		}
		issuer := pick(g.r, ca.certs[:len(ca.certs)-1]...)
		inters = append(inters, g.issue(g.caTemplate(lowest.cert.Subject.CommonName, true, 0), &issuer, key))
	}
	g.r.Shuffle(len(inters), func(i, j int) { inters[i], inters[j] = inters[j], inters[i] })
	ca.fca = &root.FulcioCertificateAuthority{Root: root0.cert}
	for _, c := range inters {
		ca.fca.Intermediates = append(ca.fca.Intermediates, c.cert)
	}
	switch g.r.IntN(8) {
	case 0:
		ca.fca.ValidityPeriodStart = diffBase.Add(5 * time.Minute)
	case 1:
		ca.fca.ValidityPeriodEnd = diffBase.Add(5 * time.Minute)
	}
	ca.anchored = &anchoredCA{ca: ca.fca}
	return ca
}

func (g *caGen) window() (time.Time, time.Time) {
	from, to := diffBase.AddDate(-1, 0, 0), diffBase.AddDate(1, 0, 0)
	switch g.r.IntN(12) {
	case 0:
		return from, diffBase.Add(5 * time.Minute) // ends while the leaf is valid
	case 1:
		return diffBase.Add(5 * time.Minute), to // begins while it is valid
	case 2:
		return from, diffBase.Add(-time.Hour) // over before
	}
	return from, to
}

// caTemplate is a CA certificate with below intermediates under it on the
// CA's main path; wild draws every feature, otherwise the certificate is
// plain (wide window, a CA, no EKU or code signing, at most a path length
// that holds, certificate policies but no policy constraints).
func (g *caGen) caTemplate(cn string, wild bool, below int) *x509.Certificate {
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{Organization: []string{"hallmark test"}, CommonName: cn},
		NotBefore:             diffBase.AddDate(-1, 0, 0),
		NotAfter:              diffBase.AddDate(1, 0, 0),
		BasicConstraintsValid: true,
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		MaxPathLen:            -1,
	}
	codeSigning := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	if !wild {
		if g.r.IntN(3) == 0 {
			tmpl.MaxPathLen, tmpl.MaxPathLenZero = below, below == 0
		}
		tmpl.ExtKeyUsage = pick(g.r, nil, codeSigning)
		if g.r.IntN(5) == 0 {
			tmpl.Policies = pick(g.r, []x509.OID{policyA}, []x509.OID{anyPolicy})
		}
		return tmpl
	}
	tmpl.NotBefore, tmpl.NotAfter = g.window()
	tmpl.IsCA = g.r.IntN(12) != 0
	if tmpl.IsCA {
		switch g.r.IntN(4) {
		case 0:
			tmpl.MaxPathLen, tmpl.MaxPathLenZero = 0, true
		case 1:
			tmpl.MaxPathLen = 1
		}
	}
	tmpl.ExtKeyUsage = pick(g.r, nil, nil, codeSigning, codeSigning,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		[]x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageCodeSigning})
	if g.r.IntN(3) == 0 {
		g.nameConstraints(tmpl)
	}
	g.policies(tmpl, true)
	if g.r.IntN(30) == 0 {
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 99, 9}, Critical: true, Value: []byte{0x05, 0x00}})
	}
	return tmpl
}

// nameConstraints adds one or two e-mail, URI or DNS constraints, permitted
// or excluded, around the names leaves carry.
func (g *caGen) nameConstraints(t *x509.Certificate) {
	t.PermittedDNSDomainsCritical = g.r.IntN(2) == 0
	for range 1 + g.r.IntN(2) {
		switch g.r.IntN(6) {
		case 0:
			t.PermittedEmailAddresses = append(t.PermittedEmailAddresses, pick(g.r, "corp.example", ".corp.example", "alice@corp.example"))
		case 1:
			t.ExcludedEmailAddresses = append(t.ExcludedEmailAddresses, pick(g.r, "evil.example", "mallory@evil.example", ".example"))
		case 2:
			t.PermittedURIDomains = append(t.PermittedURIDomains, pick(g.r, "corp.example", ".example"))
		case 3:
			t.ExcludedURIDomains = append(t.ExcludedURIDomains, pick(g.r, "evil.example", ".corp.example"))
		case 4:
			t.PermittedDNSDomains = append(t.PermittedDNSDomains, pick(g.r, "corp.example", "example"))
		case 5:
			t.ExcludedDNSDomains = append(t.ExcludedDNSDomains, pick(g.r, "evil.example", "build.corp.example"))
		}
	}
}

var (
	policyA   = mustOID(1, 3, 6, 1, 4, 1, 57264, 99, 1)
	policyB   = mustOID(1, 3, 6, 1, 4, 1, 57264, 99, 2)
	anyPolicy = mustOID(2, 5, 29, 32, 0)
)

func mustOID(ints ...uint64) x509.OID {
	oid, err := x509.OIDFromInts(ints)
	if err != nil {
		panic(err)
	}
	return oid
}

// policies adds certificate policies and, more rarely, policy constraints
// (requireExplicitPolicy 0) and, to CAs, inhibitAnyPolicy 0 or a mapping.
func (g *caGen) policies(t *x509.Certificate, ca bool) {
	if g.r.IntN(5) == 0 {
		t.Policies = pick(g.r, []x509.OID{policyA}, []x509.OID{policyB}, []x509.OID{anyPolicy}, []x509.OID{policyA, policyB})
	}
	if g.r.IntN(12) == 0 {
		// PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] 0 }
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidPolicyConstraints, Critical: g.r.IntN(2) == 0, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}})
	}
	if !ca {
		return
	}
	if g.r.IntN(30) == 0 {
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidInhibitAnyPolicy, Critical: true, Value: []byte{0x02, 0x01, 0x00}})
	}
	if g.r.IntN(30) == 0 {
		issuer, subject := asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 99, 1}, asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 99, 2}
		if g.r.IntN(2) == 0 {
			subject = asn1.ObjectIdentifier{2, 5, 29, 32, 0} // to anyPolicy: invalid
		}
		v, err := asn1.Marshal([]struct{ Issuer, Subject asn1.ObjectIdentifier }{{issuer, subject}})
		if err != nil {
			g.tb.Fatal(err)
		}
		t.ExtraExtensions = append(t.ExtraExtensions, pkix.Extension{Id: oidPolicyMappings, Critical: true, Value: v})
	}
}

// leaf issues a leaf under issuer: names in or out of the constraints the
// CAs draw, EKU variants, sometimes a CA itself, sometimes with the subject
// and key of a certificate of ca.
func (g *caGen) leaf(issuer genCert, ca *genCA) *x509.Certificate {
	tmpl := &x509.Certificate{
		NotBefore:   diffBase,
		NotAfter:    diffBase.Add(10 * time.Minute),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	email := func() []string { return []string{pick(g.r, "alice@corp.example", "mallory@evil.example")} }
	uri := func() []*url.URL {
		u, _ := url.Parse(pick(g.r, "https://corp.example/ci.yml", "https://evil.example/ci.yml", "https://build.corp.example/ci.yml"))
		return []*url.URL{u}
	}
	switch g.r.IntN(5) {
	case 0, 1:
		tmpl.EmailAddresses = email()
	case 2:
		tmpl.URIs = uri()
	case 3:
		tmpl.DNSNames = []string{pick(g.r, "build.corp.example", "evil.example")}
	case 4:
		tmpl.EmailAddresses, tmpl.URIs = email(), uri()
	}
	if g.r.IntN(2) == 0 {
		return g.issue(tmpl, &issuer, g.key()).cert // a plain Fulcio leaf
	}
	if g.r.IntN(6) == 0 {
		tmpl.NotBefore, tmpl.NotAfter = g.window()
	}
	tmpl.ExtKeyUsage = pick(g.r, tmpl.ExtKeyUsage, tmpl.ExtKeyUsage, nil, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		[]x509.ExtKeyUsage{x509.ExtKeyUsageAny}, []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning, x509.ExtKeyUsageServerAuth})
	if g.r.IntN(6) == 0 {
		tmpl.BasicConstraintsValid, tmpl.IsCA = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
		if g.r.IntN(2) == 0 {
			tmpl.MaxPathLen, tmpl.MaxPathLenZero = 0, true
		}
		if g.r.IntN(3) == 0 {
			g.nameConstraints(tmpl)
		}
	}
	g.policies(tmpl, false)
	key := g.key()
	if g.r.IntN(20) == 0 {
		twin := pick(g.r, ca.certs...)
		tmpl.Subject, key = twin.cert.Subject, twin.key
	}
	return g.issue(tmpl, &issuer, key).cert
}

// issue signs tmpl for key by parent, or self-signs it when parent is nil.
func (g *caGen) issue(tmpl *x509.Certificate, parent *genCert, key *ecdsa.PrivateKey) genCert {
	g.serial++
	tmpl.SerialNumber = big.NewInt(g.serial)
	parentCert, parentKey := tmpl, key
	if parent != nil {
		parentCert, parentKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, parentCert, key.Public(), parentKey)
	if err != nil {
		g.tb.Fatalf("generator: %v", err) // a bug in the generator, whatever the seed
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		g.tb.Fatalf("generator: %v", err)
	}
	return genCert{cert: c, key: key}
}

func describeCA(ca *root.FulcioCertificateAuthority) string {
	var b strings.Builder
	if !ca.ValidityPeriodStart.IsZero() {
		fmt.Fprintf(&b, "  in the trust root from %s\n", ca.ValidityPeriodStart.Sub(diffBase))
	}
	if !ca.ValidityPeriodEnd.IsZero() {
		fmt.Fprintf(&b, "  in the trust root until %s\n", ca.ValidityPeriodEnd.Sub(diffBase))
	}
	fmt.Fprintf(&b, "  root: %s\n", describeCert(ca.Root))
	for _, c := range ca.Intermediates {
		fmt.Fprintf(&b, "  intermediate: %s\n", describeCert(c))
	}
	return b.String()
}

func describeCert(c *x509.Certificate) string {
	parts := []string{fmt.Sprintf("%q by %q", c.Subject.CommonName, c.Issuer.CommonName),
		fmt.Sprintf("valid %s..%s", c.NotBefore.Sub(diffBase), c.NotAfter.Sub(diffBase))}
	if c.BasicConstraintsValid {
		parts = append(parts, fmt.Sprintf("CA=%v maxPathLen=%d", c.IsCA, c.MaxPathLen))
	}
	if len(c.ExtKeyUsage) > 0 {
		parts = append(parts, fmt.Sprintf("EKU=%v", c.ExtKeyUsage))
	}
	for _, nc := range []struct {
		name string
		v    []string
	}{
		{"permitted email", c.PermittedEmailAddresses}, {"excluded email", c.ExcludedEmailAddresses},
		{"permitted URI", c.PermittedURIDomains}, {"excluded URI", c.ExcludedURIDomains},
		{"permitted DNS", c.PermittedDNSDomains}, {"excluded DNS", c.ExcludedDNSDomains},
	} {
		if len(nc.v) > 0 {
			parts = append(parts, fmt.Sprintf("%s %v", nc.name, nc.v))
		}
	}
	if len(c.Policies) > 0 {
		parts = append(parts, fmt.Sprintf("policies %v", c.Policies))
	}
	for _, e := range c.Extensions {
		switch {
		case e.Id.Equal(oidPolicyConstraints):
			parts = append(parts, "policy constraints")
		case e.Id.Equal(oidPolicyMappings):
			parts = append(parts, "policy mappings")
		case e.Id.Equal(oidInhibitAnyPolicy):
			parts = append(parts, "inhibit anyPolicy")
		}
	}
	if len(c.UnhandledCriticalExtensions) > 0 {
		parts = append(parts, "unhandled critical extension")
	}
	if len(c.EmailAddresses)+len(c.URIs)+len(c.DNSNames) > 0 {
		parts = append(parts, fmt.Sprintf("SAN %v %v %v", c.EmailAddresses, c.URIs, c.DNSNames))
	}
	return strings.Join(parts, ", ")
}
