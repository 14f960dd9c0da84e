package main

import (
	"bytes"
	"os"
	"strconv"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdDamage damages a file in place, as a failing disk or an interrupted
// copy would: "damage FILE truncate SIZE" cuts it to SIZE bytes, "damage
// FILE overwrite OFFSET" writes 32 bytes of 0xff at OFFSET.
func cmdDamage(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: damage FILE truncate SIZE | damage FILE overwrite OFFSET")
	}
	path := ts.MkAbs(args[0])
	n, err := strconv.ParseInt(args[2], 10, 64)
	ts.Check(err)
	switch args[1] {
	case "truncate":
		ts.Check(os.Truncate(path, n))
	case "overwrite":
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		ts.Check(err)
		_, err = f.WriteAt(bytes.Repeat([]byte{0xff}, 32), n)
		ts.Check(err)
		ts.Check(f.Close())
	default:
		ts.Fatalf("damage: unknown mode %q", args[1])
	}
}
