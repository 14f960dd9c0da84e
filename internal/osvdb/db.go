// Package osvdb is hallmark's local OSV vulnerability database: osv.dev
// exports imported into a bbolt file indexed by (ecosystem, normalized
// package name), so that a scan reads only the records that can apply. It
// also holds the online source, a client of the osv.dev API.
//
// On disk, DIR/osv.db holds a "meta" bucket (the format version) and, in
// "ecosystems", one bucket per base ecosystem ("Debian:11" is stored under
// "Debian") with an "info" key (record count, snapshot date, origin), a
// "rec" bucket (record id to the record's compact JSON, DEFLATE-compressed
// with a preset dictionary) and an "idx" bucket (normalized name NUL id,
// empty values): a scan seeks the index by name and reads only those
// records. A record naming several ecosystems is stored in each. Imports
// build a new file next to the old one, fsync it and rename it into place,
// so a failed import leaves the old database usable; concurrent imports
// are not serialized (the last rename wins).
package osvdb

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// FileName is the database file inside the database directory.
const FileName = "osv.db"

// formatVersion is the on-disk format; a database of another format must
// be re-imported.
const formatVersion = "2"

var (
	bucketMeta = []byte("meta")
	bucketEcos = []byte("ecosystems")
	keyFormat  = []byte("format")
	keyInfo    = []byte("info")
	bucketRec  = []byte("rec")
	bucketIdx  = []byte("idx")
)

// Errors.
var (
	// ErrNoDatabase: the directory has no database (run db import/update).
	ErrNoDatabase = errors.New("no vulnerability database")
	// ErrFormat: the database was written by another version of hallmark.
	ErrFormat = errors.New("unsupported vulnerability database format")
)

// DefaultDir returns the default database directory:
// $HALLMARK_CACHE_DIR/osv, else os.UserCacheDir()/hallmark/osv.
func DefaultDir() (string, error) {
	if d := os.Getenv("HALLMARK_CACHE_DIR"); d != "" {
		return filepath.Join(d, "osv"), nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("finding the cache directory: %w", err)
	}
	return filepath.Join(c, "hallmark", "osv"), nil
}

// EcosystemInfo describes one ecosystem of the database.
type EcosystemInfo struct {
	Ecosystem string `json:"ecosystem"`
	Records   int    `json:"records"`
	// Snapshot is the newest "modified" time among the records.
	Snapshot time.Time `json:"snapshot,omitzero"`
	// ExportDate is the export's Last-Modified date, when downloaded.
	ExportDate time.Time `json:"exportDate,omitzero"`
	// Origin is the file or URL the ecosystem was imported from.
	Origin     string    `json:"origin"`
	ImportedAt time.Time `json:"importedAt"`
}

// Status describes a database.
type Status struct {
	Path       string          `json:"path"`
	Ecosystems []EcosystemInfo `json:"ecosystems"`
}

// DB is an open database, read-only. It implements scan.Source and is safe
// for concurrent use.
type DB struct {
	path string
	bolt *bolt.DB
}

var _ scan.Source = (*DB)(nil)

// Open opens the database in dbDir for reading.
func Open(dbDir string) (*DB, error) {
	p := filepath.Join(dbDir, FileName)
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s", ErrNoDatabase, dbDir)
		}
		return nil, err
	}
	b, err := bolt.Open(p, 0o444, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", p, err)
	}
	if err := b.View(func(tx *bolt.Tx) error { return checkFormat(tx) }); err != nil {
		b.Close()
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return &DB{path: p, bolt: b}, nil
}

func checkFormat(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	if m == nil || string(m.Get(keyFormat)) != formatVersion {
		return fmt.Errorf("%w (want %s): re-import it", ErrFormat, formatVersion)
	}
	return nil
}

// Close closes the database.
func (d *DB) Close() error { return d.bolt.Close() }

// Path is the database file.
func (d *DB) Path() string { return d.path }

// Status lists the ecosystems of the database.
func (d *DB) Status(ctx context.Context) (*Status, error) {
	st := &Status{Path: d.path, Ecosystems: []EcosystemInfo{}}
	err := d.bolt.View(func(tx *bolt.Tx) error {
		ecos := tx.Bucket(bucketEcos)
		if ecos == nil {
			return nil
		}
		return ecos.ForEachBucket(func(k []byte) error {
			info, err := readInfo(ecos.Bucket(k))
			if err != nil {
				return err
			}
			st.Ecosystems = append(st.Ecosystems, info)
			return nil
		})
	})
	return st, err
}

