package sigtest

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/url"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
)

// oidIssuerV1 is Fulcio's legacy OIDC issuer extension, whose value is the
// raw issuer string rather than DER (certificate.OIDIssuer, deprecated).
var oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}

// extension is one Fulcio extension holding a DER UTF8String.
type extension struct {
	oid   asn1.ObjectIdentifier
	value string
}

// extensions lists the claims with their Fulcio OIDs.
func (c *GitHubClaims) extensions() []extension {
	return []extension{
		{certificate.OIDBuildSignerURI, c.BuildSignerURI},
		{certificate.OIDBuildSignerDigest, c.BuildSignerDigest},
		{certificate.OIDRunnerEnvironment, c.RunnerEnvironment},
		{certificate.OIDSourceRepositoryURI, c.SourceRepositoryURI},
		{certificate.OIDSourceRepositoryDigest, c.SourceRepositoryDigest},
		{certificate.OIDSourceRepositoryRef, c.SourceRepositoryRef},
		{certificate.OIDBuildConfigURI, c.BuildConfigURI},
		{certificate.OIDBuildTrigger, c.BuildTrigger},
		{certificate.OIDRunInvocationURI, c.RunInvocationURI},
		{certificate.OIDSourceRepositoryOwnerURI, c.SourceRepositoryOwner},
	}
}

// legacyExtensions lists the legacy GitHub claims with their OIDs
// (1.3.6.1.4.1.57264.1.2 to .6; sigstore-go's names for them are
// deprecated, since Fulcio writes them only for older clients' sake, and
// certificates of before October 2023 have nothing else).
func (c *GitHubClaims) legacyExtensions() []extension {
	oid := func(n int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, n} }
	return []extension{
		{oid(2), c.LegacyTrigger},
		{oid(3), c.LegacySHA},
		{oid(4), c.LegacyWorkflow},
		{oid(5), c.LegacyRepository},
		{oid(6), c.LegacyRef},
	}
}

// fulcioExtensions encodes the issuer (both the legacy raw form and the v2
// DER form) and the GitHub claims, if any, as Fulcio does.
func fulcioExtensions(issuer string, gh *GitHubClaims) ([]pkix.Extension, error) {
	exts := []pkix.Extension{{Id: oidIssuerV1, Value: []byte(issuer)}}
	claims := []extension{{certificate.OIDIssuerV2, issuer}}
	if gh != nil {
		claims = append(claims, gh.extensions()...)
		for _, c := range gh.legacyExtensions() {
			if c.value != "" {
				exts = append(exts, pkix.Extension{Id: c.oid, Value: []byte(c.value)})
			}
		}
	}
	for _, c := range claims {
		if c.value == "" {
			continue
		}
		der, err := asn1.MarshalWithParams(c.value, "utf8")
		if err != nil {
			return nil, fmt.Errorf("sigtest: encoding extension %v: %w", c.oid, err)
		}
		exts = append(exts, pkix.Extension{Id: c.oid, Value: der})
	}
	return exts, nil
}

// setSAN puts identity in tmpl as a URI SAN if it has a scheme, else as an
// e-mail SAN.
func setSAN(tmpl *x509.Certificate, identity string) error {
	u, err := url.Parse(identity)
	if err == nil && u.Scheme != "" {
		tmpl.URIs = []*url.URL{u}
		return nil
	}
	if identity == "" {
		return fmt.Errorf("sigtest: empty identity")
	}
	tmpl.EmailAddresses = []string{identity}
	return nil
}

// issueLeaf has the instance's Fulcio intermediate issue a code-signing
// certificate for pub, valid from notBefore for leafLifetime, with o's
// identity, issuer and claims.
func (i *Instance) issueLeaf(pub crypto.PublicKey, o Options, notBefore time.Time) (*x509.Certificate, error) {
	exts, err := fulcioExtensions(o.Issuer, o.GitHub)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("sigtest: serial number: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		NotBefore:       notBefore,
		NotAfter:        notBefore.Add(leafLifetime),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtKeyUsage:     []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: exts,
	}
	if err := setSAN(tmpl, o.Identity); err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.fulcio.Intermediates[0], pub, i.intermediateKey)
	if err != nil {
		return nil, fmt.Errorf("sigtest: issuing leaf certificate: %w", err)
	}
	return x509.ParseCertificate(der)
}
