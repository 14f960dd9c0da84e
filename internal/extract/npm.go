package extract

import (
	"encoding/json"
	"strings"

	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/metadata"
	"github.com/google/osv-scalibr/inventory"
)

// addNpmPeerGroups adds the "peer" dependency group, which osv-scalibr's
// package-lock.json extractor does not report, to the packages a v2/v3
// lockfile marks "peer": true. The file has already parsed, so errors here
// only mean there is nothing to add. read reads the lockfile again, through
// the same bounded, confined reader.
func addNpmPeerGroups(read func() ([]byte, error), inv inventory.Inventory) {
	b, err := read()
	if err != nil {
		return
	}
	var lock struct {
		Packages map[string]struct {
			Name    string `json:"name"`
			Version string `json:"version"`
			Peer    bool   `json:"peer"`
		} `json:"packages"`
	}
	if json.Unmarshal(b, &lock) != nil {
		return
	}
	peers := map[string]bool{}
	for key, p := range lock.Packages {
		if !p.Peer {
			continue
		}
		name := p.Name
		if name == "" {
			_, name, _ = cutLast(key, "node_modules/")
		}
		peers[name+"@"+p.Version] = true
	}
	if len(peers) == 0 {
		return
	}
	for _, p := range inv.Packages {
		m, ok := p.Metadata.(*metadata.JavascriptPackageMetadata)
		if ok && peers[p.Name+"@"+p.Version] && !contains(m.DepGroupVals, "peer") {
			m.DepGroupVals = append(m.DepGroupVals, "peer")
		}
	}
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, s, false
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
