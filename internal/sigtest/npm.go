package sigtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/rekor/pkg/pki"
	"github.com/sigstore/rekor/pkg/types"
	dssetype "github.com/sigstore/rekor/pkg/types/dsse"
	_ "github.com/sigstore/rekor/pkg/types/dsse/v0.0.1" // registers the dsse v0.0.1 entry type
	"github.com/sigstore/sigstore-go/pkg/bundle"
)

// AttestWithKeyLogged signs statement as an in-toto DSSE envelope with an
// ECDSA key, as npm's registry signs publish attestations: the bundle
// (version v0.1, v0.2 or v0.3) names the key by hint, and the envelope is
// logged in the instance's Rekor log as a dsse v0.0.1 entry integrated at
// the given time, with an inclusion promise and proof, and no RFC 3161
// timestamp.
func (i *Instance) AttestWithKeyLogged(key *ecdsa.PrivateKey, hint string, statement []byte, integrated time.Time, version string) ([]byte, error) {
	v, err := normalizeVersion(version)
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(dsse.PAE(InTotoPayloadType, statement))
	sig, err := ecdsa.SignASN1(rand.Reader, key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("sigtest: signing envelope: %w", err)
	}
	env := &dsse.Envelope{
		PayloadType: InTotoPayloadType,
		Payload:     base64.StdEncoding.EncodeToString(statement),
		Signatures:  []dsse.Signature{{Sig: base64.StdEncoding.EncodeToString(sig)}},
	}
	envJSON, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("sigtest: encoding envelope: %w", err)
	}
	pubPEM, err := PublicKeyPEM(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	proposed, err := types.NewProposedEntry(ctx, dssetype.KIND, "0.0.1", types.ArtifactProperties{
		ArtifactBytes: envJSON, PublicKeyBytes: [][]byte{pubPEM}, PKIFormat: string(pki.X509),
	})
	if err != nil {
		return nil, fmt.Errorf("sigtest: dsse rekor entry: %w", err)
	}
	impl, err := types.CreateVersionedEntry(proposed)
	if err != nil {
		return nil, fmt.Errorf("sigtest: dsse rekor entry: %w", err)
	}
	body, err := impl.Canonicalize(ctx)
	if err != nil {
		return nil, fmt.Errorf("sigtest: dsse rekor entry: %w", err)
	}
	entry, err := i.rekorV1Entry(body, integrated)
	if err != nil {
		return nil, err
	}
	mediaType, err := bundle.MediaTypeString(v)
	if err != nil {
		return nil, fmt.Errorf("sigtest: %w", err)
	}
	return marshalBundle(&protobundle.Bundle{
		MediaType: mediaType,
		VerificationMaterial: &protobundle.VerificationMaterial{
			Content:     &protobundle.VerificationMaterial_PublicKey{PublicKey: &protocommon.PublicKeyIdentifier{Hint: hint}},
			TlogEntries: []*protorekor.TransparencyLogEntry{entry},
		},
		Content: &protobundle.Bundle_DsseEnvelope{DsseEnvelope: envelopeProto(statement, sig)},
	})
}
