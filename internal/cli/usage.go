package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/spf13/cobra"
)

// cobra's own messages for argument counts and flag groups, which hallmark
// says in its own words. Anything else cobra reports is kept as it is.
// Compiled on first use: only a run with a usage error needs them.
var (
	cobraArgsRe      = lazyRegexp(`^(?:accepts|requires) (at least |at most |between )?(\d+)(?: and (\d+))? arg\(s\), (?:only )?received (\d+)$`)
	cobraExclusiveRe = lazyRegexp(`^if any flags in the group \[([^\]]*)\] are set none of the others can be; \[([^\]]*)\] were all set$`)
	cobraTogetherRe  = lazyRegexp(`^if any flags in the group \[([^\]]*)\] are set they must all be set; missing \[([^\]]*)\]$`)
	cobraOneOfRe     = lazyRegexp(`^at least one of the flags in the group \[([^\]]*)\] is required$`)
	cobraRequiredRe  = lazyRegexp(`^required flag\(s\) (.*) not set$`)
	cobraNoArgsRe    = lazyRegexp(`^unknown command ("(?:[^"\\]|\\.)*") for "[^"]*"$`)
	pflagInvalidRe   = lazyRegexp(`^invalid argument ("(?:[^"\\]|\\.)*") for "(?:-\w, )?(--[\w-]+)" flag: (?:strconv\.Parse(Int|Uint|Bool|Float)|time: (invalid duration))`)
)

// lazyRegexp returns expr compiled the first time it is called.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}

// reword turns cobra's message about cmd into hallmark's words.
func reword(cmd *cobra.Command, err error) error {
	msg := err.Error()
	if m := cobraArgsRe().FindStringSubmatch(msg); m != nil {
		return errors.New(argCountMessage(cmd, m))
	}
	if m := cobraNoArgsRe().FindStringSubmatch(msg); m != nil && !cmd.HasSubCommands() {
		// cobra.NoArgs on a command without subcommands.
		return fmt.Errorf("%s takes no arguments, got %s", cmd.Name(), m[1])
	}
	if m := cobraExclusiveRe().FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("%s cannot be used together", joinFlags(strings.Fields(m[2]), "and"))
	}
	if m := cobraTogetherRe().FindStringSubmatch(msg); m != nil {
		group, missing := strings.Fields(m[1]), strings.Fields(m[2])
		var given []string
		for _, f := range group {
			if !strings.Contains(" "+m[2]+" ", " "+f+" ") {
				given = append(given, f)
			}
		}
		return fmt.Errorf("%s %s %s too", joinFlags(given, "and"), plural(len(given), "needs", "need"), joinFlags(missing, "and"))
	}
	if m := cobraOneOfRe().FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("one of %s is required", joinFlags(strings.Fields(m[1]), "or"))
	}
	if m := cobraRequiredRe().FindStringSubmatch(msg); m != nil {
		var names []string
		for _, q := range strings.Split(m[1], ", ") {
			if s, err := strconv.Unquote(q); err == nil {
				names = append(names, s)
			}
		}
		if len(names) > 0 {
			return fmt.Errorf("%s %s required", joinFlags(names, "and"), plural(len(names), "is", "are"))
		}
	}
	if m := pflagInvalidRe().FindStringSubmatch(msg); m != nil {
		want := "a duration such as 90s or 1h30m"
		switch m[3] {
		case "Int":
			want = "a whole number"
		case "Uint":
			want = "a whole number, 0 or more"
		case "Bool":
			want = "true or false"
		case "Float":
			want = "a number"
		}
		return fmt.Errorf("%s must be %s, not %s", m[2], want, m[1])
	}
	return err
}

// argCountMessage says how many arguments cmd takes, naming them as its
// synopsis does ("verify needs at least one ARTIFACT").
func argCountMessage(cmd *cobra.Command, m []string) string {
	got, _ := strconv.Atoi(m[4])
	name := cmd.Name()
	what := argNames(cmd)
	received := "got " + strconv.Itoa(got)
	if got == 0 {
		received = "got none"
	}
	switch m[1] {
	case "at least ":
		return fmt.Sprintf("%s needs at least %s, %s", name, count(m[2], what), received)
	case "at most ":
		return fmt.Sprintf("%s takes at most %s, %s", name, count(m[2], what), received)
	case "between ":
		return fmt.Sprintf("%s takes %s to %s, %s", name, m[2], count(m[3], what), received)
	}
	if m[2] == "0" {
		return fmt.Sprintf("%s takes no arguments, %s", name, received)
	}
	return fmt.Sprintf("%s takes exactly %s, %s", name, count(m[2], what), received)
}

// argNames is the argument part of cmd's synopsis: "ARTIFACT" for
// "verify [flags] ARTIFACT...", or "argument".
func argNames(cmd *cobra.Command) string {
	fields := strings.Fields(cmd.Use)
	var names []string
	for _, f := range fields[1:] {
		if f == "[flags]" {
			continue
		}
		names = append(names, strings.Trim(f, "[].")) // "ARTIFACT..." names ARTIFACT
	}
	if len(names) == 0 {
		return "argument"
	}
	return strings.Join(names, " ")
}

// plural picks the word for a count of n: "file" or "files".
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func count(n, what string) string {
	switch n {
	case "1":
		return "one " + what
	default:
		return n + " " + what + "s"
	}
}

// joinFlags renders flag names for a message: "--a", "--a and --b",
// "--a, --b or --c".
func joinFlags(names []string, conj string) string {
	flags := make([]string, len(names))
	for i, n := range names {
		flags[i] = "--" + n
	}
	switch len(flags) {
	case 0:
		return ""
	case 1:
		return flags[0]
	}
	return strings.Join(flags[:len(flags)-1], ", ") + " " + conj + " " + flags[len(flags)-1]
}
