// Package scan matches software packages against OSV vulnerability records.
//
// Scan takes the packages to check (from lockfiles, manifests or SBOMs; see
// hallmark's internal/extract) and a Source of OSV records (a local
// database or the osv.dev API), and evaluates every affected entry and
// every range of each candidate record as the OSV schema specifies:
// ECOSYSTEM and SEMVER ranges with introduced, fixed, last_affected and
// limit events, GIT ranges only against a known commit (a GIT range listed
// first never hides a later ECOSYSTEM range), and versions lists. Versions
// are ordered per ecosystem by osv-scalibr's semantic package. Records that
// name one vulnerability under several ids are one Finding. Packages that
// are not pinned to a version are listed, never matched against their
// floor; what cannot be decided is a Warning naming the package, never a
// silent miss. Findings can be suppressed by an osv-scanner.toml ignore file
// or OpenVEX statements; suppressed findings stay in the Result, marked.
//
// The Result is also the versioned JSON schema of `hallmark scan -o json`
// and records what a signed scan attestation needs: scanner, databases and
// their snapshot dates, start and finish times, ids and severities.
package scan

// Package is one dependency found in a lockfile, manifest or SBOM: what
// extraction produces and matching consumes.
type Package struct {
	// Ecosystem is the OSV ecosystem name: npm, PyPI, Go, Maven, crates.io,
	// RubyGems, Packagist, NuGet, Pub, Hex, CRAN, SwiftURL, ConanCenter, ...
	Ecosystem string `json:"ecosystem"`
	// Name is the package name as the ecosystem writes it (matching
	// normalizes it: PEP 503 for PyPI, group:artifact for Maven, ...).
	Name string `json:"name"`
	// Version is the exact version; empty when the requirement is not a pin.
	Version string `json:"version,omitempty"`
	// Requirement is the original specifier when it is not a pin (">=1.2",
	// "~1.2"): such a package is reported as unpinned, never matched.
	Requirement string `json:"requirement,omitempty"`
	// PURL is the package URL, when the source gives one (SBOMs) or it can
	// be derived.
	PURL string `json:"purl,omitempty"`
	// Commit is a source commit for GIT-range matching, when known.
	Commit string `json:"commit,omitempty"`
	// DepGroups are the dependency groups the package belongs to (npm:
	// prod, dev, optional, peer); empty means prod/unknown.
	DepGroups []string `json:"depGroups,omitempty"`
	// Location is where the package was found.
	Location Location `json:"location"`
}

// Location is a place in a scanned file.
type Location struct {
	// Path is the file, relative to the scanned root when there is one.
	Path string `json:"path"`
	// Line is the 1-based line of the package's entry, 0 when unknown.
	Line int `json:"line,omitempty"`
}

// Unpinned reports whether the package has a requirement but no exact
// version, and so cannot be matched.
func (p Package) Unpinned() bool { return p.Version == "" && p.Requirement != "" }
