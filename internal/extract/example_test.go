package extract_test

import (
	"context"
	"fmt"

	"github.com/hallmark-dev/hallmark/internal/extract"
)

func ExampleExtract() {
	res, err := extract.Extract(context.Background(), []string{"testdata/requirements/requirements.txt"}, extract.Options{})
	if err != nil {
		panic(err)
	}
	for _, p := range res.Packages[:3] {
		if p.Unpinned() {
			fmt.Printf("%s %s unpinned (%s) at %s:%d\n", p.Ecosystem, p.Name, p.Requirement, p.Location.Path, p.Location.Line)
		} else {
			fmt.Printf("%s %s %s at %s:%d\n", p.Ecosystem, p.Name, p.Version, p.Location.Path, p.Location.Line)
		}
	}
	// Output:
	// PyPI Django 3.2.0 at testdata/requirements/requirements.txt:3
	// PyPI certifi unpinned (>=2021.5.30) at testdata/requirements/requirements.txt:5
	// PyPI chardet unpinned (!=4.0.0) at testdata/requirements/requirements.txt:8
}

func ExampleExtractSBOM() {
	doc := []byte(`{"bomFormat": "CycloneDX", "specVersion": "1.5",
	  "components": [{"type": "library", "name": "lodash", "version": "4.17.20", "purl": "pkg:npm/lodash@4.17.20"}]}`)
	res, err := extract.ExtractSBOM(context.Background(), "bundle.sigstore.json#sbom", doc, "https://cyclonedx.org/bom", extract.Options{})
	if err != nil {
		panic(err)
	}
	p := res.Packages[0]
	fmt.Println(p.Ecosystem, p.Name, p.Version, p.PURL, p.Location.Path)
	// Output:
	// npm lodash 4.17.20 pkg:npm/lodash@4.17.20 bundle.sigstore.json#sbom
}
