package sigtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"google.golang.org/protobuf/proto"
)

// SignBlob signs artifact with a fresh key and a certificate from the
// instance's Fulcio CA, and returns a bundle (JSON) holding a message
// signature over its SHA-256 digest. The signature is logged as a Rekor v1
// hashedrekord entry with an inclusion promise and an inclusion proof.
//
// All options apply except RekorV2: the VirtualSigstore has no Rekor v2
// entries for message signatures, so SignBlob rejects it.
func (i *Instance) SignBlob(artifact []byte, o Options) ([]byte, error) {
	o, err := o.resolve(false)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	key, leaf, err := i.newLeaf(o, now)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(artifact)
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sigtest: signing artifact: %w", err)
	}
	s := &signed{
		leaf: leaf,
		msg: &protocommon.MessageSignature{
			MessageDigest: &protocommon.HashOutput{Algorithm: protocommon.HashAlgorithm_SHA2_256, Digest: digest[:]},
			Signature:     sig,
		},
	}
	err = i.addEvidence(s, o, sig, func() (*protorekor.TransparencyLogEntry, error) {
		return i.hashedRekordEntry(leaf, digest[:], sig, now)
	})
	if err != nil {
		return nil, err
	}
	return s.bundleJSON(o.BundleVersion)
}

// Attest signs statement (an in-toto statement, see [Statement]) as a DSSE
// envelope of payload type [InTotoPayloadType] and returns a bundle (JSON).
// By default the envelope is logged as a Rekor v1 dsse entry and signed by a
// certificate from the instance's Fulcio CA; with RekorV2 the VirtualSigstore
// signs it and logs it as a Rekor v2 hashedrekord entry (see [Options]).
func (i *Instance) Attest(statement []byte, o Options) ([]byte, error) {
	o, err := o.resolve(true)
	if err != nil {
		return nil, err
	}
	if o.RekorV2 {
		return i.attestRekorV2(statement, o)
	}
	now := time.Now()
	key, leaf, err := i.newLeaf(o, now)
	if err != nil {
		return nil, err
	}
	env, sig, err := signEnvelope(key, statement)
	if err != nil {
		return nil, err
	}
	s := &signed{leaf: leaf, env: envelopeProto(statement, sig)}
	err = i.addEvidence(s, o, sig, func() (*protorekor.TransparencyLogEntry, error) {
		return i.dsseEntry(leaf, env, sig, now)
	})
	if err != nil {
		return nil, err
	}
	return s.bundleJSON(o.BundleVersion)
}

// attestRekorV2 has the VirtualSigstore sign statement and log it in Rekor
// v2, and repackages its result as a bundle.
func (i *Instance) attestRekorV2(statement []byte, o Options) ([]byte, error) {
	if err := i.checkFresh(time.Now(), true); err != nil {
		return nil, err
	}
	te, err := i.vs.AttestHashedRekordV2(o.Identity, o.Issuer, statement)
	if err != nil {
		return nil, fmt.Errorf("sigtest: rekor v2 attestation: %w", err)
	}
	vc, err := te.VerificationContent()
	if err != nil {
		return nil, err
	}
	sc, err := te.SignatureContent()
	if err != nil {
		return nil, err
	}
	entries, err := te.TlogEntries()
	if err != nil {
		return nil, err
	}
	s := &signed{leaf: vc.Certificate(), env: envelopeProto(statement, sc.Signature())}
	for _, e := range entries {
		tle := proto.Clone(e.TransparencyLogEntry()).(*protorekor.TransparencyLogEntry)
		tle.IntegratedTime = 0 // Rekor v2 records no integrated time
		s.entries = append(s.entries, tle)
	}
	if !o.NoTimestamp {
		if s.timestamps, err = te.Timestamps(); err != nil {
			return nil, err
		}
	}
	return s.bundleJSON(o.BundleVersion)
}

// newLeaf makes a P-256 signing key and a certificate for it that is valid
// at now, or that expired before now if o.ExpiredCert.
func (i *Instance) newLeaf(o Options, now time.Time) (*ecdsa.PrivateKey, *x509.Certificate, error) {
	if err := i.checkFresh(now, !o.NoTimestamp && !o.ExpiredCert); err != nil {
		return nil, nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("sigtest: generating signing key: %w", err)
	}
	notBefore := now.Add(-time.Minute)
	if o.ExpiredCert {
		notBefore = now.Add(-time.Hour) // expired 50 minutes ago
	}
	leaf, err := i.issueLeaf(&key.PublicKey, o, notBefore)
	if err != nil {
		return nil, nil, err
	}
	return key, leaf, nil
}

