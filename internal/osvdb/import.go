package osvdb

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	kflate "github.com/klauspost/compress/flate"

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
	return ImportWith(ctx, dbDir, ImportOptions{}, paths...)
}

// Limits bound what an import reads, against archives made to exhaust
// memory or time (a 1.5 MB zip can hold a 1.5 GiB entry). Zero means the
// default.
type Limits struct {
	// Record bounds one record, uncompressed (default 16 MiB; OSV records
	// are kilobytes).
	Record int64
	// Archive bounds the uncompressed entries of one zip together (default
	// 8 GiB; osv.dev's largest export is a fraction of it).
	Archive int64
	// Download bounds one downloaded export (default 4 GiB).
	Download int64
}

// ErrTooLarge is returned (wrapped, naming the entry or URL) when an input
// is over a limit.
var ErrTooLarge = errors.New("over the size limit")

func (l Limits) withDefaults() Limits {
	if l.Record <= 0 {
		l.Record = maxRecordSize
	}
	if l.Archive <= 0 {
		l.Archive = 8 << 30
	}
	if l.Download <= 0 {
		l.Download = 4 << 30
	}
	return l
}

// ImportOptions tune ImportWith.
type ImportOptions struct {
	Limits Limits
}

// ImportWith is Import with options.
func ImportWith(ctx context.Context, dbDir string, opts ImportOptions, paths ...string) (*ImportResult, error) {
	var srcs []source
	for _, p := range paths {
		s, err := discover(p)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s...)
	}
	return importSources(ctx, dbDir, srcs, opts.Limits.withDefaults())
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

// worker holds one goroutine's buffers for preparing records.
type worker struct {
	deflate *flate.Writer
	inflate io.ReadCloser
	buf     bytes.Buffer // compressed output
	cbuf    bytes.Buffer // compact JSON
	rbuf    bytes.Buffer // inflated entry
}

func newWorker() *worker {
	fw, _ := flate.NewWriterDict(io.Discard, flate.BestSpeed, dictionary)
	return &worker{deflate: fw, inflate: kflate.NewReader(bytes.NewReader(nil))}
}

// light is the part of a record the index needs.
type light struct {
	ID        string  `json:"id"`
	Modified  osvTime `json:"modified"`
	Published osvTime `json:"published"`
	Withdrawn osvTime `json:"withdrawn"`
	Affected  []struct {
		Package scan.AffectedPackage `json:"package"`
	} `json:"affected"`
}

// osvTime is a timestamp read without copying it: bad when it is not RFC
// 3339 (the record is then repaired, see repairTimes).
type osvTime struct {
	t   time.Time
	bad bool
}

