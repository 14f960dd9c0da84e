package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDBImportInterrupted: Ctrl-C (a canceled context) stops db import with
// exit 1, saying so and that the database is unchanged.
func TestDBImportInterrupted(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "A-1.json")
	os.WriteFile(rec, []byte(`{"id":"A-1","modified":"2026-01-01T00:00:00Z","affected":[{"package":{"ecosystem":"npm","name":"a"},"versions":["1.0.0"]}]}`), 0o644)
	db := filepath.Join(dir, "db")
	var out, errOut bytes.Buffer
	if code := Run(t.Context(), []string{"db", "import", "--db", db, rec}, Stdio{Out: &out, Err: &errOut}); code != ExitOK {
		t.Fatalf("import: exit %d: %s", code, errOut.String())
	}
	before, _ := os.ReadFile(filepath.Join(db, "osv.db"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errOut.Reset()
	if code := Run(ctx, []string{"db", "import", "--db", db, rec}, Stdio{Out: &out, Err: &errOut}); code != ExitError {
		t.Errorf("interrupted import: exit %d, want %d", code, ExitError)
	}
	want := "hallmark: error: interrupted\nhallmark: hint: the database is unchanged\n"
	if errOut.String() != want {
		t.Errorf("stderr %q, want %q", errOut.String(), want)
	}
	after, _ := os.ReadFile(filepath.Join(db, "osv.db"))
	if !bytes.Equal(before, after) || strings.Contains(errOut.String(), "goroutine") {
		t.Error("an interrupted import changed the database")
	}
}
