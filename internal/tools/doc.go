// Package tools pins the versions of the developer tools that the Makefile
// runs with `go tool -modfile=internal/tools/go.mod NAME` or builds from it:
// staticcheck, benchstat and govulncheck. It is a separate module so that they never enter hallmark's own
// dependency graph.
package tools
