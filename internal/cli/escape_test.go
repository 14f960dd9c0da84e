package cli

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Expected may name values of the bundle (a statement's subjects): a
// newline in one cannot add a line of its own.
func TestPrintComparisonsOneLineEach(t *testing.T) {
	var buf bytes.Buffer
	printComparisons(&buf, []verify.Comparison{
		{Field: "artifact digest", Expected: "one of the statement's subjects: a\nhallmark: error: forged\x1b[2K", Actual: "sha256:00"},
		{Field: "issuer", Expected: `"x"`, Actual: "x\ny", Match: true},
	})
	want := `hallmark:   artifact digest  expected one of the statement's subjects: a\nhallmark: error: forged\x1b[2K
hallmark:                    actual   "sha256:00"
hallmark:   issuer           ok       "x\ny"
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// A joined error is a line per part; a newline inside a part is escaped.
func TestReportErrorLines(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"one", errors.New("open a\nhallmark: error: b: no such file"),
			"hallmark: error: open a\\nhallmark: error: b: no such file\n"},
		{"joined", withHint(errors.Join(errors.New("open a\nb: denied"), errors.New("c: malformed")), "check\nit"),
			"hallmark: error: open a\\nb: denied\nhallmark: error: c: malformed\nhallmark: hint: check\\nit\n"},
		{"wrapped join", fmt.Errorf("scanning: %w", errors.Join(errors.New("a"), errors.New("b"))),
			"hallmark: error: scanning: a\\nb\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			a := newApp(Stdio{In: strings.NewReader(""), Out: &bytes.Buffer{}, Err: &stderr})
			a.report(tt.err)
			if stderr.String() != tt.want {
				t.Errorf("got\n%s\nwant\n%s", stderr.String(), tt.want)
			}
		})
	}
}
