package policy_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/policy"
)

// TestDocExamples: the example policies of the package doc, the README and
// the manual parse (with the key files they name present).
func TestDocExamples(t *testing.T) {
	dir := t.TempDir()
	key, err := sigtest.GenerateKey(sigtest.KeyECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	pemData, err := sigtest.PublicKeyPEM(key.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"packager.pub", "builder.pub"} {
		if err := os.WriteFile(filepath.Join(dir, "keys", k), pemData, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	read := func(p string) string {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	// An indented block starting with "version: 1", its indent removed.
	block := func(text, indent string) string {
		i := strings.Index(text, indent+"version: 1")
		if i < 0 {
			return ""
		}
		var out []string
		for _, l := range strings.Split(text[i:], "\n") {
			rest, ok := strings.CutPrefix(l, indent)
			if !ok {
				break
			}
			out = append(out, rest)
		}
		return strings.Join(out, "\n") + "\n"
	}
	readme := regexp.MustCompile("(?s)### Policy files.*?```yaml\n(.*?)```").FindStringSubmatch(read(filepath.Join("..", "..", "README.md")))
	examples := map[string]string{
		"package doc": block(read("doc.go"), "//\t"),
		"manual":      block(read(filepath.Join("..", "..", "cmd", "hallmark", "doc.go")), "\t"),
	}
	if readme != nil {
		examples["README"] = readme[1]
	}
	for name, text := range examples {
		if text == "" {
			t.Errorf("%s: no example policy found", name)
			continue
		}
		p, err := policy.Parse(context.Background(), []byte(text), policy.Options{File: name, Dir: dir})
		if err != nil {
			t.Errorf("%s: %v\n%s", name, err, text)
			continue
		}
		if len(p.Steps) != 2 || len(p.Artifacts) != 1 {
			t.Errorf("%s: %d steps, %d artifacts entries", name, len(p.Steps), len(p.Artifacts))
		}
	}
	if len(examples) != 3 {
		t.Errorf("the README's example policy was not found")
	}
}
