package main

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/hallmark-dev/hallmark/internal/npmtest"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
)

// npmFx is the npm fixture set, made once per test binary run.
var npmFx struct {
	once  sync.Once
	files map[string][]byte
	err   error
}

// cmdNPMFixtures writes npm-shaped fixtures into DIR ("npmfx DIR"), made on
// a fake Sigstore of their own with a registry key the test makes:
//
//	trusted_root.json, keys.json       the fake Sigstore's root; the registry's keys
//	other-keys.json                    keys of another registry only
//	left-pad.tgz, tampered.tgz         @acme/left-pad@1.2.3's tarball, and another
//	left-pad.json                      its document (provenance by acme/left-pad's publish.yml)
//	noprov.json                        its document without provenance
//	copied.json                        @acme/right-pad's publish attestation (same tarball) with left-pad's provenance
//	packument.json, packument-other.json  left-pad's packument signed by the registry, and by another key
//	package-lock.json                  @acme/left-pad@1.2.3, plain@1.0.0 and noprov@2.0.0
//	att/                               the documents of the first two, as download writes them
//	left-pad-release.json              left-pad's document, provenance by acme/left-pad's release.yml
//	left-pad-fork.json                 left-pad's document, provenance by evil/left-pad's publish.yml
//	package-lock-versions.json         plain@1.0.0 and plain@0.9.0 (no document: before provenance)
//	registry/                          a registry tree serving them (serve registry)
func cmdNPMFixtures(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: npmfx DIR")
	}
	npmFx.once.Do(func() { npmFx.files, npmFx.err = makeNPMFixtures() })
	ts.Check(npmFx.err)
	dir := ts.MkAbs(args[0])
	for name, data := range npmFx.files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		ts.Check(os.MkdirAll(filepath.Dir(p), 0o755))
		ts.Check(os.WriteFile(p, data, 0o644))
	}
}

func makeNPMFixtures() (map[string][]byte, error) {
	inst, err := sigtest.New()
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	if files["trusted_root.json"], err = inst.TrustedRootJSON(); err != nil {
		return nil, err
	}
	now := time.Now()
	reg, err := npmtest.NewRegistry(now.Add(-time.Hour), time.Time{})
	if err != nil {
		return nil, err
	}
	other, err := npmtest.NewRegistry(now.Add(-time.Hour), time.Time{})
	if err != nil {
		return nil, err
	}
	if files["keys.json"], err = reg.KeysJSON(); err != nil {
		return nil, err
	}
	if files["other-keys.json"], err = other.KeysJSON(); err != nil {
		return nil, err
	}
	tarball := []byte("@acme/left-pad 1.2.3 tarball\n")
	files["left-pad.tgz"] = tarball
	files["tampered.tgz"] = []byte("@acme/left-pad 1.2.3 tarball, changed\n")
	digest := npmtest.SHA512(tarball)
	wfAt := func(repo, path string) *npmtest.Workflow {
		return &npmtest.Workflow{Repo: "https://github.com/" + repo, Path: path, Ref: "refs/tags/v1.2.3", Commit: sigtest.DemoDigest}
	}
	wf := func(repo string) *npmtest.Workflow { return wfAt(repo, ".github/workflows/publish.yml") }
	good, err := npmtest.FakeDocument(inst, reg, "@acme/left-pad", "1.2.3", digest, wf("acme/left-pad"), now)
	if err != nil {
		return nil, err
	}
	files["left-pad.json"] = good.Document
	for name, w := range map[string]*npmtest.Workflow{
		"left-pad-release.json": wfAt("acme/left-pad", ".github/workflows/release.yml"),
		"left-pad-fork.json":    wf("evil/left-pad"),
	} {
		d, err := npmtest.FakeDocument(inst, reg, "@acme/left-pad", "1.2.3", digest, w, now)
		if err != nil {
			return nil, err
		}
		files[name] = d.Document
	}
	noprov, err := npmtest.FakeDocument(inst, reg, "@acme/left-pad", "1.2.3", digest, nil, now)
	if err != nil {
		return nil, err
	}
	files["noprov.json"] = noprov.Document
	right, err := npmtest.FakeDocument(inst, reg, "@acme/right-pad", "1.2.3", digest, nil, now)
	if err != nil {
		return nil, err
	}
	if files["copied.json"], err = npmtest.Document(right.Publish, good.Provenance); err != nil {
		return nil, err
	}
	integrity := npmtest.Integrity(tarball)
	if files["packument.json"], err = reg.Packument("@acme/left-pad", map[string]string{"1.2.3": integrity}, now); err != nil {
		return nil, err
	}
	if files["packument-other.json"], err = other.Packument("@acme/left-pad", map[string]string{"1.2.3": integrity}, now); err != nil {
		return nil, err
	}
	plainTarball := []byte("plain 1.0.0 tarball\n")
	plain, err := npmtest.FakeDocument(inst, reg, "plain", "1.0.0", npmtest.SHA512(plainTarball), wf("acme/plain"), now)
	if err != nil {
		return nil, err
	}
	if files["package-lock.json"], err = npmtest.Lockfile([][3]string{
		{"@acme/left-pad", "1.2.3", integrity},
		{"plain", "1.0.0", npmtest.Integrity(plainTarball)},
		{"noprov", "2.0.0", npmtest.Integrity([]byte("noprov 2.0.0 tarball\n"))},
	}); err != nil {
		return nil, err
	}
	if files["package-lock-versions.json"], err = npmtest.Lockfile([][3]string{
		{"plain", "1.0.0", npmtest.Integrity(plainTarball)},
		{"plain", "0.9.0", npmtest.Integrity([]byte("plain 0.9.0 tarball\n"))},
	}); err != nil {
		return nil, err
	}
	files["att/@acme/left-pad@1.2.3.json"] = good.Document
	files["att/plain@1.0.0.json"] = plain.Document
	files["registry/-/npm/v1/attestations/@acme/left-pad@1.2.3"] = good.Document
	files["registry/-/npm/v1/attestations/plain@1.0.0"] = plain.Document
	return files, nil
}
