package verify

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
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
// accept exactly what it accepts, with the same chain, and reject the rest.
func TestAnchoredCAAgreesWithSigstoreGo(t *testing.T) {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	codeSigning := []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	rootCert, rootKey := mkCert(t, certSpec{cn: "root", notBefore: base.AddDate(-1, 0, 0), notAfter: base.AddDate(5, 0, 0), ca: true}, nil, nil, elliptic.P384())
	inter, interKey := mkCert(t, certSpec{cn: "intermediate", notBefore: base.AddDate(0, -6, 0), notAfter: base.AddDate(1, 0, 0), ca: true, eku: codeSigning},
		rootCert, rootKey, elliptic.P384())
	// An intermediate that expires early, to test validity of the anchor.
	shortInter, shortKey := mkCert(t, certSpec{cn: "short intermediate", notBefore: base.AddDate(0, -6, 0), notAfter: base.Add(time.Hour), ca: true, eku: codeSigning},
		rootCert, rootKey, elliptic.P384())
	otherRoot, otherKey := mkCert(t, certSpec{cn: "other", notBefore: base.AddDate(-1, 0, 0), notAfter: base.AddDate(5, 0, 0), ca: true}, nil, nil, elliptic.P256())

	leaf := func(parent *x509.Certificate, key crypto.Signer, eku []x509.ExtKeyUsage) *x509.Certificate {
		c, _ := mkCert(t, certSpec{cn: "leaf", notBefore: base, notAfter: base.Add(10 * time.Minute), eku: eku}, parent, key, elliptic.P256())
		return c
	}
	good := leaf(inter, interKey, codeSigning)
	tests := []struct {
		name string
		ca   *root.FulcioCertificateAuthority
		leaf *x509.Certificate
		at   time.Time
		ok   bool
	}{
		{"valid", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}}, good, base.Add(time.Minute), true},
		{"before the leaf", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}}, good, base.Add(-time.Minute), false},
		{"after the leaf", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}}, good, base.Add(11 * time.Minute), false},
		{"outside the CA's window in the trust root", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter},
			ValidityPeriodEnd: base}, good, base.Add(time.Minute), false},
		{"window end is inclusive", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter},
			ValidityPeriodStart: base.Add(-time.Hour), ValidityPeriodEnd: base.Add(time.Minute)}, good, base.Add(time.Minute), true},
		{"leaf of another CA", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}},
			leaf(otherRoot, otherKey, codeSigning), base.Add(time.Minute), false},
		{"leaf without code signing", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}},
			leaf(inter, interKey, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}), base.Add(time.Minute), false},
		{"intermediate expired at signing time", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{shortInter}},
			func() *x509.Certificate {
				c, _ := mkCert(t, certSpec{cn: "late leaf", notBefore: base.Add(2 * time.Hour), notAfter: base.Add(3 * time.Hour), eku: codeSigning}, shortInter, shortKey, elliptic.P256())
				return c
			}(), base.Add(150 * time.Minute), false},
		{"leaf signed by the root directly", &root.FulcioCertificateAuthority{Root: rootCert, Intermediates: []*x509.Certificate{inter}},
			leaf(rootCert, rootKey, codeSigning), base.Add(time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, wantErr := tt.ca.Verify(tt.leaf, tt.at)
			a := &anchoredCA{ca: tt.ca}
			for range 2 { // the second call uses the prepared anchors
				got, err := a.Verify(tt.leaf, tt.at)
				if len(a.anchors) != len(tt.ca.Intermediates) {
					t.Fatalf("%d anchors prepared, want one per intermediate (%d)", len(a.anchors), len(tt.ca.Intermediates))
				}
				if _, fast := a.anchors[0].verify(tt.leaf, tt.at); fast && a.withinWindow(tt.at) && !tt.ok {
					t.Fatal("the anchored fast path accepted what sigstore-go rejects")
				}
				if (err == nil) != tt.ok || (wantErr == nil) != tt.ok {
					t.Fatalf("anchored err = %v, sigstore-go err = %v, want ok = %v", err, wantErr, tt.ok)
				}
				if err != nil {
					continue
				}
				if len(got) != 1 || len(got[0]) != len(want[0]) {
					t.Fatalf("chain = %v, sigstore-go chain = %v", subjects(got), subjects(want))
				}
				for i := range got[0] {
					if !got[0][i].Equal(want[0][i]) {
						t.Errorf("chain[%d] = %s, want %s", i, got[0][i].Subject, want[0][i].Subject)
					}
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
