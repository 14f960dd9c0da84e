package sigtest

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// FulcioURI is the URI of an Instance's own Fulcio CA in its trusted root.
const FulcioURI = "https://fulcio.sigtest.test"

// leafLifetime is how long Fulcio leaf certificates are valid.
const leafLifetime = 10 * time.Minute

// ErrInstanceExpired is returned when an Instance is asked to sign after its
// timestamp authority or Fulcio intermediate certificate has expired.
var ErrInstanceExpired = errors.New("sigtest: instance too old to sign (its TSA certificate lives five minutes); create a new Instance")

// Instance is a fake Sigstore deployment: a Fulcio CA, a timestamp authority
// and a Rekor log, all in memory. Create it with [New]. An Instance is safe
// for concurrent use.
type Instance struct {
	vs *ca.VirtualSigstore

	// fulcio is the instance's own Fulcio CA, whose intermediate key we
	// hold (the VirtualSigstore keeps its own private).
	fulcio          *root.FulcioCertificateAuthority
	intermediateKey *ecdsa.PrivateKey

	// rekorLogs is the VirtualSigstore's Rekor log, fixed up for JSON.
	rekorLogs map[string]*root.TransparencyLog
	logID     string // hex SHA-256 of the log's public key
}

// New creates a fresh Instance with new keys.
func New() (*Instance, error) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		return nil, fmt.Errorf("sigtest: creating virtual sigstore: %w", err)
	}
	rootCert, rootKey, err := ca.GenerateRootCa()
	if err != nil {
		return nil, fmt.Errorf("sigtest: creating Fulcio root: %w", err)
	}
	interCert, interKey, err := ca.GenerateFulcioIntermediate(rootCert, rootKey)
	if err != nil {
		return nil, fmt.Errorf("sigtest: creating Fulcio intermediate: %w", err)
	}
	logID, err := vs.RekorLogID()
	if err != nil {
		return nil, fmt.Errorf("sigtest: rekor log ID: %w", err)
	}
	logs, err := jsonReadyLogs(vs.RekorLogs())
	if err != nil {
		return nil, err
	}
	return &Instance{
		vs: vs,
		fulcio: &root.FulcioCertificateAuthority{
			Root:                rootCert,
			Intermediates:       []*x509.Certificate{interCert},
			ValidityPeriodStart: rootCert.NotBefore,
			URI:                 FulcioURI,
		},
		intermediateKey: interKey,
		rekorLogs:       logs,
		logID:           logID,
	}, nil
}

// jsonReadyLogs adapts the VirtualSigstore's Rekor logs for a trusted root
// that survives a JSON round trip: the log ID must be the raw key digest (the
// VirtualSigstore stores its hex form, which would be hex-encoded again on
// parsing), and the log is left open-ended like a current production log, so
// that a bundle is only ever rejected for the reason it was built for.
func jsonReadyLogs(in map[string]*root.TransparencyLog) (map[string]*root.TransparencyLog, error) {
	out := make(map[string]*root.TransparencyLog, len(in))
	for id, l := range in {
		raw, err := hex.DecodeString(id)
		if err != nil {
			return nil, fmt.Errorf("sigtest: rekor log ID %q: %w", id, err)
		}
		c := *l
		c.ID = raw
		c.ValidityPeriodEnd = time.Time{}
		out[id] = &c
	}
	return out, nil
}

// TrustedRoot returns the instance's trusted root: its own Fulcio CA, the
// VirtualSigstore's Fulcio CA (which issues the RekorV2 certificates), the
// timestamp authority and the Rekor log. It has no CT logs: the fake Fulcio
// issues no SCTs.
func (i *Instance) TrustedRoot() (*root.TrustedRoot, error) {
	cas := append([]root.CertificateAuthority{i.fulcio}, i.vs.FulcioCertificateAuthorities()...)
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		cas,
		map[string]*root.TransparencyLog{},
		i.vs.TimestampingAuthorities(),
		i.rekorLogs)
	if err != nil {
		return nil, fmt.Errorf("sigtest: building trusted root: %w", err)
	}
	return tr, nil
}

// TrustedRootJSON returns the instance's trusted root as trusted_root.json
// content (media type application/vnd.dev.sigstore.trustedroot+json;version=0.1).
func (i *Instance) TrustedRootJSON() ([]byte, error) {
	tr, err := i.TrustedRoot()
	if err != nil {
		return nil, err
	}
	b, err := tr.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("sigtest: encoding trusted root: %w", err)
	}
	return b, nil
}

// checkFresh returns ErrInstanceExpired if a certificate the instance needs
// for signing at now has expired; needTSA tells whether the signature gets
// an RFC 3161 timestamp.
func (i *Instance) checkFresh(now time.Time, needTSA bool) error {
	if now.Add(leafLifetime).After(i.fulcio.Intermediates[0].NotAfter) {
		return ErrInstanceExpired
	}
	if !needTSA {
		return nil
	}
	for _, ta := range i.vs.TimestampingAuthorities() {
		tsa, ok := ta.(*root.SigstoreTimestampingAuthority)
		if ok && tsa.Leaf != nil && now.After(tsa.Leaf.NotAfter) {
			return ErrInstanceExpired
		}
	}
	return nil
}