func (o *osvTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if err := o.t.UnmarshalJSON(b); err != nil {
		o.bad = true
		if t, ok := parseLoose(b); ok {
			o.t = t
		}
	}
	return nil
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

// stored is a record as an export holds it: DEFLATE data, after
// blobHeader bytes of room, and the CRC-32 of what it inflates to
// (checked).
type stored struct {
	blob []byte
	crc  uint32
}

// prepare parses, indexes and compresses one record; it touches only the
// worker's buffers, so workers run it in parallel. When st is set, data
// came from st and is stored as the export compressed it.
func (w *worker) prepare(src source, name string, data []byte, st *stored) (prepared, error) {
	if isYAML(name) {
		j, err := yamlToJSON(data)
		if err != nil {
			return prepared{warn: fmt.Sprintf("%s: not an OSV record: %v", name, err)}, nil
		}
		data, st = j, nil
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
		if n = scan.NormalizeName(base, n); !slices.Contains(names[base], n) {
			names[base] = append(names[base], n)
		}
	}
	if src.ecosystem != "" && len(names) == 0 {
		// Kept (it counts in the export) but not indexed.
		names[scan.BaseEcosystem(src.ecosystem)] = nil
	}
	if len(names) == 0 {
		return prepared{warn: fmt.Sprintf("%s: record %s names no package", name, l.ID)}, nil
	}
	var notes []string
	if l.Modified.bad || l.Published.bad || l.Withdrawn.bad {
		var err error
		if data, notes, err = repairTimes(data, l.ID); err != nil {
			return prepared{warn: fmt.Sprintf("%s: not an OSV record: %v", name, err)}, nil
		}
		for i := range notes {
			notes[i] = name + ": " + notes[i]
		}
		st = nil
	}
	p := prepared{id: l.ID, modified: l.Modified.t, names: names, notes: notes}
	if st != nil {
		// As the export has it: recompressing was most of an import's work.
		p.blob = st.blob
		putBlobHeader(p.blob, blobExport, st.crc)
		return p, nil
	}
	// Stored compact (exports are indented), with the dictionary.
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
	p.blob = make([]byte, blobHeader+w.buf.Len())
	copy(p.blob[blobHeader:], w.buf.Bytes())
	putBlobHeader(p.blob, blobDict, crc32.ChecksumIEEE(data))
	return p, nil
}

// tooLarge says that a zip entry is over the record limit.
func tooLarge(zipPath, entry string, size uint64, lim Limits) error {
	return fmt.Errorf("%s: entry %q is %d bytes uncompressed: %w of %d bytes for one record (OSV records are kilobytes)",
		zipPath, entry, size, ErrTooLarge, lim.Record)
}

// readEntry reads a zip entry's stored bytes and inflates them, checking
// the limits, the size and the CRC-32 the zip gives. The stored bytes are
// returned when the entry is DEFLATE data.
func (w *worker) readEntry(zipPath string, f *zip.File, lim Limits) ([]byte, *stored, error) {
	if f.UncompressedSize64 > uint64(lim.Record) || f.CompressedSize64 > uint64(lim.Record) {
		return nil, nil, tooLarge(zipPath, f.Name, f.UncompressedSize64, lim)
	}
	r, err := f.OpenRaw()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %w", zipPath, f.Name, err)
	}
	blob := make([]byte, blobHeader+f.CompressedSize64)
	raw := blob[blobHeader:]
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, fmt.Errorf("%s: %s: %w", zipPath, f.Name, err)
	}
	var st *stored
	w.rbuf.Reset()
	// klauspost's inflater (already in hallmark's build) reads a
	// bytes.Reader without an interface call per byte: ~5% of an import.
	switch f.Method {
	case zip.Store:
		w.rbuf.Write(raw)
	case zip.Deflate:
		if err := w.inflate.(kflate.Resetter).Reset(bytes.NewReader(raw), nil); err != nil {
			return nil, nil, err
		}
		w.rbuf.Grow(int(f.UncompressedSize64) + 1)
		// Held to the declared size (checked against the limit above).
		n, err := w.rbuf.ReadFrom(io.LimitReader(w.inflate, int64(f.UncompressedSize64)+1))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %s: %w", zipPath, f.Name, err)
		}
		if n > int64(f.UncompressedSize64) {
			return nil, nil, fmt.Errorf("%s: entry %q inflates to more than the %d bytes it declares: %w", zipPath, f.Name, f.UncompressedSize64, zip.ErrFormat)
		}
		st = &stored{blob: blob, crc: f.CRC32}
	default:
		return nil, nil, fmt.Errorf("%s: %s: %w (compression method %d)", zipPath, f.Name, zip.ErrAlgorithm, f.Method)
	}
	if uint64(w.rbuf.Len()) != f.UncompressedSize64 || crc32.ChecksumIEEE(w.rbuf.Bytes()) != f.CRC32 {
		return nil, nil, fmt.Errorf("%s: %s: %w", zipPath, f.Name, zip.ErrChecksum)
	}
	return w.rbuf.Bytes(), st, nil
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

// ecoState is one ecosystem being written.
type ecoState struct {
	info   EcosystemInfo
	last   []byte            // the greatest record id written
	latest map[string]uint32 // record id -> seq of its last version
	// The index keys (name NUL id), end to end, where each ends, and the
	// seq of the record version that named it.
	keys []byte
	ends []uint32
	seqs []uint32
}

// builder streams records into the new database, a batch per transaction;
// only the index keys stay in memory until the end, when they are written
// sorted.
type builder struct {
	db   *bolt.DB
	ecos map[string]*ecoState
	res  *ImportResult
	now  time.Time
	lim  Limits
	seq  uint32
	ws   []*worker
	// batches counts the batches written, for tests (batchHook).
	batches int
}

