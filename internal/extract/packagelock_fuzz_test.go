package extract

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzPackageLockReader mutates the package-lock fixtures and compares the
// reader with osv-scalibr on each input: the same error, or the same
// packages (see compareWithScalibr).
func FuzzPackageLockReader(f *testing.F) {
	n := 0
	for _, b := range lockFixtures(f) {
		if len(b) <= 16<<10 { // the real large lockfiles would only slow mutation
			f.Add(b)
			n++
		}
	}
	if n < 10 {
		f.Fatalf("only %d package-lock seeds found", n)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithScalibr(t, data, 2)
	})
}

// FuzzPackageLockGenerated builds a lockfile from the fuzz input, from a
// grammar of what makes osv-scalibr's reading subtle: v1 trees and v2
// install paths, aliases, commits, file: and link entries, groups, peer
// flags, keys that repeat or are escaped, "packages" spelt twice or
// "Packages", one entry per line or all on one, and compares the reader
// with osv-scalibr on it.
func FuzzPackageLockGenerated(f *testing.F) {
	// Seeds: fixed pseudo-random inputs whose lockfiles hold packages.
	rng := rand.New(rand.NewPCG(8, 13))
	seeds := 0
	for range 400 {
		s := make([]byte, 96)
		for i := range s {
			s[i] = byte(rng.Uint32())
		}
		if groups, err := readerPackageLock(f, generateLock(s)); err == nil && len(groups) >= 2 {
			f.Add(s)
			if seeds++; seeds == 24 {
				break
			}
		}
	}
	if seeds < 10 {
		f.Fatalf("only %d seeds generate lockfiles with packages", seeds)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		compareWithScalibr(t, generateLock(data), 2)
	})
}

// lockGen draws choices from the fuzz input; past its end every choice is
// the first.
type lockGen struct {
	data []byte
	i    int
	b    *strings.Builder
}

// nested returns what write writes.
func (g *lockGen) nested(write func()) string {
	saved := g.b
	g.b = &strings.Builder{}
	write()
	out := g.b.String()
	g.b = saved
	return out
}

func (g *lockGen) next() int {
	if g.i >= len(g.data) {
		return 0
	}
	c := g.data[g.i]
	g.i++
	return int(c)
}

func (g *lockGen) pick(options ...string) string { return options[g.next()%len(options)] }

func (g *lockGen) chance(in int) bool { return g.next()%in == 0 }

// sep is nothing or a line break: entries on one line or on their own.
func (g *lockGen) sep() {
	if g.next()%2 == 0 {
		g.b.WriteString("\n")
	}
}

// key writes s as a JSON string, sometimes with escapes a writer may use.
func (g *lockGen) key(s string) {
	q, _ := json.Marshal(s)
	out := string(q)
	switch g.next() % 5 {
	case 1:
		out = strings.ReplaceAll(out, "/", `\/`)
	case 2:
		if len(s) > 0 && s[0] < 0x80 && s[0] != '"' && s[0] != '\\' {
			out = fmt.Sprintf(`"\u%04x%s`, s[0], out[2:])
		}
	case 3:
		out = strings.Replace(out, "e", `\u0065`, 1)
	}
	g.b.WriteString(out)
}

var (
	genNames    = []string{"a", "b", "@s/c", "d.e", "q?|#*", "é", "a"}
	genVersions = []string{"1.0.0", "2.0.0", "", "npm:b@1.0.0", "npm:@s/c@2.0.0", "file:../x", "github:u/r#abc1234",
		"git+https://github.com/u/r.git#0123abc", "git+ssh://git@github.com/o/r.git#0123abc", "1.0.0", "npm:b"}
	genResolved = []string{"", "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "git+ssh://git@github.com/u/r.git#0123abc",
		"https://codeload.github.com/u/r/tar.gz/0123abc", "file:../x", "https://example.com/a.tgz", "../x",
		"https://gitlab.com/u/r/-/archive/0123abc/r.tar.gz", "git+https://bitbucket.org/u/r.git#abc1234"}
	genBools = []string{"true", "false", "null", "true", "true", `"x"`}
	genPeers = []string{"true", "false", "null", `"yes"`, "1", "true"}
)

func (g *lockGen) member(k, v string, first *bool) {
	if !*first {
		g.b.WriteString(",")
	}
	*first = false
	g.sep()
	g.key(k)
	g.b.WriteString(": ")
	g.b.WriteString(v)
}

func (g *lockGen) str(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// object writes the fields of an entry.
func (g *lockGen) fields(v2 bool) string {
	return g.nested(func() { g.writeFields(v2) })
}

func (g *lockGen) writeFields(v2 bool) {
	first := true
	g.b.WriteString("{")
	names := []string{"version", "resolved", "dev", "optional"}
	if v2 {
		names = append(names, "name", "link", "devOptional", "inBundle", "peer", "version")
	}
	for _, name := range names {
		if g.chance(2) {
			continue
		}
		var v string
		switch name {
		case "version":
			v = g.str(g.pick(genVersions...))
		case "resolved":
			v = g.str(g.pick(genResolved...))
		case "name":
			v = g.str(g.pick(genNames...))
		case "peer":
			v = g.pick(genPeers...)
		default:
			v = g.pick(genBools...)
		}
		g.member(name, v, &first)
	}
	if !v2 && g.chance(3) {
		g.member(g.pick("dependencies", "Dependencies", "dependencies"), g.tree(), &first)
	}
	g.b.WriteString("}")
}

// tree writes a v1 "dependencies" object.
func (g *lockGen) tree() string {
	return g.nested(g.writeTree)
}

func (g *lockGen) writeTree() {
	first := true
	g.b.WriteString("{")
	for range g.next() % 4 {
		v := "null"
		if !g.chance(8) {
			v = g.fields(false)
		}
		g.member(g.pick(genNames...), v, &first)
	}
	g.b.WriteString("}")
}

func (g *lockGen) installPath() string {
	n, m := g.pick(genNames...), g.pick(genNames...)
	switch g.next() % 6 {
	case 0:
		return ""
	case 1:
		return "node_modules/" + m + "/node_modules/" + n
	case 2:
		return "packages/" + n
	case 3:
		return "../" + n
	}
	return "node_modules/" + n
}

// generateLock turns fuzz input into a lockfile.
func generateLock(data []byte) []byte {
	g := &lockGen{data: data, b: &strings.Builder{}}
	first := true
	g.b.WriteString("{")
	g.member("lockfileVersion", g.pick("3", "1", "2"), &first)
	for range 1 + g.next()%3 {
		switch g.next() % 6 {
		case 0, 1, 2:
			section := g.nested(func() {
				pfirst := true
				g.b.WriteString("{")
				for range g.next() % 8 {
					v := "null"
					if !g.chance(10) {
						v = g.fields(true)
					}
					g.member(g.installPath(), v, &pfirst)
				}
				g.b.WriteString("}")
			})
			g.member(g.pick("packages", "packages", "packages", "Packages"), section, &first)
		case 3:
			g.member("packages", "null", &first)
		default:
			g.member("dependencies", g.tree(), &first)
		}
	}
	g.sep()
	g.b.WriteString("}")
	return []byte(g.b.String())
}
