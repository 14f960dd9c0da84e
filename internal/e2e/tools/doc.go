// Package tools pins the servers of the e2e tests' local Sigstore stack,
// and cosign for 'make interop', as Go tool directives: Fulcio, Rekor v2
// (rekor-tiles, posix backend) and the timestamp authority. It is a
// separate module so that none of them enters hallmark's dependency graph.
// internal/e2e/stack.sh builds them once into a cache keyed by this
// module's go.mod, go.sum and ./instance, the program that describes a
// running stack (its trusted root and signing config).
//
// Upgrading: go get -tool MODULE@VERSION, then 'go mod tidy -e': Fulcio's
// own tests import chainguard.dev/sdk v0.1.103, which the module proxy
// refuses, and a plain tidy stops there.
package tools
