package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// certSpec describes a test certificate.
type certSpec struct {
	cn        string
	notBefore time.Time
	notAfter  time.Time
	ca        bool
	eku       []x509.ExtKeyUsage
	tweak     func(*x509.Certificate) // last changes to the template, or nil
}

func mkCert(t *testing.T, s certSpec, parent *x509.Certificate, parentKey crypto.Signer, curve elliptic.Curve) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		BasicConstraintsValid: true,
		IsCA:                  s.ca,
		ExtKeyUsage:           s.eku,
		KeyUsage:              x509.KeyUsageDigitalSignature,
	}
	if s.ca {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if s.tweak != nil {
		s.tweak(tmpl)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// The anchored CA must agree with sigstore-go's FulcioCertificateAuthority:
// accept exactly what it accepts, with one of its chains, and reject the
// rest; and the fast path alone must take the cases it is meant to and no
// case sigstore-go refuses. The cases marked as exploits were accepted by
// the fast path before it checked which CAs it may serve.
func TestAnchoredCAAgreesWithSigstoreGo(t *testing.T) {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	codeSigning := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	caSpec := func(cn string, tweak func(*x509.Certificate)) certSpec {
		return certSpec{cn: cn, notBefore: base.AddDate(-1, 0, 0), notAfter: base.AddDate(5, 0, 0), ca: true, tweak: tweak}
	}
	interSpec := func(cn string, tweak func(*x509.Certificate)) certSpec {
		s := caSpec(cn, tweak)
		s.notBefore, s.notAfter, s.eku = base.AddDate(0, -6, 0), base.AddDate(1, 0, 0), codeSigning
		return s
	}
	pathLen := func(n int) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.MaxPathLen, c.MaxPathLenZero = n, n == 0 }
	}
	corpMailOnly := func(c *x509.Certificate) { c.PermittedEmailAddresses = []string{"corp.example"} }
	requireExplicitPolicy := func(c *x509.Certificate) {
		c.Policies = []x509.OID{policyA}
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: oidPolicyConstraints, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}})
	}

	rootCert, rootKey := mkCert(t, caSpec("root", nil), nil, nil, elliptic.P384())
	inter, interKey := mkCert(t, interSpec("intermediate", nil), rootCert, rootKey, elliptic.P384())
	// An intermediate that expires early, to test validity of the anchor.
	shortInter, shortKey := mkCert(t, certSpec{cn: "short intermediate", notBefore: base.AddDate(0, -6, 0), notAfter: base.Add(time.Hour), ca: true, eku: codeSigning},
		rootCert, rootKey, elliptic.P384())
	otherRoot, otherKey := mkCert(t, caSpec("other", nil), nil, nil, elliptic.P256())

	leafSpec := func(tweak func(*x509.Certificate)) certSpec {
		return certSpec{cn: "leaf", notBefore: base, notAfter: base.Add(10 * time.Minute), eku: codeSigning, tweak: tweak}
	}
	leafOf := func(parent *x509.Certificate, key crypto.Signer, tweak func(*x509.Certificate)) *x509.Certificate {
		c, _ := mkCert(t, leafSpec(tweak), parent, key, elliptic.P256())
		return c
	}
	mail := func(addr string) func(*x509.Certificate) {
		return func(c *x509.Certificate) { c.EmailAddresses = []string{addr} }
	}
	mallory, alice := mail("mallory@evil.example"), mail("alice@corp.example")
	good := leafOf(inter, interKey, mallory)
	ca := func(r *x509.Certificate, inters ...*x509.Certificate) *root.FulcioCertificateAuthority {
		return &root.FulcioCertificateAuthority{Root: r, Intermediates: inters}
	}
	plain := ca(rootCert, inter)

	// chain is a CA of a root and intermediates down to the lowest, whose
	// key signs the leaf: tweaks[0] for the root, then one per intermediate.
	type chainCA struct {
		ca  *root.FulcioCertificateAuthority
		key crypto.Signer
	}
	chain := func(tweaks ...func(*x509.Certificate)) chainCA {
		r, key := mkCert(t, caSpec("chain root", tweaks[0]), nil, nil, elliptic.P256())
		out := chainCA{ca: ca(r), key: key}
		parent := r
		for i, tw := range tweaks[1:] {
			var c *x509.Certificate
			c, out.key = mkCert(t, interSpec("chain intermediate "+string(rune('A'+i)), tw), parent, out.key, elliptic.P256())
			out.ca.Intermediates = append(out.ca.Intermediates, c)
			parent = c
		}
		return out
	}
	lowest := func(c chainCA) *x509.Certificate { return c.ca.Intermediates[len(c.ca.Intermediates)-1] }
	leafUnder := func(c chainCA, tweak func(*x509.Certificate)) *x509.Certificate {
		return leafOf(lowest(c), c.key, tweak)
	}
	rootMailOnly := chain(corpMailOnly, nil)
	rootPathLen0 := chain(pathLen(0), nil)
	rootPathLen1 := chain(pathLen(1), nil)
	rootPathLen1Two := chain(pathLen(1), nil, nil)
	upperMailOnly := chain(nil, corpMailOnly, nil)
	upperPathLen0 := chain(nil, pathLen(0), nil)
	upperPathLen1 := chain(nil, pathLen(1), nil)
	anchorMailOnly := chain(nil, corpMailOnly)
	notCA := chain(nil, func(c *x509.Certificate) { c.IsCA = false })
	interWithPolicy := chain(nil, func(c *x509.Certificate) { c.Policies = []x509.OID{policyA} })
	many := ca(rootCert, inter)
	for _, cn := range []string{"spare 1", "spare 2", "spare 3"} {
		c, _ := mkCert(t, interSpec(cn, nil), rootCert, rootKey, elliptic.P384())
		many.Intermediates = append(many.Intermediates, c)
	}

	tests := []struct {
		name string
		ca   *root.FulcioCertificateAuthority
		leaf *x509.Certificate
		at   time.Time
		ok   bool // sigstore-go accepts
		fast bool // the fast path accepts
	}{
		{"valid", plain, good, base.Add(time.Minute), true, true},
		{"before the leaf", plain, good, base.Add(-time.Minute), false, false},
		{"after the leaf", plain, good, base.Add(11 * time.Minute), false, false},
		{"outside the CA's window in the trust root", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter},
			ValidityPeriodEnd: base}, good, base.Add(time.Minute), false, false},
		{"window end is inclusive", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter},
			ValidityPeriodStart: base.Add(-time.Hour), ValidityPeriodEnd: base.Add(time.Minute)}, good, base.Add(time.Minute), true, true},
		{"leaf of another CA", plain, leafOf(otherRoot, otherKey, nil), base.Add(time.Minute), false, false},
		{"leaf without code signing", plain, leafOf(inter, interKey, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }),
			base.Add(time.Minute), false, false},
		{"intermediate expired at signing time", ca(rootCert, shortInter),
			func() *x509.Certificate {
				c, _ := mkCert(t, certSpec{cn: "late leaf", notBefore: base.Add(2 * time.Hour), notAfter: base.Add(3 * time.Hour), eku: codeSigning}, shortInter, shortKey, elliptic.P256())
				return c
			}(), base.Add(150 * time.Minute), false, false},
		{"leaf signed by the root directly", plain, leafOf(rootCert, rootKey, nil), base.Add(time.Minute), true, false},

		// Name constraints and path lengths above the anchor.
		{"exploit: root permits corp.example e-mail only, leaf mallory@evil.example", rootMailOnly.ca, leafUnder(rootMailOnly, mallory), base.Add(time.Minute), false, false},
		{"root permits corp.example e-mail only, leaf alice@corp.example", rootMailOnly.ca, leafUnder(rootMailOnly, alice), base.Add(time.Minute), true, false},
		{"exploit: root with path length 0 over one intermediate", rootPathLen0.ca, leafUnder(rootPathLen0, mallory), base.Add(time.Minute), false, false},
		{"root with path length 1 over one intermediate", rootPathLen1.ca, leafUnder(rootPathLen1, mallory), base.Add(time.Minute), true, true},
		{"root with path length 1 over two intermediates", rootPathLen1Two.ca, leafUnder(rootPathLen1Two, mallory), base.Add(time.Minute), false, false},
		{"exploit: upper intermediate permits corp.example e-mail only, leaf mallory@evil.example", upperMailOnly.ca, leafUnder(upperMailOnly, mallory), base.Add(time.Minute), false, false},
		{"upper intermediate permits corp.example e-mail only, leaf alice@corp.example", upperMailOnly.ca, leafUnder(upperMailOnly, alice), base.Add(time.Minute), true, false},
		{"exploit: upper intermediate with path length 0", upperPathLen0.ca, leafUnder(upperPathLen0, mallory), base.Add(time.Minute), false, false},
		{"upper intermediate with path length 1", upperPathLen1.ca, leafUnder(upperPathLen1, mallory), base.Add(time.Minute), true, true},
		{"intermediate permits corp.example e-mail only, leaf mallory@evil.example", anchorMailOnly.ca, leafUnder(anchorMailOnly, mallory), base.Add(time.Minute), false, false},
		{"intermediate permits corp.example e-mail only, leaf alice@corp.example", anchorMailOnly.ca, leafUnder(anchorMailOnly, alice), base.Add(time.Minute), true, false},

		// What the split chain would miss otherwise.
		{"intermediate that is not a CA", notCA.ca, leafUnder(notCA, nil), base.Add(time.Minute), false, false},
		{"exploit: leaf requiring an explicit policy the intermediate lacks", plain, leafOf(inter, interKey, requireExplicitPolicy), base.Add(time.Minute), false, false},
		{"leaf requiring an explicit policy the intermediate has", interWithPolicy.ca, leafUnder(interWithPolicy, requireExplicitPolicy), base.Add(time.Minute), true, false},
		{"more intermediates than the fast path serves", many, good, base.Add(time.Minute), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := tt.ca.Verify(tt.leaf, tt.at)
			if (wantErr == nil) != tt.ok {
				t.Fatalf("sigstore-go err = %v, the case expects ok = %v", wantErr, tt.ok)
			}
			a := &anchoredCA{ca: tt.ca}
			for range 2 { // the second call uses the prepared anchors
				chain, fast := a.fast(tt.leaf, tt.at)
				if fast && !tt.ok {
					t.Fatalf("the fast path accepted what sigstore-go rejects (%v)", wantErr)
				}
				if fast != tt.fast {
					t.Errorf("fast path ok = %v, want %v", fast, tt.fast)
				}
				if fast && !containsChain(want, chain) {
					t.Errorf("fast chain = %v, none of sigstore-go's %v", subjects([][]*x509.Certificate{chain}), subjects(want))
				}
				got, err := a.Verify(tt.leaf, tt.at)
				if (err == nil) != tt.ok {
					t.Fatalf("anchored err = %v, sigstore-go err = %v", err, wantErr)
				}
				if err == nil && (len(got) == 0 || !containsChain(want, got[0])) {
					t.Errorf("chain = %v, none of sigstore-go's %v", subjects(got), subjects(want))
				}
			}
		})
	}
}

