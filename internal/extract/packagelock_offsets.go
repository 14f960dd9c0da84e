package extract

import (
	"bytes"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file finds, in one scan of a lockfile, the line osv-scalibr v0.5.3
// reports for each entry. osv-scalibr asks gjson for the path
// "packages.<key>" (v2/v3) or "dependencies.<a>.dependencies.<b>..." (v1)
// and reports the line of the byte where the value found starts. gjson
// searches depth first, in document order, and does not stop at the first
// key that matches a step of the path: when the value under a first
// "packages" holds no such key, it goes on to a later "packages". It
// compares a key as written when it has no backslash, else as its own
// unescaping reads it, never case-insensitively. So the value found is the
// first one in the file reachable through keys that read, in gjson's
// reading, as the path's steps; an entry no such key reaches (the file
// spells "Packages", which encoding/json accepts) is on line 0.

// lockPos is where gjson finds an entry: the byte offset of its value and
// that byte's line (1-based). off is -1 when it finds nothing (line 0).
type lockPos struct {
	off, line int
}

// lockNode indexes a v1 "dependencies" tree: the position of the entry
// reached through the keys from the root, and the keys below it.
type lockNode struct {
	pos      lockPos
	children map[string]*lockNode
}

func (n *lockNode) child(key string) *lockNode {
	if n == nil {
		return nil
	}
	return n.children[key]
}

// lockPackageOffsets returns where gjson finds "packages.<key>" for every key
// of every top-level "packages" object.
func lockPackageOffsets(b []byte) map[string]lockPos {
	offs := map[string]lockPos{}
	w := &jsonWalker{b: b, line: 1}
	w.topLevel("packages", func() bool {
		return w.object(func(key []byte, esc bool) bool {
			k := gjsonKey(key, esc)
			if _, seen := offs[k]; !seen {
				offs[k] = w.pos()
			}
			return w.skip()
		})
	})
	return offs
}

// lockDependencyOffsets returns the tree of the v1 entries gjson finds under
// the top-level "dependencies" objects.
func lockDependencyOffsets(b []byte) *lockNode {
	root := &lockNode{pos: lockPos{off: -1}}
	w := &jsonWalker{b: b, line: 1}
	w.topLevel("dependencies", func() bool { return w.dependencies(root) })
	return root
}

// dependencies indexes the entries of the "dependencies" object at the
// cursor below node.
func (w *jsonWalker) dependencies(node *lockNode) bool {
	return w.object(func(key []byte, esc bool) bool {
		k := gjsonKey(key, esc)
		if node.children == nil {
			node.children = map[string]*lockNode{}
		}
		child := node.children[k]
		if child == nil {
			child = &lockNode{pos: w.pos()}
			node.children[k] = child
		}
		if w.peek() != '{' {
			return w.skip()
		}
		return w.object(func(key []byte, esc bool) bool {
			if w.peek() == '{' && gjsonKey(key, esc) == "dependencies" {
				return w.dependencies(child)
			}
			return w.skip()
		})
	})
}

// gjsonKey is an object key as gjson compares it with a path step: as
// written without a backslash; else unescaped its way, which differs from
// encoding/json's on odd input: a surrogate escape takes the escape after it
// whatever it is (one U+FFFD for both when they are no pair), and bytes
// that are not UTF-8 stay as they are.
func gjsonKey(raw []byte, esc bool) string {
	if !esc {
		return string(raw)
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c < ' ' {
			break
		}
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(raw) {
			break
		}
		switch raw[i] {
		case '\\', '/', '"':
			out = append(out, raw[i])
			continue
		case 'b':
			out = append(out, '\b')
			continue
		case 'f':
			out = append(out, '\f')
			continue
		case 'n':
			out = append(out, '\n')
			continue
		case 'r':
			out = append(out, '\r')
			continue
		case 't':
			out = append(out, '\t')
			continue
		case 'u':
			if i+5 > len(raw) {
				return string(out)
			}
			r := hex4(raw[i+1 : i+5])
			next := i + 5
			if utf16.IsSurrogate(r) && len(raw)-next >= 6 && raw[next] == '\\' && raw[next+1] == 'u' {
				r = utf16.DecodeRune(r, hex4(raw[next+2:next+6]))
				next += 6
			}
			out = utf8.AppendRune(out, r)
			i = next - 1
			continue
		}
		break // an escape gjson does not know ends the key
	}
	return string(out)
}

func hex4(b []byte) rune {
	n, _ := strconv.ParseUint(string(b), 16, 32)
	return rune(n)
}

// jsonWalker walks JSON that encoding/json has already accepted, keeping
// the line of the cursor. On anything unexpected it stops, and the entries
// it has not reached are on line 0.
type jsonWalker struct {
	b      []byte
	i      int
	line   int // line of b[lineAt]
	lineAt int
}

func (w *jsonWalker) peek() byte {
	if w.i < len(w.b) {
		return w.b[w.i]
	}
	return 0
}

// pos is the cursor's position.
func (w *jsonWalker) pos() lockPos {
	w.line += bytes.Count(w.b[w.lineAt:w.i], []byte{'\n'})
	w.lineAt = w.i
	return lockPos{off: w.i, line: w.line}
}

func (w *jsonWalker) ws() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// topLevel calls value with the cursor on the value of each key of the
// top-level object that reads as name and holds an object.
func (w *jsonWalker) topLevel(name string, value func() bool) {
	w.ws()
	if w.peek() != '{' {
		return
	}
	w.object(func(key []byte, esc bool) bool {
		if w.peek() == '{' && gjsonKey(key, esc) == name {
			return value()
		}
		return w.skip()
	})
}

// object walks the object at the cursor, calling member with the cursor on
// each member's value, which member must consume.
func (w *jsonWalker) object(member func(key []byte, esc bool) bool) bool {
	w.i++ // '{'
	w.ws()
	if w.peek() == '}' {
		w.i++
		return true
	}
	for {
		w.ws()
		if w.peek() != '"' {
			return false
		}
		key, esc, ok := w.str()
		if !ok {
			return false
		}
		w.ws()
		if w.peek() != ':' {
			return false
		}
		w.i++
		w.ws()
		if w.i >= len(w.b) || !member(key, esc) {
			return false
		}
		w.ws()
		switch w.peek() {
		case ',':
			w.i++
		case '}':
			w.i++
			return true
		default:
			return false
		}
	}
}

// str reads the string at the cursor: its raw content and whether it holds
// a backslash.
func (w *jsonWalker) str() (raw []byte, esc, ok bool) {
	start := w.i + 1
	for j := start; j < len(w.b); j++ {
		switch w.b[j] {
		case '\\':
			esc = true
			j++
		case '"':
			w.i = j + 1
			return w.b[start:j], esc, true
		}
	}
	return nil, false, false
}

// skip passes the value at the cursor.
func (w *jsonWalker) skip() bool {
	depth := 0
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case '"':
			if _, _, ok := w.str(); !ok {
				return false
			}
			if depth == 0 {
				return true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth < 0 {
				return false
			}
			if depth == 0 {
				w.i++
				return true
			}
		default:
			if depth == 0 { // a number or literal
				for w.i < len(w.b) && !endsLiteral(w.b[w.i]) {
					w.i++
				}
				return true
			}
		}
		w.i++
	}
	return false
}

func endsLiteral(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', ']', '}':
		return true
	}
	return false
}
