package osvdb

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged is returned (wrapped, with the reason) when the database file
// is damaged: truncated, overwritten, empty. Importing again replaces it.
var ErrDamaged = errors.New("the vulnerability database is damaged")

func damaged(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrDamaged, path, fmt.Sprintf(format, args...))
}

// bbolt's file layout (go.etcd.io/bbolt/internal/common, not exported):
// every page starts with a 16-byte header; pages 0 and 1 hold a meta
// record each, the one with the higher transaction id that validates
// (magic, version, FNV-64a checksum) is current.
const (
	pageHeaderSize = 16
	metaSize       = 64 // up to and including the checksum
	boltMagic      = 0xED0CDAED
	boltVersion    = 2
	noFreelist     = ^uint64(0)
)

type boltMeta struct {
	pageSize uint32
	root     uint64
	freelist uint64
	pgid     uint64 // high-water mark: pages [0, pgid) are in the file
	txid     uint64
}

// parseMeta reads the meta record of a page (b starts at the page), or
// says why it is not valid.
func parseMeta(b []byte) (boltMeta, error) {
	if len(b) < pageHeaderSize+metaSize {
		return boltMeta{}, errors.New("short")
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	le := binary.NativeEndian
	if le.Uint32(m[0:]) != boltMagic {
		return boltMeta{}, errors.New("not a bbolt meta page")
	}
	if le.Uint32(m[4:]) != boltVersion {
		return boltMeta{}, fmt.Errorf("bbolt version %d", le.Uint32(m[4:]))
	}
	h := fnv.New64a()
	h.Write(m[:56])
	if h.Sum64() != le.Uint64(m[56:]) {
		return boltMeta{}, errors.New("checksum mismatch")
	}
	return boltMeta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]),
		pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, nil
}

// checkFile checks the file's size and header before bbolt maps it: bbolt
// trusts them, and reading a mapped page past the end of a truncated file
// is a SIGBUS no Go code can recover from. It returns the current meta.
func checkFile(path string) (boltMeta, error) {
	f, err := os.Open(path)
	if err != nil {
		return boltMeta{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return boltMeta{}, err
	}
	size := fi.Size()
	if size == 0 {
		return boltMeta{}, damaged(path, "the file is empty")
	}
	read := func(off int64) []byte {
		b := make([]byte, pageHeaderSize+metaSize)
		n, _ := f.ReadAt(b, off)
		return b[:n]
	}
	m0, err0 := parseMeta(read(0))
	// Page 1 starts at the page size, which only a valid meta tells; like
	// bbolt, try the sizes it supports when page 0 is damaged.
	var m1 boltMeta
	err1 := errors.New("not found")
	if err0 == nil {
		m1, err1 = parseMeta(read(int64(m0.pageSize)))
	} else {
		for ps := int64(1024); ps <= 1<<24 && ps < size; ps <<= 1 {
			if m1, err1 = parseMeta(read(ps)); err1 == nil && int64(m1.pageSize) == ps {
				break
			}
			err1 = errors.New("not found")
		}
	}
	var m boltMeta
	switch {
	case err0 != nil && err1 != nil:
		return boltMeta{}, damaged(path, "no valid bbolt header (meta page 0: %v; meta page 1: %v)", err0, err1)
	case err0 != nil:
		m = m1
	case err1 != nil || m0.txid >= m1.txid:
		m = m0
	default:
		m = m1
	}
	ps := uint64(m.pageSize)
	if ps < 512 || ps > 1<<24 || ps&(ps-1) != 0 {
		return boltMeta{}, damaged(path, "page size %d in the header", ps)
	}
	if m.pgid < 3 || m.pgid > uint64(size)/ps {
		return boltMeta{}, damaged(path, "the file is %d bytes but its header says %d pages of %d bytes (%d bytes): it was truncated",
			size, m.pgid, ps, m.pgid*ps)
	}
	if m.root < 2 || m.root >= m.pgid || (m.freelist != noFreelist && (m.freelist < 2 || m.freelist >= m.pgid)) {
		return boltMeta{}, damaged(path, "the header points outside the file")
	}
	return m, nil
}

const (
	metaPageFlag     = 0x04
	freelistPageFlag = 0x10
)

// checkPageHeader checks that page id of the file says it is page id, of
// the given type.
func checkPageHeader(path string, pageSize int64, id uint64, flags uint16) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var h [pageHeaderSize]byte
	if _, err := f.ReadAt(h[:], int64(id)*pageSize); err != nil {
		return damaged(path, "page %d: %v", id, err)
	}
	gotID, gotFlags := binary.NativeEndian.Uint64(h[0:]), binary.NativeEndian.Uint16(h[8:])
	if gotID != id || gotFlags != flags {
		return damaged(path, "page %d says it is page %d with flags %#x, want flags %#x", id, gotID, gotFlags, flags)
	}
	return nil
}

