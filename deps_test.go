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

// TestFrameworkLinksNoMetricsLibrary checks that no package of the
// reconcile framework (orchestrator/...) links a metrics library, except
// the adapter package whose purpose it is: client_golang only in
// orchestrator/metrics/prommetrics, VictoriaMetrics/metrics only in
// orchestrator/metrics/vmmetrics. Controllers report through
// orchestrator/metrics, the manager's default discards, and a program pays
// only for the library it picks (~0.6 MB or ~1.6 MB).
func TestFrameworkLinksNoMetricsLibrary(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not on PATH; this test inspects the module with go list")
	}
	const framework = "github.com/coxswain-io/coxswain/orchestrator"
	libraries := map[string]string{ // module path prefix: its one adapter
		"github.com/prometheus/":      framework + "/metrics/prommetrics",
		"github.com/VictoriaMetrics/": framework + "/metrics/vmmetrics",
	}
	out, err := exec.Command("go", "list", "-e", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`,
		framework+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	// Each line is a package and its imports.
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	for lib, adapter := range libraries {
		if _, ok := imports[adapter]; !ok {
			t.Errorf("%s is not in the module; fix this test", adapter)
		}
		links := map[string]bool{} // memo: does the package link lib?
		var linksLib func(pkg string, seen map[string]bool) bool
		linksLib = func(pkg string, seen map[string]bool) bool {
			if v, ok := links[pkg]; ok {
				return v
			}
			if strings.HasPrefix(pkg, lib) {
				return true
			}
			if seen[pkg] {
				return false
			}
			seen[pkg] = true
			for _, imp := range imports[pkg] {
				if linksLib(imp, seen) {
					links[pkg] = true
					return true
				}
			}
			links[pkg] = false
			return false
		}
		for pkg := range imports {
			if !strings.HasPrefix(pkg, framework) || pkg == adapter {
				continue
			}
			if linksLib(pkg, map[string]bool{}) {
				t.Errorf("%s links %s; report through orchestrator/metrics and leave the library to %s", pkg, lib, adapter)
			}
		}
	}
}
