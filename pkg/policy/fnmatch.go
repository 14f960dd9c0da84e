package policy

import (
	"fmt"
	"regexp"
	"strings"
)

// compileFnmatch turns an in-toto artifact rule pattern into an anchored
// regexp. The syntax is in-toto's (Python fnmatch): * matches any run of
// characters, slashes included, ? one character, [abc] and [!abc] a class;
// so "DISALLOW *" refuses every artifact, as in any in-toto layout.
func compileFnmatch(pattern string) (*regexp.Regexp, error) {
	var b strings.Builder
	b.WriteString("^(?s:")
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := strings.IndexByte(pattern[i+1:], ']')
			if j < 0 {
				return nil, fmt.Errorf("pattern %q: unterminated [", pattern)
			}
			class := pattern[i+1 : i+1+j]
			if j == 0 {
				return nil, fmt.Errorf("pattern %q: empty []", pattern)
			}
			b.WriteString("[")
			if class[0] == '!' {
				b.WriteString("^")
				class = class[1:]
			}
			for _, r := range class {
				if r == '\\' || r == '[' || r == ']' || r == '^' {
					b.WriteString(`\`)
				}
				b.WriteRune(r)
			}
			b.WriteString("]")
			i += j + 1
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString(")$")
	return regexp.Compile(b.String())
}
