// Package osvdb is hallmark's local OSV vulnerability database: osv.dev
// exports imported into a bbolt file indexed by (ecosystem, normalized
// package name), so that a scan reads only the records that can apply. It
// also holds the online source, a client of the osv.dev API.
//
// On disk, DIR/osv.db holds a "meta" bucket (the format version) and, in
// "ecosystems", one bucket per base ecosystem ("Debian:11" is stored under
// "Debian") with an "info" key (record count, snapshot date, origin), a
// "rec" bucket (record id to the record: a kind byte, the CRC-32 of its
// JSON, then the JSON DEFLATE-compressed, as the export had it or compact
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
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
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
const formatVersion = "3"

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
	b, _, err := openBolt(p, false)
	if err != nil {
		return nil, err
	}
	d := &DB{path: p, bolt: b}
	if err := d.view(checkFormat); err != nil {
		b.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return d, nil
}

// view runs fn in a read transaction, under guard.
func (d *DB) view(fn func(*bolt.Tx) error) error {
	return guard(d.path, func() error { return d.bolt.View(fn) })
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
	err := d.view(func(tx *bolt.Tx) error {
		ecos := tx.Bucket(bucketEcos)
		if ecos == nil {
			return nil
		}
		return ecos.ForEachBucket(func(k []byte) error {
			info, err := readInfo(d.path, ecos.Bucket(k))
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

func readInfo(path string, b *bolt.Bucket) (EcosystemInfo, error) {
	var info EcosystemInfo
	if b == nil {
		return info, damaged(path, "an ecosystem is not a bucket")
	}
	if err := json.Unmarshal(b.Get(keyInfo), &info); err != nil {
		return info, damaged(path, "ecosystem info: %v", err)
	}
	return info, nil
}

// Databases implements scan.Source.
func (d *DB) Databases(ctx context.Context, ecosystems []string) ([]scan.Database, error) {
	out := make([]scan.Database, 0, len(ecosystems))
	err := d.view(func(tx *bolt.Tx) error {
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
			info, err := readInfo(d.path, b)
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

// A stored record: a kind, the CRC-32 (IEEE, little-endian) of the JSON,
// the DEFLATE data.
const (
	blobHeader = 5
	blobDict   = 1 // compact JSON, compressed with the dictionary
	blobExport = 2 // the export's entry as it was compressed, no dictionary
)

func putBlobHeader(b []byte, kind byte, crc uint32) {
	b[0] = kind
	binary.LittleEndian.PutUint32(b[1:], crc)
}

// decodeBlob returns the JSON of a stored record, checking its CRC-32.
func decodeBlob(blob []byte) ([]byte, error) {
	if len(blob) < blobHeader {
		return nil, errors.New("record too short")
	}
	var dict []byte
	switch blob[0] {
	case blobDict:
		dict = dictionary
	case blobExport:
	default:
		return nil, fmt.Errorf("unknown record kind %d", blob[0])
	}
	out, err := inflate(blob[blobHeader:], dict)
	if err != nil {
		return nil, err
	}
	if crc32.ChecksumIEEE(out) != binary.LittleEndian.Uint32(blob[1:]) {
		return nil, errors.New("checksum mismatch")
	}
	return out, nil
}

func inflate(blob, dict []byte) ([]byte, error) {
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(blob), dict); err != nil {
		return nil, err
	}
	out, err := io.ReadAll(io.LimitReader(r, maxRecordSize+1))
	if err == nil && len(out) > maxRecordSize {
		err = fmt.Errorf("inflates to more than %d bytes", maxRecordSize)
	}
	return out, err
}

// maxRecordSize bounds one record (OSV records are kilobytes).
const maxRecordSize = 16 << 20

// Query implements scan.Source: for each query, the records indexed under
// its (base ecosystem, normalized name). Versions are not looked at.
func (d *DB) Query(ctx context.Context, qs []scan.Query) ([][]*scan.Vulnerability, error) {
	out := make([][]*scan.Vulnerability, len(qs))
	cache := map[string]*scan.Vulnerability{}
	err := d.view(func(tx *bolt.Tx) error {
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
			if idx == nil || rec == nil {
				return damaged(d.path, "ecosystem %q has no record or index bucket", base)
			}
			prefix := append([]byte(q.Name), 0)
			c := idx.Cursor()
			for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
				id := string(k[len(prefix):])
				ck := base + "\x00" + id
				v, ok := cache[ck]
				if !ok {
					blob := rec.Get([]byte(id))
					if blob == nil {
						return damaged(d.path, "the index names %s/%q but the record is missing", base, id)
					}
					raw, err := decodeBlob(blob)
					if err != nil {
						return damaged(d.path, "record %s/%q: %v", base, id, err)
					}
					v, err = scan.ParseVulnerability(raw)
					if err != nil { // stored as the export had it (the CRC matched)
						return fmt.Errorf("%s: record %s/%q: %w", d.path, base, id, err)
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
	err := d.view(func(tx *bolt.Tx) error {
		ecos := tx.Bucket(bucketEcos)
		if ecos == nil {
			return nil
		}
		eb := ecos.Bucket([]byte(scan.BaseEcosystem(ecosystem)))
		if eb == nil {
			return nil
		}
		rec := eb.Bucket(bucketRec)
		if rec == nil {
			return damaged(d.path, "ecosystem %q has no record bucket", scan.BaseEcosystem(ecosystem))
		}
		blob := rec.Get([]byte(id))
		if blob == nil {
			return nil
		}
		raw, err := decodeBlob(blob)
		if err != nil {
			return damaged(d.path, "record %q: %v", id, err)
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
