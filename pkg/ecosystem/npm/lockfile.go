package npm

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// MaxLockfileSize is the largest package-lock.json read.
const MaxLockfileSize = 256 << 20

// Locked is one package of a lockfile, with the integrity it pins.
type Locked struct {
	Package
	// Digest is the sha512 of its integrity field.
	Digest verify.Digest `json:"digest"`
	// Paths are the lockfile's keys for it (node_modules/...): one package
	// may be installed at several places.
	Paths []string `json:"paths"`
}

// Skipped is a lockfile entry that cannot be verified by attestations, and
// why: a link, a git or file dependency, one without a sha512 integrity.
type Skipped struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	// Invalid: the entry names a registry package (a version and an
	// integrity under node_modules), but with a name, version or sha512
	// integrity npm never writes (a path such as ../../x, a sha512 that
	// is not 64 bytes): a damaged or forged lockfile, to refuse rather
	// than skip.
	Invalid bool `json:"invalid,omitempty"`
	// NoSHA512: a registry package whose integrity has only other
	// algorithms (sha1 of packages published before 2017): it can have no
	// attestations, like a package without provenance.
	NoSHA512 bool `json:"noSha512,omitempty"`
}

// ErrLockfile is wrapped by the errors of a lockfile that does not parse.
var ErrLockfile = errors.New("not an npm lockfile")

// ParseLockfile reads a package-lock.json (or npm-shrinkwrap.json) of
// lockfileVersion 2 or 3: its "packages" map. Each registry package (an
// entry with a version and an integrity, not a link and not the root)
// appears once per name and version, sorted; the entries that cannot be
// verified are returned as Skipped. Version 1 lockfiles have no "packages"
// map and are refused (npm 7 and later rewrite them).
func ParseLockfile(data []byte) ([]Locked, []Skipped, error) {
	if len(data) > MaxLockfileSize {
		return nil, nil, fmt.Errorf("%w: %d bytes, more than %d", ErrLockfile, len(data), MaxLockfileSize)
	}
	var raw struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			Name      string `json:"name"`
			Version   string `json:"version"`
			Resolved  string `json:"resolved"`
			Integrity string `json:"integrity"`
			Link      bool   `json:"link"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrLockfile, err)
	}
	switch {
	case raw.LockfileVersion < 2 && raw.Packages == nil:
		return nil, nil, fmt.Errorf("%w: lockfileVersion %d has no \"packages\" map: run npm install with npm 7 or later to rewrite it as version 3", ErrLockfile, raw.LockfileVersion)
	case raw.LockfileVersion > 3:
		return nil, nil, fmt.Errorf("%w: lockfileVersion %d is newer than the 3 this reads", ErrLockfile, raw.LockfileVersion)
	}
	byKey := map[string]*Locked{}
	var skipped []Skipped
	for path, e := range raw.Packages {
		if path == "" {
			continue // the project itself
		}
		i := strings.LastIndex(path, "node_modules/")
		if i < 0 {
			skipped = append(skipped, Skipped{Path: path, Reason: "a workspace or local folder, not a registry package"})
			continue
		}
		name := path[i+len("node_modules/"):]
		if e.Name != "" {
			name = e.Name // an alias: node_modules/ALIAS installs NAME
		}
		switch {
		case e.Link:
			skipped = append(skipped, Skipped{Path: path, Reason: "a link to a local folder"})
			continue
		case e.Integrity == "":
			why := "no integrity (a git, file or tarball URL dependency)"
			if e.Resolved == "" && e.Version == "" {
				why = "no version and no integrity"
			}
			skipped = append(skipped, Skipped{Path: path, Reason: why})
			continue
		}
		p, err := ParsePackage(name, e.Version)
		if err != nil {
			skipped = append(skipped, Skipped{Path: path, Reason: err.Error(), Invalid: true})
			continue
		}
		d, err := ParseIntegrity(e.Integrity)
		if err != nil {
			noSHA512 := errors.Is(err, ErrNoSHA512)
			skipped = append(skipped, Skipped{Path: path, Reason: err.Error(), Invalid: !noSHA512, NoSHA512: noSHA512})
			continue
		}
		key := p.String()
		if l, ok := byKey[key]; ok {
			if l.Digest != d {
				return nil, nil, fmt.Errorf("%w: %s has two integrities (%s and %s)", ErrLockfile, key, l.Paths[0], path)
			}
			l.Paths = append(l.Paths, path)
			continue
		}
		byKey[key] = &Locked{Package: p, Digest: d, Paths: []string{path}}
	}
	out := make([]Locked, 0, len(byKey))
	for _, l := range byKey {
		sort.Strings(l.Paths)
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].Version < out[j].Version
	})
	sort.Slice(skipped, func(i, j int) bool { return skipped[i].Path < skipped[j].Path })
	return out, skipped, nil
}
