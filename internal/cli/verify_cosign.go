package cli

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/pkg/verify"
	"github.com/hallmark-dev/hallmark/pkg/verify/cosignbundle"
)

// cosignFlags are verify's flags for cosign's pre-bundle formats: the
// detached pair of cosign sign-blob --output-signature/--output-certificate.
// (Its legacy --bundle file needs no flag: verify recognises it.)
type cosignFlags struct {
	signaturePath   string
	certificatePath string

	// legacy is the --bundle file given with --signature, read by check.
	legacy *cosignbundle.Legacy
}

func (c *cosignFlags) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.signaturePath, "signature", "", "cosign's detached signature `FILE` (base64, from sign-blob --output-signature); its log entry is the rekorBundle of a cosign --bundle, if given")
	f.StringVar(&c.certificatePath, "certificate", "", "the certificate `FILE` of --signature (PEM, or base64 of PEM as cosign writes it)")
	cmd.MarkFlagsMutuallyExclusive("key", "certificate")
}

// maxSignatureFile bounds a detached signature or certificate file.
const maxSignatureFile = 1 << 20

// check validates the flags against the arguments before anything is
// verified, and reads the --bundle that goes with --signature.
func (c *cosignFlags) check(o *verifyOptions, args []string) error {
	if c.signaturePath == "" {
		if c.certificatePath != "" {
			return usageError(errors.New("--certificate is the certificate of a detached --signature, which is missing"),
				"pass cosign's signature file with --signature FILE, or drop --certificate")
		}
		return nil
	}
	if len(args) != 1 {
		return usageError(errors.New("--signature is the signature of one artifact, but several were given"))
	}
	if o.bundlePath == "" {
		return nil
	}
	data, err := readBoundedFile(o.bundlePath, verify.MaxBundleSize)
	if err != nil {
		return fmt.Errorf("reading bundle: %w", err)
	}
	if !cosignbundle.IsLegacy(data) {
		return usageError(fmt.Errorf("--bundle %q is not a %s, so it cannot supply the log entry of --signature", o.bundlePath, cosignbundle.Format),
			"a Sigstore bundle carries its own signature: drop --signature and --certificate")
	}
	if c.legacy, err = cosignbundle.Parse(data); err != nil {
		return legacyRejection(o.bundlePath, err)
	}
	return nil
}

// jobs pairs the arguments with their bundles, as verifyOptions.jobs does;
// with --signature, the one artifact is paired with the --bundle, if any,
// which only supplies the log entry.
func (c *cosignFlags) jobs(o *verifyOptions, args []string, stdin io.Reader) ([]verify.Job, error) {
	if c.signaturePath == "" {
		return o.jobs(args, stdin)
	}
	j := verify.Job{Artifact: verify.FileArtifact(args[0]), BundlePath: o.bundlePath}
	switch {
	case args[0] == "-":
		j.Artifact = verify.ReaderArtifact("-", stdin)
	case verify.IsDigest(args[0]):
		art, err := verify.ParseDigest(args[0])
		if err != nil {
			return nil, usageError(err)
		}
		j.Artifact = art
	}
	return []verify.Job{j}, nil
}

// verifyAll verifies the jobs; a bundle that turns out to be a cosign
// legacy bundle is read as one and verified again, and --signature is
// verified as a detached pair.
func (a *app) verifyAll(ctx context.Context, v *verify.Verifier, o *verifyOptions, args []string, jobs []verify.Job) []verify.Outcome {
	if o.cosign.signaturePath != "" {
		return []verify.Outcome{a.verifyDetached(ctx, v, o, args[0], jobs[0])}
	}
	outs := v.VerifyAll(ctx, jobs)
	for i, out := range outs {
		var rej *verify.RejectedError
		if jobs[i].BundlePath == "" || !errors.As(out.Err, &rej) || rej.Cause != verify.CauseMalformed {
			continue
		}
		data, ok := legacyFile(jobs[i].BundlePath)
		if !ok {
			continue
		}
		a.verbosef("%s: %s is a %s", jobs[i].Artifact.Name, jobs[i].BundlePath, cosignbundle.Format)
		l, err := cosignbundle.Parse(data)
		if err != nil {
			outs[i] = failed(jobs[i], legacyRejection(jobs[i].BundlePath, err))
			continue
		}
		outs[i] = a.verifyLegacy(ctx, v, o, args[i], jobs[i], l)
	}
	return outs
}

// legacyFile returns the content of path if it is a regular file, not too
// large, holding a cosign legacy bundle.
func legacyFile(path string) ([]byte, bool) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() || st.Size() > verify.MaxBundleSize {
		return nil, false
	}
	data, err := os.ReadFile(path)
	if err != nil || !cosignbundle.IsLegacy(data) {
		return nil, false
	}
	return data, true
}

