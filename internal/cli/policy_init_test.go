package cli

import (
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/policy"
)

// TestFnQuoteOneWord: the pattern policy init writes for a file name
// stays one word of its ALLOW or MATCH rule whatever spaces the name holds
// (a rule is split at any Unicode space).
func TestFnQuoteOneWord(t *testing.T) {
	for _, name := range []string{"a b", "a\tb", "a\nb", "a\u00a0b", "a\u2028b", "a\u3000b", "x*?[y].c"} {
		r, err := policy.ParseArtifactRule("ALLOW " + fnQuote(name))
		if err != nil {
			t.Errorf("%q: ALLOW %s: %v", name, fnQuote(name), err)
			continue
		}
		if r.Pattern != fnQuote(name) {
			t.Errorf("%q: pattern %q, want %q", name, r.Pattern, fnQuote(name))
		}
	}
}
