package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmark-dev/hallmark/internal/signtest"
)

// scriptTB lets a script command use signtest, which reports through a
// testing.TB: failures end the script, cleanups run when it ends. Only
// the methods signtest calls are implemented.
type scriptTB struct {
	testing.TB
	ts *testscript.TestScript
}

func (s scriptTB) Helper()                           {}
func (s scriptTB) Fatal(args ...any)                 { s.ts.Fatalf("%s", fmt.Sprint(args...)) }
func (s scriptTB) Fatalf(format string, args ...any) { s.ts.Fatalf(format, args...) }
func (s scriptTB) Cleanup(f func())                  { s.ts.Defer(f) }

// cmdTSA starts, for the script, a fake Fulcio and RFC 3161 timestamp
// authority on 127.0.0.1 (internal/signtest) and sets $TSA_URL, $TSA_ROOT
// (a trusted_root.json listing both) and $TSA_CONFIG (a signing config
// naming them): "tsa". Its TSA certificate lives ten minutes.
func cmdTSA(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: tsa")
	}
	st := signtest.New(scriptTB{ts: ts})
	dir := ts.MkAbs("tsa")
	tr, sc := st.WriteInstance(scriptTB{ts: ts}, mkdir(ts, dir))
	ts.Setenv("TSA_URL", st.TSA)
	ts.Setenv("TSA_ROOT", tr)
	ts.Setenv("TSA_CONFIG", sc)
}

func mkdir(ts *testscript.TestScript, dir string) string {
	ts.Check(os.MkdirAll(filepath.Clean(dir), 0o755))
	return dir
}
