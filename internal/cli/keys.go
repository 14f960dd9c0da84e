package cli

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/hallmark-dev/hallmark/internal/ctxio"
	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/internal/termtext"
)

// Password sources, in order.
const (
	envPassword       = "HALLMARK_PASSWORD"
	envCosignPassword = "COSIGN_PASSWORD"
)

var errNoPassword = errors.New("the private key needs a password, and there is no terminal to ask for it")

// generateKeyPairOptions are the generate-key-pair command's flags.
type generateKeyPairOptions struct {
	prefix  string
	keyType string
	force   bool
}

func (a *app) generateKeyPairCommand() *cobra.Command {
	o := &generateKeyPairOptions{}
	cmd := &cobra.Command{
		Use:   "generate-key-pair [flags]",
		Short: "Generate a key pair for key-based signing",
		Long: `Generate a key pair for 'hallmark sign --key': PREFIX.key, the private key
encrypted with a password in cosign's format (ENCRYPTED SIGSTORE PRIVATE KEY:
scrypt and NaCl secretbox, so cosign reads it and hallmark reads cosign's), and
PREFIX.pub, the PEM public key for 'hallmark verify --key'.

The password comes from HALLMARK_PASSWORD, else COSIGN_PASSWORD, else a prompt
on the terminal (asked twice). An empty password is allowed only through the
environment. Existing files are never replaced unless --force is given.

Exit codes: 0 written, 1 could not complete, 2 usage error.`,
		Example: `  hallmark generate-key-pair
  HALLMARK_PASSWORD=... hallmark generate-key-pair --output-key-prefix release --key-type ed25519`,
		Args: cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			return a.runGenerateKeyPair(cmd.Context(), o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.prefix, "output-key-prefix", "cosign", "write `PREFIX`.key and PREFIX.pub")
	names := make([]string, 0, len(keys.KeyTypes()))
	for _, t := range keys.KeyTypes() {
		names = append(names, string(t))
	}
	f.StringVar(&o.keyType, "key-type", string(keys.ECDSAP256), "key `TYPE`: "+strings.Join(names, ", "))
	f.BoolVar(&o.force, "force", false, "replace existing key files")
	return cmd
}

func (a *app) runGenerateKeyPair(ctx context.Context, o *generateKeyPairOptions) error {
	valid := false
	for _, t := range keys.KeyTypes() {
		valid = valid || string(t) == o.keyType
	}
	if !valid {
		return usageError(fmt.Errorf("--key-type %q is not supported", o.keyType),
			"choose one of ecdsa-p256 (default), ecdsa-p384, ed25519, rsa-3072")
	}
	if o.prefix == "" {
		return usageError(errors.New("--output-key-prefix must not be empty"))
	}
	files := keys.PairFiles(o.prefix)
	if !o.force {
		for _, p := range []string{files.PrivateKey, files.PublicKey} {
			if _, err := os.Lstat(p); err == nil {
				return withHint(fmt.Errorf("%s exists: not replacing it", p),
					"pass --force to replace it, or choose another --output-key-prefix")
			}
		}
	}
	password, err := a.password(ctx, true)
	if err != nil {
		return err
	}
	key, err := keys.GenerateKey(keys.KeyType(o.keyType))
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // interrupted: no key files
	}
	if err := keys.WriteKeyPair(key, password, files, o.force); err != nil {
		if errors.Is(err, keys.ErrExists) {
			return withHint(err, "pass --force to replace it, or choose another --output-key-prefix")
		}
		return err
	}
	fp, _ := keys.Fingerprint(key.Public())
	if a.output == "json" {
		return a.printJSON(struct {
			SchemaVersion string `json:"schemaVersion"`
			keys.KeyPairFiles
			KeyType     string `json:"keyType"`
			Fingerprint string `json:"keyFingerprint"`
		}{"1", files, keys.Describe(key.Public()), fp})
	}
	fmt.Fprintf(a.stdio.Out, "wrote %s (private, encrypted) and %s (public): %s key %s\n",
		termtext.Quote(files.PrivateKey), termtext.Quote(files.PublicKey), keys.Describe(key.Public()), fp)
	return nil
}

