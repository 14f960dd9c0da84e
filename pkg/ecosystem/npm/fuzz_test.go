package npm_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// realSeeds adds the files of ../shared/fixtures/ecosystems/npm whose
// names end in suffix, and returns how many, 0 without ../shared.
func realSeeds(f *testing.F, suffix string) int {
	dir := sharedEcosystems()
	if dir == "" {
		return 0
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "npm", "*"+suffix))
	more, _ := filepath.Glob(filepath.Join(dir, "npm", "keys", "*"+suffix))
	n := 0
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		n++
	}
	return n
}

func FuzzParseDocument(f *testing.F) {
	if n := realSeeds(f, ".attestations.json"); sharedEcosystems() != "" && n != 4 {
		f.Fatalf("found %d of the 4 real attestations documents", n)
	}
	f.Add([]byte(`{"attestations": []}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := npm.ParseDocument(data)
		if err != nil {
			return
		}
		if d.Publish == nil {
			t.Fatal("a document without its publish attestation")
		}
		_, _ = d.Package()
	})
}

func FuzzParseKeys(f *testing.F) {
	if n := realSeeds(f, "keys.json"); sharedEcosystems() != "" && n != 1 {
		f.Fatalf("found %d of the 1 real keys.json", n)
	}
	reg, err := npmtest.NewRegistry(time.Now(), time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	raw, _ := reg.KeysJSON()
	f.Add(raw)
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := npm.ParseKeys(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.PublicKey == nil || k.ID == "" || (!k.End.IsZero() && !k.End.After(k.Start)) {
				t.Fatalf("accepted key %+v", k)
			}
		}
	})
}

func FuzzParsePackument(f *testing.F) {
	reg, err := npmtest.NewRegistry(time.Now().Add(-time.Hour), time.Time{})
	if err != nil {
		f.Fatal(err)
	}
	pk, err := reg.Packument("@acme/left-pad", map[string]string{"1.2.3": npmtest.Integrity([]byte("x"))}, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pk)
	f.Add([]byte(`{"name":"a","version":"1.0.0","dist":{"integrity":"sha512-x"}}`))
	keysJSON, _ := reg.KeysJSON()
	keys, _ := npm.ParseKeys(keysJSON)
	p, _ := npm.ParsePackage("@acme/left-pad", "1.2.3")
	d, _ := npm.ParseIntegrity(npmtest.Integrity([]byte("x")))
	f.Fuzz(func(t *testing.T, data []byte) {
		pk, err := npm.ParsePackument(data)
		if err != nil {
			return
		}
		_, _ = pk.VerifyRegistrySignature(keys, p, d, time.Now())
	})
}

func FuzzParseLockfile(f *testing.F) {
	seeds := 0
	if dir := sharedEcosystems(); dir != "" {
		for _, name := range []string{"npm-old", "npm-large"} {
			data, err := os.ReadFile(filepath.Join(dir, "..", "..", "osv", "inputs", name, "package-lock.json"))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			seeds++
		}
		if seeds != 2 {
			f.Fatalf("found %d of the 2 real lockfiles", seeds)
		}
	}
	lock, err := npmtest.Lockfile([][3]string{{"@acme/left-pad", "1.2.3", npmtest.Integrity([]byte("x"))}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(lock)
	f.Fuzz(func(t *testing.T, data []byte) {
		locked, skipped, err := npm.ParseLockfile(data)
		if err != nil {
			return
		}
		for _, l := range locked {
			if l.Validate() != nil || l.Digest.Algorithm != "sha512" || strings.Contains(l.FileName(), "..") || !filepath.IsLocal(filepath.FromSlash(l.FileName())) {
				t.Fatalf("accepted %+v", l)
			}
		}
		for _, s := range skipped {
			if s.Invalid && s.NoSHA512 {
				t.Fatalf("skipped %+v as both invalid and without sha512", s)
			}
		}
	})
}

// FuzzParseIntegrity: what parses is one sha512, which Integrity writes
// back to a string that parses to it again.
func FuzzParseIntegrity(f *testing.F) {
	for _, s := range []string{npmtest.Integrity([]byte("x")), "sha1-abc " + npmtest.Integrity([]byte("x")), "sha512:" + npmtest.SHA512([]byte("x")),
		npmtest.Integrity([]byte("x")) + " " + npmtest.Integrity([]byte("y")), "sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "sha512-!!!"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := npm.ParseIntegrity(s)
		if err != nil {
			if !errors.Is(err, npm.ErrIntegrity) {
				t.Fatalf("%q: %v, not ErrIntegrity", s, err)
			}
			return
		}
		if d.Algorithm != "sha512" || len(d.Value) != 128 {
			t.Fatalf("%q: %+v", s, d)
		}
		if again, err := npm.ParseIntegrity(npm.Integrity(d)); err != nil || again != d {
			t.Fatalf("%q: %+v does not round-trip: %+v, %v", s, d, again, err)
		}
	})
}
