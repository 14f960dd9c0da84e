package vulngate

import (
	"slices"
	"strings"

	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// Covers reports whether the VEX documents cover finding f of the artifact,
// and by which statement. A statement is about f when its vulnerability
// (name, @id or an alias) is one of f's ids and one of its products is the
// artifact: a product whose hashes hold one of the artifact's digests
// ("sha-256", "sha-384", "sha-512", or the same without the dash). A
// product with subcomponents is about f only when one of them is f's
// package (by PURL, any version when the subcomponent names none).
//
// f is covered when a statement about it says not_affected or fixed and
// none says affected or under_investigation: statements that contradict
// one another cover nothing (fail closed, whatever their timestamps),
// so a stale statement must be removed, not outvoted.
func Covers(docs []*scan.VEXDocument, art Artifact, f Finding) (VEXRef, bool) {
	var cover *VEXRef
	ids := f.IDs()
	for _, d := range docs {
		if d == nil {
			continue
		}
		for i, st := range d.Statements {
			id, ok := namesOneOf(st.Vulnerability, ids)
			if !ok || !productsCover(st.Products, art, f) {
				continue
			}
			switch st.Status {
			case "not_affected", "fixed":
				if cover == nil {
					cover = &VEXRef{Source: d.Source, Statement: i, ID: id, Status: st.Status, Justification: st.Justification}
				}
			default:
				// affected, under_investigation: nothing covers f.
				return VEXRef{}, false
			}
		}
	}
	if cover == nil {
		return VEXRef{}, false
	}
	return *cover, true
}

func namesOneOf(v scan.VEXVulnerability, ids []string) (string, bool) {
	for _, n := range append([]string{v.Name, v.ID}, v.Aliases...) {
		if n != "" && slices.Contains(ids, n) {
			return n, true
		}
	}
	return "", false
}

func productsCover(ps []scan.VEXProduct, art Artifact, f Finding) bool {
	for _, p := range ps {
		if !isArtifact(p, art) {
			continue
		}
		if len(p.Subs) == 0 {
			return true
		}
		for _, s := range p.Subs {
			if u := s.PURL(); u != "" && f.Package.PURL != "" && scan.PURLMatches(u, f.Package.PURL) {
				return true
			}
		}
	}
	return false
}

// isArtifact reports whether a product's hashes name one of the artifact's
// digests.
func isArtifact(p scan.VEXProduct, art Artifact) bool {
	for alg, v := range p.Hashes {
		want, ok := art.Digests[strings.ReplaceAll(strings.ToLower(alg), "-", "")]
		if ok && want != "" && strings.EqualFold(strings.TrimSpace(v), want) {
			return true
		}
	}
	return false
}
