package extract

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// leaked is the package name only files outside the projects hold: it must
// never appear anywhere in a result.
const leaked = "leaked-secret-name"

func checkNoLeak(t *testing.T, res *Result) {
	t.Helper()
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), leaked) {
		t.Errorf("content of a file outside the project is in the result: %s", b)
	}
}

func hasWarning(res *Result, parts ...string) bool {
	for _, w := range res.Warnings {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(w, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skip("symlinks unsupported:", err)
	}
}

// Issue 7 item 6: a requirements include, a symbolic link or a pom.xml
// parent that leads outside the project is refused with a warning naming
// the file, and never read.
func TestReferencesOutsideTheProjectAreRefused(t *testing.T) {
	top := t.TempDir()
	write(t, top, "outside.txt", leaked+"==1.0\n")
	write(t, top, "outside/pom.xml", `<project><modelVersion>4.0.0</modelVersion>
  <groupId>org.example</groupId><artifactId>parent</artifactId><version>1.0</version><packaging>pom</packaging>
  <dependencyManagement><dependencies>
    <dependency><groupId>org.example</groupId><artifactId>`+leaked+`</artifactId><version>6.6.6</version></dependency>
  </dependencies></dependencyManagement>
</project>`)
	proj := filepath.Join(top, "proj")
	outside := filepath.ToSlash(filepath.Join(top, "outside.txt"))

	t.Run("requirements includes", func(t *testing.T) {
		write(t, proj, "requirements.txt", "-r ../outside.txt\n-r "+outside+"\n-r inner.txt\n-r linked.txt\nflask==2.0.1\n")
		write(t, proj, "inner.txt", "six==1.16.0\n")
		symlink(t, filepath.Join(top, "outside.txt"), filepath.Join(proj, "linked.txt"))
		res, err := Extract(context.Background(), []string{filepath.Join(proj, "requirements.txt")}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkNoLeak(t, res)
		if _, ok := find(res.Packages, "PyPI", "six", "1.16.0"); !ok {
			t.Errorf("the include inside the project was not read: %v", res.Packages)
		}
		file := filepath.ToSlash(filepath.Join(proj, "requirements.txt"))
		if !hasWarning(res, file, "reading "+outside+", which it refers to: it is outside the project") {
			t.Errorf("no warning about -r ../outside.txt: %q", res.Warnings)
		}
		if !hasWarning(res, file, "linked.txt", "outside the project") {
			t.Errorf("no warning about -r linked.txt (a link leading outside): %q", res.Warnings)
		}
		// An absolute include is resolved inside the project, where it
		// does not exist: a warning too, since its packages are missing.
		if !hasWarning(res, file, "outside.txt", "no such file") {
			t.Errorf("no warning about -r %s: %q", outside, res.Warnings)
		}
	})

	t.Run("symlinked lockfile", func(t *testing.T) {
		dir := filepath.Join(top, "links")
		write(t, dir, "README.md", "x\n")
		symlink(t, filepath.Join(top, "outside.txt"), filepath.Join(dir, "requirements.txt"))
		// Named explicitly and found by a walk: a failure both times.
		for _, arg := range []string{dir, filepath.Join(dir, "requirements.txt")} {
			res, err := Extract(context.Background(), []string{arg}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			checkNoLeak(t, res)
			want := filepath.ToSlash(filepath.Join(dir, "requirements.txt"))
			if len(res.Failures) != 1 || res.Failures[0].Path != want || !strings.Contains(res.Failures[0].Reason, "outside the project") {
				t.Errorf("Extract(%s): Failures = %+v, want %s refused", arg, res.Failures, want)
			}
		}
	})

	t.Run("pom parent", func(t *testing.T) {
		dir := filepath.Join(top, "maven")
		write(t, dir, "pom.xml", `<project><modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.example</groupId><artifactId>parent</artifactId><version>1.0</version>
    <relativePath>../outside/pom.xml</relativePath></parent>
  <artifactId>child</artifactId>
  <dependencies>
    <dependency><groupId>org.example</groupId><artifactId>`+leaked+`</artifactId></dependency>
    <dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.1</version></dependency>
  </dependencies>
</project>`)
		res, err := Extract(context.Background(), []string{dir}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := find(res.Packages, "Maven", "org.example:"+leaked, "6.6.6"); ok {
			t.Errorf("the parent outside the project was read: %v", res.Packages)
		}
		if !hasWarning(res, filepath.ToSlash(filepath.Join(dir, "pom.xml")), "outside/pom.xml", "outside the project") {
			t.Errorf("no warning naming pom.xml and its parent: %q", res.Warnings)
		}
	})
}

// Maven's default parent lookup from the top of a project is refused
// without a warning: it is not a reference the file makes.
func TestDefaultPomParentLookupIsQuiet(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "pom.xml", `<project><modelVersion>4.0.0</modelVersion>
  <parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId><version>3.2.0</version></parent>
  <artifactId>app</artifactId>
  <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.1</version></dependency></dependencies>
</project>`)
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Warnings) != 0 || len(res.Failures) != 0 || len(res.Packages) != 1 {
		t.Errorf("warnings %q, failures %+v, packages %v", res.Warnings, res.Failures, res.Packages)
	}
}

// Issue 8 item 2: a file over the size limit is a failure naming the flag;
// the limit can be raised.
func TestSizeLimit(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "big/requirements.txt", strings.Repeat("# padding\n", 200)+"flask==2.0.1\n")
	write(t, dir, "small/requirements.txt", "six==1.16.0\n")
	res, err := Extract(context.Background(), []string{dir}, Options{MaxFileSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	big := filepath.ToSlash(filepath.Join(dir, "big", "requirements.txt"))
	if len(res.Failures) != 1 || res.Failures[0].Path != big ||
		res.Failures[0].Reason != "larger than the size limit of 1KiB, not read (raise it with --max-file-size)" {
		t.Errorf("Failures = %+v, want %s over the limit", res.Failures, big)
	}
	if len(res.Packages) != 1 || res.Packages[0].Name != "six" {
		t.Errorf("packages %v, want six only", res.Packages)
	}
	res, err = Extract(context.Background(), []string{dir}, Options{MaxFileSize: 1 << 20})
	if err != nil || len(res.Failures) != 0 || len(res.Packages) != 2 {
		t.Errorf("raised limit: %+v, %v", res, err)
	}
}

// The bounded reader stops at the limit even when the file grew after it
// was checked, and stops when the context is cancelled.
func TestBoundedFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	open := func(ctx context.Context, max int64) *boundedFile {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return &boundedFile{f: f, ctx: ctx, max: max}
	}
	b := open(context.Background(), 10)
	got, err := io.ReadAll(b)
	if !errors.Is(err, ErrTooLarge) || len(got) != 10 || !b.exceeded {
		t.Errorf("ReadAll over the limit: %d bytes, %v", len(got), err)
	}
	b = open(context.Background(), 100)
	if got, err := io.ReadAll(b); err != nil || len(got) != 100 || b.exceeded {
		t.Errorf("ReadAll at the limit: %d bytes, %v", len(got), err)
	}
	b = open(context.Background(), 10)
	buf := make([]byte, 20)
	if n, err := b.ReadAt(buf, 5); n != 5 || !errors.Is(err, ErrTooLarge) {
		t.Errorf("ReadAt over the limit: %d, %v", n, err)
	}
	b = open(context.Background(), 100)
	if n, err := b.ReadAt(buf, 90); n != 10 || err != io.EOF {
		t.Errorf("ReadAt to the end: %d, %v", n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := open(ctx, 100).Read(buf); !errors.Is(err, context.Canceled) {
		t.Errorf("Read after cancel: %v", err)
	}
}

// Issue 8 item 4: an unreadable directory inside a walk is a failure.
func TestUnreadableDirectoryIsAFailure(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("permissions do not stop root")
	}
	dir := t.TempDir()
	write(t, dir, "requirements.txt", "six==1.16.0\n")
	write(t, dir, "locked/requirements.txt", "flask==2.0.1\n")
	if err := os.Chmod(filepath.Join(dir, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "locked"), 0o755) })
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.ToSlash(filepath.Join(dir, "locked"))
	if len(res.Failures) != 1 || res.Failures[0].Path != want || !strings.Contains(res.Failures[0].Reason, "permission denied") {
		t.Errorf("Failures = %+v, want %s", res.Failures, want)
	}
}

// Issue 8 item 6: paths are the argument joined with the path below it, so
// relative to the working directory for a relative argument, and two
// arguments never give two files the same path.
func TestDisplayPaths(t *testing.T) {
	dir := t.TempDir()
	lock := mustRead(t, "testdata/npm-v1/package-lock.json")
	write(t, dir, "sub/app/package-lock.json", lock)
	write(t, dir, "two1/package-lock.json", lock)
	write(t, dir, "two2/package-lock.json", lock)
	t.Chdir(dir)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"sub"}, []string{"sub/app/package-lock.json"}},
		{[]string{"./sub/"}, []string{"sub/app/package-lock.json"}},
		{[]string{"sub/app"}, []string{"sub/app/package-lock.json"}},
		{[]string{"sub/app/package-lock.json"}, []string{"sub/app/package-lock.json"}},
		{[]string{"two1", "two2"}, []string{"two1/package-lock.json", "two2/package-lock.json"}},
		{[]string{"sub/app/../../two1"}, []string{"two1/package-lock.json"}},
		{[]string{filepath.Join(dir, "two1")}, []string{filepath.ToSlash(filepath.Join(dir, "two1", "package-lock.json"))}},
	}
	for _, tt := range tests {
		res, err := Extract(context.Background(), tt.args, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range res.Files {
			got = append(got, f.Path)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Extract(%q): files %q, want %q", tt.args, got, tt.want)
		}
		for _, p := range res.Packages {
			if !slices.Contains(tt.want, p.Location.Path) {
				t.Errorf("Extract(%q): package location %q", tt.args, p.Location.Path)
			}
		}
	}
	t.Chdir(filepath.Join(dir, "sub"))
	res, err := Extract(context.Background(), []string{"."}, Options{})
	if err != nil || len(res.Files) != 1 || res.Files[0].Path != "app/package-lock.json" {
		t.Errorf("Extract(.): %+v, %v", res, err)
	}
}

