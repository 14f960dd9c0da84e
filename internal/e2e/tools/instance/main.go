// Command instance describes a local Sigstore instance for the e2e tests,
// over sigstore-go's root API:
//
//	instance keygen -out rekor.pem
//	    writes a fresh Ed25519 key (PKCS#8 PEM) for the Rekor v2 checkpoints
//	instance wait [-timeout 60s] URL...
//	    waits until every URL answers 200 (servers' readiness; no curl needed)
//	instance describe -fulcio URL -oidc URL -rekor URL -rekor-key rekor.pem -tsa URL -out DIR
//	    writes DIR/trusted_root.json (Fulcio's trust bundle, the Rekor v2 key,
//	    the TSA chain) and DIR/signing_config.json (signing config v0.2)
//
// The ephemeral Fulcio CA and the in-memory TSA make new keys at every
// start, so describe runs after every start.
package main

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("instance: ")
	if len(os.Args) < 2 {
		log.Fatal("usage: instance keygen|wait|describe [flags]")
	}
	var err error
	switch os.Args[1] {
	case "keygen":
		err = keygen(os.Args[2:])
	case "wait":
		err = wait(os.Args[2:])
	case "describe":
		err = describe(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		log.Fatal(err)
	}
}

func keygen(args []string) error {
	fs := flag.NewFlagSet("keygen", flag.ExitOnError)
	out := fs.String("out", "rekor.pem", "private key `FILE`")
	_ = fs.Parse(args)
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	return os.WriteFile(*out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
}

func wait(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ExitOnError)
	timeout := fs.Duration("timeout", time.Minute, "give up after `DURATION`")
	_ = fs.Parse(args)
	deadline := time.Now().Add(*timeout)
	for _, u := range fs.Args() {
		start := time.Now()
		for {
			_, err := get(u)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("not ready after %v: %w", *timeout, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		fmt.Printf("ready %s after %v\n", u, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

func describe(args []string) error {
	fs := flag.NewFlagSet("describe", flag.ExitOnError)
	fulcioURL := fs.String("fulcio", "", "Fulcio `URL` (its /api/v2/trustBundle is read)")
	oidcURL := fs.String("oidc", "", "OIDC issuer `URL`")
	rekorURL := fs.String("rekor", "", "Rekor v2 `URL`; its host must be the log's checkpoint origin (rekor-tiles --hostname)")
	rekorKey := fs.String("rekor-key", "", "the Rekor v2 signing key `FILE` (PKCS#8 PEM)")
	tsaURL := fs.String("tsa", "", "timestamp authority `URL` (its /api/v1/timestamp/certchain is read)")
	out := fs.String("out", ".", "output `DIR`")
	_ = fs.Parse(args)
	if *fulcioURL == "" || *oidcURL == "" || *rekorURL == "" || *rekorKey == "" || *tsaURL == "" {
		return errors.New("describe needs -fulcio, -oidc, -rekor, -rekor-key and -tsa")
	}
	// Validity starts a little in the past: clocks of the servers and of
	// the tests are the same machine's, but a window that starts "now"
	// invites off-by-a-second failures.
	start := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)

	ca, err := fulcioCA(*fulcioURL, start)
	if err != nil {
		return err
	}
	tlog, err := rekorLog(*rekorURL, *rekorKey, start)
	if err != nil {
		return err
	}
	tsa, err := timestampAuthority(*tsaURL, start)
	if err != nil {
		return err
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{ca}, nil, []root.TimestampingAuthority{tsa},
		map[string]*root.TransparencyLog{hex.EncodeToString(tlog.ID): tlog})
	if err != nil {
		return err
	}
	trJSON, err := tr.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := root.NewTrustedRootFromJSON(trJSON); err != nil {
		return fmt.Errorf("the trusted root does not load back: %w", err)
	}

	svc := func(u string, major uint32) []root.Service {
		return []root.Service{{URL: u, MajorAPIVersion: major, ValidityPeriodStart: start, Operator: "hallmark-e2e"}}
	}
	any1 := root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY}
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02,
		svc(*fulcioURL, 1), svc(*oidcURL, 1),
		svc(*rekorURL, 2), any1,
		svc(strings.TrimRight(*tsaURL, "/")+"/api/v1/timestamp", 1), any1)
	if err != nil {
		return err
	}
	scJSON, err := sc.MarshalJSON()
	if err != nil {
		return err
	}
	if _, err := root.NewSigningConfigFromJSON(scJSON); err != nil {
		return fmt.Errorf("the signing config does not load back: %w", err)
	}
	if err := writeJSON(filepath.Join(*out, "trusted_root.json"), trJSON); err != nil {
		return err
	}
	return writeJSON(filepath.Join(*out, "signing_config.json"), scJSON)
}

// fulcioCA reads the CA chain of a Fulcio (an ephemeral CA has one chain).
func fulcioCA(base string, start time.Time) (*root.FulcioCertificateAuthority, error) {
	body, err := get(strings.TrimRight(base, "/") + "/api/v2/trustBundle")
	if err != nil {
		return nil, err
	}
	var tb struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(body, &tb); err != nil {
		return nil, fmt.Errorf("fulcio trust bundle: %w", err)
	}
	if len(tb.Chains) != 1 {
		return nil, fmt.Errorf("fulcio trust bundle has %d chains, want 1", len(tb.Chains))
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM([]byte(strings.Join(tb.Chains[0].Certificates, "\n")))
	if err != nil || len(certs) == 0 {
		return nil, fmt.Errorf("fulcio trust bundle certificates: %v", err)
	}
	return &root.FulcioCertificateAuthority{
		Root: certs[len(certs)-1], Intermediates: certs[:len(certs)-1],
		ValidityPeriodStart: start, URI: base,
	}, nil
}

// rekorLog describes a Rekor v2 log: its ID is the checkpoint key hash,
// which covers the origin (the host of the log's URL), not the SHA-256 of
// the key as for Rekor v1.
func rekorLog(base, keyFile string, start time.Time) (*root.TransparencyLog, error) {
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", keyFile)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	signer, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", keyFile)
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	_, logID, err := note.KeyHash(u.Hostname(), signer.Public())
	if err != nil {
		return nil, err
	}
	return &root.TransparencyLog{
		BaseURL: base, ID: logID, ValidityPeriodStart: start,
		HashFunc: crypto.SHA256, PublicKey: signer.Public(), SignatureHashFunc: crypto.SHA256,
	}, nil
}

// timestampAuthority reads the TSA's chain: leaf, intermediates, root.
func timestampAuthority(base string, start time.Time) (*root.SigstoreTimestampingAuthority, error) {
	body, err := get(strings.TrimRight(base, "/") + "/api/v1/timestamp/certchain")
	if err != nil {
		return nil, err
	}
	certs, err := cryptoutils.UnmarshalCertificatesFromPEM(body)
	if err != nil || len(certs) < 2 {
		return nil, fmt.Errorf("TSA chain: %d certificates, %v", len(certs), err)
	}
	return &root.SigstoreTimestampingAuthority{
		Leaf: certs[0], Intermediates: certs[1 : len(certs)-1], Root: certs[len(certs)-1],
		ValidityPeriodStart: start, URI: base,
	}, nil
}

func get(u string) ([]byte, error) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(u)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body, nil
}

func writeJSON(path string, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
