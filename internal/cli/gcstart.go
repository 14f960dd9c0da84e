package cli

// The first garbage collection of a hallmark process waits for a 16 MiB
// heap; see the package.
import _ "github.com/hallmark-dev/hallmark/internal/cli/gcstart"
