package attest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	linkv0 "github.com/in-toto/attestation/go/predicates/link/v0"
	intotov1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func needSh(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("these tests run sh, and there is none here")
	}
}

func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// stepLink reads the link predicate back with the in-toto types.
func stepLink(t *testing.T, st *intotov1.Statement) *linkv0.Link {
	t.Helper()
	if st.GetType() != intotov1.StatementTypeUri || st.GetPredicateType() != "https://in-toto.io/attestation/link/v0.3" {
		t.Fatalf("statement type %q, predicate type %q", st.GetType(), st.GetPredicateType())
	}
	js, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		t.Fatal(err)
	}
	var l linkv0.Link
	if err := protojson.Unmarshal(js, &l); err != nil {
		t.Fatalf("the predicate is not an in-toto link: %v", err)
	}
	return &l
}

func descriptors(rds []*intotov1.ResourceDescriptor) map[string]string {
	out := map[string]string{}
	for _, rd := range rds {
		out[rd.GetName()] = rd.GetDigest()["sha256"]
	}
	return out
}

// A small build: a product made from a material gets the right subjects,
// materials and digests, and the step's name, command and exit code.
func TestRunStepBuild(t *testing.T) {
	needSh(t)
	root := runnerTree(t, map[string]string{"src/a.txt": "alpha\n", "src/b.txt": "beta\n", "other.txt": "other"})
	var stdout, stderr bytes.Buffer
	cmd := []string{"sh", "-c", "mkdir -p dist && cat src/a.txt src/b.txt > dist/app && echo built && echo warn >&2"}
	res, err := RunStep(context.Background(), StepOptions{
		Name: "build", Materials: []string{"src/**"}, Products: []string{"dist"},
		Command: cmd, Dir: root, Env: []string{"PATH=" + os.Getenv("PATH")},
		Stdout: &stdout, Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 || stdout.String() != "built\n" || stderr.String() != "warn\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", res.ExitCode, stdout.String(), stderr.String())
	}
	if err := res.Statement.Validate(); err != nil {
		t.Errorf("the statement is not valid in-toto: %v", err)
	}
	if got, want := descriptors(res.Statement.GetSubject()), map[string]string{"dist/app": sha256Hex("alpha\nbeta\n")}; !reflect.DeepEqual(got, want) {
		t.Errorf("subjects %v, want %v", got, want)
	}
	l := stepLink(t, res.Statement)
	if l.GetName() != "build" || !reflect.DeepEqual(l.GetCommand(), cmd) {
		t.Errorf("name %q, command %q", l.GetName(), l.GetCommand())
	}
	want := map[string]string{"src/a.txt": sha256Hex("alpha\n"), "src/b.txt": sha256Hex("beta\n")}
	if got := descriptors(l.GetMaterials()); !reflect.DeepEqual(got, want) {
		t.Errorf("materials %v, want %v", got, want)
	}
	if code := l.GetByproducts().GetFields()[LinkByproductExitCode].GetNumberValue(); code != 0 {
		t.Errorf("byproducts %v", l.GetByproducts())
	}
}

