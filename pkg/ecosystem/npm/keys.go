package npm

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MaxKeysSize is the largest keys.json read.
const MaxKeysSize = 1 << 20

// Key is one of the registry's keys for one usage.
type Key struct {
	// ID is the key id: what a publish attestation's public key hint and a
	// packument signature's keyid name, e.g. SHA256:DhQ8wR5A...
	ID string `json:"keyId"`
	// Usage is UsageAttestations or UsageSignatures.
	Usage string `json:"keyUsage"`
	// PublicKey is the ECDSA P-256 key.
	PublicKey *ecdsa.PublicKey `json:"-"`
	// Start and End bound when the key may have signed; a zero End is no
	// end.
	Start time.Time `json:"validFrom"`
	End   time.Time `json:"validUntil,omitzero"`
}

// ValidAt reports whether the key may have signed at t: Start <= t, and
// t < End when the key has an end.
func (k *Key) ValidAt(t time.Time) bool {
	return !t.Before(k.Start) && (k.End.IsZero() || t.Before(k.End))
}

// Window is the key's validity in words, for messages.
func (k *Key) Window() string {
	end := "no end"
	if !k.End.IsZero() {
		end = k.End.UTC().Format(time.RFC3339)
	}
	return k.Start.UTC().Format(time.RFC3339) + " to " + end
}

// Keys are the registry's keys, as Sigstore's TUF repository publishes them.
type Keys []Key

// ErrKeys is wrapped by the errors of a keys file that does not parse.
var ErrKeys = errors.New("not an npm registry keys file")

// keyDetailsP256 is the only key type npm uses.
const keyDetailsP256 = "PKIX_ECDSA_P256_SHA_256"

// ParseKeys reads the registry keys in the form of Sigstore's TUF target
// KeysTarget: {"keys": [{"keyId", "keyUsage", "publicKey": {"rawBytes"
// (base64 SPKI DER), "keyDetails": "PKIX_ECDSA_P256_SHA_256", "validFor":
// {"start", "end"}}}]}. Every entry must parse; a key of another type is an
// error, not skipped, since its usage would go unchecked.
func ParseKeys(data []byte) (Keys, error) {
	if len(data) > MaxKeysSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrKeys, len(data), MaxKeysSize)
	}
	var raw struct {
		Keys []struct {
			KeyID     string `json:"keyId"`
			KeyUsage  string `json:"keyUsage"`
			PublicKey *struct {
				RawBytes   []byte `json:"rawBytes"`
				KeyDetails string `json:"keyDetails"`
				ValidFor   *struct {
					Start *time.Time `json:"start"`
					End   *time.Time `json:"end"`
				} `json:"validFor"`
			} `json:"publicKey"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeys, err)
	}
	if len(raw.Keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrKeys)
	}
	var out Keys
	for i, k := range raw.Keys {
		bad := func(format string, args ...any) error {
			return fmt.Errorf("%w: key %d (%q): %s", ErrKeys, i+1, k.KeyID, fmt.Sprintf(format, args...))
		}
		switch {
		case k.KeyID == "":
			return nil, bad("no keyId")
		case k.KeyUsage != UsageAttestations && k.KeyUsage != UsageSignatures:
			return nil, bad("key usage %q is neither %s nor %s", k.KeyUsage, UsageAttestations, UsageSignatures)
		case k.PublicKey == nil:
			return nil, bad("no publicKey")
		case k.PublicKey.KeyDetails != keyDetailsP256:
			return nil, bad("key details %q, not %s", k.PublicKey.KeyDetails, keyDetailsP256)
		case k.PublicKey.ValidFor == nil || k.PublicKey.ValidFor.Start == nil:
			return nil, bad("no validFor.start")
		}
		pub, err := x509.ParsePKIXPublicKey(k.PublicKey.RawBytes)
		if err != nil {
			return nil, bad("rawBytes: %v", err)
		}
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok || ec.Curve != elliptic.P256() {
			return nil, bad("not an ECDSA P-256 key")
		}
		key := Key{ID: k.KeyID, Usage: k.KeyUsage, PublicKey: ec, Start: k.PublicKey.ValidFor.Start.UTC()}
		if e := k.PublicKey.ValidFor.End; e != nil {
			if !e.After(key.Start) {
				return nil, bad("validFor ends %s, before it starts", e.UTC().Format(time.RFC3339))
			}
			key.End = e.UTC()
		}
		out = append(out, key)
	}
	return out, nil
}

// Lookup returns the key with id and usage.
func (ks Keys) Lookup(id, usage string) (*Key, bool) {
	for i := range ks {
		if ks[i].ID == id && ks[i].Usage == usage {
			return &ks[i], true
		}
	}
	return nil, false
}

// IDs lists the key ids of a usage, for messages.
func (ks Keys) IDs(usage string) []string {
	var out []string
	for _, k := range ks {
		if k.Usage == usage {
			out = append(out, k.ID)
		}
	}
	return out
}
