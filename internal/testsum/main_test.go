package main

import (
	"strings"
	"testing"
)

const sample = `{"Action":"start","Package":"a"}
{"Action":"run","Package":"a","Test":"TestOK"}
{"Action":"output","Package":"a","Test":"TestOK","Output":"=== RUN   TestOK\n"}
{"Action":"pass","Package":"a","Test":"TestOK","Elapsed":0.01}
{"Action":"run","Package":"a","Test":"TestSkip"}
{"Action":"skip","Package":"a","Test":"TestSkip"}
{"Action":"run","Package":"a","Test":"TestBad"}
{"Action":"run","Package":"a","Test":"TestBad/one"}
{"Action":"output","Package":"a","Test":"TestBad/one","Output":"    bad_test.go:9: expected 1, got 2\n"}
{"Action":"fail","Package":"a","Test":"TestBad/one"}
{"Action":"run","Package":"a","Test":"TestBad/two"}
{"Action":"pass","Package":"a","Test":"TestBad/two"}
{"Action":"fail","Package":"a","Test":"TestBad"}
{"Action":"fail","Package":"a","Elapsed":1.5}
{"Action":"output","Package":"b","Output":"panic: boom in TestMain\n"}
{"Action":"fail","Package":"b","Elapsed":0.2}
{"Action":"skip","Package":"c","Elapsed":0}
`

func TestSummarize(t *testing.T) {
	var out strings.Builder
	c, err := summarize(strings.NewReader(sample), &out, "unit")
	if err != nil {
		t.Fatal(err)
	}
	want := counts{Label: "unit", Passed: 2, Failed: 2, Skipped: 1, Packages: 3}
	if c != want {
		t.Errorf("counts = %+v, want %+v", c, want)
	}
	for _, s := range []string{"bad_test.go:9: expected 1, got 2", "FAIL\ta\t1.5s", "panic: boom in TestMain", "FAIL\tb\t200ms", "?   \tc\t[no test files]"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q:\n%s", s, out.String())
		}
	}
	if strings.Contains(out.String(), "=== RUN   TestOK") {
		t.Errorf("output of a passing test was printed:\n%s", out.String())
	}
}

func TestRender(t *testing.T) {
	got := render([]counts{{"unit", 10, 1, 2, 5}, {"conformance", 243, 0, 0, 0}})
	want := "unit: 10 passed, 1 failed, 2 skipped (5 packages)\nconformance: 243 passed, 0 failed, 0 skipped\ntotal: 253 passed, 1 failed, 2 skipped\n"
	if got != want {
		t.Errorf("render:\n%s\nwant:\n%s", got, want)
	}
}

func TestTotalCountsAFailedStep(t *testing.T) {
	// lint failed before any step recorded a count
	if got := render(withExit(nil, 2)); got != "steps: 0 passed, 1 failed, 0 skipped\ntotal: 0 passed, 1 failed, 0 skipped\n" {
		t.Errorf("nothing recorded, exit 2: %q", got)
	}
	// a step recorded its failures: no extra one
	cs := []counts{{Label: "unit", Passed: 3, Failed: 1}}
	if got := render(withExit(cs, 2)); !strings.HasSuffix(got, "total: 3 passed, 1 failed, 0 skipped\n") {
		t.Errorf("unit failed: %q", got)
	}
	// passed steps but a non-zero exit (a script after them failed)
	cs = []counts{{Label: "unit", Passed: 3}}
	if got := render(withExit(cs, 1)); !strings.HasSuffix(got, "total: 3 passed, 1 failed, 0 skipped\n") {
		t.Errorf("script failed: %q", got)
	}
	if got := render(withExit(cs, 0)); !strings.HasSuffix(got, "total: 3 passed, 0 failed, 0 skipped\n") {
		t.Errorf("all passed: %q", got)
	}
	// a missing record is no steps, not an error
	if err := run("", t.TempDir()+"/none", false, true, nil); err != nil {
		t.Errorf("-total without a record: %v", err)
	}
}