// A failing command's exit code is the result's and is in the byproducts;
// the statement is made all the same, and a product the failed command did
// not make is not an error.
func TestRunStepFailingCommand(t *testing.T) {
	needSh(t)
	root := runnerTree(t, map[string]string{"in.txt": "in", "old.bin": "old"})
	res, err := RunStep(context.Background(), StepOptions{
		Name: "fail", Materials: []string{"in.txt"}, Products: []string{"dist/**", "old.bin"},
		Command: []string{"sh", "-c", "exit 3"}, Dir: root, Env: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 3 {
		t.Errorf("exit code %d, want 3", res.ExitCode)
	}
	l := stepLink(t, res.Statement)
	if code := l.GetByproducts().GetFields()[LinkByproductExitCode].GetNumberValue(); code != 3 {
		t.Errorf("byproducts %v, want %s 3", l.GetByproducts(), LinkByproductExitCode)
	}
	if got := descriptors(res.Statement.GetSubject()); !reflect.DeepEqual(got, map[string]string{"old.bin": sha256Hex("old")}) {
		t.Errorf("subjects %v", got)
	}
}

// A command killed by a signal records 128+N, as a shell says it.
func TestRunStepKilledBySignal(t *testing.T) {
	needSh(t)
	res, err := RunStep(context.Background(), StepOptions{
		Name: "killed", Command: []string{"sh", "-c", "kill -9 $$"}, Dir: t.TempDir(), Env: []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 128+9 {
		t.Errorf("exit code %d, want 137", res.ExitCode)
	}
}

// A material glob that matches nothing is an error naming it, and the
// command is not run. A product glob that matches nothing after the
// command succeeded is an error too.
func TestRunStepNoMatch(t *testing.T) {
	needSh(t)
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	_, err := RunStep(context.Background(), StepOptions{
		Name: "m", Materials: []string{"in.txt", "src/**/*.go"},
		Command: []string{"sh", "-c", "touch ran"}, Dir: root, Env: []string{},
	})
	if !errors.Is(err, ErrGlobNoMatch) || !strings.Contains(err.Error(), `"src/**/*.go"`) {
		t.Errorf("err = %v, want ErrGlobNoMatch naming the glob", err)
	}
	if _, err := os.Stat(filepath.Join(root, "ran")); err == nil {
		t.Error("the command ran although a material glob matched nothing")
	}
	_, err = RunStep(context.Background(), StepOptions{
		Name: "p", Products: []string{"dist/app"},
		Command: []string{"sh", "-c", "true"}, Dir: root, Env: []string{},
	})
	if !errors.Is(err, ErrGlobNoMatch) || !strings.Contains(err.Error(), `"dist/app"`) {
		t.Errorf("err = %v, want ErrGlobNoMatch naming the product glob", err)
	}
}

// A step with no products has a statement with no subject; the caller
// says so (in-toto needs one).
func TestRunStepNoProducts(t *testing.T) {
	needSh(t)
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	res, err := RunStep(context.Background(), StepOptions{
		Name: "test", Materials: []string{"in.txt"}, Command: []string{"true"}, Dir: root, Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Statement.GetSubject()) != 0 || !errors.Is(res.Statement.Validate(), intotov1.ErrSubjectRequired) {
		t.Errorf("subjects %v", res.Statement.GetSubject())
	}
}

func TestRunStepErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		o    StepOptions
		want error
	}{
		{"no name", StepOptions{Command: []string{"true"}, Dir: dir}, ErrStepOptions},
		{"no command", StepOptions{Name: "x", Dir: dir}, ErrStepOptions},
		{"no such dir", StepOptions{Name: "x", Command: []string{"true"}, Dir: filepath.Join(dir, "nope")}, ErrStepOptions},
		{"not found", StepOptions{Name: "x", Command: []string{"hallmark-no-such-command-9"}, Dir: dir}, exec.ErrNotFound},
		{"not found path", StepOptions{Name: "x", Command: []string{filepath.Join(dir, "nope")}, Dir: dir}, ErrStepStart},
		{"command not UTF-8", StepOptions{Name: "x", Command: []string{"echo", "\xff"}, Dir: dir}, ErrStepOptions},
		{"bad glob", StepOptions{Name: "x", Command: []string{"true"}, Dir: dir, Materials: []string{"../x"}}, ErrGlobBadPattern},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := RunStep(context.Background(), tc.o)
			if !errors.Is(err, tc.want) || res != nil {
				t.Errorf("RunStep = %v, %v; want %v", res, err, tc.want)
			}
		})
	}
	// A command not found is ErrStepStart, not an exit code.
	_, err := RunStep(context.Background(), StepOptions{Name: "x", Command: []string{"hallmark-no-such-command-9"}, Dir: dir})
	if !errors.Is(err, ErrStepStart) || strings.Count(err.Error(), `"hallmark-no-such-command-9"`) != 1 {
		t.Errorf("err = %v, want ErrStepStart naming the command once", err)
	}
}

// The secrets of the environment never reach the statement: not named
// secrets, not asked for with RecordEnv, not inside a URL or another
// variable, not in the command's arguments. The command itself still gets
// its whole environment.
func TestRunStepSecretsNeverRecorded(t *testing.T) {
	needSh(t)
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	const (
		ghToken   = "ghs_0123456789abcdefSECRETtoken"
		awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
		jobToken  = "glcbt-64_jobtokenvalue"
	)
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"GITHUB_TOKEN=" + ghToken,
		"AWS_SECRET_ACCESS_KEY=" + awsSecret,
		"CI_JOB_TOKEN=" + jobToken,
		"GITHUB_ACTIONS=true",
		"GITHUB_REPOSITORY=octo/app",
		"GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
		"CI_REPOSITORY_URL=https://gitlab-ci-token:" + jobToken + "@gitlab.example/octo/app.git",
		"CI_PROJECT_URL=https://gitlab.example/octo/app?t=" + jobToken,
		"MY_SETTING=on",
		"UNASKED=not recorded",
	}
	var stdout bytes.Buffer
	res, err := RunStep(context.Background(), StepOptions{
		Name: "build", Materials: []string{"in.txt"}, Products: []string{"out"},
		Command: []string{"sh", "-c", `test "$GITHUB_TOKEN" = "` + ghToken + `" && echo the child has it > out`},
		Dir:     root, Env: env,
		RecordEnv: []string{"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "MY_SETTING", "CI_REPOSITORY_URL"},
		Stdout:    &stdout,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 0 {
		t.Fatalf("the command did not get GITHUB_TOKEN: exit %d", res.ExitCode)
	}
	js, err := protojson.Marshal(res.Statement)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{ghToken, awsSecret, jobToken, "gitlab-ci-token"} {
		if bytes.Contains(js, []byte(s)) {
			t.Errorf("the statement holds %q:\n%s", s, js)
		}
	}
	envJS, err := protojson.Marshal(stepLink(t, res.Statement).GetEnvironment())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "CI_JOB_TOKEN", "UNASKED"} {
		if bytes.Contains(envJS, []byte(s)) {
			t.Errorf("the environment holds %q:\n%s", s, envJS)
		}
	}
	vars := stepLink(t, res.Statement).GetEnvironment().GetFields()[LinkEnvVariables].GetStructValue().GetFields()
	for k, want := range map[string]string{
		"GITHUB_ACTIONS":    "true",
		"GITHUB_REPOSITORY": "octo/app",
		"MY_SETTING":        "on",
		"CI_REPOSITORY_URL": "https://gitlab.example/octo/app.git",
		"CI_PROJECT_URL":    "https://gitlab.example/octo/app?t=[redacted]",
	} {
		if got := vars[k].GetStringValue(); got != want {
			t.Errorf("variable %s = %q, want %q", k, got, want)
		}
	}
	if cmd := stepLink(t, res.Statement).GetCommand(); !strings.Contains(cmd[2], `"$GITHUB_TOKEN" = "[redacted]"`) {
		t.Errorf("command recorded as %q", cmd)
	}
}

// The command's output is streamed: the test reads the child's first line
// while the child still waits for its input, so it cannot have exited.
func TestRunStepStreams(t *testing.T) {
	needSh(t)
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	done := make(chan error, 1)
	var res *StepResult
	go func() {
		var err error
		res, err = RunStep(context.Background(), StepOptions{
			Name: "stream", Command: []string{"sh", "-c", "echo ready; read line; echo got $line"},
			Dir: t.TempDir(), Env: []string{}, Stdin: inR, Stdout: outW,
		})
		outW.Close()
		done <- err
	}()
	lines := bufio.NewReader(outR)
	first, err := lines.ReadString('\n')
	if err != nil || first != "ready\n" {
		t.Fatalf("first line %q, %v", first, err)
	}
	select {
	case err := <-done:
		t.Fatalf("the step ended before its input was written: %v", err)
	default:
	}
	if _, err := io.WriteString(inW, "go\n"); err != nil {
		t.Fatal(err)
	}
	inW.Close()
	second, _ := lines.ReadString('\n')
	if second != "got go\n" {
		t.Errorf("second line %q", second)
	}
	if err := <-done; err != nil || res.ExitCode != 0 {
		t.Errorf("RunStep: %v", err)
	}
}

// Cancelling the context sends SIGINT to the command (it may clean up),
// then SIGKILL after the grace period to one that ignores it; RunStep
// returns ErrStepInterrupted and records nothing.
func TestRunStepInterrupt(t *testing.T) {
	needSh(t)
	defer func(d time.Duration) { stepGracePeriod = d }(stepGracePeriod)
	stepGracePeriod = 300 * time.Millisecond
	for _, tc := range []struct {
		name, script, wantOut string
	}{
		{"handles SIGINT", `trap 'echo interrupted; exit 9' INT; echo started; while :; do sleep 0.05; done`, "started\ninterrupted\n"},
		{"ignores SIGINT", `trap '' INT; echo started; while :; do sleep 0.05; done`, "started\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			outR, outW := io.Pipe()
			var got bytes.Buffer
			copied := make(chan struct{})
			go func() {
				defer close(copied)
				r := bufio.NewReader(outR)
				line, _ := r.ReadString('\n')
				got.WriteString(line)
				cancel() // the command has started: interrupt it
				io.Copy(&got, r)
			}()
			res, err := RunStep(ctx, StepOptions{
				Name: "long", Command: []string{"sh", "-c", tc.script}, Dir: t.TempDir(),
				Env: []string{"PATH=" + os.Getenv("PATH")}, Stdout: outW,
			})
			outW.Close()
			<-copied
			if !errors.Is(err, ErrStepInterrupted) || !errors.Is(err, context.Canceled) || res != nil {
				t.Errorf("RunStep = %v, %v; want ErrStepInterrupted", res, err)
			}
			if got.String() != tc.wantOut {
				t.Errorf("output %q, want %q", got.String(), tc.wantOut)
			}
		})
	}
}

// A context that ends before the command runs interrupts the step too:
// the command is not run.
func TestRunStepInterruptedBeforeCommand(t *testing.T) {
	root := runnerTree(t, map[string]string{"in.txt": "in"})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := RunStep(ctx, StepOptions{
		Name: "x", Materials: []string{"in.txt"}, Command: []string{"sh", "-c", "touch ran"}, Dir: root,
		Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if !errors.Is(err, ErrStepInterrupted) || !errors.Is(err, context.Canceled) || res != nil {
		t.Errorf("RunStep = %v, %v; want ErrStepInterrupted", res, err)
	}
	if _, err := os.Stat(filepath.Join(root, "ran")); err == nil {
		t.Error("the command ran in a cancelled context")
	}
	// No materials: the command is the first thing the context stops.
	res, err = RunStep(ctx, StepOptions{Name: "x", Command: []string{"sh", "-c", "touch ran"}, Dir: root, Env: []string{}})
	if !errors.Is(err, ErrStepInterrupted) || res != nil {
		t.Errorf("RunStep without materials = %v, %v; want ErrStepInterrupted", res, err)
	}
}

// Paths with newlines are allowed and recorded exactly.
func TestRunStepNewlineNames(t *testing.T) {
	needSh(t)
	root := runnerTree(t, map[string]string{"odd\nname.txt": "odd"})
	res, err := RunStep(context.Background(), StepOptions{
		Name: "nl", Materials: []string{"*.txt"}, Products: []string{"odd*"}, Command: []string{"true"},
		Dir: root, Env: []string{"PATH=" + os.Getenv("PATH")},
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(res.Statement)
	if err != nil {
		t.Fatal(err)
	}
	var back intotov1.Statement
	if err := protojson.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if n := back.GetSubject()[0].GetName(); n != "odd\nname.txt" {
		t.Errorf("subject %q", n)
	}
	if n := stepLink(t, &back).GetMaterials()[0].GetName(); n != "odd\nname.txt" {
		t.Errorf("material %q", n)
	}
}
