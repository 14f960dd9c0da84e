package attest

import (
	"path"
	"strings"
	"testing"
)

// FuzzGlobMatch: the matcher never panics; a literal path, escaped, always
// matches itself; and a walk never prunes a directory that holds a match.
func FuzzGlobMatch(f *testing.F) {
	seeds := 0
	for _, tc := range matchTable {
		f.Add(tc.pat, tc.name)
		seeds++
	}
	if seeds == 0 {
		f.Fatal("no seeds: matchTable is empty")
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		pat, err := cleanGlob(pattern)
		if err == nil {
			matched := matchPath(pat, name)
			_ = mayMatchUnder(pat, name)
			if matched && cleanName(name) {
				for i := 0; i < len(name); i++ {
					if name[i] == '/' && !mayMatchUnder(pat, name[:i]) {
						t.Errorf("%q matches %q but a walk would not go into %q", pat, name, name[:i])
					}
				}
			}
		}
		if !cleanName(name) {
			return
		}
		lit, err := cleanGlob(escapeGlob(name))
		if err != nil {
			t.Fatalf("the escaped name %q is not a glob: %v", name, err)
		}
		if !matchPath(lit, name) {
			t.Errorf("the literal glob %q does not match %q", lit, name)
		}
	})
}

// cleanName reports whether name is a path a walk can produce: relative,
// clean, inside the directory.
func cleanName(name string) bool {
	return name != "" && name != "." && path.Clean(name) == name && !path.IsAbs(name) &&
		name != ".." && !strings.HasPrefix(name, "../")
}