// addEvidence adds to s the RFC 3161 timestamp over sig and the log entry
// made by logEntry, unless o leaves them out.
func (i *Instance) addEvidence(s *signed, o Options, sig []byte, logEntry func() (*protorekor.TransparencyLogEntry, error)) error {
	if !o.NoTimestamp && !o.ExpiredCert {
		ts, err := i.vs.TimestampResponse(sig)
		if err != nil {
			return fmt.Errorf("sigtest: timestamping: %w", err)
		}
		s.timestamps = [][]byte{ts}
	}
	if !o.NoTlog {
		e, err := logEntry()
		if err != nil {
			return err
		}
		s.entries = []*protorekor.TransparencyLogEntry{e}
	}
	return nil
}

// signEnvelope signs statement as an in-toto DSSE envelope with key and
// returns the envelope and the raw signature.
func signEnvelope(key *ecdsa.PrivateKey, statement []byte) (*dsse.Envelope, []byte, error) {
	digest := sha256.Sum256(dsse.PAE(InTotoPayloadType, statement))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, nil, fmt.Errorf("sigtest: signing envelope: %w", err)
	}
	env := &dsse.Envelope{
		PayloadType: InTotoPayloadType,
		Payload:     base64.StdEncoding.EncodeToString(statement),
		Signatures:  []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	}
	return env, sig, nil
}

// envelopeProto returns the protobuf form of an in-toto envelope with one
// signature.
func envelopeProto(statement, sig []byte) *protodsse.Envelope {
	return &protodsse.Envelope{
		Payload:     statement,
		PayloadType: InTotoPayloadType,
		Signatures:  []*protodsse.Signature{{Sig: sig}},
	}
}

// signed holds the parts of a keyless bundle: exactly one of msg and env is
// set.
type signed struct {
	leaf       *x509.Certificate
	msg        *protocommon.MessageSignature
	env        *protodsse.Envelope
	timestamps [][]byte
	entries    []*protorekor.TransparencyLogEntry
}

// bundleJSON assembles and validates the bundle in the given version and
// returns its JSON form.
func (s *signed) bundleJSON(version string) ([]byte, error) {
	mediaType, err := bundle.MediaTypeString(version)
	if err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	pb := &protobundle.Bundle{
		MediaType:            mediaType,
		VerificationMaterial: s.verificationMaterial(version),
	}
	switch {
	case s.env != nil:
		pb.Content = &protobundle.Bundle_DsseEnvelope{DsseEnvelope: s.env}
	case s.msg != nil:
		pb.Content = &protobundle.Bundle_MessageSignature{MessageSignature: s.msg}
	default:
		return nil, errors.New("sigtest: bundle has no content")
	}
	return marshalBundle(pb)
}

// verificationMaterial returns the certificate, timestamps and log entries
// in the layout of the given bundle version.
func (s *signed) verificationMaterial(version string) *protobundle.VerificationMaterial {
	cert := &protocommon.X509Certificate{RawBytes: s.leaf.Raw}
	vm := &protobundle.VerificationMaterial{TlogEntries: s.entries}
	if version == BundleV03 {
		vm.Content = &protobundle.VerificationMaterial_Certificate{Certificate: cert}
	} else {
		vm.Content = &protobundle.VerificationMaterial_X509CertificateChain{
			X509CertificateChain: &protocommon.X509CertificateChain{Certificates: []*protocommon.X509Certificate{cert}},
		}
	}
	if len(s.timestamps) > 0 {
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
		for _, ts := range s.timestamps {
			vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps,
				&protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
		}
	}
	return vm
}

// marshalBundle validates pb with sigstore-go's bundle rules and returns its
// JSON form.
func marshalBundle(pb *protobundle.Bundle) ([]byte, error) {
	b, err := bundle.NewBundle(pb)
	if err != nil {
		return nil, fmt.Errorf("sigtest: invalid bundle: %w", err)
	}
	out, err := b.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("sigtest: encoding bundle: %w", err)
	}
	return out, nil
}