// batchHook, set by tests, is called after each batch is written.
var batchHook func(n int)

func (b *builder) warn(msg string) {
	b.res.Skipped++
	if len(b.res.Warnings) < 20 {
		b.res.Warnings = append(b.res.Warnings, msg)
	}
}

// batchSize is the number of records prepared in parallel, then written in
// one transaction (bbolt holds a transaction's dirty pages in memory).
const batchSize = 4096

// addBatch writes a batch of prepared records (in input order: the last
// version of an id wins).
func (b *builder) addBatch(src source, ps []prepared) error {
	type put struct {
		eco string
		id  []byte
		v   []byte
	}
	puts := make([]put, 0, len(ps))
	for _, p := range ps {
		if p.warn != "" {
			b.warn(p.warn)
			continue
		}
		for _, n := range p.notes {
			b.res.Repaired++
			if len(b.res.Warnings) < 20 {
				b.res.Warnings = append(b.res.Warnings, n)
			}
		}
		b.seq++
		for base, ns := range p.names {
			es := b.ecos[base]
			if es == nil {
				es = &ecoState{info: EcosystemInfo{Ecosystem: base, Origin: src.origin, ImportedAt: b.now, ExportDate: src.exportDate}, latest: map[string]uint32{}}
				b.ecos[base] = es
			}
			if !strings.Contains(es.info.Origin, src.origin) && len(es.info.Origin) < 200 {
				es.info.Origin += ", " + src.origin
			}
			if p.modified.After(es.info.Snapshot) {
				es.info.Snapshot = p.modified.UTC()
			}
			es.latest[p.id] = b.seq
			for _, n := range ns {
				es.keys = append(append(append(es.keys, n...), 0), p.id...)
				es.ends = append(es.ends, uint32(len(es.keys)))
				es.seqs = append(es.seqs, b.seq)
			}
			puts = append(puts, put{eco: base, id: []byte(p.id), v: p.blob})
		}
	}
	if len(puts) == 0 {
		return nil
	}
	// Sorted, in order within an ecosystem: bbolt appends in place.
	sort.SliceStable(puts, func(i, j int) bool {
		if puts[i].eco != puts[j].eco {
			return puts[i].eco < puts[j].eco
		}
		return bytes.Compare(puts[i].id, puts[j].id) < 0
	})
	return b.db.Update(func(tx *bolt.Tx) error {
		var rb *bolt.Bucket
		cur := ""
		for _, p := range puts {
			es := b.ecos[p.eco]
			if rb == nil || p.eco != cur {
				eb, err := tx.Bucket(bucketEcos).CreateBucketIfNotExists([]byte(p.eco))
				if err != nil {
					return err
				}
				if rb, err = eb.CreateBucketIfNotExists(bucketRec); err != nil {
					return err
				}
				cur = p.eco
				// Full pages when records arrive in order (exports are
				// sorted by id), bbolt's default otherwise.
				rb.FillPercent = 1
				if es.last != nil && bytes.Compare(p.id, es.last) <= 0 {
					rb.FillPercent = bolt.DefaultFillPercent
				}
			}
			if err := rb.Put(p.id, p.v); err != nil {
				return err
			}
			if bytes.Compare(p.id, es.last) > 0 {
				es.last = p.id
			}
		}
		return nil
	})
}

// prepareAll runs fn for n inputs on the workers.
func (b *builder) prepareAll(ctx context.Context, n int, out []prepared, fn func(w *worker, i int) (prepared, error)) error {
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for _, w := range b.ws {
		g.Go(func() error {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return nil
				}
				if err := gctx.Err(); err != nil {
					return err
				}
				p, err := fn(w, i)
				if err != nil {
					return err
				}
				out[i] = p
			}
		})
	}
	return g.Wait()
}

