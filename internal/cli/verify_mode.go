package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// verifyMode is one way verify runs; verifyModeOf picks it from the flags.
type verifyMode string

const (
	modePolicy   verifyMode = "policy"   // --policy FILE (verify_policy.go)
	modeGate     verifyMode = "gate"     // the scan gate or --vsa (verify_vuln.go)
	modeNPM      verifyMode = "npm"      // --preset npm (verify_npm.go)
	modePyPI     verifyMode = "pypi"     // --preset pypi (verify_pypi.go)
	modePreset   verifyMode = "preset"   // the Homebrew presets (verify_homebrew.go)
	modeOCI      verifyMode = "oci"      // oci:// images (oci_verify.go)
	modeSearched verifyMode = "searched" // bundles searched for the artifacts (verify_sources.go)
	modePlain    verifyMode = "plain"    // one bundle per artifact (verify.go)
)

// modeFacts is what of the command line picks the mode: a plain value, so
// that the choice is a pure function.
type modeFacts struct {
	policy    bool   // --policy or one of its flags
	gateFlag  string // the first of --max-age, --max-age-at, --fail-on, --vex given
	gate      bool   // the scan gate or --vsa
	preset    string // --preset NAME
	npmFlag   string // the first --preset npm flag given, without its dashes
	pypiFlag  string // the first --preset pypi flag given, without its dashes
	bottleURL bool   // --bottle-url
	images    bool   // the arguments are oci:// images
	imagesErr error  // images and files mixed
	fromOCI   bool   // --bundle-from-oci
	imageOnly error  // a flag only for images given (see ociFlags.onlyForImages)
	searched  bool   // --bundle-dir, --from or --bundle bundles to search
}

func (o *verifyOptions) modeFacts(cmd *cobra.Command, args []string) modeFacts {
	images, imagesErr := ociArgs(args)
	f := modeFacts{
		policy:    o.policy.set(),
		gateFlag:  changedFlag(cmd, "max-age", "max-age-at", "fail-on", "vex"),
		gate:      o.vuln.active(cmd),
		preset:    o.preset.name,
		bottleURL: len(o.preset.bottleURLs) > 0,
		images:    images,
		imagesErr: imagesErr,
		fromOCI:   o.oci.bundleFromOCI,
		imageOnly: o.oci.onlyForImages(),
	}
	if o.npm.set() {
		f.npmFlag = firstSetNPMFlag(&o.npm)
	}
	if p := &o.pypi; p.set() {
		switch {
		case len(p.provenance) > 0:
			f.pypiFlag = "provenance"
		case p.publisher != "":
			f.pypiFlag = "publisher"
		default:
			f.pypiFlag = "publisher-issuer"
		}
	}
	// Whether one --bundle holds several bundles is read from the file:
	// only when no other mode takes the run (a --policy run reads its
	// bundles itself), and with the run's context.
	if !f.policy && !f.gate && f.preset == "" && f.npmFlag == "" && f.pypiFlag == "" && !f.images && !f.fromOCI {
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background() // a command not run by Execute (tests)
		}
		f.searched = o.cosign.signaturePath == "" && o.sources.searched(ctx, len(args))
	}
	return f
}

// modeConflicts are the flags of two modes that do not go together, each
// refused with a usage error naming both. The first that applies wins.
var modeConflicts = []struct {
	applies func(f *modeFacts) bool
	err     func(f *modeFacts) error
}{
	{func(f *modeFacts) bool { return f.policy && f.gateFlag != "" }, func(f *modeFacts) error {
		return usageError(fmt.Errorf("%s does not combine with --policy", f.gateFlag),
			"write the scan gate as CEL rules of the policy file (see 'hallmark policy --help'), or verify without --policy")
	}},
	{func(f *modeFacts) bool {
		return !f.policy && f.images && (f.gate || f.preset != "" || f.npmFlag != "" || f.pypiFlag != "")
	}, func(*modeFacts) error {
		return usageError(errors.New("oci:// images are verified with the policy flags or --policy: the scan gate, --vsa and --preset take files"),
			"verify the image with --repo, --certificate-identity, --key or --policy; keep the scan gate and --vsa for files")
	}},
	{func(f *modeFacts) bool { return !f.policy && !f.gate && f.preset == "npm" && f.pypiFlag != "" }, func(f *modeFacts) error {
		return usageError(fmt.Errorf("--%s is a flag of --preset pypi, not of --preset npm", f.pypiFlag), "drop --"+f.pypiFlag)
	}},
	{func(f *modeFacts) bool { return !f.policy && !f.gate && f.preset == pypiPreset && f.npmFlag != "" }, func(f *modeFacts) error {
		return usageError(fmt.Errorf("--%s is a flag of --preset npm, not of --preset pypi", f.npmFlag), "drop --"+f.npmFlag)
	}},
}

// verifyModeOf picks the mode: the conflicts first, then the first mode
// whose flags were given, in this order. Each mode checks its own flags.
func verifyModeOf(f modeFacts) (verifyMode, error) {
	for _, c := range modeConflicts {
		if c.applies(&f) {
			return "", c.err(&f)
		}
	}
	switch {
	case f.policy:
		return modePolicy, nil
	case f.gate:
		return modeGate, nil
	case f.preset == "npm" || f.npmFlag != "":
		return modeNPM, nil
	case f.preset == pypiPreset || f.pypiFlag != "":
		return modePyPI, nil
	case f.preset != "":
		return modePreset, nil
	case f.bottleURL:
		return "", usageError(errors.New("--bottle-url names a bottle's download URL for --preset homebrew-core"), "add --preset homebrew-core, or drop --bottle-url")
	case f.imagesErr != nil:
		return "", f.imagesErr
	case f.images || f.fromOCI:
		return modeOCI, nil
	case f.imageOnly != nil:
		return "", f.imageOnly
	case f.searched:
		return modeSearched, nil
	}
	return modePlain, nil
}
