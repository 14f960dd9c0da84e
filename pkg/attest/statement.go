package attest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"path/filepath"
	"slices"
	"strings"

	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// StatementType is the in-toto statement type hallmark writes.
const StatementType = intotov1.StatementTypeUri

// MaxDocumentSize bounds a statement or predicate read into memory (the
// DSSE envelope carries it whole).
const MaxDocumentSize = 16 << 20

// Digest algorithms a file subject can be hashed with.
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// hashBufSize is the read size of file hashing: large enough that the
// system calls cost nothing next to the hash.
const hashBufSize = 1 << 20

// HashFile hashes the file at path once, with every algorithm of algs
// (SHA256, SHA512), and returns the subject named name (the file's base
// name when empty).
func HashFile(ctx context.Context, path, name string, algs ...string) (*intotov1.ResourceDescriptor, error) {
	if len(algs) == 0 {
		algs = []string{SHA256}
	}
	hashes := map[string]hash.Hash{}
	var ws []io.Writer
	for _, alg := range algs {
		if _, dup := hashes[alg]; dup {
			continue
		}
		var h hash.Hash
		switch alg {
		case SHA256:
			h = sha256.New()
		case SHA512:
			h = sha512.New()
		default:
			return nil, fmt.Errorf("%w: digest algorithm %q (want sha256 or sha512)", ErrSubject, alg)
		}
		hashes[alg] = h
		ws = append(ws, h)
	}
	f, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	w := ws[0]
	if len(ws) > 1 {
		w = io.MultiWriter(ws...)
	}
	buf := make([]byte, hashBufSize)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		n, err := f.Read(buf)
		w.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
	}
	if name == "" {
		name = filepath.Base(path)
	}
	rd := &intotov1.ResourceDescriptor{Name: name, Digest: map[string]string{}}
	for alg, h := range hashes {
		rd.Digest[alg] = hex.EncodeToString(h.Sum(nil))
	}
	return rd, nil
}

// ParseSubject reads a subject given by digest: NAME=ALG:HEX (for example
// app.tgz=sha256:2c26b4...), ALG one of sha256, sha384 and sha512 (the
// digests a verifier can match a file against). The digest is checked for
// its algorithm's length.
func ParseSubject(s string) (*intotov1.ResourceDescriptor, error) {
	// NAME may itself contain "="; the digest never does.
	i := strings.LastIndex(s, "=")
	if i < 0 {
		return nil, fmt.Errorf("%w: %q is not NAME=ALG:HEX", ErrSubject, s)
	}
	name, digest := s[:i], s[i+1:]
	alg, hexDigest, ok := strings.Cut(digest, ":")
	if !ok || name == "" || alg == "" || hexDigest == "" {
		return nil, fmt.Errorf("%w: %q is not NAME=ALG:HEX", ErrSubject, s)
	}
	alg = strings.ToLower(alg)
	if alg != SHA256 && alg != "sha384" && alg != SHA512 {
		return nil, fmt.Errorf("%w: %q: the digest algorithm %q is not sha256, sha384 or sha512", ErrSubject, s, alg)
	}
	rd := &intotov1.ResourceDescriptor{Name: name, Digest: map[string]string{alg: strings.ToLower(hexDigest)}}
	if err := rd.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %q: %w", ErrSubject, s, err)
	}
	if _, err := hex.DecodeString(hexDigest); err != nil {
		return nil, fmt.Errorf("%w: %q: the digest is not hexadecimal", ErrSubject, s)
	}
	return rd, nil
}

// NewStatement makes a Statement v1 of subjects and a predicate of type
// predicateType (a short name or a URI), and checks it.
func NewStatement(subjects []*intotov1.ResourceDescriptor, predicateType string, predicate *structpb.Struct) (*intotov1.Statement, error) {
	uri, ok := PredicateType(predicateType)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrType, predicateType)
	}
	st := &intotov1.Statement{Type: StatementType, Subject: subjects, PredicateType: uri, Predicate: predicate}
	if err := checkStatement(st); err != nil {
		return nil, err
	}
	return st, nil
}

// checkStatement runs the in-toto library's checks, and refuses the same
// subject name twice.
func checkStatement(st *intotov1.Statement) error {
	if err := st.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrStatement, err)
	}
	var names []string
	for _, s := range st.GetSubject() {
		if s.GetName() != "" && slices.Contains(names, s.GetName()) {
			return fmt.Errorf("%w: the subject %q is given twice", ErrStatement, s.GetName())
		}
		names = append(names, s.GetName())
	}
	return nil
}

// MarshalStatement encodes a statement as the compact JSON a DSSE
// envelope carries.
func MarshalStatement(st *intotov1.Statement) ([]byte, error) {
	data, err := protojson.Marshal(st)
	if err != nil {
		return nil, err
	}
	// protojson varies its whitespace on purpose: compact it for stable
	// bytes.
	var out bytes.Buffer
	if err := json.Compact(&out, data); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// ParseStatement reads an in-toto Statement (v1, or the legacy v0.1 type)
// and checks it; a known predicate type's predicate is validated too.
func ParseStatement(data []byte) (*intotov1.Statement, error) {
	if len(data) > MaxDocumentSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrStatement, MaxDocumentSize)
	}
	st := &intotov1.Statement{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStatement, err)
	}
	if err := checkStatement(st); err != nil {
		return nil, err
	}
	if known(st.GetPredicateType()) {
		raw, err := protojson.Marshal(st.GetPredicate())
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrStatement, err)
		}
		if _, _, err := ReadPredicate(st.GetPredicateType(), raw); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// HasSubject reports whether st has a subject with every digest of rd
// that both name (and at least one).
func HasSubject(st *intotov1.Statement, rd *intotov1.ResourceDescriptor) bool {
	for _, s := range st.GetSubject() {
		common := 0
		match := true
		for alg, v := range rd.GetDigest() {
			if w, ok := s.GetDigest()[alg]; ok {
				common++
				match = match && strings.EqualFold(v, w)
			}
		}
		if common > 0 && match {
			return true
		}
	}
	return false
}
