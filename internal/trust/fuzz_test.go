package trust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/trust"
	"github.com/hallmark-dev/hallmark/internal/tuftest"
)

// fuzzCache makes a real cache through a local TUF mirror, as the other
// tests do, and returns its options (offline, at t0).
func fuzzCache(f *testing.F, targets map[string][]byte) trust.Options {
	f.Helper()
	repo := tuftest.New(f, targets)
	o := trust.Options{
		CacheDir:    f.TempDir(),
		MirrorURL:   repo.URL,
		InitialRoot: repo.RootJSON,
		MaxAge:      time.Hour,
		Now:         (&clock{t0}).Now,
	}
	if _, err := trust.Update(context.Background(), o); err != nil {
		f.Fatalf("populating the cache: %v", err)
	}
	o.Offline = true
	return o
}

// cacheFiles returns every file named name (or every .json file, for "")
// in the cache under dir, by path.
func cacheFiles(f *testing.F, dir, name string) map[string][]byte {
	f.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if name == "" && filepath.Ext(path) != ".json" || name != "" && d.Name() != name {
			return nil
		}
		b, err := os.ReadFile(path)
		out[path] = b
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	return out
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// FuzzRecord: the meta.json parser never panics, and what it accepts is a
// complete record of exactly the known keys that survives a round trip.
func FuzzRecord(f *testing.F) {
	// Two real caches, one with a signing config.
	var records [][]byte
	for _, targets := range []map[string][]byte{
		{trust.TrustedRootTarget: newTrustedRootJSON(f)},
		{trust.TrustedRootTarget: newTrustedRootJSON(f), trust.SigningConfigTarget: signingConfig},
	} {
		o := fuzzCache(f, targets)
		for _, b := range cacheFiles(f, o.CacheDir, "meta.json") {
			records = append(records, b)
		}
	}
	if len(records) != 2 {
		f.Fatalf("found %d meta.json files in the two caches, want 2", len(records))
	}
	real := records[0]
	var m map[string]any
	if err := json.Unmarshal(real, &m); err != nil {
		f.Fatalf("the cache's meta.json: %v", err)
	}
	variant := func(edit func(map[string]any)) []byte {
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		edit(c)
		b, err := json.Marshal(c)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	seeds := append(records,
		variant(func(map[string]any) {}), // as agecache rewrites it: compact, keys sorted
		variant(func(c map[string]any) { c["fetchedAt"] = "2999-01-01T00:00:00Z" }),
		variant(func(c map[string]any) { delete(c, "tufRootSHA256") }),                     // an older hallmark's
		variant(func(c map[string]any) { c["MIRROR"] = c["mirror"]; delete(c, "mirror") }), // case-folded key
		variant(func(c map[string]any) { c["extra"] = true }),
		variant(func(c map[string]any) { c["tufRootSHA256"] = "ABCD" }),
		append(bytes.Clone(real), []byte(`{}`)...),
		[]byte(`{"mirror":"a","mirror":"b","tufRootSHA256":"`+m["tufRootSHA256"].(string)+`","fetchedAt":"2025-06-01T12:00:00Z"}`),
		[]byte(`null`),
		[]byte(`{`),
	)
	for _, s := range seeds {
		f.Add(s)
	}
	// The real records parse, or the seeds test nothing.
	for _, r := range records {
		if _, _, _, err := trust.ParseRecord(r); err != nil {
			f.Fatalf("the cache's own meta.json does not parse: %v", err)
		}
	}

	f.Fuzz(func(t *testing.T, raw []byte) {
		mirror, tufRoot, fetchedAt, err := trust.ParseRecord(raw)
		if err != nil {
			if mirror != "" || tufRoot != "" || !fetchedAt.IsZero() {
				t.Errorf("a refused record came with values: %q %q %v", mirror, tufRoot, fetchedAt)
			}
			return
		}
		if mirror == "" || fetchedAt.IsZero() || !hexSHA256.MatchString(tufRoot) {
			t.Fatalf("accepted an incomplete record: mirror %q, root %q, fetchedAt %v", mirror, tufRoot, fetchedAt)
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal(raw, &keys); err != nil {
			t.Fatalf("accepted what is not a JSON object: %v", err)
		}
		for k := range keys {
			if k != "mirror" && k != "tufRootSHA256" && k != "fetchedAt" {
				t.Fatalf("accepted a record with the key %q", k)
			}
		}
		if len(keys) != 3 {
			t.Fatalf("accepted a record with %d keys", len(keys))
		}
		again, err := trust.MarshalRecord(mirror, tufRoot, fetchedAt)
		if err != nil {
			t.Fatalf("marshalling an accepted record: %v", err)
		}
		m2, r2, f2, err := trust.ParseRecord(again)
		if err != nil || m2 != mirror || r2 != tufRoot || !f2.Equal(fetchedAt) {
			t.Fatalf("round trip: %q %q %v, %v; want %q %q %v", m2, r2, f2, err, mirror, tufRoot, fetchedAt)
		}
	})
}

// FuzzCachedFiles: whatever a cached file holds, loading the cache never
// panics; a trusted_root.json or root.json other than the one fetched is
// refused, and what is accepted is the root the mirror served.
func FuzzCachedFiles(f *testing.F) {
	good := newTrustedRootJSON(f)
	o := fuzzCache(f, map[string][]byte{trust.TrustedRootTarget: good})
	// The files the fuzzer may replace, by index; every JSON file of the
	// cache is a seed for each.
	files := []string{
		filepath.Join(cacheDir(o), trust.TrustedRootTarget),
		filepath.Join(tufMetaDir(o), "root.json"),
		filepath.Join(tufMetaDir(o), "timestamp.json"),
		filepath.Join(tufMetaDir(o), "snapshot.json"),
		filepath.Join(tufMetaDir(o), "targets.json"),
	}
	found := cacheFiles(f, o.CacheDir, "")
	originals := make([][]byte, len(files))
	for i, p := range files {
		var ok bool
		if originals[i], ok = found[p]; !ok {
			f.Fatalf("the cache has no %s", p)
		}
		for _, b := range found {
			f.Add(uint8(i), b)
		}
		f.Add(uint8(i), originals[i][:len(originals[i])/2])
		f.Add(uint8(i), bytes.Replace(originals[i], []byte(`"version": 1`), []byte(`"version": 2`), 1))
	}
	f.Add(uint8(0), newTrustedRootJSON(f))
	// meta.json, the trust root and the four top-level TUF roles, at least.
	if len(found) < 6 {
		f.Fatalf("found %d JSON files in the cache, want at least 6", len(found))
	}
	// The untouched cache loads, or the target tests nothing.
	if r, err := trust.Load(context.Background(), o); err != nil || !bytes.Equal(r.JSON, good) {
		f.Fatalf("the untouched cache does not load: %v", err)
	}

	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		i := int(which) % len(files)
		if err := os.WriteFile(files[i], data, 0o644); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := os.WriteFile(files[i], originals[i], 0o644); err != nil {
				t.Fatal(err)
			}
		}()
		r, err := trust.Load(context.Background(), o)
		same := bytes.Equal(data, originals[i])
		switch {
		case same && err != nil:
			t.Fatalf("the original %s is refused: %v", filepath.Base(files[i]), err)
		case err != nil:
			if !errors.Is(err, trust.ErrBadCache) {
				t.Fatalf("%s damaged: err = %v, want %v", filepath.Base(files[i]), err, trust.ErrBadCache)
			}
		case i <= 1 && !same:
			t.Fatalf("accepted a %s other than the one fetched", filepath.Base(files[i]))
		case !bytes.Equal(r.JSON, good):
			t.Fatalf("accepted a root other than the one served")
		}
	})
}
