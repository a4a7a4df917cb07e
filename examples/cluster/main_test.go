package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
)

// TestClusterHeals runs the example end to end: three members, three nodes,
// the leader and a node killed, the Deployment available again elsewhere.
func TestClusterHeals(t *testing.T) {
	nettest.RequireRoot(t)
	if _, err := os.Stat(imagetest.BusyboxPath); err != nil {
		t.Skipf("%s missing (install busybox-static; `make setup` does)", imagetest.BusyboxPath)
	}
	if testing.Short() {
		t.Skip("starts six processes and real containers; skipped with -short")
	}
	bin := t.TempDir()
	for _, b := range []string{"coxd", "coxctl"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b), "../../cmd/"+b).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := &cluster{coxd: filepath.Join(bin, "coxd"), coxctl: filepath.Join(bin, "coxctl"), cni: nettest.CNIPluginDir(t), procs: map[string]*proc{}}
	t.Cleanup(c.cleanup)
	if err := c.run(ctx); err != nil {
		for id, p := range c.procs {
			if b, rerr := os.ReadFile(p.log); rerr == nil {
				t.Logf("%s log (tail):\n%s", id, tail(string(b), 15))
			}
		}
		t.Fatal(err)
	}
}
