package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPyPICases runs every PyPI case of ../shared/fixtures/ecosystems/
// cases.tsv through verify --preset pypi: pass is exit 0, fail exit 3.
func TestPyPICases(t *testing.T) {
	fx := sharedFixtures(t)
	eco := filepath.Join(fx, "ecosystems")
	prod := filepath.Join(fx, "..", "conformance", "data", "_production", "trusted_root.json")
	data, err := os.ReadFile(filepath.Join(eco, "cases.tsv"))
	if err != nil {
		t.Skipf("no cases.tsv (%v)", err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		c := strings.Split(line, "\t")
		if len(c) < 12 || c[1] != "pypi" {
			continue
		}
		n++
		name, expect, artifact, doc, rootCol, publisher, workflow, issuer := c[0], c[2], c[3], c[4], c[6], c[8], c[9], c[10]
		t.Run(name, func(t *testing.T) {
			trusted := prod
			if rootCol != "PROD" {
				trusted = filepath.Join(eco, rootCol)
			}
			dist := filepath.Join(eco, artifact)
			if digest, file, ok := strings.Cut(artifact, " "); ok {
				dist = file + "@" + digest
			}
			args := []string{"verify", "--offline", "--preset", "pypi", "--trusted-root", trusted, "--provenance", filepath.Join(eco, doc)}
			switch kind, _, _ := strings.Cut(publisher, ":"); kind {
			case "github":
				args = append(args, "--publisher", publisher+"/"+workflow)
			case "email":
				args = append(args, "--publisher", publisher, "--publisher-issuer", issuer)
			default:
				t.Fatalf("publisher %q: a kind this test does not know", publisher)
			}
			args = append(args, dist)
			want := map[string]int{"pass": ExitOK, "fail": ExitRejected}[expect]
			var out, errOut bytes.Buffer
			if code := Run(context.Background(), args, Stdio{In: strings.NewReader(""), Out: &out, Err: &errOut}); code != want {
				t.Fatalf("hallmark %s: exit %d, want %d (%s)\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, want, expect, out.String(), errOut.String())
			}
			if want == ExitOK && !strings.HasPrefix(out.String(), "OK ") || want != ExitOK && out.Len() != 0 {
				t.Errorf("stdout: %q", out.String())
			}
		})
	}
	if n != 5 {
		t.Errorf("%d PyPI cases in cases.tsv, want the 5 of its README", n)
	}
}
