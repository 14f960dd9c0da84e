package cli

import (
	"errors"
	"testing"

	"github.com/spf13/cobra"
)

func TestReword(t *testing.T) {
	verify := &cobra.Command{Use: "verify [flags] ARTIFACT..."}
	export := &cobra.Command{Use: "export DIR"}
	show := &cobra.Command{Use: "show"}
	root := &cobra.Command{Use: "hallmark"}
	root.AddCommand(&cobra.Command{Use: "version"})
	tests := []struct {
		cmd      *cobra.Command
		cobra    string
		hallmark string
	}{
		{verify, "requires at least 1 arg(s), only received 0", "verify needs at least one ARTIFACT, got none"},
		{export, "accepts 1 arg(s), received 2", "export takes exactly one DIR, got 2"},
		{show, "accepts 0 arg(s), received 1", "show takes no arguments, got 1"},
		{export, "accepts at most 2 arg(s), received 3", "export takes at most 2 DIRs, got 3"},
		{export, "accepts between 1 and 2 arg(s), received 0", "export takes 1 to 2 DIRs, got none"},
		{verify, "if any flags in the group [key certificate-identity] are set none of the others can be; [certificate-identity key] were all set",
			"--certificate-identity and --key cannot be used together"},
		{verify, "if any flags in the group [a b c] are set they must all be set; missing [c]", "--a and --b need --c too"},
		{verify, "if any flags in the group [a b] are set they must all be set; missing [b]", "--a needs --b too"},
		{verify, "at least one of the flags in the group [key repo certificate-identity] is required", "one of --key, --repo or --certificate-identity is required"},
		{verify, `required flag(s) "bundle", "key" not set`, "--bundle and --key are required"},
		{verify, `invalid argument "x" for "--min-tlog-entries" flag: strconv.ParseInt: parsing "x": invalid syntax`, `--min-tlog-entries must be a whole number, not "x"`},
		{verify, `invalid argument "maybe" for "-v, --verbose" flag: strconv.ParseBool: parsing "maybe": invalid syntax`, `--verbose must be true or false, not "maybe"`},
		{verify, `invalid argument "7x" for "--max-age" flag: time: invalid duration "7x"`, `--max-age must be a duration such as 90s or 1h30m, not "7x"`},
		{show, `unknown command "extra" for "hallmark trust show"`, `show takes no arguments, got "extra"`},
		// Anything else is left as cobra said it.
		{verify, "unknown flag: --no-such-flag", "unknown flag: --no-such-flag"},
		{root, `unknown command "x" for "hallmark"`, `unknown command "x" for "hallmark"`},
	}
	for _, tt := range tests {
		if got := reword(tt.cmd, errors.New(tt.cobra)).Error(); got != tt.hallmark {
			t.Errorf("reword(%q)\n got %q\nwant %q", tt.cobra, got, tt.hallmark)
		}
	}
}
