package extract

import (
	"sync"

	cpb "github.com/google/osv-scalibr/binary/proto/config_go_proto"
	"github.com/google/osv-scalibr/extractor/filesystem"
	"github.com/google/osv-scalibr/extractor/filesystem/language/cpp/conanlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dart/pubspec"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dotnet/packagesconfig"
	"github.com/google/osv-scalibr/extractor/filesystem/language/dotnet/packageslockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/elixir/mixlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/golang/gomod"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradlelockfile"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/gradleverificationmetadataxml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/java/pomxml"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/bunlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/packagelockjson"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/pnpmlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/javascript/yarnlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/php/composerlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pdmlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pipfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/poetrylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/pylock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/requirements"
	"github.com/google/osv-scalibr/extractor/filesystem/language/python/uvlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/r/renvlock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/ruby/gemfilelock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/rust/cargolock"
	"github.com/google/osv-scalibr/extractor/filesystem/language/swift/packageresolved"
	"github.com/google/osv-scalibr/extractor/filesystem/sbom/cdx"
	"github.com/google/osv-scalibr/extractor/filesystem/sbom/spdx"
	scalibrlog "github.com/google/osv-scalibr/log"
)

// plugin is one osv-scalibr extractor we drive, with the OSV ecosystem its
// packages belong to when the package itself does not say (GIT-sourced
// entries in a lockfile keep their lockfile's ecosystem).
type plugin struct {
	name      string
	ecosystem string // "" for SBOMs: each package carries its own
	newFn     func(*cpb.PluginConfig) (filesystem.Extractor, error)
}

// plugins lists the extractors of osv-scanner's lockfile and SBOM presets,
// imported one by one: never osv-scalibr's plugin lists or osv-scanner's
// library layer, whose package initialisation costs every hallmark process
// ~140 ms (see TestNoHeavyDependencies).
var plugins = []plugin{
	{packagelockjson.Name, "npm", newPackageLockExtractor}, // linear; see packagelock.go
	{pnpmlock.Name, "npm", pnpmlock.New},
	{yarnlock.Name, "npm", yarnlock.New},
	{bunlock.Name, "npm", bunlock.New},
	{gomod.Name, "Go", gomod.New},
	{cargolock.Name, "crates.io", cargolock.New},
	{poetrylock.Name, "PyPI", poetrylock.New},
	{uvlock.Name, "PyPI", uvlock.New},
	{pdmlock.Name, "PyPI", pdmlock.New},
	{pipfilelock.Name, "PyPI", pipfilelock.New},
	{pylock.Name, "PyPI", pylock.New},
	{requirements.Name, "PyPI", requirements.New},
	{gemfilelock.Name, "RubyGems", gemfilelock.New},
	{composerlock.Name, "Packagist", composerlock.New},
	{pomxml.Name, "Maven", pomxml.New},
	{gradlelockfile.Name, "Maven", gradlelockfile.New},
	{gradleverificationmetadataxml.Name, "Maven", gradleverificationmetadataxml.New},
	{packageslockjson.Name, "NuGet", packageslockjson.New},
	{packagesconfig.Name, "NuGet", packagesconfig.New},
	{conanlock.Name, "ConanCenter", conanlock.New},
	{mixlock.Name, "Hex", mixlock.New},
	{pubspec.Name, "Pub", pubspec.New},
	{renvlock.Name, "CRAN", renvlock.New},
	{packageresolved.Name, "SwiftURL", packageresolved.New},
	{cdx.Name, "", cdx.New},
	{spdx.Name, "", spdx.New},
}

// Formats returns the names of the osv-scalibr extractors hallmark drives, in
// the order they are tried.
func Formats() []string {
	names := make([]string, len(plugins))
	for i, p := range plugins {
		names[i] = p.name
	}
	return names
}

type loaded struct {
	plugin
	ex filesystem.Extractor
}

var (
	loadOnce  sync.Once
	loadedExs []loaded
	loadErr   error
)

// extractors builds the extractors on first use, so that a hallmark process
// that never scans pays nothing beyond package initialisation.
func extractors() ([]loaded, error) {
	loadOnce.Do(func() {
		// osv-scalibr logs parse failures through a process-wide logger that
		// writes to stderr; every failure also comes back as an error, which
		// this package returns, so its log lines would only be noise.
		scalibrlog.SetLogger(discardLogger{})
		for _, p := range plugins {
			ex, err := p.newFn(&cpb.PluginConfig{})
			if err != nil {
				loadErr = err
				return
			}
			loadedExs = append(loadedExs, loaded{plugin: p, ex: ex})
		}
	})
	return loadedExs, loadErr
}

type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Infof(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
func (discardLogger) Error(...any)          {}
func (discardLogger) Warn(...any)           {}
func (discardLogger) Info(...any)           {}
func (discardLogger) Debug(...any)          {}
