package coxswain_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestCoreDependencies checks that the packages a custom-controller author
// imports (the object model, the store, the reconcile framework) link no
// container runtime, CNI or iptables code.
func TestCoreDependencies(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; this test inspects the module with go list")
	}
	core := []string{
		"github.com/coxswain-io/coxswain/api/...",
		"github.com/coxswain-io/coxswain/store",
		"github.com/coxswain-io/coxswain/store/memstore",
		"github.com/coxswain-io/coxswain/store/informer",
		"github.com/coxswain-io/coxswain/store/remote",
		"github.com/coxswain-io/coxswain/orchestrator",
	}
	forbidden := []string{
		"github.com/opencontainers/runc",
		"github.com/opencontainers/cgroups",
		"github.com/containernetworking/",
		"github.com/coreos/go-iptables",
		"github.com/vishvananda/netlink",
		"github.com/google/go-containerregistry",
		"github.com/hashicorp/raft",
		"github.com/coxswain-io/coxswain/runtime",
		"github.com/coxswain-io/coxswain/network",
		"github.com/coxswain-io/coxswain/volume",
	}
	for _, pkg := range core {
		out, err := exec.Command("go", "list", "-e", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, bad := range forbidden {
				if strings.HasPrefix(dep, bad) {
					t.Errorf("%s depends on %s; the core must not link runtime, network or raft code", pkg, dep)
				}
			}
		}
	}
}

// TestFrameworkWithoutPrometheus checks that no package of the reconcile
// framework (orchestrator/...) links the Prometheus client, except
// orchestrator/metrics/prommetrics, whose purpose it is: a controller
// binary serves its metrics through metrics.Registry, and only a program
// that wants a Prometheus registry pays for one (~1.3 MB).
func TestFrameworkWithoutPrometheus(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; this test inspects the module with go list")
	}
	const bridge = "github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics"
	out, err := exec.Command("go", "list", "-e", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`,
		"github.com/coxswain-io/coxswain/orchestrator/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	// Each line is a package and its imports: find every framework package
	// that imports Prometheus or a package that does.
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	links := map[string]bool{}
	var linksProm func(pkg string, seen map[string]bool) bool
	linksProm = func(pkg string, seen map[string]bool) bool {
		if v, ok := links[pkg]; ok {
			return v
		}
		if strings.HasPrefix(pkg, "github.com/prometheus/") {
			return true
		}
		if seen[pkg] {
			return false
		}
		seen[pkg] = true
		for _, imp := range imports[pkg] {
			if linksProm(imp, seen) {
				links[pkg] = true
				return true
			}
		}
		links[pkg] = false
		return false
	}
	for pkg := range imports {
		if !strings.HasPrefix(pkg, "github.com/coxswain-io/coxswain/orchestrator") || pkg == bridge {
			continue
		}
		if linksProm(pkg, map[string]bool{}) {
			t.Errorf("%s links the Prometheus client; report through orchestrator/metrics and leave Prometheus to %s", pkg, bridge)
		}
	}
}
