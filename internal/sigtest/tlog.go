package sigtest

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/sigstore/rekor/pkg/generated/models"
	hashedrekordv001 "github.com/sigstore/rekor/pkg/types/hashedrekord/v0.0.1"
	"github.com/sigstore/sigstore-go/pkg/tlog"
)

// The VirtualSigstore exposes Rekor v1 entries only as tlog.Entry values
// whose protobuf form lacks the kind/version and the SET, and it has no
// hashedrekord entry with an inclusion proof for a certificate it did not
// issue. So the instance builds Rekor v1 entry bodies (the DSSE one through
// the VirtualSigstore), and completes them with the VirtualSigstore's log
// key: a SET from RekorSignPayload and an inclusion proof with a signed
// checkpoint from GetInclusionProof.

// logIndex is the index of every entry: the fake log holds one entry.
const logIndex = 0

// hashedRekordEntry logs a message signature as a Rekor v1 hashedrekord
// v0.0.1 entry.
func (i *Instance) hashedRekordEntry(leaf *x509.Certificate, digest, sig []byte, integrated time.Time) (*protorekor.TransparencyLogEntry, error) {
	body, err := hashedRekordBody(leaf, digest, sig)
	if err != nil {
		return nil, err
	}
	return i.rekorV1Entry(body, integrated)
}

// dsseEntry logs a DSSE envelope as a Rekor v1 dsse v0.0.1 entry.
func (i *Instance) dsseEntry(leaf *x509.Certificate, env *dsse.Envelope, sig []byte, integrated time.Time) (*protorekor.TransparencyLogEntry, error) {
	e, err := i.vs.GenerateTlogEntry(leaf, env, sig, integrated.Unix(), false)
	if err != nil {
		return nil, fmt.Errorf("sigtest: dsse rekor entry: %w", err)
	}
	return i.rekorV1Entry(e.TransparencyLogEntry().GetCanonicalizedBody(), integrated)
}

// hashedRekordBody returns the canonical body of a hashedrekord v0.0.1
// entry for a SHA-256 digest signed by leaf's key. Canonicalize also checks
// the signature.
func hashedRekordBody(leaf *x509.Certificate, digest, sig []byte) ([]byte, error) {
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw})
	alg := models.HashedrekordV001SchemaDataHashAlgorithmSha256
	value := hex.EncodeToString(digest)
	e := &hashedrekordv001.V001Entry{HashedRekordObj: models.HashedrekordV001Schema{
		Data: &models.HashedrekordV001SchemaData{
			Hash: &models.HashedrekordV001SchemaDataHash{Algorithm: &alg, Value: &value},
		},
		Signature: &models.HashedrekordV001SchemaSignature{
			Content:   sig,
			PublicKey: &models.HashedrekordV001SchemaSignaturePublicKey{Content: certPEM},
		},
	}}
	body, err := e.Canonicalize(context.Background())
	if err != nil {
		return nil, fmt.Errorf("sigtest: hashedrekord entry: %w", err)
	}
	return body, nil
}

// rekorV1Entry turns a canonical Rekor v1 entry body into a log entry with
// an inclusion promise and an inclusion proof, signed by the log's key.
func (i *Instance) rekorV1Entry(body []byte, integrated time.Time) (*protorekor.TransparencyLogEntry, error) {
	kv, err := kindVersion(body)
	if err != nil {
		return nil, err
	}
	logID, err := hex.DecodeString(i.logID)
	if err != nil {
		return nil, fmt.Errorf("sigtest: rekor log ID: %w", err)
	}
	set, err := i.vs.RekorSignPayload(tlog.RekorPayload{
		Body:           base64.StdEncoding.EncodeToString(body),
		IntegratedTime: integrated.Unix(),
		LogIndex:       logIndex,
		LogID:          i.logID,
	})
	if err != nil {
		return nil, fmt.Errorf("sigtest: signing SET: %w", err)
	}
	proof, err := i.vs.GetInclusionProof(body)
	if err != nil {
		return nil, fmt.Errorf("sigtest: inclusion proof: %w", err)
	}
	p, err := inclusionProof(proof)
	if err != nil {
		return nil, err
	}
	return &protorekor.TransparencyLogEntry{
		LogIndex:          logIndex,
		LogId:             &protocommon.LogId{KeyId: logID},
		KindVersion:       kv,
		IntegratedTime:    integrated.Unix(),
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: set},
		InclusionProof:    p,
		CanonicalizedBody: body,
	}, nil
}

// kindVersion reads the kind and API version of a Rekor v1 entry body.
func kindVersion(body []byte) (*protorekor.KindVersion, error) {
	var kv struct {
		Kind       string `json:"kind"`
		APIVersion string `json:"apiVersion"`
	}
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, fmt.Errorf("sigtest: rekor entry body: %w", err)
	}
	return &protorekor.KindVersion{Kind: kv.Kind, Version: kv.APIVersion}, nil
}

// inclusionProof converts a Rekor API inclusion proof to protobuf.
func inclusionProof(p *models.InclusionProof) (*protorekor.InclusionProof, error) {
	root, err := hex.DecodeString(*p.RootHash)
	if err != nil {
		return nil, fmt.Errorf("sigtest: inclusion proof root: %w", err)
	}
	hashes := make([][]byte, len(p.Hashes))
	for n, h := range p.Hashes {
		if hashes[n], err = hex.DecodeString(h); err != nil {
			return nil, fmt.Errorf("sigtest: inclusion proof hash: %w", err)
		}
	}
	return &protorekor.InclusionProof{
		LogIndex:   *p.LogIndex,
		RootHash:   root,
		TreeSize:   *p.TreeSize,
		Hashes:     hashes,
		Checkpoint: &protorekor.Checkpoint{Envelope: *p.Checkpoint},
	}, nil
}
