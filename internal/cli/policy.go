package cli

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/hallmark-dev/hallmark/internal/termtext"
	"github.com/hallmark-dev/hallmark/pkg/policy"
)

// policyCommand is the policy group: lint, schema, init.
func (a *app) policyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Check, describe and start policy files for verify --policy",
		Long: `A policy file says who may sign what (signers), which attestations an artifact
must have and what they must say (artifacts, with CEL rules), how the steps of
a supply chain chain together (steps, an in-toto layout), and which trust root
and evidence thresholds apply (trust). 'hallmark verify --policy FILE' checks
bundles against it and reports every rule that fails.

Exit codes: 0 ok, 1 could not complete, 2 the policy (or the command line) is
wrong, 3 rejected.`,
	}
	cmd.AddCommand(a.policyLintCommand(), a.policySchemaCommand(), a.policyInitCommand())
	return cmd
}

func (a *app) policyLintCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "lint POLICY",
		Short: "Check a policy file: schema, CEL rules, signers and steps",
		Long: `Check a policy file as verify --policy reads it: YAML, every field known and of
the right kind (the JSON Schema of 'hallmark policy schema' too), every CEL rule
compiled and type-checked, every signer a threshold names defined, every MATCH
... FROM naming a step, and no step unreachable (every step but the last must
feed a later one). Each problem is printed with its line and column; exit 2.`,
		Example: `  hallmark policy lint policy.yaml`,
		Args:    cobra.ExactArgs(1),
		RunE: a.runE(func(cmd *cobra.Command, args []string) error {
			return a.runPolicyLint(cmd.Context(), args[0])
		}),
	}
}

// policyLintResult is policy lint --output json.
type policyLintResult struct {
	Policy    string          `json:"policy"`
	Valid     bool            `json:"valid"`
	Problems  []*policy.Error `json:"problems,omitempty"`
	Signers   int             `json:"signers"`
	Artifacts int             `json:"artifacts"`
	Steps     int             `json:"steps"`
	Rules     int             `json:"celRules"`
}

func (a *app) runPolicyLint(ctx context.Context, file string) error {
	data, err := policy.ReadFile(ctx, file)
	if err != nil {
		return withHint(err, "check the path of the policy file")
	}
	p, err := policy.Parse(ctx, data, policy.Options{File: file, Dir: filepath.Dir(file)})
	res := policyLintResult{Policy: file, Valid: err == nil}
	var es policy.Errors
	switch {
	case errors.As(err, &es):
		res.Problems = es
	case err != nil:
		return err
	default:
		res.Signers, res.Artifacts, res.Steps = len(p.Signers), len(p.Artifacts), len(p.Steps)
		for _, ap := range p.Artifacts {
			for _, r := range ap.Attestations {
				res.Rules += len(r.Rules)
			}
		}
		for _, s := range p.Steps {
			res.Rules += len(s.Rules)
		}
	}
	if a.output == "json" {
		if err := a.printJSON(res); err != nil {
			return err
		}
		if !res.Valid {
			return errReported{ExitUsage}
		}
		return nil
	}
	if !res.Valid {
		return a.policyErrors(err, fmt.Sprintf("'hallmark policy schema' prints the format; the problems above are each at FILE:LINE:COLUMN of %s", termtext.Quote(file)))
	}
	fmt.Fprintf(a.stdio.Out, "OK %s: %d signers, %d artifacts entries, %d steps, %d CEL rules\n",
		termtext.Quote(file), res.Signers, res.Artifacts, res.Steps, res.Rules)
	return nil
}

func (a *app) policySchemaCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "schema",
		Short:   "Print the JSON Schema of policy files",
		Long:    `Print the JSON Schema (draft 7) of hallmark policy files, for editors and CI checks.`,
		Example: `  hallmark policy schema > hallmark-policy.schema.json`,
		Args:    cobra.NoArgs,
		RunE: a.runE(func(cmd *cobra.Command, _ []string) error {
			_, err := a.stdio.Out.Write(policy.Schema())
			return err
		}),
	}
}
