package sign

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/hallmark-dev/hallmark/internal/atomicfile"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// InTotoPayloadType is the DSSE payload type of in-toto statements.
const InTotoPayloadType = verify.InTotoPayloadType

// MaxStatementSize bounds an in-toto statement read into memory.
const MaxStatementSize = 16 << 20

// ErrStatement: the file given to sign as an in-toto statement is not one.
var ErrStatement = errors.New("not an in-toto statement")

// input is what sigstore-go signs for one job, and the artifact the bundle
// is verified against.
type input struct {
	content  sgsign.Content
	keypair  sgsign.Keypair
	artifact verify.Artifact
	release  func()
}

func (s *Signer) content(ctx context.Context, j Job) (*input, error) {
	if j.Statement != nil {
		return s.statementData(j.Path, j.Statement)
	}
	if j.InToto {
		return s.statementContent(j.Path)
	}
	if s.kp.pure() {
		// Pure Ed25519 signs the message itself: map the file rather than
		// read it into the heap; the bundle records its SHA-256.
		data, unmap, err := mapFile(j.Path)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		return &input{
			content:  &sgsign.PlainData{Data: data},
			keypair:  prehashed{s.kp, sum[:]},
			artifact: verify.FileArtifact(j.Path),
			release:  unmap,
		}, nil
	}
	h, _ := s.kp.messageHash()
	f, err := openRegular(j.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	digest, err := verify.HashReader(ctx, f, h)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", j.Path, err)
	}
	alg := map[int]string{32: "sha256", 48: "sha384", 64: "sha512"}[len(digest)]
	a, err := verify.ParseDigest(alg + ":" + hex.EncodeToString(digest))
	if err != nil {
		return nil, err
	}
	a.Name = j.Path
	return &input{
		content:  &sgsign.PlainData{Data: digest},
		keypair:  prehashed{s.kp, digest},
		artifact: a,
		release:  func() {},
	}, nil
}

// statementContent reads an in-toto statement and picks the subject digest
// the bundle is verified against.
func (s *Signer) statementContent(path string) (*input, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxStatementSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrStatement, path, MaxStatementSize)
	}
	return s.statementData(path, data)
}

// statementData checks an in-toto statement named name and picks the
// subject digest the bundle is verified against.
func (s *Signer) statementData(name string, data []byte) (*input, error) {
	path := name
	if len(data) > MaxStatementSize {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", ErrStatement, path, MaxStatementSize)
	}
	var st struct {
		Type    string `json:"_type"`
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrStatement, path, err)
	}
	for _, sub := range st.Subject {
		for _, alg := range []string{"sha256", "sha384", "sha512"} {
			if v, ok := sub.Digest[alg]; ok {
				a, err := verify.ParseDigest(alg + ":" + v)
				if err != nil {
					return nil, fmt.Errorf("%w: %s: subject digest: %w", ErrStatement, path, err)
				}
				a.Name = path
				return &input{
					content:  &sgsign.DSSEData{Data: data, PayloadType: InTotoPayloadType},
					keypair:  s.kp,
					artifact: a,
					release:  func() {},
				}, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s has no subject with a sha256, sha384 or sha512 digest", ErrStatement, path)
}

func marshalBundle(pb *protobundle.Bundle) ([]byte, error) {
	data, err := protojson.Marshal(pb)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose; re-indent for stable
	// output.
	var compact, out bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		return nil, err
	}
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// WriteBundle writes a bundle to path atomically: readers see the old file
// or the new one, never a part, and nothing is left behind on failure.
func WriteBundle(path string, data []byte) error {
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("writing bundle: %w", err)
	}
	return nil
}

func certIdentity(der []byte) (*verify.Signer, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	sum, err := certificate.SummarizeCertificate(cert)
	if err != nil {
		return nil, err
	}
	if sum.SubjectAlternativeName == "" || sum.Issuer == "" {
		return nil, errors.New("the certificate has no identity (SAN) or no OIDC issuer extension")
	}
	return &verify.Signer{Kind: "certificate", SAN: sum.SubjectAlternativeName, Issuer: sum.Issuer, CertificateIssuer: sum.CertificateIssuer}, nil
}
