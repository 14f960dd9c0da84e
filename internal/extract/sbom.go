package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/sbom/cdx"
	"github.com/google/osv-scalibr/extractor/filesystem/sbom/spdx"
)

// SBOM formats accepted by [ExtractSBOM].
const (
	CycloneDXJSON = "cyclonedx+json"
	CycloneDXXML  = "cyclonedx+xml"
	SPDXJSON      = "spdx+json"
	SPDXTagValue  = "spdx"
	SPDXXML       = "spdx+xml" // RDF/XML
)

// ErrUnknownSBOMFormat is returned by [ExtractSBOM] when the hint names no
// supported format and the document's content does not tell.
var ErrUnknownSBOMFormat = errors.New("unknown SBOM format")

// SBOMFormat resolves a format hint to one of the format constants: a
// constant itself, "cyclonedx" or "spdx" (JSON assumed), a media type
// (application/vnd.cyclonedx+json, application/spdx+json, text/spdx, ...) or
// an in-toto predicate type (https://cyclonedx.org/bom,
// https://spdx.dev/Document). An empty or unknown hint is resolved from the
// content: a JSON document with "bomFormat" is CycloneDX, one with
// "spdxVersion" SPDX; XML with a CycloneDX namespace is CycloneDX.
func SBOMFormat(hint string, data []byte) (string, error) {
	h := strings.ToLower(strings.TrimSpace(hint))
	if i := strings.IndexByte(h, ';'); i >= 0 { // media type parameters
		h = strings.TrimSpace(h[:i])
	}
	switch {
	case h == CycloneDXJSON, h == CycloneDXXML, h == SPDXJSON, h == SPDXTagValue, h == SPDXXML:
		return h, nil
	case h == "application/vnd.cyclonedx+xml", h == "cyclonedx-xml":
		return CycloneDXXML, nil
	case h == "application/vnd.cyclonedx+json", h == "cyclonedx", h == "cyclonedx-json",
		strings.HasPrefix(h, "https://cyclonedx.org/bom"):
		return CycloneDXJSON, nil
	case h == "text/spdx", h == "spdx-tag-value", h == "tag-value":
		return SPDXTagValue, nil
	case h == "application/spdx+xml", h == "application/rdf+xml":
		return SPDXXML, nil
	case h == "application/spdx+json", h == "spdx-json",
		strings.HasPrefix(h, "https://spdx.dev/document"):
		return SPDXJSON, nil
	}
	head := data[:min(len(data), 4096)]
	trimmed := bytes.TrimSpace(head)
	switch {
	case bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(head, []byte(`"bomFormat"`)):
		return CycloneDXJSON, nil
	case bytes.HasPrefix(trimmed, []byte("{")) && bytes.Contains(head, []byte(`"spdxVersion"`)):
		return SPDXJSON, nil
	case bytes.HasPrefix(trimmed, []byte("<")) && bytes.Contains(head, []byte("cyclonedx.org/schema/bom")):
		return CycloneDXXML, nil
	case bytes.HasPrefix(trimmed, []byte("<")) && bytes.Contains(head, []byte("spdx.org/rdf")):
		return SPDXXML, nil
	case bytes.HasPrefix(trimmed, []byte("SPDXVersion:")):
		return SPDXTagValue, nil
	}
	if hint == "" {
		return "", ErrUnknownSBOMFormat
	}
	return "", fmt.Errorf("%w %q", ErrUnknownSBOMFormat, hint)
}

// ExtractSBOM extracts the packages of an SBOM held in memory, such as the
// predicate of a verified attestation. name labels the packages' Location
// (for example "attestation.intoto.jsonl#sbom"); hint is given to
// [SBOMFormat]. A document that does not parse is a [FileError] wrapping
// [ErrMalformed].
func ExtractSBOM(ctx context.Context, name string, data []byte, hint string, opts Options) (*Result, error) {
	format, err := SBOMFormat(hint, data)
	if err != nil {
		return nil, &FileError{Path: name, Kind: ErrUnknownFormat, Err: err}
	}
	// The extractors choose a decoder by file name.
	target := map[string]struct{ file, extractor string }{
		CycloneDXJSON: {"sbom.cdx.json", cdx.Name},
		CycloneDXXML:  {"sbom.cdx.xml", cdx.Name},
		SPDXJSON:      {"sbom.spdx.json", spdx.Name},
		SPDXTagValue:  {"sbom.spdx", spdx.Name},
		SPDXXML:       {"sbom.spdx.xml", spdx.Name},
	}[format]
	file, exName := target.file, target.extractor
	return extractMemory(ctx, name, file, data, opts, func(l loaded) bool { return l.name == exName })
}

// extractMemory runs the extractors that accept (by file name, or by want
// when it is not nil) an in-memory document named file; name labels the
// result. matched is reported as ErrUnknownFormat when nothing accepted it.
func extractMemory(ctx context.Context, name, file string, data []byte, opts Options, want func(loaded) bool) (*Result, error) {
	exs, err := extractors()
	if err != nil {
		return nil, fmt.Errorf("initialising extractors: %w", err)
	}
	fsys := memFS{name: file, data: data}
	info := memInfo{name: path.Base(file), size: int64(len(data))}
	api := &fileAPI{path: file, info: info}
	x := &run{ctx: ctx, opts: opts, exs: exs, res: &Result{}}
	matched := false
	for _, l := range exs {
		if want != nil && !want(l) || want == nil && !safeFileRequired(l.ex, api) {
			continue
		}
		matched = true
		inv, err := safeExtract(ctx, l.ex, &filesystem.ScanInput{FS: fsys, Path: file, Root: "/", Info: info, Reader: bytes.NewReader(data)})
		if err != nil {
			return nil, &FileError{Path: name, Extractor: l.name, Kind: ErrMalformed, Err: renamed{err, file, name}}
		}
		n := x.add(inv, l.plugin, func(string) string { return name }, name)
		x.res.Files = append(x.res.Files, FileResult{Path: name, Extractor: l.name, Packages: n})
	}
	if !matched {
		return nil, &FileError{Path: name, Kind: ErrUnknownFormat}
	}
	x.finish()
	return x.res, nil
}

// memFS is a one-file filesystem holding an in-memory document.
type memFS struct {
	name string
	data []byte
}

func (m memFS) Open(name string) (fs.File, error) {
	if name != m.name {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return &memFile{Reader: bytes.NewReader(m.data), info: memInfo{name: m.name, size: int64(len(m.data))}}, nil
}

func (m memFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name != "." {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return []fs.DirEntry{fs.FileInfoToDirEntry(memInfo{name: m.name, size: int64(len(m.data))})}, nil
}

func (m memFS) Stat(name string) (fs.FileInfo, error) {
	if name != m.name {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return memInfo{name: m.name, size: int64(len(m.data))}, nil
}

type memFile struct {
	*bytes.Reader
	info memInfo
}

func (f *memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *memFile) Close() error               { return nil }

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() fs.FileMode  { return 0o444 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() any           { return nil }
