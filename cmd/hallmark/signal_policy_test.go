//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-dev/hallmark/internal/signtest"
	"github.com/hallmark-dev/hallmark/internal/sigtest"
)

// signalPolicy is a policy the sigtest attestation meets, for verify
// --policy runs long enough to interrupt.
const signalPolicy = `version: 1
signers:
  demo:
    issuer: https://token.actions.githubusercontent.com
    sanPattern: https://github\.com/hallmark-dev/demo/.*
artifacts:
  - name: "*.txt"
    attestations:
      - predicateType: slsaprovenance1
        signers: [demo]
        rules:
          - name: from-demo
            cel: signer.github.repository == "https://github.com/hallmark-dev/demo"
`

// TestSignalPolicyVerify: verify --policy over thousands of bundles (one
// JSONL file) stops within the bound of a signal, not once every queued
// verification has run (it took 9 s after SIGINT).
func TestSignalPolicyVerify(t *testing.T) {
	if testing.Short() {
		t.Skip("verifies thousands of bundles")
	}
	fxDir := fixtures(t)
	dir := t.TempDir()
	copyFile := func(name string) {
		data, err := os.ReadFile(filepath.Join(fxDir, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(sigtest.FileTrustedRoot)
	copyFile(sigtest.FileArtifact)
	raw, err := os.ReadFile(filepath.Join(fxDir, sigtest.FileAttestation))
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		t.Fatal(err)
	}
	line.WriteByte('\n')
	if err := os.WriteFile(filepath.Join(dir, "many.jsonl"), bytes.Repeat(line.Bytes(), 5000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "policy.yaml"), []byte(signalPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"verify", "--trusted-root", sigtest.FileTrustedRoot, "--policy", "policy.yaml", "--bundle", "many.jsonl", sigtest.FileArtifact}
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		// Past reading the file: verifying.
		interruptAndCheck(t, hostileRun{dir: dir, args: args, ready: cpuBusy(1500 * time.Millisecond)}, sig)
	})
}

// TestSignalScanAttest: scan --attest stops on a signal while keyless
// signing waits on a Fulcio that never answers, and writes no bundle.
func TestSignalScanAttest(t *testing.T) {
	st := signtest.New(t)
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		dir := t.TempDir()
		if code, out, errs := run(t, "db", "import", "--db", filepath.Join(dir, "db"), writeSmallZip(t, dir)); code != 0 {
			t.Fatalf("db import: exit %d\n%s%s", code, out, errs)
		}
		writeLockfile(t, filepath.Join(dir, "package-lock.json"), 3)
		tr, sc := st.WriteInstance(t, dir)
		tok := signtest.WriteFile(t, dir, "token", []byte(signtest.AliceToken()+"\n"))
		url, arrived := hangingServer(t, false)
		interruptAndCheck(t, hostileRun{dir: dir, args: []string{"scan", "--db", "db", "--attest", "--signing-config", sc, "--trusted-root", tr,
			"--identity-token", "@" + tok, "--oidc-disable-ambient-providers", "--fulcio-url", url, "package-lock.json"},
			ready: signalled(arrived)}, sig)
	})
}

// TestSignalPolicyKeyFIFO: --policy-key <(command) whose command never
// writes stops on the first signal (it waited through it, until a second
// one killed the process).
func TestSignalPolicyKeyFIFO(t *testing.T) {
	fxDir := fixtures(t)
	fx := newSigFixture(t)
	args := []string{"verify", "--trusted-root", filepath.Join(fxDir, sigtest.FileTrustedRoot), "--policy", "policy.yaml",
		"--policy-bundle", filepath.Join(fxDir, "key-ecdsa-p256.sigstore.json"), "--policy-key", fx.fifo,
		"--bundle", filepath.Join(fxDir, sigtest.FileAttestation), filepath.Join(fxDir, sigtest.FileArtifact)}
	if err := os.WriteFile(filepath.Join(fx.dir, "policy.yaml"), []byte(signalPolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	eachSignal(t, func(t *testing.T, sig syscall.Signal) {
		interruptAndCheck(t, hostileRun{dir: fx.dir, args: args, ready: blockedIn("wait_for_partner")}, sig)
	})
}