// password reads the key password: HALLMARK_PASSWORD, then COSIGN_PASSWORD,
// then a prompt on the terminal (twice when confirm is set).
func (a *app) password(ctx context.Context, confirm bool) ([]byte, error) {
	for _, env := range []string{envPassword, envCosignPassword} {
		if v, ok := os.LookupEnv(env); ok {
			return []byte(v), nil
		}
	}
	fd, ok := a.terminalFD()
	if !ok {
		return nil, withHint(errNoPassword, "set HALLMARK_PASSWORD (or COSIGN_PASSWORD) to the key's password")
	}
	fmt.Fprint(a.stdio.Err, "Enter password for private key: ")
	pw, err := a.readPassword(ctx, fd)
	fmt.Fprintln(a.stdio.Err)
	if err != nil {
		return nil, fmt.Errorf("reading the password: %w", err)
	}
	if confirm {
		if len(pw) == 0 {
			return nil, withHint(errors.New("empty password"), "to make a key with an empty password, set HALLMARK_PASSWORD=")
		}
		fmt.Fprint(a.stdio.Err, "Enter password for private key again: ")
		again, err := a.readPassword(ctx, fd)
		fmt.Fprintln(a.stdio.Err)
		if err != nil {
			return nil, fmt.Errorf("reading the password: %w", err)
		}
		if !bytes.Equal(pw, again) {
			return nil, errors.New("the passwords do not match")
		}
	}
	return pw, nil
}

// readPassword reads a password from the terminal fd without echo, and
// gives up when ctx ends (Ctrl-C at the prompt), turning echo back on.
func (a *app) readPassword(ctx context.Context, fd int) ([]byte, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return nil, err
	}
	type result struct {
		pw  []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		pw, err := term.ReadPassword(fd)
		done <- result{pw, err}
	}()
	select {
	case r := <-done:
		return r.pw, r.err
	case <-ctx.Done():
		// The read stays blocked until the process ends; the terminal
		// must not stay without echo.
		_ = term.Restore(fd, state)
		fmt.Fprintln(a.termErr) // the interruption gets a line of its own
		return nil, ctx.Err()
	}
}

// terminalFD returns standard input's descriptor when both standard input
// and standard error are a terminal: only then may hallmark ask questions.
func (a *app) terminalFD() (int, bool) {
	in, ok := a.stdio.In.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return 0, false
	}
	if errf, ok := a.termErr.(*os.File); !ok || !term.IsTerminal(int(errf.Fd())) {
		return 0, false
	}
	return int(in.Fd()), true
}

// maxKeySize bounds a private key file: PEM keys are a few KiB.
const maxKeySize = 1 << 20

// readPrivateKey reads and, if needed, decrypts the private key at path.
func (a *app) readPrivateKey(ctx context.Context, path string) (crypto.Signer, error) {
	// A key may come from a pipe (--key <(command)): read it so that
	// Ctrl-C stops the wait, and bounded.
	data, err := ctxio.ReadFile(ctx, path, maxKeySize)
	if err != nil {
		return nil, fmt.Errorf("reading key: %w", err)
	}
	var password []byte
	if keys.IsEncrypted(data) {
		if password, err = a.password(ctx, false); err != nil {
			return nil, err
		}
	}
	key, err := keys.ParsePrivateKeyPEM(data, password)
	switch {
	case errors.Is(err, keys.ErrWrongPassword):
		return nil, withHint(fmt.Errorf("key %s: %w", path, err),
			"check HALLMARK_PASSWORD (or COSIGN_PASSWORD): it must be the password the key was made with")
	case errors.Is(err, keys.ErrEncryptedPKCS8):
		return nil, withHint(fmt.Errorf("key %s: %w", path, err),
			fmt.Sprintf("make it a cosign-format encrypted key, which hallmark reads: 'openssl pkcs8 -in %s -out plain.pem', then 'cosign import-key-pair --key plain.pem' and delete plain.pem", path))
	case err != nil:
		return nil, withHint(fmt.Errorf("key %s: %w", path, err),
			"--key takes a PEM private key: PKCS#8, SEC 1 EC or PKCS#1 RSA, or an encrypted cosign key (from 'hallmark generate-key-pair' or 'cosign generate-key-pair')")
	}
	return key, nil
}
