package attest_test

import (
	"errors"
	"fmt"

	intotov1 "github.com/in-toto/attestation/go/v1"

	"github.com/hallmark-dev/hallmark/pkg/attest"
)

// A statement about one file by digest, with an SBOM predicate; the
// marshalled statement is what pkg/sign signs as DSSE (sign.Job.Statement).
func Example() {
	sub, err := attest.ParseSubject("app.tgz=sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae")
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, uri, err := attest.ReadPredicate("cyclonedx", []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := attest.NewStatement([]*intotov1.ResourceDescriptor{sub}, uri, pred)
	if err != nil {
		fmt.Println(err)
		return
	}
	data, _ := attest.MarshalStatement(st)
	fmt.Println(string(data))
	// Output:
	// {"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app.tgz","digest":{"sha256":"2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}}],"predicateType":"https://cyclonedx.org/bom","predicate":{"bomFormat":"CycloneDX","specVersion":"1.6","version":1}}
}

// A predicate that is not its type's shape names the field.
func ExampleReadPredicate() {
	_, _, err := attest.ReadPredicate("slsaprovenance1", []byte(`{"buildDefinition":{},"runDetails":{"builder":{"id":"https://example.com/b"}}}`))
	var pe *attest.PredicateError
	if errors.As(err, &pe) {
		fmt.Println(pe.Field)
		fmt.Println(err)
	}
	// Output:
	// buildDefinition.buildType
	// the slsaprovenance1 predicate is invalid: buildDefinition.buildType: missing or empty
}

func ExamplePredicateType() {
	uri, _ := attest.PredicateType("slsaprovenance1")
	fmt.Println(uri, attest.ShortName("https://spdx.dev/Document/v2.2"))
	// Output: https://slsa.dev/provenance/v1 spdxjson
}
