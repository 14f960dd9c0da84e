package cli

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/attest"
	"github.com/hallmark-dev/hallmark/pkg/verify"
)

// attestationOptions are verify's flags about what an attestation says.
type attestationOptions struct {
	predicateType            string
	builderID                string
	insecureIgnoreProvenance bool
}

// typeAny is the --type value that asks for no particular predicate type.
const typeAny = "any"

func (o *attestationOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.predicateType, "type", "", "the predicate `TYPE` the attestation must have: a short name (slsaprovenance1, spdxjson, link...) or a URI")
	f.StringVar(&o.predicateType, "predicate-type", "", "alias of --type (gh's spelling)")
	f.StringVar(&o.builderID, "builder-id", "", "the builder `ID` the SLSA provenance must name (runDetails.builder.id)")
	f.BoolVar(&o.insecureIgnoreProvenance, "insecure-ignore-provenance", false, "accept GitHub Actions provenance that its certificate contradicts (unsafe)")
	cmd.MarkFlagsMutuallyExclusive("type", "predicate-type")
}

// apply puts the attestation rules into p: a pure function of the flags.
func (o *attestationOptions) apply(p *verify.Policy) error {
	switch t := o.predicateType; {
	case t == "" || strings.EqualFold(t, typeAny):
	default:
		if _, ok := attest.PredicateType(t); !ok {
			return usageError(fmt.Errorf("--type %q is neither a known predicate type nor an absolute URI", t),
				"known types: "+strings.Join(typeNames(), ", ")+"; or give the predicate type URI, such as https://slsa.dev/provenance/v1")
		}
		p.PredicateType = t
	}
	p.BuilderID = o.builderID
	p.InsecureIgnoreProvenance = o.insecureIgnoreProvenance
	return nil
}

// attestationUsage turns the rejection of a message-signature bundle under
// --type into the usage error it is: the flag does not apply to it.
func attestationUsage(outs []verify.Outcome) {
	for i, o := range outs {
		var rej *verify.RejectedError
		if errors.As(o.Err, &rej) && rej.Cause == verify.CauseNotAttestation {
			outs[i].Err = usageError(o.Err)
		}
	}
}

// notAttestationHint is the hint of a message signature verified with --type.
const notAttestationHint = "--type applies to attestations (DSSE bundles); drop --type to verify a signature of the artifact itself"

// printStatement shows, in text, what a verified attestation says: the
// provenance's builder and source, and a link's recorded step.
func printStatement(w io.Writer, r *verify.Result) {
	st := r.Statement
	if st == nil {
		return
	}
	if p := st.Provenance; p != nil {
		fmt.Fprintf(w, "  provenance: builder %s\n", shown(p.Builder))
		if p.SourceRepository != "" || p.SourceCommit != "" {
			fmt.Fprintf(w, "  provenance: source %s", shown(p.SourceRepository))
			if p.SourceRef != "" {
				fmt.Fprintf(w, " ref %s", shown(p.SourceRef))
			}
			if p.SourceCommit != "" {
				fmt.Fprintf(w, " commit %s", shown(p.SourceCommit))
			}
			fmt.Fprintln(w)
		}
	}
	if l := st.Link; l != nil {
		args := make([]string, len(l.Command))
		for i, a := range l.Command {
			args[i] = shellWord(a)
		}
		fmt.Fprintf(w, "  step %s: %s", shown(l.Name), strings.Join(args, " "))
		if l.ExitCode != nil {
			fmt.Fprintf(w, " (exit code %d)", *l.ExitCode)
		}
		fmt.Fprintln(w)
		printResources(w, "material", l.Materials)
		printResources(w, "product", l.Products)
	}
}

func printResources(w io.Writer, kind string, rs []verify.Subject) {
	for _, r := range rs {
		algs := make([]string, 0, len(r.Digest))
		for alg := range r.Digest {
			algs = append(algs, alg)
		}
		sort.Strings(algs)
		var ds []string
		for _, alg := range algs {
			ds = append(ds, shown(alg)+":"+shown(r.Digest[alg]))
		}
		fmt.Fprintf(w, "  %s %s %s\n", kind, shown(r.Name), strings.Join(ds, " "))
	}
}

// shown is s as printed: quoted when it holds anything but printable
// characters, so that a statement cannot write control sequences to the
// terminal.
func shown(s string) string {
	if s == "" {
		return `""`
	}
	return termtext.Quote(s)
}

// shellWord is a command argument as printed: quoted when empty, when it
// holds spaces or quotes, or anything unprintable.
func shellWord(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"'\\") {
		return strconv.Quote(s)
	}
	return shown(s)
}
