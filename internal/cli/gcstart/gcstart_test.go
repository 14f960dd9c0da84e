package gcstart

import (
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"
)

// percent reads GOGC as the runtime has it now.
func percent() int {
	p := debug.SetGCPercent(-1)
	debug.SetGCPercent(p)
	return p
}

func TestFirstCollectionRestoresDefault(t *testing.T) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		t.Skip("GOGC or GOMEMLIMIT is set: the package leaves the pacing alone, TestUserChoice covers that")
	}
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	if m.NumGC == 0 {
		if got := percent(); got != startPercent {
			t.Fatalf("before the first collection GOGC is %d, want %d", got, startPercent)
		}
	}
	runtime.GC()
	deadline := time.Now().Add(10 * time.Second)
	for percent() != 100 {
		if time.Now().After(deadline) {
			t.Fatalf("after a collection GOGC is still %d, want the default 100", percent())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestUserChoice runs this test binary again with GOGC or GOMEMLIMIT set:
// the pacing the user chose is left as it is.
func TestUserChoice(t *testing.T) {
	if os.Getenv("GCSTART_CHILD") != "" {
		os.Stdout.WriteString("percent=" + strconv.Itoa(percent()) + "\n")
		return
	}
	for _, tc := range []struct {
		env  string
		want int
	}{
		{"GOGC=50", 50},
		{"GOGC=off", -1},
		{"GOMEMLIMIT=1GiB", 100},
	} {
		c := exec.Command(os.Args[0], "-test.run=^TestUserChoice$", "-test.count=1")
		c.Env = append(os.Environ(), "GCSTART_CHILD=1", "GOGC=", "GOMEMLIMIT=", tc.env)
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", tc.env, err, out)
		}
		want := "percent=" + strconv.Itoa(tc.want) + "\n"
		if !strings.Contains(string(out), want) {
			t.Errorf("%s: child printed %q, want a line %q", tc.env, out, want)
		}
	}
}
