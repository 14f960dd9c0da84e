// Package termtext renders untrusted text (file names, identities, claims,
// advisory fields) for a terminal line, so that it can neither start a new
// line nor move the cursor nor reorder what is shown.
//
// Printable text is left as it is, so ordinary names look the same as they
// would printed raw. Anything else — C0 and C1 controls (newline, carriage
// return, tab, escape), DEL, Unicode format characters such as the bidi
// controls U+202A–U+202E and U+2066–U+2069, the line and paragraph
// separators U+2028 and U+2029, other spaces than U+0020, and bytes that are
// not valid UTF-8 — is written as a Go escape (\n, \x1b, \u202e, \xff).
package termtext

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Quote renders one value for a terminal line. A value that is printable
// and does not begin with a double quote is returned unchanged; any other
// is returned Go-quoted as strconv.Quote does, so "a\nb" is shown as
// "a\nb" in double quotes, with a backslash and an n.
//
// Quote is injective: a quoted result begins with a double quote and an
// unchanged one does not, and strconv.Unquote gives the quoted value back.
func Quote(s string) string {
	if plain(s) {
		return s
	}
	return strconv.Quote(s)
}

func plain(s string) bool {
	if strings.HasPrefix(s, `"`) {
		return false
	}
	for i, r := range s {
		if !safe(s, i, r) {
			return false
		}
	}
	return true
}

// safe reports whether the rune r at s[i] may be written as it is.
func safe(s string, i int, r rune) bool {
	if r == utf8.RuneError {
		// A literal U+FFFD is printable; a byte that is not UTF-8 is not.
		_, size := utf8.DecodeRuneInString(s[i:])
		return size > 1
	}
	return strconv.IsPrint(r)
}

// Line renders a message that mixes hallmark's words with untrusted values,
// such as an error from the operating system that names a path: every rune
// Quote would escape is replaced by its Go escape in place, and the rest is
// left as it is. Unlike Quote it is not injective (a message may hold a
// backslash and an n itself); it only guarantees one line that cannot move
// the cursor.
func Line(s string) string {
	if !hasUnsafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i, r := range s {
		if safe(s, i, r) {
			b.WriteRune(r)
			continue
		}
		if r == utf8.RuneError {
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])>>4, 16))
			b.WriteString(strconv.FormatUint(uint64(s[i])&0xf, 16))
			continue
		}
		q := strconv.QuoteRune(r) // '\n', '\x1b', '\u202e'
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

func hasUnsafe(s string) bool {
	for i, r := range s {
		if !safe(s, i, r) {
			return true
		}
	}
	return false
}

// JSONName is how a JSON report carries a name (a file name, mostly) that
// may not be valid UTF-8, which encoding/json would silently turn into
// U+FFFD: a valid name is returned as it is with nil bytes; any other is
// returned as Quote shows it, with its exact bytes, which the report puts,
// base64-encoded, in a field of the same name with Bytes appended.
func JSONName(s string) (shown string, exact []byte) {
	if utf8.ValidString(s) {
		return s, nil
	}
	return Quote(s), []byte(s)
}

// FromJSONName undoes JSONName: the exact bytes when the report carried
// them, else the name as shown.
func FromJSONName(shown string, exact []byte) string {
	if exact != nil {
		return string(exact)
	}
	return shown
}

// MarshalJSON is json.Marshal without escaping <, > and &, for the
// MarshalJSON methods of report types that carry JSONName fields: the
// report's own encoder decides that escaping.
func MarshalJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
