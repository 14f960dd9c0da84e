package cli

import (
	"context"
	"errors"
	"io/fs"
	"reflect"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/extract"
	"github.com/hallmark-dev/hallmark/pkg/scan"
)

// Extraction errors about one file are failures the scan reports and goes
// past; the others (a file named explicitly that is no lockfile, a missing
// path, a cancelled context) stop it.
func TestFileFailures(t *testing.T) {
	malformed := &extract.FileError{Path: "a/package-lock.json", Extractor: "javascript/packagelockjson", Kind: extract.ErrMalformed, Err: errors.New("unexpected end of JSON input")}
	unreadable := &extract.FileError{Path: "b/go.mod", Extractor: "go/gomod", Err: fs.ErrPermission}
	unknown := &extract.FileError{Path: "notes.txt", Kind: extract.ErrUnknownFormat}
	missing := &fs.PathError{Op: "stat", Path: "missing.json", Err: fs.ErrNotExist}
	tests := []struct {
		name     string
		err      error
		given    []scan.FileFailure
		want     []scan.FileFailure
		fatalIs  []error
		notFatal bool
	}{
		{name: "none", notFatal: true},
		{
			name: "walk errors, nested joins",
			err:  errors.Join(errors.Join(malformed, unreadable)),
			want: []scan.FileFailure{
				{Path: "a/package-lock.json", Extractor: "javascript/packagelockjson", Reason: "malformed packagelockjson file: unexpected end of JSON input"},
				{Path: "b/go.mod", Extractor: "go/gomod", Reason: "permission denied"},
			},
			notFatal: true,
		},
		{
			name:     "already listed by extract",
			err:      malformed,
			given:    []scan.FileFailure{{Path: "a/package-lock.json", Reason: "listed"}},
			want:     []scan.FileFailure{{Path: "a/package-lock.json", Reason: "listed"}},
			notFatal: true,
		},
		{
			name:    "unknown format and missing path stop the scan",
			err:     errors.Join(malformed, unknown, missing),
			want:    []scan.FileFailure{{Path: "a/package-lock.json", Extractor: "javascript/packagelockjson", Reason: "malformed packagelockjson file: unexpected end of JSON input"}},
			fatalIs: []error{extract.ErrUnknownFormat, fs.ErrNotExist},
		},
		{name: "cancelled", err: context.Canceled, fatalIs: []error{context.Canceled}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fatal := fileFailures(tc.err, tc.given)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("failures = %+v, want %+v", got, tc.want)
			}
			if tc.notFatal && fatal != nil {
				t.Errorf("fatal = %v, want none", fatal)
			}
			for _, e := range tc.fatalIs {
				if !errors.Is(fatal, e) {
					t.Errorf("fatal = %v, want it to be %v", fatal, e)
				}
			}
			if errors.Is(fatal, extract.ErrMalformed) {
				t.Errorf("fatal = %v includes a malformed file", fatal)
			}
		})
	}
}
