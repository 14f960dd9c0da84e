package extract

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoHeavyDependencies guards hallmark's start-up cost: every hallmark
// process pays the package initialisation of everything this package links.
// osv-scanner's library layer and osv-scalibr's plugin lists cost ~140 ms
// and +23 MiB per process (580-665 inits); the extractors imported one by
// one cost ~2.5 ms and ~100 inits (measured with GODEBUG=inittrace=1 on a
// hallmark binary with and without this package).
func TestNoHeavyDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go tool not found")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	forbidden := []string{
		"github.com/google/osv-scanner",                           // osv-scanner's library layer
		"github.com/google/osv-scalibr/extractor/filesystem/list", // plugin lists
		"github.com/google/osv-scalibr/plugin/list",
		"github.com/google/osv-scalibr/detector",
		"github.com/google/osv-scalibr/enricher",
		"github.com/google/osv-scalibr/veles/secrets", // secret detectors
		"github.com/charmbracelet/",                   // terminal UI
		"github.com/google/osv-scalibr/binary/scanrunner",
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if d == strings.TrimSuffix(f, "/") || strings.HasPrefix(d, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("internal/extract links %s (forbidden prefix %s): import extractors one by one", d, f)
			}
		}
	}
	// 610 packages (standard library included) with osv-scalibr v0.5.3; a
	// jump means a heavy import.
	if len(deps) > 700 {
		t.Errorf("internal/extract links %d packages, expected about 610: check `go list -deps` for a heavy import", len(deps))
	}
}
