package verify

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// timestampsOnly reports whether certificates of trusted are verified with
// signed timestamps only: the root lists timestamp authorities but no
// transparency log and no CT log, as GitHub's own Sigstore instance does.
// It is decided by the root, never by the bundle.
func timestampsOnly(trusted root.TrustedMaterial) bool {
	return trusted != nil && len(trusted.RekorLogs()) == 0 && len(trusted.CTLogs()) == 0 &&
		len(trusted.TimestampingAuthorities()) > 0
}

// NewWithRoots builds a Verifier over several trust roots (the public-good
// root and GitHub's, say). A certificate-signed bundle is checked against
// the root whose Fulcio CA issued its leaf certificate, with that root's
// rules: a root without transparency and CT logs verifies with signed
// timestamps only (see Result.SkippedChecks). A bundle issued by none of
// them is rejected with CauseCertificate. With one root it is New.
func NewWithRoots(roots []root.TrustedMaterial, p Policy) (*Verifier, error) {
	switch len(roots) {
	case 0:
		return New(nil, p)
	case 1:
		return New(roots[0], p)
	}
	if p.Identity == nil {
		// Keys: every root's logs and timestamp authorities count.
		return New(root.TrustedMaterialCollection(roots), p)
	}
	v := &Verifier{policy: p}
	for i, r := range roots {
		if r == nil {
			return nil, policyErr("trust root %d is nil", i+1)
		}
		inst, err := New(r, p)
		if err != nil {
			return nil, err
		}
		v.instances = append(v.instances, inst)
	}
	return v, nil
}

// instanceFor picks the instance whose root's CA issued b's leaf.
func (v *Verifier) instanceFor(b *bundle.Bundle) (*Verifier, error) {
	leaf := leafOf(b)
	if leaf == nil {
		return v.instances[0], nil // refused as key-signed by the identity policy
	}
	for _, inst := range v.instances {
		if inst.issuedByTrustedCA(leaf) {
			return inst, nil
		}
	}
	return nil, reject(CauseCertificate, nil, "the signing certificate (issued by %q) does not chain to a Fulcio CA of any of the %d trust roots (%s)",
		leaf.Issuer.String(), len(v.instances), v.describeInstances())
}

func (v *Verifier) describeInstances() string {
	var names []string
	for _, inst := range v.instances {
		names = append(names, describeRoot(inst.tm))
	}
	return strings.Join(names, "; ")
}

// describeRoot names a root by the subjects of its Fulcio CAs' roots.
func describeRoot(tm root.TrustedMaterial) string {
	seen := map[string]bool{}
	var out []string
	for _, ca := range tm.FulcioCertificateAuthorities() {
		f, ok := ca.(*root.FulcioCertificateAuthority)
		if !ok || f.Root == nil {
			continue
		}
		s := orgOrSubject(f.Root)
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return "no Fulcio CA"
	}
	return "CA " + strings.Join(out, ", ")
}

func orgOrSubject(c *x509.Certificate) string {
	if len(c.Subject.Organization) > 0 {
		return fmt.Sprintf("%q", c.Subject.Organization[0])
	}
	return fmt.Sprintf("%q", c.Subject.String())
}

// verifyInstances is Verify over several roots.
func (v *Verifier) verifyInstances(ctx context.Context, b *bundle.Bundle, a Artifact) (*Result, error) {
	inst, err := v.instanceFor(b)
	if err != nil {
		res := &Result{Artifact: a.Name, MediaType: b.GetMediaType(), Verified: false, Error: FailureOf(err)}
		return res, err
	}
	return inst.Verify(ctx, b, a)
}