// guard runs fn, a read of the mapped file, turning a panic in bbolt (it
// trusts the pages it reads) and a memory fault (a page past the end of
// the file) into ErrDamaged.
func guard(path string, fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = damaged(path, "reading it failed: %v", r)
		}
	}()
	return fn()
}

// openBolt opens a database file read-only after checkFile.
func openBolt(path string, preloadFreelist bool) (*bolt.DB, boltMeta, error) {
	m, err := checkFile(path)
	if err != nil {
		return nil, m, err
	}
	var b *bolt.DB
	err = guard(path, func() error {
		var err error
		b, err = bolt.Open(path, 0o444, &bolt.Options{ReadOnly: true, Timeout: 5 * time.Second, PreLoadFreelist: preloadFreelist})
		if err != nil {
			return fmt.Errorf("opening %s: %w", path, err)
		}
		return nil
	})
	return b, m, err
}

// Check reads every page, record and index entry of the database and then
// runs bbolt's consistency check (page references, freelist, key order);
// a nil error means the database is sound. It returns the number of
// records read.
func Check(ctx context.Context, dbDir string) (records int, err error) {
	d, err := Open(dbDir)
	if err != nil {
		return 0, err
	}
	d.Close()
	// Reopened with the freelist loaded here, under guard: bbolt's Check
	// runs in a goroutine of its own, where a panic could not be recovered.
	b, m, err := openBolt(d.path, true)
	if err != nil {
		return 0, err
	}
	defer b.Close()
	err = guard(d.path, func() error {
		return b.View(func(tx *bolt.Tx) error {
			n, err := walk(ctx, d.path, tx)
			records = n
			return err
		})
	})
	if err != nil {
		return records, err
	}
	if m.freelist == noFreelist {
		// hallmark writes the freelist since format 3; bbolt would rebuild
		// it in a goroutine that panics on the first inconsistency.
		return records, damaged(d.path, "the file has no freelist")
	}
	// bbolt's check asserts, out of guard's reach too, that the pages it
	// starts from say who they are.
	for _, pg := range []struct {
		id    uint64
		flags uint16
	}{{0, metaPageFlag}, {1, metaPageFlag}, {m.freelist, freelistPageFlag}} {
		if err := checkPageHeader(d.path, int64(m.pageSize), pg.id, pg.flags); err != nil {
			return records, err
		}
	}
	var errs []error
	err = guard(d.path, func() error {
		return b.View(func(tx *bolt.Tx) error {
			for e := range tx.Check() {
				if len(errs) < 5 {
					errs = append(errs, e)
				}
			}
			return nil
		})
	})
	if err != nil {
		return records, err
	}
	if len(errs) > 0 {
		return records, damaged(d.path, "bbolt consistency check: %v", errors.Join(errs...))
	}
	return records, nil
}

// walk reads every ecosystem's info, records (inflated) and index entries.
func walk(ctx context.Context, path string, tx *bolt.Tx) (int, error) {
	if err := checkFormat(tx); err != nil {
		return 0, err
	}
	ecos := tx.Bucket(bucketEcos)
	if ecos == nil {
		return 0, damaged(path, "no ecosystems bucket")
	}
	n := 0
	err := ecos.ForEachBucket(func(name []byte) error {
		eb := ecos.Bucket(name)
		if _, err := readInfo(path, eb); err != nil {
			return err
		}
		rec, idx := eb.Bucket(bucketRec), eb.Bucket(bucketIdx)
		if rec == nil || idx == nil {
			return damaged(path, "ecosystem %q has no record or index bucket", name)
		}
		err := rec.ForEach(func(k, v []byte) error {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			// The record's CRC-32 is checked: no need to parse it.
			if _, err := decodeBlob(v); err != nil {
				return damaged(path, "record %s/%q: %v", name, k, err)
			}
			return nil
		})
		if err != nil {
			return err
		}
		return idx.ForEach(func(k, _ []byte) error {
			i := bytes.IndexByte(k, 0)
			if i < 0 || rec.Get(k[i+1:]) == nil {
				return damaged(path, "index entry %q of %s names no record", k, name)
			}
			return nil
		})
	})
	return n, err
}
