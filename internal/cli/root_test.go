package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// A run whose first argument names a command builds only that command;
// what it prints and its exit code must be those of the whole tree.
func TestOneCommandTreeActsAsWholeTree(t *testing.T) {
	whole := func(a *app, _ []string) *cobra.Command { return a.rootCommand() }
	var argLists [][]string
	for _, c := range commands {
		argLists = append(argLists,
			[]string{c.name, "--help"},
			[]string{c.name, "--no-such-flag"},
			[]string{c.name, "--output", "xml"},
			[]string{c.name, "-v=maybe"},
		)
	}
	argLists = append(argLists, []string{"version"}, []string{"verify"}, []string{"trust", "nope"}, []string{"db", "--help"})
	for _, args := range argLists {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out1, err1, out2, err2 bytes.Buffer
			code1 := newApp(Stdio{In: strings.NewReader(""), Out: &out1, Err: &err1}).runTree(context.Background(), args, (*app).rootCommandFor)
			code2 := newApp(Stdio{In: strings.NewReader(""), Out: &out2, Err: &err2}).runTree(context.Background(), args, whole)
			if code1 != code2 || out1.String() != out2.String() || err1.String() != err2.String() {
				t.Errorf("one command: exit %d\nstdout %q\nstderr %q\nwhole tree: exit %d\nstdout %q\nstderr %q",
					code1, out1.String(), err1.String(), code2, out2.String(), err2.String())
			}
		})
	}
	// The lookup is by exact name: anything else gets the whole tree.
	for _, args := range [][]string{nil, {"help"}, {"--output", "json", "version"}, {"verif"}} {
		if got := len(newApp(Stdio{}).rootCommandFor(args).Commands()); got != len(commands) {
			t.Errorf("rootCommandFor(%q) has %d commands, want all %d", args, got, len(commands))
		}
	}
	if got := newApp(Stdio{}).rootCommandFor([]string{"scan"}).Commands(); len(got) != 1 || got[0].Name() != "scan" {
		t.Errorf("rootCommandFor(scan) = %v, want just scan", got)
	}
}
