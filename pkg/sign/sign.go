// Package sign makes Sigstore bundles (v0.3) of files: keyless, with a
// Fulcio certificate for an OIDC identity token and an ephemeral key that
// never leaves memory, or with a user's key; with Rekor v1 or v2
// transparency log entries and RFC 3161 timestamps, as a signing config
// says. It is built on sigstore-go's pkg/sign and adds what a command line
// needs around it:
//
//   - files are hashed once, as a stream, never read whole into memory
//     (except for pure Ed25519 keys, which sign the whole message: the file
//     is memory-mapped);
//   - many files are signed concurrently with one token and one Fulcio
//     certificate for the batch;
//   - every bundle is verified with pkg/verify against the instance's trust
//     root before it is returned or written: a service that returns a bad
//     certificate, log entry or timestamp makes an error, not a bundle;
//   - errors name the service, its URL and the HTTP status, and a rejected
//     identity token says why;
//   - bundles are written atomically.
//
// A Signer is built once with New and is safe for concurrent use.
package sign

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	rekortilesclient "github.com/sigstore/rekor-tiles/v2/pkg/client"
	"github.com/sigstore/rekor-tiles/v2/pkg/client/write"
	rekorclient "github.com/sigstore/rekor/pkg/client"
	"github.com/sigstore/sigstore-go/pkg/root"
	sgsign "github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/hallmark-dev/hallmark/internal/ctxhttp"
	"github.com/hallmark-dev/hallmark/internal/keys"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// Options configure a Signer.
type Options struct {
	// Services are the Sigstore services to use (see SelectServices).
	Services Services
	// Key is the signing key. Nil means keyless: an ephemeral ECDSA P-256
	// key, made in memory for this Signer, certified by Fulcio for
	// IDToken.
	Key crypto.Signer
	// IDToken is the OIDC identity token of a keyless Signer.
	IDToken string
	// TrustedRoot is the instance's trust root: every bundle is verified
	// against it before it is returned. It may be nil only for a key and
	// no services (nothing to verify but the signature).
	TrustedRoot root.TrustedMaterial
	// Timeout bounds each request (default 30s).
	Timeout time.Duration
	// Retries is how often a request that failed with HTTP 5xx or 429 is
	// retried (default none).
	Retries uint
	// Concurrency bounds the files signed at once (default 2×GOMAXPROCS,
	// at least 4: signing waits on the network).
	Concurrency int
	// Transport is the HTTP transport to Fulcio and the TSAs (default
	// http.DefaultTransport).
	Transport http.RoundTripper
}

// Signer signs files with one key (and, keyless, one certificate).
type Signer struct {
	o       Options
	kp      *keypair
	keyless bool
	fulcio  *sgsign.Fulcio
	tsas    []*sgsign.TimestampAuthority
	rekorV1 map[string]sgsign.RekorClient
	rekorV2 map[string]sgsign.RekorV2Client

	mu       sync.Mutex
	certDER  []byte
	verifier *verify.Verifier
	identity *verify.Signer
}