func subjects(chains [][]*x509.Certificate) [][]string {
	var out [][]string
	for _, c := range chains {
		var s []string
		for _, cert := range c {
			s = append(s, cert.Subject.CommonName)
		}
		out = append(out, s)
	}
	return out
}

// The public-good trust root must keep the fast path: its current Fulcio
// CA (a root and one intermediate, without name constraints or a path
// length above the intermediate) is served, and real CPython release
// leaves take the fast path.
func TestAnchoredCAServesPublicGood(t *testing.T) {
	data := filepath.Join("..", "..", "..", "shared", "conformance", "data")
	trPath := filepath.Join(data, "_production", "trusted_root.json")
	if _, err := os.Stat(trPath); errors.Is(err, fs.ErrNotExist) {
		t.Skip("../shared not found: the public-good trust root is not here to check")
	}
	tm, err := root.NewTrustedRootFromPath(trPath)
	if err != nil {
		t.Fatal(err)
	}
	fast := withAnchoredCAs(tm)
	if fast == nil {
		t.Fatal("no Fulcio CA of the public-good trust root is served by the fast path")
	}
	served := 0
	for i, ca := range fast.FulcioCertificateAuthorities() {
		a, ok := ca.(*anchoredCA)
		if !ok {
			continue
		}
		served++
		a.once.Do(a.prepare)
		if len(a.anchors) != len(a.ca.Intermediates) {
			t.Errorf("CA %d (%s): %d of %d intermediates anchored", i, a.ca.URI, len(a.anchors), len(a.ca.Intermediates))
		}
	}
	if served == 0 {
		t.Fatal("no Fulcio CA of the public-good trust root is served by the fast path")
	}

	rows, err := filepath.Glob(filepath.Join(data, "cpython-release", "cases", "*", "bundle.sigstore.json"))
	if err != nil || len(rows) == 0 {
		t.Fatalf("no CPython release bundles found (%v)", err)
	}
	for _, path := range rows {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ParseBundle(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		vc, err := b.VerificationContent()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		entries, err := b.TlogEntries()
		if err != nil || len(entries) == 0 {
			t.Fatalf("%s: no tlog entry (%v)", path, err)
		}
		leaf, at := vc.Certificate(), entries[0].IntegratedTime()
		took := false
		for _, ca := range fast.FulcioCertificateAuthorities() {
			if a, ok := ca.(*anchoredCA); ok {
				if _, ok := a.fast(leaf, at); ok {
					took = true
				}
			}
		}
		if !took {
			t.Errorf("%s: the leaf (issued %s) did not take the fast path", path, leaf.NotBefore)
		}
	}
	t.Logf("%d CPython release leaves checked", len(rows))
}
