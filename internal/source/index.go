package source

import (
	"sort"
	"strings"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Index finds bundles by the digests they claim to cover. The zero value
// is empty and ready to use.
type Index struct {
	byDigest map[verify.Digest][]*Bundle
	n        int
}

// NewIndex indexes bs.
func NewIndex(bs ...*Bundle) *Index {
	ix := &Index{}
	ix.Add(bs...)
	return ix
}

// Add indexes bs, each under every digest it claims to cover. A bundle that
// names the same digest twice is listed once under it.
func (ix *Index) Add(bs ...*Bundle) {
	if ix.byDigest == nil {
		ix.byDigest = map[verify.Digest][]*Bundle{}
	}
	for _, b := range bs {
		ix.n++
		seen := map[verify.Digest]bool{}
		for _, d := range b.Coverage.Digests {
			d = normal(d)
			if seen[d] {
				continue
			}
			seen[d] = true
			ix.byDigest[d] = append(ix.byDigest[d], b)
		}
	}
}

// Lookup returns the bundles that claim to cover d, in the order they were
// added.
func (ix *Index) Lookup(d verify.Digest) []*Bundle { return ix.byDigest[normal(d)] }

// Len is the number of bundles indexed.
func (ix *Index) Len() int { return ix.n }

func normal(d verify.Digest) verify.Digest {
	return verify.Digest{Algorithm: strings.ToLower(d.Algorithm), Value: strings.ToLower(d.Value)}
}

// Algorithms lists the digest algorithms of the indexed bundles.
func (ix *Index) Algorithms() []string {
	seen := map[string]bool{}
	var out []string
	for d := range ix.byDigest {
		if !seen[d.Algorithm] {
			seen[d.Algorithm] = true
			out = append(out, d.Algorithm)
		}
	}
	sort.Strings(out)
	return out
}