// New checks the options and builds a Signer. It does not contact any
// service: the Fulcio certificate is requested by the first signature.
// ctx bounds the Signer's requests besides the ctx of each call: once it
// ends, so do requests to Fulcio and the TSAs, which sigstore-go makes
// without a context.
func New(ctx context.Context, o Options) (*Signer, error) {
	s := &Signer{o: o, keyless: o.Key == nil}
	if s.o.Timeout == 0 {
		s.o.Timeout = 30 * time.Second
	}
	if s.o.Concurrency <= 0 {
		s.o.Concurrency = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if err := o.Services.check(s.keyless); err != nil {
		return nil, err
	}
	if s.keyless && o.IDToken == "" {
		return nil, ErrNoToken
	}
	if !s.keyless && o.Services.Fulcio != "" && o.IDToken != "" {
		return nil, fmt.Errorf("%w: a key and an identity token are mutually exclusive", ErrConfig)
	}
	usesServices := len(o.Services.Rekor) > 0 || len(o.Services.TSA) > 0 || s.keyless
	if usesServices && o.TrustedRoot == nil {
		return nil, fmt.Errorf("%w: a trusted root is needed to verify what the services return", ErrConfig)
	}
	var err error
	if s.keyless {
		s.kp, err = newEphemeralKeypair()
	} else {
		s.kp, err = newKeypair(o.Key)
	}
	if err != nil {
		return nil, err
	}
	transport := ctxhttp.Transport(ctx, keepErrorBodies{o.Transport})
	if s.keyless {
		s.fulcio = sgsign.NewFulcio(&sgsign.FulcioOptions{BaseURL: o.Services.Fulcio, Timeout: s.o.Timeout, Retries: o.Retries, Transport: transport})
	}
	for _, u := range o.Services.TSA {
		s.tsas = append(s.tsas, sgsign.NewTimestampAuthority(&sgsign.TimestampAuthorityOptions{URL: u, Timeout: s.o.Timeout, Retries: o.Retries, Transport: transport}))
	}
	s.rekorV1 = map[string]sgsign.RekorClient{}
	s.rekorV2 = map[string]sgsign.RekorV2Client{}
	for _, l := range o.Services.Rekor {
		switch l.Version {
		case 1:
			c, err := rekorclient.GetRekorClient(l.URL, rekorclient.WithRetryCount(o.Retries), rekorclient.WithUserAgent(userAgent))
			if err != nil {
				return nil, fmt.Errorf("%w: Rekor %s: %w", ErrConfig, l.URL, err)
			}
			s.rekorV1[l.URL] = c.Entries
		case 2:
			w, err := write.NewWriter(l.URL, rekortilesclient.WithUserAgent(userAgent), rekortilesclient.WithTimeout(s.o.Timeout))
			if err != nil {
				return nil, fmt.Errorf("%w: Rekor %s: %w", ErrConfig, l.URL, err)
			}
			s.rekorV2[l.URL] = w
		default:
			return nil, fmt.Errorf("%w: Rekor %s has API version %d (want 1 or 2)", ErrConfig, l.URL, l.Version)
		}
	}
	if !s.keyless {
		if s.verifier, err = verify.New(o.TrustedRoot, s.policy(nil)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		fp, _ := keys.Fingerprint(o.Key.Public())
		s.identity = &verify.Signer{Kind: "key", KeyFingerprint: fp, KeyType: keys.Describe(o.Key.Public())}
	}
	return s, nil
}

const userAgent = "hallmark"

// policy is what a fresh bundle must prove: the certificate's own identity
// (keyless) or the key, and one entry per log and timestamp asked for.
func (s *Signer) policy(id *verify.Identity) verify.Policy {
	p := verify.Policy{
		MinTlogEntries:     len(s.o.Services.Rekor),
		MinTimestamps:      len(s.o.Services.TSA),
		InsecureIgnoreTlog: len(s.o.Services.Rekor) == 0,
		// The signer checks its own signature, not what the statement it
		// was given says: that is the consumer's policy.
		SkipStatementChecks: true,
	}
	if id != nil {
		p.Identity = id
		p.MinTimestamps = max(p.MinTimestamps, 1)
	} else {
		p.Key = s.o.Key.Public()
	}
	return p
}

// Prepare requests the Fulcio certificate of a keyless Signer, once: every
// later signature uses it. It returns the signer's identity (the
// certificate's SAN and issuer, or the key's fingerprint). Sign and SignAll
// call it; call it first to show the identity before signing.
func (s *Signer) Prepare(ctx context.Context) (*verify.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.identity != nil {
		return s.identity, nil
	}
	der, err := s.fulcio.GetCertificate(ctx, s.kp, &sgsign.CertificateProviderOptions{IDToken: s.o.IDToken})
	if err != nil {
		return nil, fulcioErr(s.o.Services.Fulcio, s.o.IDToken, err)
	}
	id, err := certIdentity(der)
	if err != nil {
		return nil, &ServiceError{Service: ServiceFulcio, URL: s.o.Services.Fulcio, Err: fmt.Errorf("unusable certificate: %w", err)}
	}
	v, err := verify.New(s.o.TrustedRoot, s.policy(&verify.Identity{SAN: id.SAN, Issuer: id.Issuer}))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s.certDER, s.verifier, s.identity = der, v, id
	return id, nil
}

// Job is one file to sign.
type Job struct {
	// Path is the file.
	Path string
	// BundlePath is where the bundle is written, atomically; empty means
	// it is only returned (Outcome.BundleJSON).
	BundlePath string
	// InToto signs the file, an in-toto statement, as a DSSE envelope
	// (payload type application/vnd.in-toto+json) instead of a message
	// signature.
	InToto bool
	// Statement is an in-toto statement held in memory, signed as a DSSE
	// envelope like InToto does with a file; Path then only names it in
	// results and errors (pkg/attest makes these). At most MaxStatementSize
	// bytes.
	Statement []byte
}

// dsse says whether the job is signed as a DSSE envelope.
func (j Job) dsse() bool { return j.InToto || j.Statement != nil }

// Outcome is the result of one Job.
type Outcome struct {
	Result *Result
	// BundleJSON is the verified bundle.
	BundleJSON []byte
	Err        error
}

// SignAll signs the jobs concurrently with one certificate, and returns one
// Outcome per job in order. An error that stops every job (the certificate
// could not be had) is returned as such.
func (s *Signer) SignAll(ctx context.Context, jobs []Job) ([]Outcome, error) {
	if _, err := s.Prepare(ctx); err != nil {
		return nil, err
	}
	out := make([]Outcome, len(jobs))
	sem := make(chan struct{}, s.o.Concurrency)
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			res, data, err := s.Sign(ctx, j)
			out[i] = Outcome{Result: res, BundleJSON: data, Err: err}
		}()
	}
	wg.Wait()
	return out, nil
}