func TestSize(t *testing.T) {
	for in, want := range map[string]Size{
		"1": 1, "512KiB": 512 << 10, "256MiB": 256 << 20, "1GiB": 1 << 30, "1gib": 1 << 30,
		"300MB": 300e6, "2KB": 2000, "10 MiB": 10 << 20, "4096B": 4096,
	} {
		var s Size
		if err := s.Set(in); err != nil || s != want {
			t.Errorf("Set(%q) = %d, %v; want %d", in, s, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "MiB", "1.5GiB", "1TiB", "lots", "99999999999GiB"} {
		var s Size
		if err := s.Set(in); err == nil {
			t.Errorf("Set(%q) = %d, want an error", in, s)
		}
	}
	for s, want := range map[Size][2]string{
		DefaultMaxFileSize: {"256MiB", "256MiB"}, 1 << 30: {"1GiB", "1GiB"}, 1536: {"1536", "1536 bytes"},
		3 << 10: {"3KiB", "3KiB"}, 1000: {"1000", "1000 bytes"},
	} {
		if got := s.String(); got != want[0] {
			t.Errorf("Size(%d).String() = %q, want %q", int64(s), got, want[0])
		}
		if got := s.words(); got != want[1] {
			t.Errorf("Size(%d).words() = %q, want %q", int64(s), got, want[1])
		}
	}
}

// Issue 8 item 4: a lockfile deeper than PATH_MAX is read (the walk opens
// each directory relative to its parent through the root), not skipped.
func TestLongPathsAreRead(t *testing.T) {
	dir := t.TempDir()
	r, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	deep := strings.Repeat(strings.Repeat("d", 200)+"/", 25) // 5025 bytes
	if err := r.MkdirAll(deep, 0o755); err != nil {
		t.Skip("cannot make a deep tree:", err)
	}
	if err := r.WriteFile(deep+"requirements.txt", []byte("six==1.16.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Extract(context.Background(), []string{dir}, Options{})
	if err != nil || len(res.Files) != 1 || len(res.Failures) != 0 || len(res.Packages) != 1 {
		t.Errorf("files %d, failures %+v, packages %d, err %v", len(res.Files), res.Failures, len(res.Packages), err)
	}
}

// ReadFile reads a configuration file beside the scanned ones by the
// lockfile rules: inside the project, regular, bounded.
func TestReadFile(t *testing.T) {
	top := t.TempDir()
	write(t, top, "outside.toml", leaked+"\n")
	dir := filepath.Join(top, "proj")
	write(t, dir, "osv-scanner.toml", "[[IgnoredVulns]]\n")
	write(t, dir, "big.toml", strings.Repeat("x", 2048))
	symlink(t, filepath.Join(top, "outside.toml"), filepath.Join(dir, "link.toml"))
	if b, err := ReadFile(context.Background(), filepath.Join(dir, "osv-scanner.toml"), 0); err != nil || string(b) != "[[IgnoredVulns]]\n" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
	tests := []struct {
		name string
		want error
	}{
		{"link.toml", ErrOutsideProject},
		{"big.toml", ErrTooLarge},
		{"missing.toml", os.ErrNotExist},
	}
	for _, tt := range tests {
		p := filepath.Join(dir, tt.name)
		b, err := ReadFile(context.Background(), p, 1024)
		var pe *os.PathError
		if !errors.Is(err, tt.want) || !errors.As(err, &pe) || pe.Path != p || b != nil {
			t.Errorf("ReadFile(%s) = %q, %v; want %v naming the file", tt.name, b, err, tt.want)
		}
	}
}
