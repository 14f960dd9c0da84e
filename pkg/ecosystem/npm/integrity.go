package npm

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// ErrIntegrity is wrapped by the errors of integrity strings and digests
// that do not give a package's sha512.
var ErrIntegrity = errors.New("bad npm integrity")

// ErrNoSHA512 wraps ErrIntegrity for a well-formed integrity string of
// other algorithms only (sha1, sha384).
var ErrNoSHA512 = fmt.Errorf("%w", ErrIntegrity)

// ParseIntegrity reads a package's sha512 from an npm integrity string
// (Subresource Integrity: "sha512-BASE64", possibly among other hashes
// separated by spaces, as lockfiles and packuments write it) or from a
// digest "sha512:HEX". Only sha512 is accepted: it is what npm's
// attestations sign.
func ParseIntegrity(s string) (verify.Digest, error) {
	if alg, hexValue, ok := strings.Cut(s, ":"); ok && !strings.Contains(alg, "-") {
		raw, err := hex.DecodeString(hexValue)
		if !strings.EqualFold(alg, "sha512") || err != nil || len(raw) != 64 {
			return verify.Digest{}, fmt.Errorf("%w %q: want sha512:<128 hex characters>", ErrIntegrity, s)
		}
		return verify.Digest{Algorithm: "sha512", Value: hex.EncodeToString(raw)}, nil
	}
	var others []string
	var found verify.Digest
	for _, f := range strings.Fields(s) {
		alg, b64, ok := strings.Cut(f, "-")
		if !ok {
			continue
		}
		if alg != "sha512" {
			if otherSRI[alg] {
				others = append(others, alg) // unknown ones are ignored, as SRI says
			}
			continue
		}
		b64, _, _ = strings.Cut(b64, "?") // SRI options
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil || len(raw) != 64 {
			return verify.Digest{}, fmt.Errorf("%w %q: the sha512 value is not 64 bytes of base64", ErrIntegrity, s)
		}
		d := verify.Digest{Algorithm: "sha512", Value: hex.EncodeToString(raw)}
		if found.Value != "" && found != d {
			// npm accepts a tarball that matches either: verifying one
			// would vouch for the other.
			return verify.Digest{}, fmt.Errorf("%w %q: two different sha512 values", ErrIntegrity, s)
		}
		found = d
	}
	if found.Value != "" {
		return found, nil
	}
	if len(others) > 0 {
		return verify.Digest{}, fmt.Errorf("%w %q: only %s, no sha512 (npm attestations sign a sha512)", ErrNoSHA512, s, strings.Join(others, ", "))
	}
	return verify.Digest{}, fmt.Errorf("%w %q: want sha512-<base64> or sha512:<hex>", ErrIntegrity, s)
}

// otherSRI are the other algorithms of integrity strings npm writes.
var otherSRI = map[string]bool{"sha1": true, "sha256": true, "sha384": true}

// Integrity is the npm integrity string of a sha512 digest, sha512-BASE64.
func Integrity(d verify.Digest) string {
	raw, err := hex.DecodeString(d.Value)
	if err != nil || d.Algorithm != "sha512" {
		return ""
	}
	return "sha512-" + base64.StdEncoding.EncodeToString(raw)
}

// HashTarball returns the sha512 of a tarball read from r.
func HashTarball(ctx context.Context, r io.Reader) (verify.Digest, error) {
	sum, err := verify.HashReader(ctx, r, crypto.SHA512)
	if err != nil {
		return verify.Digest{}, err
	}
	return verify.Digest{Algorithm: "sha512", Value: hex.EncodeToString(sum)}, nil
}