// ReadStatus opens the database in dbDir and returns its status.
func ReadStatus(ctx context.Context, dbDir string) (*Status, error) {
	d, err := Open(dbDir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Status(ctx)
}

func readInfo(b *bolt.Bucket) (EcosystemInfo, error) {
	var info EcosystemInfo
	if err := json.Unmarshal(b.Get(keyInfo), &info); err != nil {
		return info, fmt.Errorf("corrupt ecosystem info: %w", err)
	}
	return info, nil
}

// Databases implements scan.Source.
func (d *DB) Databases(ctx context.Context, ecosystems []string) ([]scan.Database, error) {
	out := make([]scan.Database, 0, len(ecosystems))
	err := d.bolt.View(func(tx *bolt.Tx) error {
		ecos := tx.Bucket(bucketEcos)
		for _, e := range ecosystems {
			base := scan.BaseEcosystem(e)
			var b *bolt.Bucket
			if ecos != nil {
				b = ecos.Bucket([]byte(base))
			}
			if b == nil {
				out = append(out, scan.Database{Ecosystem: base, Source: "local database " + d.path, Missing: true})
				continue
			}
			info, err := readInfo(b)
			if err != nil {
				return err
			}
			snap := info.Snapshot
			if !info.ExportDate.IsZero() {
				snap = info.ExportDate
			}
			out = append(out, scan.Database{
				Ecosystem: base,
				Source:    fmt.Sprintf("local database %s (imported from %s at %s)", d.path, info.Origin, info.ImportedAt.UTC().Format(time.RFC3339)),
				Snapshot:  snap.UTC(), Records: info.Records,
			})
		}
		return nil
	})
	return out, err
}

var inflaters = sync.Pool{New: func() any { return flate.NewReaderDict(bytes.NewReader(nil), dictionary) }}

func inflate(blob []byte) ([]byte, error) {
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(blob), dictionary); err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// Query implements scan.Source: for each query, the records indexed under
// its (base ecosystem, normalized name). Versions are not looked at.
func (d *DB) Query(ctx context.Context, qs []scan.Query) ([][]*scan.Vulnerability, error) {
	out := make([][]*scan.Vulnerability, len(qs))
	cache := map[string]*scan.Vulnerability{}
	err := d.bolt.View(func(tx *bolt.Tx) error {
		ecos := tx.Bucket(bucketEcos)
		if ecos == nil {
			return nil
		}
		for i, q := range qs {
			if err := ctx.Err(); err != nil {
				return err
			}
			base := scan.BaseEcosystem(q.Ecosystem)
			eb := ecos.Bucket([]byte(base))
			if eb == nil {
				continue
			}
			idx, rec := eb.Bucket(bucketIdx), eb.Bucket(bucketRec)
			prefix := append([]byte(q.Name), 0)
			c := idx.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				id := string(k[len(prefix):])
				ck := base + "\x00" + id
				v, ok := cache[ck]
				if !ok {
					blob := rec.Get([]byte(id))
					if blob == nil {
						return fmt.Errorf("%s: index names %s/%s but the record is missing: re-import the database", d.path, base, id)
					}
					raw, err := inflate(blob)
					if err != nil {
						return fmt.Errorf("%s: record %s: %w", d.path, id, err)
					}
					v, err = scan.ParseVulnerability(raw)
					if err != nil {
						return fmt.Errorf("%s: record %s: %w", d.path, id, err)
					}
					cache[ck] = v
				}
				out[i] = append(out[i], v)
			}
		}
		return nil
	})
	return out, err
}

// Get returns one record by ecosystem and id (nil when absent).
func (d *DB) Get(ctx context.Context, ecosystem, id string) (*scan.Vulnerability, error) {
	var v *scan.Vulnerability
	err := d.bolt.View(func(tx *bolt.Tx) error {
		ecos := tx.Bucket(bucketEcos)
		if ecos == nil {
			return nil
		}
		eb := ecos.Bucket([]byte(scan.BaseEcosystem(ecosystem)))
		if eb == nil {
			return nil
		}
		blob := eb.Bucket(bucketRec).Get([]byte(id))
		if blob == nil {
			return nil
		}
		raw, err := inflate(blob)
		if err != nil {
			return err
		}
		v, err = scan.ParseVulnerability(raw)
		return err
	})
	return v, err
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func sortSlice(ks [][]byte) {
	sort.Slice(ks, func(i, j int) bool { return bytes.Compare(ks[i], ks[j]) < 0 })
}
