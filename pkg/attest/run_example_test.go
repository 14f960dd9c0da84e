package attest_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hallmark-dev/hallmark/pkg/attest"
)

// Record a build step: the materials are hashed, the command runs, and
// the products become the statement's subjects.
func ExampleRunStep() {
	dir, _ := os.MkdirTemp("", "step")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "main.c"), []byte("int main(void) { return 0; }\n"), 0o644)

	res, err := attest.RunStep(context.Background(), attest.StepOptions{
		Name:      "build",
		Materials: []string{"src/**"},
		Products:  []string{"dist"},
		Command:   []string{"sh", "-c", "mkdir -p dist && cp src/main.c dist/app"},
		Dir:       dir,
		Env:       []string{"PATH=" + os.Getenv("PATH"), "GITHUB_TOKEN=never-recorded"},
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("exit code:", res.ExitCode)
	for _, s := range res.Statement.GetSubject() {
		fmt.Println("product:", s.GetName(), s.GetDigest()["sha256"][:16])
	}
	link := res.Statement.GetPredicate().AsMap()
	for _, m := range link["materials"].([]any) {
		fmt.Println("material:", m.(map[string]any)["name"])
	}
	fmt.Println("exit code in the link:", link["byproducts"].(map[string]any)[attest.LinkByproductExitCode])
	// Output:
	// exit code: 0
	// product: dist/app 2ad75d9566056388
	// material: src/main.c
	// exit code in the link: 0
}