// verifyDetached verifies cosign's --signature (and --certificate) file,
// with the log entry of the legacy --bundle if one was given.
func (a *app) verifyDetached(ctx context.Context, v *verify.Verifier, o *verifyOptions, arg string, j verify.Job) verify.Outcome {
	c := &o.cosign
	sig, err := readBoundedFile(c.signaturePath, maxSignatureFile)
	if err != nil {
		return failed(j, fmt.Errorf("reading signature: %w", err))
	}
	var cert []byte
	if c.certificatePath != "" {
		if cert, err = readBoundedFile(c.certificatePath, maxSignatureFile); err != nil {
			return failed(j, fmt.Errorf("reading certificate: %w", err))
		}
	}
	l, err := cosignbundle.Detached(sig, cert)
	if err != nil {
		files := fmt.Sprintf("--signature %q", c.signaturePath)
		if c.certificatePath != "" {
			files += fmt.Sprintf(", --certificate %q", c.certificatePath)
		}
		return failed(j, &verify.RejectedError{Cause: verify.CauseMalformed, Reason: files + ": not a cosign signature", Err: err})
	}
	if c.legacy != nil {
		l.Entry = c.legacy.Entry
		if l.Certificate == nil && l.PublicKey == nil {
			l.Certificate, l.PublicKey = c.legacy.Certificate, c.legacy.PublicKey
		}
	}
	out := a.verifyLegacy(ctx, v, o, arg, j, l)
	var rej *verify.RejectedError
	if l.Entry == nil && errors.As(out.Err, &rej) && rej.Cause == verify.CauseTlog && rej.Hint == "" {
		rej.Hint = "a detached --signature carries no transparency log entry: pass the cosign bundle that holds its rekorBundle with --bundle, " +
			"or, for a key signature made with --tlog-upload=false, --insecure-ignore-tlog"
	}
	return out
}

// verifyLegacy converts l and verifies it. A message signature without a
// hashedrekord entry does not say which digest it signs: the artifact is
// hashed here (once) and verified by its digest.
func (a *app) verifyLegacy(ctx context.Context, v *verify.Verifier, o *verifyOptions, arg string, j verify.Job, l *cosignbundle.Legacy) verify.Outcome {
	art := j.Artifact
	var d *cosignbundle.Digest
	if l.NeedsDigest() {
		var pub crypto.PublicKey
		if l.Certificate != nil {
			pub = l.Certificate.PublicKey
		} else if o.keyPath != "" {
			k, err := readKey(o.keyPath)
			if err != nil {
				return failed(j, err)
			}
			pub = k
		}
		var err error
		if art, d, err = a.digestArtifact(ctx, arg, j.Artifact, pub); err != nil {
			return failed(j, err)
		}
	}
	b, err := l.Bundle(d)
	if err != nil {
		return failed(j, legacyRejection(j.BundlePath, err))
	}
	res, err := v.Verify(ctx, b, art)
	res.Artifact, res.Bundle = j.Artifact.Name, j.BundlePath
	return verify.Outcome{Result: res, Err: err}
}

// digestArtifact hashes the artifact named by arg with the digest that
// signatures by pub are made over, and returns the artifact to verify with
// that digest. Ed25519 signs the whole artifact, so a file is then verified
// again as a file.
func (a *app) digestArtifact(ctx context.Context, arg string, orig verify.Artifact, pub crypto.PublicKey) (verify.Artifact, *cosignbundle.Digest, error) {
	alg, h, whole := signedDigest(pub)
	if verify.IsDigest(arg) {
		given, value, _ := strings.Cut(arg, ":")
		if !strings.EqualFold(given, alg) {
			return orig, nil, &verify.RejectedError{Cause: verify.CauseArtifact,
				Reason: fmt.Sprintf("the signature is over a %s digest, but a %s digest of the artifact was given", alg, strings.ToLower(given)),
				Hint:   "pass the artifact file instead of its digest"}
		}
		raw, err := hex.DecodeString(value)
		if err != nil {
			return orig, nil, usageError(err)
		}
		return orig, &cosignbundle.Digest{Algorithm: alg, Value: raw}, nil
	}
	var r io.Reader = a.stdio.In
	if arg != "-" {
		f, err := os.Open(arg)
		if err != nil {
			return orig, nil, fmt.Errorf("reading artifact: %w", err)
		}
		defer func() { _ = f.Close() }()
		r = f
	} else if whole {
		return orig, nil, usageError(errors.New("an Ed25519 signature without a log entry is checked over the whole artifact, which standard input cannot give twice: pass the artifact as a file"))
	}
	sum, err := verify.HashReader(ctx, r, h)
	if err != nil {
		return orig, nil, fmt.Errorf("reading artifact %s: %w", orig.Name, err)
	}
	d := &cosignbundle.Digest{Algorithm: alg, Value: sum}
	if whole {
		return verify.FileArtifact(arg), d, nil
	}
	art, err := verify.ParseDigest(alg + ":" + hex.EncodeToString(sum))
	if err != nil {
		return orig, nil, err
	}
	art.Name = orig.Name
	return art, d, nil
}

// signedDigest is the digest a signature by pub is made over, as
// verification expects it (sigstore's defaults): SHA-384 and SHA-512 for
// ECDSA P-384 and P-521, else SHA-256; whole for Ed25519, which signs the
// artifact itself.
func signedDigest(pub crypto.PublicKey) (alg string, h crypto.Hash, whole bool) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P384():
			return "sha384", crypto.SHA384, false
		case elliptic.P521():
			return "sha512", crypto.SHA512, false
		}
	case ed25519.PublicKey:
		return "sha256", crypto.SHA256, true
	}
	return "sha256", crypto.SHA256, false
}

// legacyRejection is the refusal of a legacy bundle that cannot be used:
// the error names the format, and this the file.
func legacyRejection(path string, err error) error {
	if errors.Is(err, cosignbundle.ErrMalformed) {
		return &verify.RejectedError{Cause: verify.CauseMalformed, Reason: path, Err: err}
	}
	return err
}

// failed is the outcome of a job that could not be verified.
func failed(j verify.Job, err error) verify.Outcome {
	return verify.Outcome{Result: &verify.Result{Artifact: j.Artifact.Name, Bundle: j.BundlePath, Error: verify.FailureOf(err)}, Err: err}
}

// readBoundedFile reads at most limit bytes of path.
func readBoundedFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}
