package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/hallmark-dev/hallmark/internal/source/oci"
	"github.com/hallmark-dev/hallmark/pkg/attest"
)

// ociFlags are the registry flags of sign, attest and verify, for
// arguments of the form oci://REGISTRY/REPO[:TAG|@sha256:HEX].
type ociFlags struct {
	username      string
	passwordStdin bool
	allowInsecure bool
	platform      string
	recursive     bool
	noPush        bool // sign and attest
	bundleFromOCI bool // verify: gh's spelling, implied by oci://
}

// bind adds the registry flags; signing commands get --no-push too.
func (f *ociFlags) bind(cmd *cobra.Command, signing bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.username, "registry-username", "", "the registry `USER` for oci:// images (default: the Docker config and its credential helpers)")
	fs.BoolVar(&f.passwordStdin, "registry-password-stdin", false, "read the registry password of --registry-username from standard input")
	fs.BoolVar(&f.allowInsecure, "allow-insecure-registry", false, "talk plain HTTP to a registry on localhost, 127.0.0.1 or [::1] (unsafe)")
	fs.StringVar(&f.platform, "platform", "", "for an oci:// image index: also the manifest of platform `OS/ARCH[/VARIANT]`")
	fs.BoolVar(&f.recursive, "recursive", false, "for an oci:// image index: also every platform manifest")
	if signing {
		fs.BoolVar(&f.noPush, "no-push", false, "for oci:// images: write the bundle with --bundle only, push nothing")
	} else {
		fs.BoolVar(&f.bundleFromOCI, "bundle-from-oci", false, "read the bundles from the oci:// image's registry (gh's spelling; implied by oci://)")
	}
	cmd.MarkFlagsMutuallyExclusive("platform", "recursive")
	cmd.MarkFlagsRequiredTogether("registry-password-stdin", "registry-username")
}

// onlyForImages refuses the registry flags when no oci:// image was given.
func (f *ociFlags) onlyForImages() error {
	var set []string
	for _, fl := range []struct {
		name string
		on   bool
	}{{"--registry-username", f.username != ""}, {"--registry-password-stdin", f.passwordStdin}, {"--allow-insecure-registry", f.allowInsecure},
		{"--platform", f.platform != ""}, {"--recursive", f.recursive}, {"--no-push", f.noPush}} {
		if fl.on {
			set = append(set, fl.name)
		}
	}
	if len(set) > 0 {
		return usageError(fmt.Errorf("%s: only for oci:// images, and none was given", strings.Join(set, ", ")),
			"name images as oci://REGISTRY/REPO[:TAG|@sha256:HEX], or drop the flag")
	}
	return nil
}

// ociArgs reports whether the arguments are oci:// images, refusing a mix of
// images and files.
func ociArgs(args []string) (bool, error) {
	n := 0
	for _, a := range args {
		if oci.IsReference(a) {
			n++
		}
	}
	if n > 0 && n < len(args) {
		return false, usageError(errors.New("oci:// images and files cannot be mixed in one command"), "run one command for the images and another for the files")
	}
	return n > 0, nil
}

// ociClient checks the registry flags and makes the client; it reads the
// password from standard input when asked to.
func (a *app) ociClient(f *ociFlags) (*oci.Client, error) {
	o := oci.Options{Username: f.username, AllowInsecure: f.allowInsecure, UserAgent: "hallmark"}
	if f.username != "" && !f.passwordStdin {
		return nil, usageError(errors.New("--registry-username needs --registry-password-stdin"), "pipe the password or token: echo \"$TOKEN\" | hallmark ... --registry-username USER --registry-password-stdin")
	}
	if f.passwordStdin {
		data, err := io.ReadAll(io.LimitReader(a.stdio.In, 1<<16))
		if err != nil {
			return nil, fmt.Errorf("reading the registry password from standard input: %w", err)
		}
		o.Password = strings.TrimRight(string(data), "\r\n")
		if o.Password == "" {
			return nil, usageError(errors.New("--registry-password-stdin: standard input is empty"))
		}
	}
	if f.allowInsecure {
		a.warnf("--allow-insecure-registry: plain HTTP to localhost registries, without TLS")
	}
	return oci.New(o), nil
}

