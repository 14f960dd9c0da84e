package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/sign"
)

// attestRunOptions are the flags of attest run.
type attestRunOptions struct {
	step          string
	materials     []string
	products      []string
	bundlePath    string
	env           []string
	onlyOnSuccess bool

	signFlags
}

func (a *app) attestRunCommand() *cobra.Command {
	o := &attestRunOptions{}
	cmd := &cobra.Command{
		Use:   "run --step NAME [flags] -- CMD [ARGS...]",
		Short: "Run a build step and sign what it did as an in-toto link",
		Long: `Hash the --materials, run CMD with standard input, output and error passed
through (streamed, never buffered), hash the --products, and sign an in-toto
link v0.3 predicate (https://in-toto.io/attestation/link/v0.3: the step name,
the command, the materials, the exit code, the environment) whose statement
subjects are the products.

--materials and --products are files or directory globs (** matches any
depth), repeatable. A file that cannot be read, or changes while it is
hashed, fails the step. The environment recorded is the git commit, branch
and remote of the working tree and the CI variables that describe the run;
variables whose names look like secrets (TOKEN, KEY, SECRET, PASSWORD...)
are never recorded, and --env NAME adds others on purpose.

The bundle goes to --bundle OUT, by default NAME.link.sigstore.json. It is
written whether the command succeeded or not (its exit code is in the link),
unless --only-on-success. Signing is keyless or --key, with the flags of
'hallmark sign'; the key or token is checked before the command runs.

Exit codes: the command's own; 1 could not complete (the step could not be
recorded or signed), 2 usage error.`,
		Example: `  # keyless, in GitHub Actions (id-token: write)
  hallmark attest run --step build --materials 'src/**' --products dist/app.tgz -- make dist
  hallmark verify --repo OWNER/REPO --type link --bundle build.link.sigstore.json dist/app.tgz

  # with a key and no services
  hallmark attest run --key cosign.key --tlog-upload=false --timestamp=false \
    --step build --materials 'src/**' --products dist/app.tgz -- make dist
  hallmark verify --key cosign.pub --insecure-ignore-tlog --type link --bundle build.link.sigstore.json dist/app.tgz`,
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runAttestRun(cmd.Context(), o, cmd.ArgsLenAtDash(), args)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.step, "step", "", "the step `NAME` (the link's name; the default bundle is NAME.link.sigstore.json)")
	f.StringArrayVar(&o.materials, "materials", nil, "files the step reads: a file or directory `GLOB` (repeatable)")
	f.StringArrayVar(&o.products, "products", nil, "files the step makes: a file or directory `GLOB` (repeatable); the statement's subjects")
	f.StringVar(&o.bundlePath, "bundle", "", "write the bundle to `OUT` (default NAME.link.sigstore.json)")
	f.StringArrayVar(&o.env, "env", nil, "also record the environment variable `NAME` (repeatable)")
	f.BoolVar(&o.onlyOnSuccess, "only-on-success", false, "write no bundle when the command fails")
	o.signFlags.bind(cmd)
	_ = cmd.MarkFlagRequired("step")
	return cmd
}

func (a *app) runAttestRun(ctx context.Context, o *attestRunOptions, dash int, args []string) error {
	if dash < 0 || dash >= len(args) {
		return usageError(errors.New("attest run needs the command to run after --"), "write it: hallmark attest run --step NAME -- CMD [ARGS...]")
	}
	if dash > 0 {
		return usageError(fmt.Errorf("%q before -- is not a flag: attest run takes no FILE arguments", args[0]), "name files with --materials and --products")
	}
	if o.step == "" {
		return usageError(errors.New("--step needs a name"))
	}
	if o.bundlePath == "-" {
		return usageError(errors.New("--bundle - is not for attest run: standard output is the command's"), "write the bundle to a file with --bundle OUT")
	}
	bundlePath := o.bundlePath
	if bundlePath == "" {
		bundlePath = o.step + ".link.sigstore.json"
	}
	if err := checkBundleTarget(bundlePath); err != nil {
		return err
	}
	for _, name := range o.env {
		if attest.LooksSecret(name) {
			a.warnf("--env %s is not recorded: its name looks like a secret's, and secrets never reach the link", termtext.Quote(name))
		}
	}
	// The key or the token is checked before the command runs: a build
	// that cannot be signed is not run.
	s, _, err := a.newSigner(ctx, &o.signFlags)
	if err != nil {
		return err
	}
	res, err := attest.RunStep(ctx, attest.StepOptions{
		Name: o.step, Materials: o.materials, Products: o.products, Command: args,
		Env: os.Environ(), RecordEnv: o.env,
		Stdin: a.stdio.In, Stdout: a.stdio.Out, Stderr: a.stdio.Err,
	})
	if err != nil {
		return fmt.Errorf("step %q: %w", o.step, err)
	}
	code := res.ExitCode
	if code != 0 && o.onlyOnSuccess {
		a.errorf("step %q: %s exited with %d; no bundle written (--only-on-success)", o.step, termtext.Quote(args[0]), code)
		return errReported{code}
	}
	if len(res.Statement.GetSubject()) == 0 {
		// An in-toto statement needs a subject: a step that made nothing
		// has no link to sign. A failed command still gives its exit code.
		if code != 0 {
			a.errorf("step %q: %s exited with %d and made no products: no bundle written", o.step, termtext.Quote(args[0]), code)
			return errReported{code}
		}
		return withHint(fmt.Errorf("step %q made no products: an in-toto statement needs at least one subject", o.step),
			"name what the step makes with --products GLOB")
	}
	data, err := attest.MarshalStatement(res.Statement)
	if err != nil {
		return err
	}
	r, _, err := s.Sign(ctx, sign.Job{Path: o.step, BundlePath: bundlePath, Statement: data})
	if err != nil {
		return attestError(err)
	}
	if code != 0 {
		a.errorf("step %q: %s exited with %d; recorded in %s", o.step, termtext.Quote(args[0]), code, termtext.Quote(r.Bundle))
		return errReported{code}
	}
	a.diag("", "step %q recorded: %s", o.step, signLine(r))
	return nil
}
