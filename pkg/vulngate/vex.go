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
	return indexVEX(docs).covers(art, f)
}

// vexIndex finds the statements that name a vulnerability id without
// reading every statement for every finding: a VEX document of a million
// statements against a scan of thousands of findings costs one pass over
// the statements, not one per finding.
type vexIndex struct {
	docs []*scan.VEXDocument
	byID map[string][]stmtRef
}

// stmtRef is statement i of document doc.
type stmtRef struct{ doc, i int }

func indexVEX(docs []*scan.VEXDocument) *vexIndex {
	x := &vexIndex{docs: docs, byID: map[string][]stmtRef{}}
	for di, d := range docs {
		if d == nil {
			continue
		}
		for i, st := range d.Statements {
			v := st.Vulnerability
			names := append([]string{v.Name, v.ID}, v.Aliases...)
			for j, n := range names {
				if n == "" || slices.Contains(names[:j], n) {
					continue // a statement is listed once per id
				}
				x.byID[n] = append(x.byID[n], stmtRef{di, i})
			}
		}
	}
	return x
}

// covers is Covers over the indexed documents: the statements naming one
// of f's ids, in document and statement order.
func (x *vexIndex) covers(art Artifact, f Finding) (VEXRef, bool) {
	ids := f.IDs()
	var refs []stmtRef
	for _, id := range ids {
		refs = append(refs, x.byID[id]...)
	}
	slices.SortFunc(refs, func(a, b stmtRef) int {
		if a.doc != b.doc {
			return a.doc - b.doc
		}
		return a.i - b.i
	})
	refs = slices.Compact(refs)
	var cover *VEXRef
	for _, r := range refs {
		d := x.docs[r.doc]
		st := d.Statements[r.i]
		id, ok := namesOneOf(st.Vulnerability, ids)
		if !ok || !productsCover(st.Products, art, f) {
			continue
		}
		switch st.Status {
		case "not_affected", "fixed":
			if cover == nil {
				cover = &VEXRef{Source: d.Source, Statement: r.i, ID: id, Status: st.Status, Justification: st.Justification}
			}
		default:
			// affected, under_investigation: nothing covers f.
			return VEXRef{}, false
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