// ociTarget is one manifest to sign or verify.
type ociTarget struct {
	image *oci.Image
	// name is what results call it: the reference as given, with the
	// digest; a platform manifest says its platform.
	name string
}

// ociTargets resolves each reference once and, for an index with
// --platform or --recursive, adds its platform manifests.
func (a *app) ociTargets(ctx context.Context, c *oci.Client, f *ociFlags, args []string, needResolve bool) ([]ociTarget, error) {
	seen := map[string]bool{}
	var out []ociTarget
	add := func(t ociTarget) {
		if !seen[t.image.Ref.Digest+" "+t.image.Ref.Repository] {
			seen[t.image.Ref.Digest+" "+t.image.Ref.Repository] = true
			out = append(out, t)
		}
	}
	for _, arg := range args {
		ref, err := oci.ParseReference(arg, f.allowInsecure)
		if err != nil {
			return nil, ociError(err, f)
		}
		if ref.Digest != "" && !needResolve && f.platform == "" && !f.recursive {
			// Verifying by digest needs only the referrers: no manifest
			// fetch.
			add(ociTarget{image: &oci.Image{Ref: ref, Given: ref, Descriptor: oci.Descriptor{Digest: ref.Digest}}, name: arg})
			continue
		}
		im, err := c.Resolve(ctx, ref)
		if err != nil {
			return nil, ociError(err, f)
		}
		name := arg
		if ref.Digest == "" {
			name = arg + "@" + im.Ref.Digest
			a.verbosef("%s resolves to %s", arg, im.Ref.Digest)
		}
		add(ociTarget{image: im, name: name})
		if f.platform == "" && !f.recursive {
			continue
		}
		if !im.IsIndex() {
			return nil, usageError(fmt.Errorf("%s is an image manifest (%s), not an index: --platform and --recursive are for multi-platform images", arg, im.Descriptor.MediaType),
				"drop --platform and --recursive")
		}
		plats, err := im.Platforms(f.platform)
		if err != nil {
			return nil, usageError(err)
		}
		for _, p := range plats {
			child := &oci.Image{Ref: im.Ref.WithDigest(p.Digest), Given: im.Ref, Descriptor: p}
			add(ociTarget{image: child, name: child.Ref.Arg + " (" + p.Platform + ")"})
		}
	}
	return out, nil
}

// ociError adds the hint of a registry failure.
func ociError(err error, f *ociFlags) error {
	var e *oci.Error
	if !errors.As(err, &e) {
		return err
	}
	if errors.Is(err, oci.ErrReference) {
		if strings.Contains(err.Error(), "plain HTTP") {
			return usageError(err, "--allow-insecure-registry is only for a registry on this machine; drop it for a registry with TLS")
		}
		return usageError(err, e.Hint())
	}
	hint := e.Hint()
	if errors.Is(err, oci.ErrNetwork) && !f.allowInsecure && strings.Contains(err.Error(), "HTTP response to HTTPS client") {
		hint = "the registry speaks plain HTTP: for a registry on localhost pass --allow-insecure-registry"
	}
	return withHint(err, hint)
}

// imageStatement is what signing an image signs: cosign v3's image
// signature, an in-toto statement of predicate type
// https://sigstore.dev/cosign/sign/v1 whose subject is the manifest digest
// (named by the repository) and whose predicate is empty.
func imageStatement(t ociTarget, predicateType string, predicate *structpb.Struct) (*intotov1.Statement, error) {
	alg, hex, _ := strings.Cut(t.image.Ref.Digest, ":")
	sub := &intotov1.ResourceDescriptor{Name: t.image.Ref.Repository, Digest: map[string]string{alg: hex}}
	if predicate == nil {
		predicate = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	return attest.NewStatement([]*intotov1.ResourceDescriptor{sub}, predicateType, predicate)
}
