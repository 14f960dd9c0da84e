// Command docgen writes hallmark's man pages and markdown command reference
// from the cobra command tree: `make docs`.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra/doc"

	"github.com/hallmark-dev/hallmark/internal/cli"
)

func main() {
	out := flag.String("out", "docs", "output directory")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "docgen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	root := cli.CommandTree()
	root.DisableAutoGenTag = true
	man, md := filepath.Join(out, "man"), filepath.Join(out, "cli")
	for _, d := range []string{man, md} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	header := &doc.GenManHeader{Title: "HALLMARK", Section: "1", Source: "hallmark", Manual: "hallmark manual"}
	if err := doc.GenManTree(root, header, man); err != nil {
		return err
	}
	return doc.GenMarkdownTree(root, md)
}
