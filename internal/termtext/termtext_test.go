package termtext

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var quoteTests = []struct {
	name, in, want string
}{
	{"plain", "release.tar.gz", "release.tar.gz"},
	{"empty", "", ""},
	{"space", "my file.txt", "my file.txt"},
	{"identity", "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1", "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1"},
	{"non-ASCII printable", "café-ß-日本.txt", "café-ß-日本.txt"},
	{"literal U+FFFD", "a\uFFFDb", "a\uFFFDb"},
	{"backslash alone", `a\nb`, `a\nb`},
	{"newline forging a line", "release.tar.gz\nOK release.tar.gz: signed by acme", `"release.tar.gz\nOK release.tar.gz: signed by acme"`},
	{"carriage return", "a\rb", `"a\rb"`},
	{"tab", "a\tb", `"a\tb"`},
	{"escape sequence", "a\x1b[2Kb", `"a\x1b[2Kb"`},
	{"DEL", "a\x7fb", `"a\x7fb"`},
	{"NUL", "a\x00b", `"a\x00b"`},
	{"C1 control", "a\u0085b", `"a\u0085b"`},
	{"CSI as C1", "a\u009b2Jb", `"a\u009b2Jb"`},
	{"bidi override", "evil\u202Etxt.exe", `"evil\u202etxt.exe"`},
	{"bidi isolate", "a\u2066b\u2069", `"a\u2066b\u2069"`},
	{"line separator", "a\u2028b", `"a\u2028b"`},
	{"paragraph separator", "a\u2029b", `"a\u2029b"`},
	{"zero-width space", "a\u200bb", `"a\u200bb"`},
	{"no-break space", "a\u00a0b", `"a\u00a0b"`},
	{"invalid UTF-8", "r\xffe.tar.gz", `"r\xffe.tar.gz"`},
	{"truncated UTF-8", "a\xe2\x80", `"a\xe2\x80"`},
	// A plain value that looks like a quoted one is quoted too, so the
	// two cannot be told apart only by the reader's guess.
	{"leading double quote", `"a\nb"`, `"\"a\\nb\""`},
	{"inner double quote", `a"b`, `a"b`},
}

func TestQuote(t *testing.T) {
	for _, tt := range quoteTests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.in); got != tt.want {
				t.Errorf("Quote(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestLine(t *testing.T) {
	for _, tt := range []struct{ name, in, want string }{
		{"plain", "open a.txt: no such file or directory", "open a.txt: no such file or directory"},
		{"already quoted", `reading "a\nb": denied`, `reading "a\nb": denied`},
		{"newline", "open a\nhallmark: error: forged: no such file", `open a\nhallmark: error: forged: no such file`},
		{"escape", "open a\x1b[31m.txt", `open a\x1b[31m.txt`},
		{"bidi", "a\u202eb", `a\u202eb`},
		{"invalid byte", "open r\xff.txt", `open r\xff.txt`},
		{"C1", "a\u0085b", `a\u0085b`},
		{"leading double quote kept", `"x" is given twice`, `"x" is given twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.want {
				t.Errorf("Line(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// checkShown fails unless out is valid UTF-8 of printable runes only.
func checkShown(t *testing.T, in, out string) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("output of %q is not valid UTF-8: %q", in, out)
	}
	for _, r := range out {
		if !strconv.IsPrint(r) {
			t.Fatalf("output of %q holds the unprintable rune %U: %q", in, r, out)
		}
	}
}

func FuzzQuote(f *testing.F) {
	for _, tt := range quoteTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Quote(s)
		checkShown(t, s, out)
		// Injective: the input is recovered from the output.
		back := out
		if strings.HasPrefix(out, `"`) {
			var err error
			if back, err = strconv.Unquote(out); err != nil {
				t.Fatalf("Quote(%q) = %s does not unquote: %v", s, out, err)
			}
		}
		if back != s {
			t.Fatalf("Quote(%q) = %s, which reads back as %q", s, out, back)
		}
	})
}

func FuzzQuoteDistinct(f *testing.F) {
	for _, tt := range quoteTests {
		f.Add(tt.in, tt.want)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if a != b && Quote(a) == Quote(b) {
			t.Fatalf("Quote(%q) == Quote(%q) == %s", a, b, Quote(a))
		}
	})
}

func FuzzLine(f *testing.F) {
	for _, tt := range quoteTests {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Line(s)
		checkShown(t, s, out)
		if Quote(s) == s && out != s {
			t.Fatalf("Line changed the plain text %q to %s", s, out)
		}
	})
}

func TestJSONName(t *testing.T) {
	for _, tt := range []struct {
		in, shown string
		exact     []byte
	}{
		{"a.txt", "a.txt", nil},
		{"a\nb", "a\nb", nil}, // JSON escapes it exactly
		{"r\xff.txt", `"r\xff.txt"`, []byte("r\xff.txt")},
	} {
		shown, exact := JSONName(tt.in)
		if shown != tt.shown || string(exact) != string(tt.exact) || (exact == nil) != (tt.exact == nil) {
			t.Errorf("JSONName(%q) = %s, %q; want %s, %q", tt.in, shown, exact, tt.shown, tt.exact)
		}
		if back := FromJSONName(shown, exact); back != tt.in {
			t.Errorf("FromJSONName(JSONName(%q)) = %q", tt.in, back)
		}
	}
}

func TestMarshalJSONKeepsHTMLCharacters(t *testing.T) {
	got, err := MarshalJSON(map[string]string{"a": "<b>&</b>"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"<b>&</b>"}`; string(got) != want {
		t.Errorf("MarshalJSON = %s, want %s (no HTML escaping, no trailing newline)", got, want)
	}
}
