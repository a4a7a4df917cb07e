package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The checks below keep the controller binary small (see the README's
// "Size" and docs/benchmarks.md): each guards one cause of a past
// regression, and TestBinarySize the result.

const self = "github.com/coxswain-io/coxswain/examples/customcontroller"

func needGo(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; this test builds the program")
	}
}

// TestLeanDependencies fails if the controller links what only a server
// or a Prometheus-exporting program needs. VictoriaMetrics/metrics is
// allowed: through vmmetrics it serves /metrics.
func TestLeanDependencies(t *testing.T) {
	needGo(t)
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", self).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	forbidden := map[string]string{
		"github.com/prometheus/": "the Prometheus client: /metrics comes from vmmetrics (VictoriaMetrics/metrics, about half the size)",
		"github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics": "the Prometheus bridge",
		"github.com/coxswain-io/coxswain/store/remote":                     "the API server: use store/remote/client",
		"github.com/coxswain-io/coxswain/api/manifest":                     "the YAML/JSON manifest codec",
		"gopkg.in/yaml.v3": "YAML",
		"go.yaml.in/":      "YAML",
		"google.golang.org/protobuf/encoding/protojson": "protojson",
		"net/http/pprof": "pprof handlers (html/template)",
		"text/template":  "text/template (reflective method calls defeat dead-code elimination)",
		"html/template":  "html/template",
		"expvar":         "expvar",
	}
	// The client half of store/remote is what the controller is meant to use.
	allowed := map[string]bool{
		"github.com/coxswain-io/coxswain/store/remote/client":        true,
		"github.com/coxswain-io/coxswain/store/remote/internal/wire": true,
		"github.com/coxswain-io/coxswain/store/remote/wirepb":        true,
	}
	for _, dep := range strings.Fields(string(out)) {
		if allowed[dep] {
			continue
		}
		for bad, why := range forbidden {
			bad = strings.TrimSuffix(bad, "/")
			if dep == bad || strings.HasPrefix(dep, bad+"/") {
				t.Errorf("the controller links %s: %s", dep, why)
			}
		}
	}
}

// build links the controller into a temporary directory with extra go
// build arguments and returns the binary's path and the build's output.
func build(t *testing.T, args ...string) (string, []byte) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "customcontroller")
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, args...), self)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin, out
}

// TestMethodDeadCodeElimination fails if any reachable function calls
// reflect's Method or MethodByName with a name the compiler cannot see:
// the linker then keeps every exported method of every reachable type,
// which cost this binary ~3 MB when Go 1.26 met protobuf v1.36.11
// (golang/protobuf#1704). The linker's -dumpdep flag marks such functions
// <ReflectMethod>; it prints the reachability graph and changes nothing
// else.
func TestMethodDeadCodeElimination(t *testing.T) {
	needGo(t)
	_, out := build(t, "-ldflags=-dumpdep")
	var culprits []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line := sc.Text(); strings.Contains(line, "<ReflectMethod>") {
			culprits = append(culprits, line)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(culprits) > 0 {
		if len(culprits) > 20 {
			culprits = culprits[:20]
		}
		t.Errorf("a reflective method call is reachable, so the linker keeps every exported method "+
			"(find the path with go build -ldflags=-dumpdep):\n%s", strings.Join(culprits, "\n"))
	}
}

// TestBinarySize fails when a plain `go build` of the controller reaches
// 15 MB (10^6 bytes), the figure bench/size/run.sh reports. Sizes depend
// on the platform and the Go release, so it checks linux/amd64 only.
func TestBinarySize(t *testing.T) {
	needGo(t)
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the size target is set for linux/amd64")
	}
	bin, _ := build(t)
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	const limit = 15_000_000
	if fi.Size() >= limit {
		t.Errorf("customcontroller is %.1f MB, the limit is %.0f MB: run bash bench/size/run.sh to see what grew",
			float64(fi.Size())/1e6, float64(limit)/1e6)
	}
	t.Logf("customcontroller: %.1f MB", float64(fi.Size())/1e6)
}
