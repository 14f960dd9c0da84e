package trust

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// NPMKeysTarget is the npm registry's keys in Sigstore's public-good TUF
// repository: a target of the delegated role registry.npmjs.org.
const NPMKeysTarget = "registry.npmjs.org/keys.json"

// addOptionalTargets fetches the targets a repository may lack (npm's
// keys) into files, skipping those it does not have.
func addOptionalTargets(client *tuf.Client, files map[string][]byte) {
	if keys, err := client.GetTarget(NPMKeysTarget); err == nil {
		files[NPMKeysTarget] = keys
	}
}

// ErrNoNPMKeys: the cache has no npm registry keys (a repository without
// them, or a cache made before hallmark fetched them).
var ErrNoNPMKeys = errors.New("no npm registry keys in the trust cache")

// NPMKeys returns the npm registry's keys.json cached with the trust root
// of o's mirror, checked against the cached TUF metadata like the root.
// It never uses the network: call Load (or Update) first. A cache without
// them is ErrNoNPMKeys.
func NPMKeys(o Options) ([]byte, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	o.Offline = true // the kept bootstrap root only
	if err := o.bootstrap(context.Background()); err != nil {
		return nil, err
	}
	rec, err := readRecord(o)
	var foreign *foreignCacheError
	switch {
	case errors.Is(err, os.ErrNotExist), errors.As(err, &foreign):
		return nil, fmt.Errorf("%w %s: %w", ErrNoCachedRoot, mirrorDir(o), err)
	case err != nil:
		return nil, err
	}
	data, _, err := readTarget(o, rec, NPMKeysTarget)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w (%s)", ErrNoNPMKeys, mirrorDir(o))
	}
	return data, err
}
