package verify_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hallmark-dev/hallmark/internal/sigtest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Verify a file against its bundle with a keyless identity policy, then see
// how a wrong signer is reported.
func Example() {
	// A fake Sigstore instance and a bundle it signed (in real use: the
	// instance's trusted_root.json and the artifact's .sigstore.json).
	inst, err := sigtest.New()
	if err != nil {
		panic(err)
	}
	tr, err := inst.TrustedRoot()
	if err != nil {
		panic(err)
	}
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	artifact := filepath.Join(dir, "app.txt")
	if err := os.WriteFile(artifact, []byte("app 1.0\n"), 0o644); err != nil {
		panic(err)
	}
	bundleJSON, err := inst.SignBlob([]byte("app 1.0\n"), sigtest.Options{Identity: "alice@example.com", Issuer: "https://accounts.example.com"})
	if err != nil {
		panic(err)
	}
	b, err := verify.ParseBundle(bundleJSON)
	if err != nil {
		panic(err)
	}

	for _, san := range []string{"alice@example.com", "mallory@example.com"} {
		v, err := verify.New(tr, verify.Policy{Identity: &verify.Identity{SAN: san, Issuer: "https://accounts.example.com"}})
		if err != nil {
			panic(err)
		}
		res, err := v.Verify(context.Background(), b, verify.FileArtifact(artifact))
		var rej *verify.RejectedError
		switch {
		case err == nil:
			fmt.Printf("verified: signed by %s, %d log entry\n", res.Signer.SAN, len(res.TlogEntries))
		case errors.As(err, &rej):
			fmt.Printf("rejected (%s): %s\n", rej.Cause, rej.Reason)
			for _, c := range rej.Comparisons {
				if !c.Match {
					fmt.Printf("  %s: expected %s, got %q\n", c.Field, c.Expected, c.Actual)
				}
			}
		default:
			fmt.Println("could not complete:", err)
		}
	}
	// Output:
	// verified: signed by alice@example.com, 1 log entry
	// rejected (identity-mismatch): the signer does not match the identity policy
	//   identity (SAN): expected "mallory@example.com", got "alice@example.com"
}