func (b *builder) readSource(ctx context.Context, src source) error {
	if !strings.EqualFold(filepath.Ext(src.path), ".zip") {
		fi, err := os.Stat(src.path)
		if err != nil {
			return err
		}
		if fi.Size() > b.lim.Record {
			return fmt.Errorf("%s is %d bytes: %w of %d bytes for one record", src.path, fi.Size(), ErrTooLarge, b.lim.Record)
		}
		data, err := os.ReadFile(src.path)
		if err != nil {
			return err
		}
		p, err := b.ws[0].prepare(src, src.path, data, nil)
		if err != nil {
			return err
		}
		return b.addBatch(src, []prepared{p})
	}
	zr, err := zip.OpenReader(src.path)
	if err != nil {
		return fmt.Errorf("%s: %w", src.path, err)
	}
	defer zr.Close()
	var files []*zip.File
	var total uint64
	for i, f := range zr.File {
		zr.File[i] = nil // released batch by batch below (200k entries: 50 MB)
		ext := strings.ToLower(filepath.Ext(f.Name))
		if f.FileInfo().IsDir() || (ext != ".json" && ext != ".yaml" && ext != ".yml") {
			continue
		}
		// The sizes the zip declares are checked before anything is read;
		// readEntry holds each entry to its declared size.
		if f.UncompressedSize64 > uint64(b.lim.Record) {
			return tooLarge(src.path, f.Name, f.UncompressedSize64, b.lim)
		}
		if total += f.UncompressedSize64; total > uint64(b.lim.Archive) {
			return fmt.Errorf("%s: at entry %q the entries are over %d bytes uncompressed: %w for one archive",
				src.path, f.Name, b.lim.Archive, ErrTooLarge)
		}
		files = append(files, f)
	}
	out := make([]prepared, batchSize)
	for lo := 0; lo < len(files); lo += batchSize {
		if err := ctx.Err(); err != nil {
			return err
		}
		batch := files[lo:min(lo+batchSize, len(files))]
		clear(out)
		err := b.prepareAll(ctx, len(batch), out, func(w *worker, i int) (prepared, error) {
			data, st, err := w.readEntry(src.path, batch[i], b.lim)
			if err != nil {
				return prepared{}, err
			}
			return w.prepare(src, src.path+":"+batch[i].Name, data, st)
		})
		if err != nil {
			return err
		}
		if err := b.addBatch(src, out[:len(batch)]); err != nil {
			return err
		}
		clear(batch)
		if b.batches++; batchHook != nil {
			batchHook(b.batches)
		}
	}
	return nil
}

func importSources(ctx context.Context, dbDir string, srcs []source, lim Limits) (*ImportResult, error) {
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
	// No fsync per transaction: the file is synced once, before the rename.
	nb, err := bolt.Open(tmpName, 0o644, &bolt.Options{NoSync: true, NoGrowSync: true, Timeout: 5 * time.Second,
		FreelistType: bolt.FreelistMapType,
		// Address space only: fewer remaps as the file grows.
		InitialMmapSize: 1 << 30})
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			nb.Close()
		}
	}()
	// The live heap (the zip directory, then the index keys) is small next
	// to what a batch allocates and drops: a lower GC target than the
	// default 100 keeps the peak RSS ~10 MiB lower for a few percent CPU.
	defer debug.SetGCPercent(debug.SetGCPercent(75))
	res := &ImportResult{}
	b := &builder{db: nb, ecos: map[string]*ecoState{}, res: res, now: time.Now().UTC(), lim: lim}
	for range max(1, runtime.GOMAXPROCS(0)) {
		b.ws = append(b.ws, newWorker())
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
	if err != nil {
		return nil, fmt.Errorf("writing the database: %w", err)
	}
	for _, s := range srcs {
		if err := b.readSource(ctx, s); err != nil {
			return nil, err
		}
	}
	if len(b.ecos) == 0 {
		return nil, ErrNoRecords
	}
	for _, eco := range sortedKeys(b.ecos) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		es := b.ecos[eco]
		es.info.Records = len(es.latest)
		res.Ecosystems = append(res.Ecosystems, es.info)
		if err := b.writeIndex(ctx, es); err != nil {
			return nil, fmt.Errorf("writing the database: %w", err)
		}
	}
	err = copyOld(ctx, final, nb, b.ecos)
	if errors.Is(err, ErrDamaged) {
		// The damaged file is replaced, without what it held.
		res.Warnings = append(res.Warnings, fmt.Sprintf("%v: replacing it; ecosystems it held that this import does not read are dropped", err))
		err = nil
	}
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	err = nb.Sync()
	closed = true
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

