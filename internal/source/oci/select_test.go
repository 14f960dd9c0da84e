package oci_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hallmark-dev/hallmark/internal/source/oci"
)

var (
	subjectDigest = "sha256:" + strings.Repeat("1", 64)
	layerDigest   = "sha256:" + strings.Repeat("2", 64)
)

// referrer is a BUNDLE_SPEC referrer manifest with parts replaced.
func referrer(r *strings.Replacer) []byte {
	m := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",` +
		`"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},` +
		`"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"LAYER","size":4971}],` +
		`"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"SUBJECT","size":1234},` +
		`"annotations":{"dev.sigstore.bundle.content":"dsse-envelope"}}`
	m = strings.NewReplacer("LAYER", layerDigest, "SUBJECT", subjectDigest).Replace(m)
	if r != nil {
		m = r.Replace(m)
	}
	return []byte(m)
}

func TestSelectBundle(t *testing.T) {
	cases := []struct {
		name     string
		manifest []byte
		ok       bool
	}{
		{"bundle spec", referrer(nil), true},
		{"artifactType only on the config descriptor", referrer(strings.NewReplacer(`"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",`, "",
			`"mediaType":"application/vnd.oci.empty.v1+json",`, `"mediaType":"application/vnd.oci.empty.v1+json","artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json",`)), false},
		{"older bundle media type", referrer(strings.NewReplacer("application/vnd.dev.sigstore.bundle.v0.3+json", "application/vnd.dev.sigstore.bundle+json;version=0.2")), true},
		{"another subject", referrer(strings.NewReplacer(subjectDigest, "sha256:"+strings.Repeat("3", 64))), false},
		{"no subject", referrer(strings.NewReplacer(`"subject"`, `"notsubject"`)), false},
		{"an SBOM", referrer(strings.NewReplacer("application/vnd.dev.sigstore.bundle.v0.3+json", "application/spdx+json")), false},
		{"two bundle layers", referrer(strings.NewReplacer(`"layers":[`, `"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","digest":"`+layerDigest+`","size":1},`)), false},
		{"an index", referrer(strings.NewReplacer("image.manifest.v1+json\",\"artifactType", "image.index.v1+json\",\"artifactType")), false},
		{"a bad layer digest", referrer(strings.NewReplacer(layerDigest, "sha256:../../etc/passwd")), false},
		{"a sha512 layer", referrer(strings.NewReplacer(layerDigest, "sha512:"+strings.Repeat("2", 128))), false},
		{"a huge layer", referrer(strings.NewReplacer(`"size":4971`, `"size":99999999999`)), false},
		{"a negative size", referrer(strings.NewReplacer(`"size":4971`, `"size":-1`)), false},
		{"not JSON", []byte("{"), false},
	}
	for _, tc := range cases {
		l, err := oci.SelectBundle(tc.manifest, subjectDigest)
		if tc.ok {
			if err != nil || l.Digest != layerDigest {
				t.Errorf("%s: %+v, %v", tc.name, l, err)
			}
			continue
		}
		if !errors.Is(err, oci.ErrNotBundle) {
			t.Errorf("%s: err %v, want ErrNotBundle", tc.name, err)
		}
	}
}

// FuzzSelectBundle: a referrer manifest from a registry is untrusted; the
// selection must never panic, and what it selects must be a well-formed
// sha256 layer of a bounded size, of the subject asked for.
func FuzzSelectBundle(f *testing.F) {
	seeds := [][]byte{referrer(nil), referrer(strings.NewReplacer(subjectDigest, layerDigest)), []byte(`{}`), []byte(`null`)}
	for _, s := range seeds {
		f.Add(s)
	}
	if _, err := oci.SelectBundle(seeds[0], subjectDigest); err != nil {
		f.Fatalf("the seed manifest is not selected: %v", err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := oci.SelectBundle(data, subjectDigest)
		if err != nil {
			if !errors.Is(err, oci.ErrNotBundle) {
				t.Fatalf("err %v is not ErrNotBundle", err)
			}
			return
		}
		if !strings.HasPrefix(l.Digest, "sha256:") || len(l.Digest) != 71 || l.Size < 0 || l.Size > oci.MaxBundleSize {
			t.Fatalf("selected %+v", l)
		}
		if !strings.HasPrefix(l.MediaType, "application/vnd.dev.sigstore.bundle") {
			t.Fatalf("selected a layer of media type %q", l.MediaType)
		}
	})
}

func simpleSigning(digest, typ string) []byte {
	return []byte(`{"critical":{"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"` + digest +
		`"},"type":"` + typ + `"},"optional":{"k":"v"}}`)
}

func TestCheckSimpleSigning(t *testing.T) {
	cases := []struct {
		name    string
		payload []byte
		ok      bool
	}{
		{"the image", simpleSigning(subjectDigest, "cosign container image signature"), true},
		{"another image", simpleSigning(layerDigest, "cosign container image signature"), false},
		{"another type", simpleSigning(subjectDigest, "atomic container signature"), false},
		{"no digest", []byte(`{"critical":{"type":"cosign container image signature"}}`), false},
		{"digest elsewhere", []byte(`{"optional":{"docker-manifest-digest":"` + subjectDigest + `"},"critical":{"type":"cosign container image signature"}}`), false},
		{"not JSON", []byte(`{"critical"`), false},
	}
	for _, tc := range cases {
		err := oci.CheckSimpleSigning(tc.payload, subjectDigest)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, oci.ErrPayload)) {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// FuzzCheckSimpleSigning: cosign's signed payload comes from the registry;
// the check never panics, and accepts only payloads that name the digest.
func FuzzCheckSimpleSigning(f *testing.F) {
	seed := simpleSigning(subjectDigest, "cosign container image signature")
	if oci.CheckSimpleSigning(seed, subjectDigest) != nil {
		f.Fatal("the seed payload is refused")
	}
	f.Add(seed)
	f.Add(simpleSigning(layerDigest, "cosign container image signature"))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := oci.CheckSimpleSigning(data, subjectDigest)
		if err == nil && !strings.Contains(string(data), strings.TrimPrefix(subjectDigest, "sha256:")) && !strings.Contains(string(data), `\u`) {
			t.Fatalf("accepted a payload that does not name %s: %q", subjectDigest, data)
		}
		if err != nil && !errors.Is(err, oci.ErrPayload) {
			t.Fatalf("err %v is not ErrPayload", err)
		}
	})
}
