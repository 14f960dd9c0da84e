// Command demo writes the files `make demo` verifies: a fake Sigstore
// instance's trusted_root.json and bundles it signed (see package sigtest).
//
//	go run ./internal/demo DIR
package main

import (
	"fmt"
	"os"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: demo DIR")
		os.Exit(2)
	}
	if err := sigtest.WriteFixtures(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
