package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// app holds what every command shares: streams and global flags.
type app struct {
	stdio Stdio
	// termErr is the stderr the run was given, before run wraps it: a
	// terminal to prompt on, or not.
	termErr io.Writer
	output  string
	verbose bool
	// started is set once a command's own code runs; errors before that
	// are usage errors.
	started bool
	// nameBundles: verify searched bundles by digest, so each result
	// names the bundle that verified.
	nameBundles bool
}

func newApp(stdio Stdio) *app { return &app{stdio: stdio, termErr: stdio.Err} }

// commands builds each of hallmark's commands, by name.
var commands = []struct {
	name  string
	build func(*app) *cobra.Command
}{
	{"verify", (*app).verifyCommand},
	{"sign", (*app).signCommand},
	{"attest", (*app).attestCommand},
	{"generate-key-pair", (*app).generateKeyPairCommand},
	{"scan", (*app).scanCommand},
	{"db", (*app).dbCommand},
	{"trust", (*app).trustCommand},
	{"version", (*app).versionCommand},
	{"download", (*app).downloadCommand},
	{"policy", (*app).policyCommand},
}

// rootCommandFor is the command tree a run with args needs: when the
// first argument names a command, the root with just that command (a cold
// start builds one flag set, not eight); otherwise, for help, completion,
// global flags first or an unknown command, the whole tree.
func (a *app) rootCommandFor(args []string) *cobra.Command {
	if len(args) > 0 {
		for _, c := range commands {
			if c.name == args[0] {
				return a.root(c.build(a))
			}
		}
	}
	return a.rootCommand()
}

// rootCommand is the whole command tree.
func (a *app) rootCommand() *cobra.Command {
	cmds := make([]*cobra.Command, len(commands))
	for i, c := range commands {
		cmds[i] = c.build(a)
	}
	return a.root(cmds...)
}

func (a *app) root(cmds ...*cobra.Command) *cobra.Command {
	root := &cobra.Command{
		Use:   "hallmark",
		Short: "Sign, verify and scan software artifacts with Sigstore and OSV",
		Long: `hallmark certifies where software comes from and that it is what was built.

It signs files and in-toto attestations about them into Sigstore bundles,
verifies bundles (keyless Fulcio certificates or keys, Rekor v1 and v2
transparency logs, RFC 3161 timestamps) against a trust root and a policy,
and scans lockfiles and SBOMs for known
vulnerabilities (OSV), online or offline.

Exit codes: 0 ok, 1 could not complete (or interrupted by Ctrl-C or SIGTERM),
2 usage error, 3 checked and rejected.`,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			formats := []string{"text", "json"}
			if f, ok := cmd.Annotations[outputFormats]; ok {
				formats = strings.Split(f, ",")
			}
			if !slices.Contains(formats, a.output) {
				return usageError(fmt.Errorf("--output must be %s, not %q", oneOf(formats), a.output))
			}
			return nil
		},
	}
	root.SetIn(a.stdio.In)
	root.SetOut(a.stdio.Out)
	root.SetErr(a.stdio.Err)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError(reword(cmd, err), helpHint(cmd)) })
	pf := root.PersistentFlags()
	pf.StringVarP(&a.output, "output", "o", "text", "output format: text or json")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "print more detail on stderr")
	root.AddCommand(cmds...)
	registerCompletions(root)
	return root
}

// outputFormats is the command annotation listing the --output formats a
// command accepts beyond the default text and json.
const outputFormats = "hallmark/output-formats"

// oneOf renders choices for a message: "a or b", "one of a, b, c".
func oneOf(choices []string) string {
	if len(choices) == 2 {
		return choices[0] + " or " + choices[1]
	}
	return "one of " + strings.Join(choices, ", ")
}

// runE wraps a command's body: from here on, errors are the command's own
// and are classified by type, not taken for usage errors.
func (a *app) runE(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.started = true
		return fn(cmd, args)
	}
}

// printJSON writes v to stdout as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdio.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// CommandTree returns hallmark's command tree, for generating documentation.
func CommandTree() *cobra.Command {
	root := newApp(Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}).rootCommand()
	root.InitDefaultCompletionCmd()
	return root
}
