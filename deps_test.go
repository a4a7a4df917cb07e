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
