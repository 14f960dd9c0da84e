package lock_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/lock"
)

// TestFixture: the example lock file parses, and encodes back to itself
// (sorted, canonical).
func TestFixture(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "hallmark.lock"))
	if err != nil {
		t.Fatal(err)
	}
	es, err := lock.Parse("hallmark.lock", data)
	if err != nil || len(es) != 6 {
		t.Fatalf("%d entries, %v", len(es), err)
	}
	again, err := lock.Encode(es)
	if err != nil || !bytes.Equal(again, data) {
		t.Errorf("encoded again (%v):\n%s", err, again)
	}
}

// FuzzParse: any input parses or is a *ParseError; what parses encodes to
// a file that parses to the same entries.
func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "hallmark.lock"))
	if err != nil {
		f.Fatalf("the seed testdata/hallmark.lock: %v", err)
	}
	f.Add(seed)
	f.Add([]byte("version = 1\n"))
	f.Add([]byte("version = 1\n[[package]]\necosystem = \"npm\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		es, err := lock.Parse("f", data)
		if err != nil {
			var pe *lock.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("not a ParseError: %v", err)
			}
			return
		}
		enc, err := lock.Encode(es)
		if err != nil {
			t.Fatal(err)
		}
		back, err := lock.Parse("f", enc)
		if err != nil || len(back) != len(es) {
			t.Fatalf("encoded entries do not parse back: %v\n%s", err, enc)
		}
		if again, _ := lock.Encode(back); !bytes.Equal(again, enc) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, again)
		}
	})
}
