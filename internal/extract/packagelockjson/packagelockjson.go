// Package packagelockjson declares the shape of npm's package-lock.json and
// npm-shrinkwrap.json as osv-scalibr v0.5.3 decodes it.
//
// The types keep osv-scalibr's package, type, field and tag names on purpose:
// encoding/json names them in its type errors ("cannot unmarshal number into
// Go struct field LockFile.packages.version of type string", "... of type
// map[string]packagelockjson.Dependency"), so a lockfile that osv-scalibr
// refuses is refused here with the very same message. The one addition,
// [Package.Peer], accepts any value and so adds no error.
package packagelockjson

import "encoding/json"

// LockFile is a whole lockfile.
type LockFile struct {
	Version int `json:"lockfileVersion"`
	// npm v1- lockfiles use "dependencies"
	Dependencies map[string]Dependency `json:"dependencies,omitempty"`
	// npm v2+ lockfiles use "packages"
	Packages map[string]Package `json:"packages,omitempty"`
}

// Dependency is an entry of a lockfile v1 "dependencies" tree.
type Dependency struct {
	// For an aliased package, Version is like "npm:[name]@[version]"
	Version  string `json:"version"`
	Resolved string `json:"resolved"`

	Dev      bool `json:"dev,omitempty"`
	Optional bool `json:"optional,omitempty"`

	Requires     map[string]string     `json:"requires,omitempty"`
	Dependencies map[string]Dependency `json:"dependencies,omitempty"`
}

// Package is an entry of a lockfile v2/v3 "packages" map, keyed by its
// install path ("node_modules/a/node_modules/@s/b").
type Package struct {
	// For an aliased package, Name is the real package name
	Name     string `json:"name,omitempty"`
	Version  string `json:"version"`
	Resolved string `json:"resolved"`
	Link     bool   `json:"link,omitempty"`

	Dev         bool `json:"dev,omitempty"`
	DevOptional bool `json:"devOptional,omitempty"`
	Optional    bool `json:"optional,omitempty"`
	InBundle    bool `json:"inBundle,omitempty"`

	Dependencies         map[string]string `json:"dependencies,omitempty"`
	DevDependencies      map[string]string `json:"devDependencies,omitempty"`
	OptionalDependencies map[string]string `json:"optionalDependencies,omitempty"`
	PeerDependencies     map[string]string `json:"peerDependencies,omitempty"`
	PeerDependenciesMeta map[string]struct {
		Optional bool `json:"optional,omitempty"`
	} `json:"peerDependenciesMeta,omitempty"`

	// Peer is the raw "peer" value, which osv-scalibr does not read; it is
	// raw so that no value of it can make a lockfile fail to decode.
	Peer json.RawMessage `json:"peer,omitempty"`
}

// IsPeer reports whether the entry says "peer": true.
func (p Package) IsPeer() bool { return string(p.Peer) == "true" }
