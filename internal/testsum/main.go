// Command testsum turns `go test -json` into the output a person reads (a
// line per package, the output of every failing test) and keeps counts, so
// that `make test` can end with one line: "N passed, N failed, N skipped".
//
//	go test -json ./... | go run ./internal/testsum -label unit -record FILE
//	go run ./internal/testsum -record FILE -add conformance 243 0
//	go run ./internal/testsum -record FILE -total
//
// With -label it exits 1 when a test or a build failed, so a pipeline with
// pipefail keeps go test's verdict.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

// stepsExit is the exit code of the steps that -total sums up.
var stepsExit int

// showPrefix marks output lines worth printing even when their test passed
// (the e2e tests' timings).
var showPrefix string

// counts are what one step of the test run found.
type counts struct {
	Label                   string
	Passed, Failed, Skipped int
	Packages                int
}

func main() {
	label := flag.String("label", "", "summarize go test -json from stdin under this `LABEL`")
	record := flag.String("record", "", "the `FILE` that keeps the counts of each step")
	add := flag.Bool("add", false, "record LABEL PASSED FAILED [SKIPPED] given as arguments")
	total := flag.Bool("total", false, "print every step's counts and the total")
	flag.IntVar(&stepsExit, "exit", 0, "with -total: the exit `CODE` of the steps; non-zero counts as a failure when no step recorded one")
	flag.StringVar(&showPrefix, "show", "", "print output lines starting with `PREFIX` even of passing tests")
	flag.Parse()
	if err := run(*label, *record, *add, *total, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
}

func run(label, record string, add, total bool, args []string) error {
	switch {
	case label != "":
		c, err := summarize(os.Stdin, os.Stdout, label)
		if err != nil {
			return err
		}
		if err := appendRecord(record, c); err != nil {
			return err
		}
		if c.Failed > 0 {
			return fmt.Errorf("%s: %d failed", label, c.Failed)
		}
		return nil
	case add:
		if len(args) < 3 {
			return errors.New("-add takes LABEL PASSED FAILED [SKIPPED]")
		}
		c := counts{Label: args[0]}
		nums := []*int{&c.Passed, &c.Failed, &c.Skipped}
		for i, a := range args[1:min(len(args), 4)] {
			n, err := strconv.Atoi(a)
			if err != nil {
				return fmt.Errorf("-add: %q is not a count", a)
			}
			*nums[i] = n
		}
		return appendRecord(record, c)
	case total:
		cs, err := readRecord(record)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		fmt.Print(render(withExit(cs, stepsExit)))
		return nil
	}
	return errors.New("give -label, -add or -total")
}

// summarize reads go test -json from r, writes the readable form to w and
// counts tests. A package that failed without a failing test (a build
// failure, a panic in TestMain) counts as one failure.
func summarize(r io.Reader, w io.Writer, label string) (counts, error) {
	c := counts{Label: label}
	output := map[string][]string{}  // package/test → its output lines
	failedTests := map[string]int{}  // package → failed tests seen
	failedChild := map[string]bool{} // package/test → a subtest of it failed
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if err := json.Unmarshal(line, &e); err != nil || e.Action == "" {
			fmt.Fprintf(w, "%s\n", line) // not JSON: build output, say
			continue
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "output", "build-output":
			switch {
			case showPrefix != "" && strings.HasPrefix(e.Output, showPrefix):
				fmt.Fprint(w, e.Output)
			case e.Test == "" && e.Action == "output" && !frameworkLine(e.Output):
				fmt.Fprint(w, e.Output) // said by the package, outside any test
			default:
				output[key] = append(output[key], e.Output)
			}
		case "build-fail":
			fmt.Fprintf(w, "%s", strings.Join(output[key], ""))
		case "pass", "fail", "skip":
			if e.Test != "" {
				switch e.Action {
				case "pass":
					c.Passed++
				case "skip":
					c.Skipped++
				case "fail":
					if !failedChild[key] { // a parent is not counted again
						c.Failed++
					}
					if i := strings.LastIndexByte(e.Test, '/'); i >= 0 {
						failedChild[e.Package+"\x00"+e.Test[:i]] = true
					}
					failedTests[e.Package]++
					fmt.Fprintf(w, "%s", strings.Join(output[key], ""))
				}
				delete(output, key)
				continue
			}
			c.Packages++
			elapsed := (time.Duration(e.Elapsed * float64(time.Second))).Round(time.Millisecond)
			switch e.Action {
			case "pass":
				fmt.Fprintf(w, "ok  \t%s\t%v\n", e.Package, elapsed)
			case "skip":
				fmt.Fprintf(w, "?   \t%s\t[no test files]\n", e.Package)
			case "fail":
				if failedTests[e.Package] == 0 {
					c.Failed++ // the package failed outside any test
					fmt.Fprintf(w, "%s", strings.Join(output[key], ""))
				}
				fmt.Fprintf(w, "FAIL\t%s\t%v\n", e.Package, elapsed)
			}
			delete(output, key)
		}
	}
	return c, sc.Err()
}

// frameworkLine is a line go test itself prints for a package, which the
// per-package summary line replaces.
func frameworkLine(s string) bool {
	for _, p := range []string{"PASS\n", "FAIL\n", "ok  \t", "FAIL\t", "?   \t", "testing: warning: no tests to run", "=== RUN", "--- "} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

func appendRecord(path string, c counts) error {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o666)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "%s %d %d %d %d\n", c.Label, c.Passed, c.Failed, c.Skipped, c.Packages)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readRecord(path string) ([]counts, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var cs []counts
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var c counts
		if _, err := fmt.Sscanf(line, "%s %d %d %d %d", &c.Label, &c.Passed, &c.Failed, &c.Skipped, &c.Packages); err != nil {
			return nil, fmt.Errorf("%s: bad line %q", path, line)
		}
		cs = append(cs, c)
	}
	return cs, nil
}

// withExit adds a failed step when the steps exited non-zero but no step
// recorded a failure (lint, a build, a script failed): the total must never
// say 0 failed then.
func withExit(cs []counts, exit int) []counts {
	if exit != 0 && failures(cs) == 0 {
		return append(cs, counts{Label: "steps", Failed: 1})
	}
	return cs
}

func failures(cs []counts) int {
	n := 0
	for _, c := range cs {
		n += c.Failed
	}
	return n
}

// render is one line per step, then the total alone on the last line in the
// "N passed, N failed, N skipped" form CI runners read.
func render(cs []counts) string {
	var b strings.Builder
	var t counts
	for _, c := range cs {
		fmt.Fprintf(&b, "%s: %d passed, %d failed, %d skipped", c.Label, c.Passed, c.Failed, c.Skipped)
		if c.Packages > 0 {
			fmt.Fprintf(&b, " (%d packages)", c.Packages)
		}
		b.WriteString("\n")
		t.Passed += c.Passed
		t.Failed += c.Failed
		t.Skipped += c.Skipped
	}
	fmt.Fprintf(&b, "total: %d passed, %d failed, %d skipped\n", t.Passed, t.Failed, t.Skipped)
	return b.String()
}
