package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/keys"
)

// flagValues lists the values shell completion offers for the flags that
// take one of a fixed set, wherever a command has such a flag.
var flagValues = map[string]func(cmd *cobra.Command) []string{
	"output":         outputChoices,
	"fail-on":        func(*cobra.Command) []string { return []string{"low", "medium", "high", "critical"} },
	"rekor-version":  func(*cobra.Command) []string { return []string{"1", "2"} },
	"type":           func(*cobra.Command) []string { return typeNames() },
	"predicate-type": func(*cobra.Command) []string { return typeNames() },
	"digest":         func(*cobra.Command) []string { return []string{"sha512"} },
	"key-type": func(*cobra.Command) []string {
		var names []string
		for _, t := range keys.KeyTypes() {
			names = append(names, string(t))
		}
		return names
	},
}

// outputChoices are the --output formats cmd accepts.
func outputChoices(cmd *cobra.Command) []string {
	if f, ok := cmd.Annotations[outputFormats]; ok {
		return strings.Split(f, ",")
	}
	return []string{"text", "json"}
}

// registerCompletions teaches shell completion the values of every flag in
// flagValues, on every command of the tree that has it.
func registerCompletions(root *cobra.Command) {
	var walk func(cmd *cobra.Command)
	walk = func(cmd *cobra.Command) {
		for name, values := range flagValues {
			if cmd.LocalFlags().Lookup(name) == nil && cmd.PersistentFlags().Lookup(name) == nil {
				continue
			}
			_ = cmd.RegisterFlagCompletionFunc(name, func(c *cobra.Command, _ []string, _ string) ([]string, cobra.ShellCompDirective) {
				return values(c), cobra.ShellCompDirectiveNoFileComp
			})
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}
