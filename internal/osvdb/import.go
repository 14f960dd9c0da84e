package osvdb

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// ErrNoRecords is returned when an import finds no OSV record.
var ErrNoRecords = errors.New("no OSV records found")

// ImportResult describes what an import wrote.
type ImportResult struct {
	Ecosystems []EcosystemInfo `json:"ecosystems"`
	// Skipped counts files that were not OSV records (no id) and were
	// left out; Warnings names them (first 20).
	Skipped int `json:"skipped,omitempty"`
	// Repaired counts timestamps that were not RFC 3339, read leniently
	// or left out; the records are kept.
	Repaired int      `json:"repaired,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// source is one input: a zip (all.zip) or a loose record file, with the
// ecosystem the layout gives it ("" when the records say).
type source struct {
	path       string
	ecosystem  string
	origin     string
	exportDate time.Time
}

// Import reads osv.dev exports into the database in dbDir, replacing the
// ecosystems it reads and keeping the others. Each path is a directory in
// osv-scanner's offline layout (DIR/osv-scalibr/<Eco>/all.zip or
// DIR/osv-scanner/<Eco>/all.zip, or DIR/<Eco>/all.zip), a bare all.zip, or
// a directory (walked) or file of OSV records in JSON or YAML. The import
// is atomic: on any error the old database is left as it was.
func Import(ctx context.Context, dbDir string, paths ...string) (*ImportResult, error) {
	var srcs []source
	for _, p := range paths {
		s, err := discover(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s...)
	}
	return importSources(ctx, dbDir, srcs)
}

func discover(p string) ([]source, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !fi.IsDir() {
		return []source{{path: p, origin: p}}, nil
	}
	var out []source
	for _, layout := range []string{"osv-scalibr", "osv-scanner", ""} {
		root := filepath.Join(p, layout)
		ents, err := os.ReadDir(root)
		if err != nil {
			continue
		}
		for _, e := range ents {
			z := filepath.Join(root, e.Name(), "all.zip")
			if e.IsDir() {
				if _, err := os.Stat(z); err == nil {
					out = append(out, source{path: z, ecosystem: e.Name(), origin: z})
				}
			}
		}
		if len(out) > 0 {
			return out, nil
		}
	}
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && path != p {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(path)) {
		case ".json", ".yaml", ".yml", ".zip":
			out = append(out, source{path: path, origin: path})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// entry is one record ready to store.
type entry struct {
	id    string
	blob  []byte
	names []string
}

type ecoData struct {
	info    EcosystemInfo
	records map[string]*entry
}

// builder accumulates records per ecosystem.
type builder struct {
	ecos map[string]*ecoData
	res  *ImportResult
	now  time.Time
	w    *worker
}

// worker holds one goroutine's buffers for preparing records.
type worker struct {
	deflate *flate.Writer
	buf     bytes.Buffer
	cbuf    bytes.Buffer
	rbuf    bytes.Buffer
}

func newWorker() *worker {
	fw, _ := flate.NewWriterDict(io.Discard, flate.BestSpeed, dictionary)
	return &worker{deflate: fw}
}

// light is the part of a record the index needs.
type light struct {
	ID        string          `json:"id"`
	Modified  json.RawMessage `json:"modified"`
	Published json.RawMessage `json:"published"`
	Withdrawn json.RawMessage `json:"withdrawn"`
	Affected  []struct {
		Package scan.AffectedPackage `json:"package"`
	} `json:"affected"`
}

// prepared is a record parsed, indexed and compressed, ready to add.
type prepared struct {
	id       string
	modified time.Time
	names    map[string][]string // base ecosystem -> normalized names
	blob     []byte
	warn     string   // why the record was skipped
	notes    []string // what was repaired in a record kept
}

func (b *builder) warn(msg string) {
	b.res.Skipped++
	if len(b.res.Warnings) < 20 {
		b.res.Warnings = append(b.res.Warnings, msg)
	}
}

// prepare parses, indexes and compresses one record; it touches only the
// worker's buffers, so workers run it in parallel.
func (w *worker) prepare(src source, name string, data []byte) (prepared, error) {
	if isYAML(name) {
		j, err := yamlToJSON(data)
		if err != nil {
			return prepared{warn: fmt.Sprintf("%s: not an OSV record: %v", name, err)}, nil
		}
		data = j
	}
	var l light
	if err := json.Unmarshal(data, &l); err != nil || l.ID == "" {
		if err == nil {
			err = errors.New("no id")
		}
		return prepared{warn: fmt.Sprintf("%s: not an OSV record: %v", name, err)}, nil
	}
	names := map[string][]string{}
	for _, a := range l.Affected {
		aff := scan.Affected{Package: a.Package}
		eco, n := aff.PackageIdentity()
		base := scan.BaseEcosystem(eco)
		if base == "" || n == "" {
			continue
		}
		if src.ecosystem != "" && base != scan.BaseEcosystem(src.ecosystem) {
			continue
		}
		names[base] = append(names[base], scan.NormalizeName(base, n))
	}
	if src.ecosystem != "" && len(names) == 0 {
		// Kept (it counts in the export) but not indexed.
		names[scan.BaseEcosystem(src.ecosystem)] = nil
	}
	if len(names) == 0 {
		return prepared{warn: fmt.Sprintf("%s: record %s names no package", name, l.ID)}, nil
	}
	var notes []string
	if !strictTime(l.Modified) || !strictTime(l.Published) || !strictTime(l.Withdrawn) {
		var err error
		if data, notes, err = repairTimes(data, l.ID); err != nil {
			return prepared{warn: fmt.Sprintf("%s: not an OSV record: %v", name, err)}, nil
		}
		for i := range notes {
			notes[i] = name + ": " + notes[i]
		}
	}
	var modified time.Time
	if strictTime(l.Modified) {
		_ = json.Unmarshal(l.Modified, &modified)
	} else {
		modified, _ = parseLoose(l.Modified)
	}
	// Stored compact: the exports are indented.
	w.cbuf.Reset()
	if json.Compact(&w.cbuf, data) == nil {
		data = w.cbuf.Bytes()
	}
	w.buf.Reset()
	w.deflate.Reset(&w.buf)
	w.deflate.Write(data)
	if err := w.deflate.Close(); err != nil {
		return prepared{}, err
	}
	return prepared{id: l.ID, modified: modified, names: names, blob: bytes.Clone(w.buf.Bytes()), notes: notes}, nil
}

func (b *builder) add(src source, p prepared) {
	if p.warn != "" {
		b.warn(p.warn)
		return
	}
	for _, n := range p.notes {
		b.res.Repaired++
		if len(b.res.Warnings) < 20 {
			b.res.Warnings = append(b.res.Warnings, n)
		}
	}
	for base, ns := range p.names {
		ed := b.ecos[base]
		if ed == nil {
			ed = &ecoData{info: EcosystemInfo{Ecosystem: base, Origin: src.origin, ImportedAt: b.now, ExportDate: src.exportDate}, records: map[string]*entry{}}
			b.ecos[base] = ed
		}
		if !strings.Contains(ed.info.Origin, src.origin) && len(ed.info.Origin) < 200 {
			ed.info.Origin += ", " + src.origin
		}
		if p.modified.After(ed.info.Snapshot) {
			ed.info.Snapshot = p.modified.UTC()
		}
		ed.records[p.id] = &entry{id: p.id, blob: p.blob, names: ns}
	}
}

func isYAML(name string) bool {
	e := strings.ToLower(filepath.Ext(name))
	return e == ".yaml" || e == ".yml"
}

func yamlToJSON(data []byte) ([]byte, error) {
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func (b *builder) readSource(ctx context.Context, src source) error {
	if !strings.EqualFold(filepath.Ext(src.path), ".zip") {
		data, err := os.ReadFile(src.path)
		if err != nil {
			return err
		}
		p, err := b.w.prepare(src, src.path, data)
		if err != nil {
			return err
		}
		b.add(src, p)
		return nil
	}
	zr, err := zip.OpenReader(src.path)
	if err != nil {
		return fmt.Errorf("%s: %w", src.path, err)
	}
	defer zr.Close()
	var files []*zip.File
	for _, f := range zr.File {
		ext := strings.ToLower(filepath.Ext(f.Name))
		if !f.FileInfo().IsDir() && (ext == ".json" || ext == ".yaml" || ext == ".yml") {
			files = append(files, f)
		}
	}
	// Entries are decompressed, parsed and compressed in parallel (a zip
	// reader serves concurrent reads), then added in zip order.
	out := make([]prepared, len(files))
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range max(1, runtime.GOMAXPROCS(0)) {
		w := newWorker()
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(files) {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				f := files[i]
				rc, err := f.Open()
				if err != nil {
					return fmt.Errorf("%s: %s: %w", src.path, f.Name, err)
				}
				// Reading to EOF checks the entry's CRC-32 (zip.ErrChecksum).
				w.rbuf.Reset()
				if f.UncompressedSize64 < 64<<20 {
					w.rbuf.Grow(int(f.UncompressedSize64) + 1)
				}
				_, err = w.rbuf.ReadFrom(rc)
				rc.Close()
				if err != nil {
					return fmt.Errorf("%s: %s: %w", src.path, f.Name, err)
				}
				if out[i], err = w.prepare(src, src.path+":"+f.Name, w.rbuf.Bytes()); err != nil {
					return err
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, p := range out {
		b.add(src, p)
	}
	return nil
}

func importSources(ctx context.Context, dbDir string, srcs []source) (*ImportResult, error) {
	res := &ImportResult{}
	b := &builder{ecos: map[string]*ecoData{}, res: res, now: time.Now().UTC(), w: newWorker()}
	for _, s := range srcs {
		if err := b.readSource(ctx, s); err != nil {
			return nil, err
		}
	}
	if len(b.ecos) == 0 {
		return nil, ErrNoRecords
	}
	if err := os.MkdirAll(dbDir, 0o755); err != nil {
		return nil, err
	}
	final := filepath.Join(dbDir, FileName)
	tmp, err := os.CreateTemp(dbDir, ".osv-*.db.tmp")
	if err != nil {
		return nil, err
	}
	tmpName := tmp.Name()
	tmp.Close()
	ok := false
	defer func() {
		if !ok {
			os.Remove(tmpName)
		}
	}()
	nb, err := bolt.Open(tmpName, 0o644, &bolt.Options{NoSync: true, Timeout: 5 * time.Second,
		// Address space only: growing the map in one big transaction
		// copies every node out of it at each remap.
		InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, err
	}
	err = nb.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucket(bucketMeta)
		if err != nil {
			return err
		}
		if err := m.Put(keyFormat, []byte(formatVersion)); err != nil {
			return err
		}
		_, err = tx.CreateBucket(bucketEcos)
		return err
	})
	if err == nil {
		err = nb.Update(func(tx *bolt.Tx) error { return copyOld(final, tx, b.ecos) })
		if errors.Is(err, ErrDamaged) {
			// Rolled back: the damaged file is replaced, without what it held.
			res.Warnings = append(res.Warnings, fmt.Sprintf("%v: replacing it; ecosystems it held that this import does not read are dropped", err))
			err = nil
		}
	}
	for _, eco := range sortedKeys(b.ecos) {
		if err != nil {
			break
		}
		if err = ctx.Err(); err != nil {
			break
		}
		ed := b.ecos[eco]
		ed.info.Records = len(ed.records)
		res.Ecosystems = append(res.Ecosystems, ed.info)
		err = writeEco(nb, ed)
	}
	if err == nil {
		err = nb.Sync()
	}
	if cerr := nb.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("writing the database: %w", err)
	}
	if err := os.Rename(tmpName, final); err != nil {
		return nil, err
	}
	ok = true
	if d, err := os.Open(dbDir); err == nil {
		d.Sync()
		d.Close()
	}
	return res, nil
}

// copyOld copies the ecosystems of the existing database that this import
// does not replace.
func copyOld(final string, tx *bolt.Tx, replaced map[string]*ecoData) error {
	if _, err := os.Stat(final); err != nil {
		return nil
	}
	old, _, err := openBolt(final, false)
	if errors.Is(err, ErrDamaged) {
		return err
	}
	if err != nil {
		return fmt.Errorf("opening the existing database: %w", err)
	}
	defer old.Close()
	return guard(final, func() error {
		return old.View(func(otx *bolt.Tx) error {
			if checkFormat(otx) != nil {
				return nil // an old format is dropped entirely
			}
			oecos := otx.Bucket(bucketEcos)
			if oecos == nil {
				return damaged(final, "no ecosystems bucket")
			}
			necos := tx.Bucket(bucketEcos)
			return oecos.ForEachBucket(func(k []byte) error {
				if replaced[string(k)] != nil {
					return nil
				}
				return copyBucket(final, oecos.Bucket(k), necos, bytes.Clone(k))
			})
		})
	})
}

func copyBucket(path string, src, dstParent *bolt.Bucket, name []byte) error {
	if src == nil {
		return damaged(path, "%q is not a bucket", name)
	}
	dst, err := dstParent.CreateBucket(name)
	if err != nil {
		return err
	}
	dst.FillPercent = 1
	return src.ForEach(func(k, v []byte) error {
		if v == nil {
			return copyBucket(path, src.Bucket(k), dst, bytes.Clone(k))
		}
		// Put keeps the slices until commit; the old file is unmapped before.
		return dst.Put(bytes.Clone(k), bytes.Clone(v))
	})
}

// chunk is the number of puts per write transaction: bbolt keeps a
// transaction's dirty pages in memory until it commits.
const chunk = 20_000

// writeEco writes one ecosystem in several transactions, keys in order.
func writeEco(db *bolt.DB, ed *ecoData) error {
	name := []byte(ed.info.Ecosystem)
	err := db.Update(func(tx *bolt.Tx) error {
		eb, err := tx.Bucket(bucketEcos).CreateBucket(name)
		if err != nil {
			return err
		}
		info, _ := json.Marshal(ed.info)
		if err := eb.Put(keyInfo, info); err != nil {
			return err
		}
		if _, err := eb.CreateBucket(bucketRec); err != nil {
			return err
		}
		_, err = eb.CreateBucket(bucketIdx)
		return err
	})
	if err != nil {
		return err
	}
	ids := sortedKeys(ed.records)
	var keys [][]byte
	for _, id := range ids {
		for _, n := range ed.records[id].names {
			keys = append(keys, []byte(n+"\x00"+id))
		}
	}
	sortBytes(keys)
	put := func(bucket []byte, n int, kv func(i int) ([]byte, []byte)) error {
		for lo := 0; lo < n; lo += chunk {
			err := db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketEcos).Bucket(name).Bucket(bucket)
				b.FillPercent = 1 // keys arrive in order
				for i := lo; i < min(lo+chunk, n); i++ {
					k, v := kv(i)
					if err := b.Put(k, v); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	}
	if err := put(bucketRec, len(ids), func(i int) ([]byte, []byte) {
		e := ed.records[ids[i]]
		blob := e.blob
		e.blob = nil // written: let it go
		return []byte(ids[i]), blob
	}); err != nil {
		return err
	}
	return put(bucketIdx, len(keys), func(i int) ([]byte, []byte) { return keys[i], []byte{} })
}

func sortBytes(ks [][]byte) {
	sortSlice(ks)
}
