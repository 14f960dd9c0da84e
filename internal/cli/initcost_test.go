package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoRegexpCompiledAtInit keeps hallmark's start-up cheap: every command
// (a plain verify, version) runs the init of every package linked in, so a
// package-level regexp.MustCompile is paid by commands that never use it.
// Patterns are compiled on first use instead (lazyRegexp, sync.OnceValue).
func TestNoRegexpCompiledAtInit(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	for _, top := range []string{filepath.Join("..", "..", "internal"), filepath.Join("..", "..", "pkg")} {
		err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			checked++
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					for _, v := range spec.(*ast.ValueSpec).Values {
						ast.Inspect(v, func(n ast.Node) bool {
							if _, ok := n.(*ast.FuncLit); ok {
								return false // runs when called, not at init
							}
							if c, ok := n.(*ast.CallExpr); ok && isRegexpCompile(c) {
								t.Errorf("%s: a package-level regexp is compiled at init; compile it on first use (sync.OnceValue)", fset.Position(c.Pos()))
							}
							return true
						})
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if checked < 100 {
		t.Fatalf("checked only %d files: is the test run from internal/cli?", checked)
	}
}

func isRegexpCompile(c *ast.CallExpr) bool {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	pkg, ok := sel.X.(*ast.Ident)
	return ok && pkg.Name == "regexp" && strings.Contains(sel.Sel.Name, "Compile")
}