// chunk is the number of puts per write transaction when writing the index
// and copying: bbolt keeps a transaction's dirty pages in memory.
const chunk = 50_000

// writeIndex writes an ecosystem's info and index, keys in order.
func (b *builder) writeIndex(ctx context.Context, es *ecoState) error {
	keys := make([][]byte, 0, len(es.ends))
	start := uint32(0)
	for i, end := range es.ends {
		k := es.keys[start:end:end]
		start = end
		id := k[bytes.IndexByte(k, 0)+1:]
		if es.latest[string(id)] == es.seqs[i] { // an id's older versions are replaced
			keys = append(keys, k)
		}
	}
	es.latest, es.ends, es.seqs = nil, nil, nil
	sortSlice(keys)
	name := []byte(es.info.Ecosystem)
	err := b.db.Update(func(tx *bolt.Tx) error {
		eb := tx.Bucket(bucketEcos).Bucket(name)
		info, _ := json.Marshal(es.info)
		if err := eb.Put(keyInfo, info); err != nil {
			return err
		}
		_, err := eb.CreateBucket(bucketIdx)
		return err
	})
	if err != nil {
		return err
	}
	for lo := 0; lo < len(keys); lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := b.db.Update(func(tx *bolt.Tx) error {
			ib := tx.Bucket(bucketEcos).Bucket(name).Bucket(bucketIdx)
			ib.FillPercent = 1 // keys arrive in order
			for i := lo; i < min(lo+chunk, len(keys)); i++ {
				if i > lo && bytes.Equal(keys[i], keys[i-1]) {
					continue
				}
				if err := ib.Put(keys[i], []byte{}); err != nil {
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

// copyOld copies the ecosystems of the existing database that this import
// does not replace, a chunk of keys per transaction.
func copyOld(ctx context.Context, final string, nb *bolt.DB, replaced map[string]*ecoState) error {
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
			meta := otx.Bucket(bucketMeta)
			if meta == nil {
				// Every format hallmark wrote has the meta bucket: without
				// it the root page is damaged, not old.
				return damaged(final, "no meta bucket")
			}
			if checkFormat(otx) != nil {
				return nil // an old format is dropped entirely
			}
			oecos := otx.Bucket(bucketEcos)
			if oecos == nil {
				return damaged(final, "no ecosystems bucket")
			}
			var names [][]byte
			err := oecos.ForEachBucket(func(k []byte) error {
				if replaced[string(k)] == nil {
					names = append(names, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, name := range names {
				if err := copyBucket(ctx, final, nb, oecos.Bucket(name), [][]byte{bucketEcos, name}); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// copyBucket copies src (and its sub-buckets) to the bucket at path in db.
// The old file stays mapped until the copy is committed, so its keys and
// values are put without copying them.
func copyBucket(ctx context.Context, file string, db *bolt.DB, src *bolt.Bucket, path [][]byte) error {
	if src == nil {
		return damaged(file, "%q is not a bucket", path[len(path)-1])
	}
	bucket := func(tx *bolt.Tx) (*bolt.Bucket, error) {
		b := tx.Bucket(path[0])
		for _, p := range path[1:] {
			var err error
			if b, err = b.CreateBucketIfNotExists(p); err != nil {
				return nil, err
			}
		}
		b.FillPercent = 1
		return b, nil
	}
	var subs [][]byte
	c := src.Cursor()
	k, v := c.First()
	for k != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := db.Update(func(tx *bolt.Tx) error {
			dst, err := bucket(tx)
			if err != nil {
				return err
			}
			for n := 0; k != nil && n < chunk; k, v = c.Next() {
				if v == nil {
					subs = append(subs, k)
					continue
				}
				if err := dst.Put(k, v); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if len(subs) == 0 {
		return db.Update(func(tx *bolt.Tx) error { _, err := bucket(tx); return err })
	}
	for _, s := range subs {
		if err := copyBucket(ctx, file, db, src.Bucket(s), append(append([][]byte{}, path...), s)); err != nil {
			return err
		}
	}
	return nil
}