// Sign signs one job: hashes the file, signs, gets the certificate, log
// entries and timestamps, verifies the bundle and, with BundlePath, writes
// it. The Result is returned in every case, with Error set on failure.
func (s *Signer) Sign(ctx context.Context, j Job) (*Result, []byte, error) {
	res := &Result{Artifact: j.Path}
	data, err := s.sign(ctx, j, res)
	if err != nil {
		res.Error = err.Error()
		return res, nil, err
	}
	return res, data, nil
}

func (s *Signer) sign(ctx context.Context, j Job, res *Result) ([]byte, error) {
	id, err := s.Prepare(ctx)
	if err != nil {
		return nil, err
	}
	if s.kp.pure() && !j.dsse() && len(s.o.Services.Rekor) > 0 {
		return nil, fmt.Errorf("%w: an Ed25519 key signs the whole file (pure Ed25519), which a Rekor hashedrekord entry cannot carry; sign without the transparency log", ErrConfig)
	}
	in, err := s.content(ctx, j)
	if err != nil {
		return nil, err
	}
	defer in.release()
	opts := sgsign.BundleOptions{Context: ctx}
	if s.keyless {
		opts.CertificateProvider = fixedCertificate(s.certDER)
		opts.CertificateProviderOptions = &sgsign.CertificateProviderOptions{IDToken: s.o.IDToken}
	}
	for _, l := range s.o.Services.Rekor {
		// One sigstore-go Rekor per bundle: it sets fields on first use.
		r := sgsign.NewRekor(&sgsign.RekorOptions{BaseURL: l.URL, Version: l.Version, Timeout: s.o.Timeout, Retries: s.o.Retries,
			Client: s.rekorV1[l.URL], ClientV2: s.rekorV2[l.URL]})
		opts.TransparencyLogs = append(opts.TransparencyLogs, tlog{r, l.URL})
	}
	pb, err := sgsign.Bundle(in.content, in.keypair, opts)
	if err != nil {
		var se *ServiceError
		if errors.As(err, &se) {
			return nil, err
		}
		return nil, fmt.Errorf("signing %s: %w", j.Path, err)
	}
	if err := s.timestamp(ctx, pb); err != nil {
		return nil, err
	}
	data, err := marshalBundle(pb)
	if err != nil {
		return nil, err
	}
	if err := s.check(ctx, j, data, in.artifact, res); err != nil {
		return nil, err
	}
	if res.Signer == nil {
		res.Signer = id
	}
	if j.BundlePath != "" {
		// Nothing is written once the caller gave up.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := WriteBundle(j.BundlePath, data); err != nil {
			return nil, err
		}
		res.Bundle = j.BundlePath
	}
	return data, nil
}

// timestamp asks each TSA to timestamp the signature. (sigstore-go's Bundle
// would too, but its errors would not say which service failed.)
func (s *Signer) timestamp(ctx context.Context, pb *protobundle.Bundle) error {
	if len(s.tsas) == 0 {
		return nil
	}
	sig := pb.GetMessageSignature().GetSignature()
	if env := pb.GetDsseEnvelope(); env != nil {
		sig = env.GetSignatures()[0].GetSig()
	}
	for i, ta := range s.tsas {
		ts, err := ta.GetTimestamp(ctx, sig)
		if err != nil {
			return serviceErr(ServiceTSA, s.o.Services.TSA[i], err)
		}
		vm := pb.GetVerificationMaterial()
		if vm.TimestampVerificationData == nil {
			vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
		}
		vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps,
			&protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	return nil
}

// check verifies the fresh bundle with pkg/verify and fills res from what
// was verified.
func (s *Signer) check(ctx context.Context, j Job, data []byte, a verify.Artifact, res *Result) error {
	b, err := verify.ParseBundle(data)
	if err != nil {
		return &BadBundleError{Artifact: j.Path, Err: err}
	}
	vr, err := s.verifier.Verify(ctx, b, a)
	if err != nil {
		if verify.IsRejected(err) {
			return &BadBundleError{Artifact: j.Path, Err: err}
		}
		return err
	}
	res.Digest, res.MediaType, res.Signer = vr.Digest, vr.MediaType, vr.Signer
	res.TlogEntries, res.Timestamps = vr.TlogEntries, vr.Timestamps
	return nil
}

// fixedCertificate hands sigstore-go the batch's one certificate.
type fixedCertificate []byte

func (c fixedCertificate) GetCertificate(context.Context, sgsign.Keypair, *sgsign.CertificateProviderOptions) ([]byte, error) {
	return c, nil
}

// tlog names the log in sigstore-go's errors.
type tlog struct {
	r   *sgsign.Rekor
	url string
}

func (t tlog) GetTransparencyLogEntry(ctx context.Context, keyOrCert []byte, b *protobundle.Bundle) error {
	if err := t.r.GetTransparencyLogEntry(ctx, keyOrCert, b); err != nil {
		return serviceErr(ServiceRekor, t.url, err)
	}
	return nil
}
