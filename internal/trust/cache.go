package trust

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/trustedmetadata"
)

// Bounds on what the cache reader reads: a damaged or hostile cache must
// not exhaust memory.
const (
	maxRecordSize   = 64 << 10
	maxTargetSize   = 16 << 20
	maxMetadataSize = 32 << 20
	// maxDelegations bounds the walk through delegated targets roles.
	maxDelegations = 32
)

// record is meta.json, the cache's account of a fetch: the mirror and the
// initial TUF root (its SHA-256) the chain was verified from, and when. A
// cache is only used under the same --tuf-mirror and --tuf-root.
type record struct {
	Mirror    string    `json:"mirror"`
	TUFRoot   string    `json:"tufRootSHA256"`
	FetchedAt time.Time `json:"fetchedAt"`
}

// errNoTUFRoot: a record without tufRootSHA256, as hallmark wrote before
// it recorded the root. Such a cache is not used, but it is not damaged.
var errNoTUFRoot = errors.New("the record does not name the TUF root it was made with")

var sha256Hex = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })

// parseRecord parses meta.json strictly: one JSON object with known fields
// only, a mirror, a lowercase hex SHA-256 and a fetch time.
func parseRecord(raw []byte) (record, error) {
	if len(raw) > maxRecordSize {
		return record{}, fmt.Errorf("%d bytes, more than the %d a record may have", len(raw), maxRecordSize)
	}
	if err := checkRecordKeys(raw); err != nil {
		return record{}, err
	}
	var r record
	if err := json.Unmarshal(raw, &r); err != nil {
		return record{}, err
	}
	switch {
	case r.Mirror == "":
		return record{}, errors.New("no mirror")
	case r.FetchedAt.IsZero():
		return record{}, errors.New("no fetchedAt")
	case r.TUFRoot == "":
		return record{}, errNoTUFRoot
	case !sha256Hex().MatchString(r.TUFRoot):
		return record{}, fmt.Errorf("tufRootSHA256 %q is not a hex SHA-256", r.TUFRoot)
	}
	return r, nil
}

// recordKeys are the keys a record may have, spelt exactly so.
var recordKeys = map[string]bool{"mirror": true, "tufRootSHA256": true, "fetchedAt": true}

// checkRecordKeys makes sure raw is one JSON object whose keys are
// recordKeys, each at most once, and nothing after it: encoding/json alone
// matches keys case-insensitively and lets a repeated key win.
func checkRecordKeys(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil {
		return err
	} else if tok != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		switch {
		case !recordKeys[key]:
			return fmt.Errorf("unknown field %q", key)
		case seen[key]:
			return fmt.Errorf("field %q twice", key)
		}
		seen[key] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the record")
	}
	return nil
}

func (r record) marshal() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// readBounded reads path, refusing a file larger than limit.
func readBounded(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return data, nil
}

// cachedTargetInfo loads the TUF metadata that sigstore-go's client cached
// in dir (root, timestamp, snapshot, targets and any delegated targets
// roles it needs) through go-tuf's trustedmetadata, which checks every
// signature, version and hash along the chain and expiry as of ref, and
// returns what it says about the target name.
//
// The chain starts at the cached root.json, which the client wrote after
// verifying it from initialRoot (the intermediate roots are not kept). It
// must not be older than initialRoot, and when it is the same version it
// must be initialRoot.
func cachedTargetInfo(dir string, initialRoot []byte, name string, ref time.Time) (*metadata.TargetFiles, error) {
	read := func(role string) (string, []byte, error) {
		path := filepath.Join(dir, url.PathEscape(role)+".json")
		data, err := readBounded(path, maxMetadataSize)
		if err != nil {
			// %v: a missing file here is damage, not an absent cache.
			return path, nil, fmt.Errorf("%w: the cached TUF metadata: %v", ErrBadCache, err)
		}
		return path, data, nil
	}
	bad := func(path string, err error) error {
		return fmt.Errorf("%w: the cached TUF metadata %s does not verify: %w", ErrBadCache, path, err)
	}

	path, rootData, err := read(metadata.ROOT)
	if err != nil {
		return nil, err
	}
	tm, err := trustedmetadata.New(rootData)
	if err != nil {
		return nil, bad(path, err)
	}
	initial, err := metadata.Root().FromBytes(initialRoot)
	if err != nil {
		return nil, fmt.Errorf("%w: the initial TUF root does not parse: %w", ErrBadCache, err)
	}
	switch v, iv := tm.Root.Signed.Version, initial.Signed.Version; {
	case v < iv:
		return nil, bad(path, fmt.Errorf("root version %d is older than the initial root's %d", v, iv))
	case v == iv && !bytes.Equal(rootData, initialRoot):
		return nil, bad(path, fmt.Errorf("root version %d differs from the initial root of the same version", v))
	}
	tm.RefTime = ref.UTC()

	if path, data, err := read(metadata.TIMESTAMP); err != nil {
		return nil, err
	} else if _, err := tm.UpdateTimestamp(data); err != nil {
		return nil, bad(path, err)
	}
	if path, data, err := read(metadata.SNAPSHOT); err != nil {
		return nil, err
	} else if _, err := tm.UpdateSnapshot(data, false); err != nil {
		return nil, bad(path, err)
	}

	// Pre-order depth-first through the delegations, as the TUF client
	// looks a target up.
	type delegation struct{ role, parent string }
	todo := []delegation{{metadata.TARGETS, metadata.ROOT}}
	seen := map[string]bool{}
	for len(todo) > 0 && len(seen) < maxDelegations {
		d := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if seen[d.role] {
			continue
		}
		seen[d.role] = true
		path, data, err := read(d.role)
		if err != nil {
			return nil, err
		}
		t, err := tm.UpdateDelegatedTargets(data, d.role, d.parent)
		if err != nil {
			return nil, bad(path, err)
		}
		if info, ok := t.Signed.Targets[name]; ok {
			return info, nil
		}
		if t.Signed.Delegations == nil {
			continue
		}
		var next []delegation
		for _, r := range t.Signed.Delegations.GetRolesForTarget(name) {
			next = append(next, delegation{r.Name, d.role})
			if r.Terminating {
				todo = nil
				break
			}
		}
		slices.Reverse(next)
		todo = append(todo, next...)
	}
	return nil, fmt.Errorf("%w: %q is not listed in the cached TUF metadata %s", ErrBadCache, name, filepath.Join(dir, "targets.json"))
}
