// Package gcstart puts off a hallmark process's first garbage collection
// until its heap reaches 16 MiB instead of the runtime's 4 MiB, and then
// steps aside: from that first collection on, the heap is paced by the
// default GOGC=100 as if this package did not exist.
//
// A one-shot run (verify a bundle, print the version) allocates about 3 MiB
// initialising the packages linked into the binary and a few MiB more doing
// its work, so with the default pacing almost every run paid for one
// collection, and its mark phase (the whole start-up heap and the data of a
// large binary) was a quarter of the instructions of a cold verify. The heap
// it saves collecting is freed when the process exits a few milliseconds
// later.
//
// It is imported for its side effect by internal/cli. Go initialises a
// package as soon as the packages it imports are initialised (the first by
// import path among those ready), and this one imports only the runtime,
// os and runtime/debug, so it runs before the large dependency trees
// whose initialisation allocates the start-up heap.
//
// A user who sets GOGC or GOMEMLIMIT has chosen the pacing: then this
// package does nothing.
package gcstart

import (
	"os"
	"runtime"
	"runtime/debug"
)

// startPercent is GOGC until the first collection: the runtime's minimum
// heap goal scales with it, 4 MiB × 400/100 = 16 MiB.
const startPercent = 400

func init() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	prev := debug.SetGCPercent(startPercent)
	// The sentinel is unreachable at once, so the first collection frees
	// it and its cleanup restores the default. It is 64 bytes with a
	// pointer so that it is an object of its own, never one that shares
	// a tiny-allocator block (whose cleanups may never run).
	runtime.AddCleanup(new(sentinel), restore, prev)
}

func restore(percent int) { debug.SetGCPercent(percent) }

type sentinel struct {
	_ *byte
	_ [56]byte
}
