package oci

import (
	"fmt"
	"net"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Scheme prefixes an image reference on the command line.
const Scheme = "oci://"

// IsReference reports whether s names an OCI image (oci://...).
func IsReference(s string) bool { return strings.HasPrefix(s, Scheme) }

// Reference is a parsed oci://REGISTRY/REPOSITORY[:TAG|@DIGEST].
type Reference struct {
	// Arg is the reference as given, with its oci:// prefix.
	Arg string
	// Registry is the registry's host[:port]; Repository the repository in
	// it (REGISTRY/REPO, as go-containerregistry names it).
	Registry, Repository string
	// Tag is the tag, or "" when the reference is by digest.
	Tag string
	// Digest is the manifest digest the reference names (sha256:HEX), or ""
	// for a tag: Resolve finds it.
	Digest string

	ref      name.Reference
	insecure bool
}

func (r Reference) String() string { return r.Arg }

// ParseReference parses oci://REGISTRY/REPO[:TAG|@sha256:HEX] (no tag means
// :latest). The registry must be named: "oci://alpine" is refused rather than
// read as Docker Hub's library/alpine. allowInsecure permits plain HTTP, and
// only to a loopback registry.
func ParseReference(s string, allowInsecure bool) (Reference, error) {
	body, ok := strings.CutPrefix(s, Scheme)
	if !ok {
		return Reference{}, &Error{Op: "parsing", Ref: s, Kind: ErrReference, Err: fmt.Errorf("not an %s reference", Scheme)}
	}
	var opts []name.Option
	if allowInsecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(body, opts...)
	if err != nil {
		return Reference{}, &Error{Op: "parsing", Ref: s, Kind: ErrReference, Err: err}
	}
	reg := ref.Context().RegistryStr()
	// The first component names a registry when it looks like a host, as
	// Docker decides (a dot, a port, or localhost).
	first, _, hasSlash := strings.Cut(body, "/")
	if !hasSlash || !(strings.ContainsAny(first, ".:[") || first == "localhost") {
		return Reference{}, &Error{Op: "parsing", Ref: s, Kind: ErrReference, Err: fmt.Errorf("name the registry: oci://REGISTRY/REPOSITORY (%q is read as %s)", body, ref.Name())}
	}
	if allowInsecure && !IsLoopback(reg) {
		return Reference{}, &Error{Op: "parsing", Ref: s, Kind: ErrReference, Err: fmt.Errorf("plain HTTP is allowed only to localhost, 127.0.0.1 or [::1], not %q", reg)}
	}
	r := Reference{Arg: s, Registry: reg, Repository: ref.Context().Name(), ref: ref, insecure: allowInsecure}
	switch v := ref.(type) {
	case name.Tag:
		r.Tag = v.TagStr()
	case name.Digest:
		r.Digest = v.DigestStr()
		if !strings.HasPrefix(r.Digest, "sha256:") {
			return Reference{}, &Error{Op: "parsing", Ref: s, Kind: ErrReference, Err: fmt.Errorf("digest %q: only sha256 manifests are supported", r.Digest)}
		}
	}
	return r, nil
}

// WithDigest is the reference to digest d in the same repository.
func (r Reference) WithDigest(d string) Reference {
	out := r
	out.Arg = Scheme + r.Repository + "@" + d
	out.Tag, out.Digest = "", d
	out.ref = r.ref.Context().Digest(d)
	return out
}

// IsLoopback reports whether host[:port] is localhost or a loopback address.
func IsLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
