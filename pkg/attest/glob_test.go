package attest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

// runnerTree makes files (name -> content; a name ending in / is a
// directory) under a new directory and returns it, symbolic links
// resolved.
func runnerTree(t testing.TB, files map[string]string) string {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func globNames(files []globFile) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.name)
	}
	return out
}

// matchTable is shared by the matcher's table test and the fuzz seeds.
var matchTable = []struct {
	pat, name string
	want      bool
}{
	{"a.txt", "a.txt", true},
	{"a.txt", "b.txt", false},
	{"*.go", "main.go", true},
	{"*.go", "cmd/main.go", false},
	{"*", "cmd/main.go", true}, // * matches the directory cmd, so all under it
	{"cmd/*.go", "cmd/main.go", true},
	{"**/*.go", "main.go", true},
	{"**/*.go", "a/b/c/main.go", true},
	{"**/*.go", "a/b/c/main.c", false},
	{"src/**", "src/a/b", true},
	{"src/**", "srcx/a", false},
	{"src/**/x", "src/x", true},
	{"src/**/x", "src/a/b/x", true},
	{"?.txt", "a.txt", true},
	{"?.txt", "ab.txt", false},
	{"?", "a/b", true}, // the directory a
	{"[abc].txt", "b.txt", true},
	{"[abc].txt", "d.txt", false},
	{"[a-c].txt", "c.txt", true},
	{"[!a].txt", "a.txt", false},
	{"[!a].txt", "b.txt", true},
	{"[^a].txt", "b.txt", true},
	{"{a,b}.txt", "b.txt", true},
	{"{a,b}.txt", "c.txt", false},
	{`\*.txt`, "*.txt", true},
	{`\*.txt`, "a.txt", false},
	{"dist", "dist/app.tgz", true},
	{"dist", "dist/sub/app.tgz", true},
	{"dist", "distx/app.tgz", false},
	{"d?st", "dist/app.tgz", true},
	{"**", "anything/at/all", true},
	{"*.txt", ".hidden.txt", true},
	{"a\nb", "a\nb", true},
	{"a[/]b/c", "a/b/c", true},
	{`a\/b`, "a/b", true},
}

func TestMatchPath(t *testing.T) {
	for _, tc := range matchTable {
		pat, err := cleanGlob(tc.pat)
		if err != nil {
			t.Fatalf("cleanGlob(%q): %v", tc.pat, err)
		}
		if got := matchPath(pat, tc.name); got != tc.want {
			t.Errorf("matchPath(%q, %q) = %v, want %v", tc.pat, tc.name, got, tc.want)
		}
	}
}

