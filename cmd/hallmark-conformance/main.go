// Command hallmark-conformance speaks the Sigstore conformance client
// protocol (sigstore-conformance docs/cli_protocol.md) over hallmark's own
// command line, so the conformance suite exercises the same code path as
// 'hallmark verify':
//
//	hallmark-conformance verify-bundle --bundle B \
//	    (--key K | --certificate-identity I --certificate-oidc-issuer O) \
//	    [--trusted-root T] FILE_OR_DIGEST
//
// runs 'hallmark verify --offline --insecure-ignore-provenance' with the same
// flags (the suite checks Sigstore verification, and one of its happy paths
// signs a GitHub provenance of another repository than the certificate's;
// the warning goes to stderr), and
//
//	hallmark-conformance sign-bundle [--in-toto] --identity-token T --bundle OUT \
//	    [--trusted-root F] [--signing-config F] FILE
//
// runs 'hallmark sign --oidc-disable-ambient-providers' with the same flags:
// the token is the one given, never one from the environment.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/hallmark-dev/hallmark/internal/cli"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: hallmark-conformance verify-bundle [flags] FILE_OR_DIGEST")
		fmt.Fprintln(os.Stderr, "       hallmark-conformance sign-bundle [--in-toto] --identity-token T --bundle OUT [--trusted-root F] [--signing-config F] FILE")
		return cli.ExitUsage
	}
	stdio := cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
	switch args[0] {
	case "verify-bundle":
		return cli.Run(context.Background(), append([]string{"verify", "--offline", "--insecure-ignore-provenance"}, args[1:]...), stdio)
	case "sign-bundle":
		return cli.Run(context.Background(), append([]string{"sign", "--oidc-disable-ambient-providers"}, args[1:]...), stdio)
	}
	fmt.Fprintf(os.Stderr, "hallmark-conformance: unsupported command %q\n", args[0])
	return cli.ExitUsage
}
