package npm_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/pkg/ecosystem/npm"
)

// TestParseIntegrityHostile: an integrity with two different sha512
// values is refused (npm installs a tarball matching either, so verifying
// one would vouch for the other); one of other algorithms only is
// ErrNoSHA512, malformed ones are ErrIntegrity but not ErrNoSHA512;
// unknown algorithms are ignored beside a sha512.
func TestParseIntegrityHostile(t *testing.T) {
	a, b := npmtest.Integrity([]byte("a")), npmtest.Integrity([]byte("b"))
	for _, tc := range []struct {
		in       string
		want     error // nil: parses to a's digest
		noSHA512 bool
	}{
		{a + " " + b, npm.ErrIntegrity, false},
		{b + " " + a, npm.ErrIntegrity, false},
		{a + " " + a, nil, false},
		{"md5-abc " + a, nil, false},
		{"sha1-2jmj7l5rSw0yVb/vlWAYkK/YBwk=", npm.ErrIntegrity, true},
		{"sha384-" + strings.Repeat("A", 64), npm.ErrIntegrity, true},
		{"sha512-!!!", npm.ErrIntegrity, false},
		{"md5-abc", npm.ErrIntegrity, false},
		{a + " sha512-AAAA", npm.ErrIntegrity, false},
	} {
		d, err := npm.ParseIntegrity(tc.in)
		if tc.want == nil {
			if err != nil || d.Value != npmtest.SHA512([]byte("a")) {
				t.Errorf("%q: %v %v, want a's digest", tc.in, d, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) || errors.Is(err, npm.ErrNoSHA512) != tc.noSHA512 {
			t.Errorf("%q: got %v, want %v (ErrNoSHA512 %v)", tc.in, err, tc.want, tc.noSHA512)
		}
	}
}