func TestCleanGlob(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{in: ".", want: "**"},
		{in: "./src/*.go", want: "src/*.go"},
		{in: "dist/", want: "dist"},
		{in: "a/../b", want: "b"},
		{in: "", err: true},
		{in: "/etc/passwd", err: true},
		{in: "..", err: true},
		{in: "../x", err: true},
		{in: "a/../../x", err: true},
		{in: "[", err: true},
		{in: "{a,b", err: true},
	} {
		got, err := cleanGlob(tc.in)
		if tc.err {
			if !errors.Is(err, ErrGlobBadPattern) {
				t.Errorf("cleanGlob(%q) = %q, %v; want ErrGlobBadPattern", tc.in, got, err)
			} else if tc.in != "" && !strings.Contains(err.Error(), tc.in) {
				t.Errorf("cleanGlob(%q): the error %q does not name the glob", tc.in, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("cleanGlob(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestCollectGlobs(t *testing.T) {
	root := runnerTree(t, map[string]string{
		"src/main.go":           "package main",
		"src/util/util.go":      "package util",
		"src/util/util_test.go": "package util",
		"src/README.md":         "readme",
		"dist/app.tgz":          "app",
		"dist/sub/extra.bin":    "extra",
		"empty/":                "",
		"top.txt":               "top",
		"a\nb.txt":              "newline",
	})
	for _, tc := range []struct {
		globs []string
		want  []string
	}{
		{[]string{"src/**/*.go"}, []string{"src/main.go", "src/util/util.go", "src/util/util_test.go"}},
		{[]string{"src/*.go"}, []string{"src/main.go"}},
		{[]string{"**/*_test.go"}, []string{"src/util/util_test.go"}},
		{[]string{"dist"}, []string{"dist/app.tgz", "dist/sub/extra.bin"}},
		{[]string{"dist/"}, []string{"dist/app.tgz", "dist/sub/extra.bin"}},
		{[]string{"dist/*"}, []string{"dist/app.tgz", "dist/sub/extra.bin"}},
		{[]string{"top.txt", "top.txt", "t?p.txt"}, []string{"top.txt"}},
		{[]string{"a\nb.txt"}, []string{"a\nb.txt"}},
		{[]string{"*.txt"}, []string{"a\nb.txt", "top.txt"}},
		{[]string{"[st]*/*.{go,md}"}, []string{"src/README.md", "src/main.go"}},
		{[]string{"src/util[/]util.go"}, []string{"src/util/util.go"}},
		{[]string{`src\/util/util.go`}, []string{"src/util/util.go"}},
		{[]string{"."}, []string{"a\nb.txt", "dist/app.tgz", "dist/sub/extra.bin", "src/README.md", "src/main.go", "src/util/util.go", "src/util/util_test.go", "top.txt"}},
		{nil, []string{}},
	} {
		got, err := collectGlobs(root, tc.globs, true)
		if err != nil {
			t.Errorf("collectGlobs(%q): %v", tc.globs, err)
			continue
		}
		if names := globNames(got); !reflect.DeepEqual(names, tc.want) {
			t.Errorf("collectGlobs(%q) = %q, want %q", tc.globs, names, tc.want)
		}
	}
}

// A glob that matches nothing is an error naming it when a match is
// required (materials; products of a command that succeeded), and nothing
// otherwise.
func TestCollectGlobsNoMatch(t *testing.T) {
	root := runnerTree(t, map[string]string{"a.txt": "a", "empty/": ""})
	for _, g := range []string{"b.txt", "*.go", "missing/**", "empty", "a.txt/x"} {
		_, err := collectGlobs(root, []string{"a.txt", g}, true)
		if !errors.Is(err, ErrGlobNoMatch) || !strings.Contains(err.Error(), `"`+g+`"`) {
			t.Errorf("collectGlobs(%q): %v, want ErrGlobNoMatch naming it", g, err)
		}
		files, err := collectGlobs(root, []string{g}, false)
		if err != nil || len(files) != 0 {
			t.Errorf("collectGlobs(%q, no match needed) = %q, %v; want nothing", g, globNames(files), err)
		}
	}
}

func TestCollectGlobsSymlinks(t *testing.T) {
	outside := runnerTree(t, map[string]string{"secret.txt": "outside", "dir/f": "outside"})
	root := runnerTree(t, map[string]string{"real/f.txt": "inside", "plain.txt": "plain"})
	for _, l := range []struct{ target, name string }{
		{filepath.Join(outside, "secret.txt"), "out-file"},
		{filepath.Join(outside, "dir"), "out-dir"},
		{"real/f.txt", "in-file"},
		{"real", "in-dir"},
		{"nothing-there", "dangling"},
		{".", "self"},
	} {
		if err := os.Symlink(l.target, filepath.Join(root, l.name)); err != nil {
			t.Skipf("symbolic links: %v", err)
		}
	}
	for _, tc := range []struct {
		glob    string
		want    []string
		wantErr error
		named   string
	}{
		{glob: "in-file", want: []string{"in-file"}},
		{glob: "in-dir", want: []string{"in-dir/f.txt"}},
		{glob: "in-dir/*.txt", want: []string{"in-dir/f.txt"}},
		{glob: "plain.txt", want: []string{"plain.txt"}},
		{glob: "*.txt", want: []string{"plain.txt"}}, // no link is matched
		{glob: "out-file", wantErr: ErrSymlinkOutside, named: "out-file"},
		{glob: "out-*", wantErr: ErrSymlinkOutside, named: "out-dir"},
		{glob: "out-dir/f", wantErr: ErrSymlinkOutside, named: "out-dir"},
		{glob: "**/f", wantErr: ErrSymlinkOutside, named: "out-dir"},
		{glob: "dangling", wantErr: os.ErrNotExist, named: "dangling"},
		{glob: "self", wantErr: ErrSymlinkCycle, named: "self"},
		{glob: "self/*/f.txt", wantErr: ErrSymlinkCycle, named: "self"},
	} {
		got, err := collectGlobs(root, []string{tc.glob}, true)
		if tc.wantErr != nil {
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), `"`+tc.named+`"`) {
				t.Errorf("collectGlobs(%q) = %q, %v; want %v naming %q", tc.glob, globNames(got), err, tc.wantErr, tc.named)
			}
			if err != nil && strings.Contains(err.Error(), "outside") && len(got) != 0 {
				t.Errorf("collectGlobs(%q) returned files with its error", tc.glob)
			}
			continue
		}
		if err != nil {
			t.Errorf("collectGlobs(%q): %v", tc.glob, err)
			continue
		}
		if names := globNames(got); !reflect.DeepEqual(names, tc.want) {
			t.Errorf("collectGlobs(%q) = %q, want %q", tc.glob, names, tc.want)
		}
	}
	// A link inside the directory is hashed as its target.
	got, err := collectGlobs(root, []string{"in-file"}, true)
	if err != nil || len(got) != 1 || got[0].path != filepath.Join(root, "real", "f.txt") {
		t.Errorf("in-file opens %v, %v; want the target", got, err)
	}
}

func TestCollectGlobsNotRegular(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no named pipes here")
	}
	root := runnerTree(t, map[string]string{"a.txt": "a"})
	if err := mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if _, err := collectGlobs(root, []string{"*"}, true); !errors.Is(err, ErrNotRegularFile) || !strings.Contains(err.Error(), `"pipe"`) {
		t.Errorf("a pipe matched: %v, want ErrNotRegularFile naming it", err)
	}
	if files, err := collectGlobs(root, []string{"*.txt"}, true); err != nil || len(files) != 1 {
		t.Errorf("a pipe not matched: %q, %v; want a.txt alone", globNames(files), err)
	}
}

// A matched name that is not UTF-8 cannot be recorded exactly: it is an
// error naming it, before anything runs.
func TestCollectGlobsNotUTF8(t *testing.T) {
	root := runnerTree(t, map[string]string{"ok.txt": "ok"})
	if err := os.WriteFile(filepath.Join(root, "bad\xff.txt"), nil, 0o644); err != nil {
		t.Skipf("this file system wants UTF-8 names: %v", err)
	}
	if _, err := collectGlobs(root, []string{"*.txt"}, true); !errors.Is(err, ErrFileName) || !strings.Contains(err.Error(), `"bad\xff.txt"`) {
		t.Errorf("collectGlobs = %v, want ErrFileName naming it", err)
	}
	if files, err := collectGlobs(root, []string{"ok.txt"}, true); err != nil || len(files) != 1 {
		t.Errorf("ok.txt alone: %q, %v", globNames(files), err)
	}
}
