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

// TestDemo runs the whole demo (what `make demo` shows) so it cannot rot.
func TestDemo(t *testing.T) {
	nettest.RequireRoot(t)
	if _, err := os.Stat(imagetest.BusyboxPath); err != nil {
		t.Skipf("%s missing (install busybox-static; `make setup` does)", imagetest.BusyboxPath)
	}
	if testing.Short() {
		t.Skip("runs a cluster with real containers; skipped with -short")
	}
	bin := t.TempDir()
	for _, b := range []string{"coxd", "coxctl"} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b), "../../cmd/"+b).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b, err, out)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	d := &demo{coxd: filepath.Join(bin, "coxd"), coxctl: filepath.Join(bin, "coxctl"), cni: nettest.CNIPluginDir(t), manifest: "web.yaml"}
	err := d.run(ctx, false)
	if err != nil && d.logPath != "" {
		t.Logf("coxd log (tail):\n%s", tailFile(d.logPath, 40))
	}
	d.cleanup()
	if err != nil {
		t.Fatal(err)
	}
	if d.failedDuringRollout > 0 {
		t.Errorf("%d requests failed during the rollout", d.failedDuringRollout)
	}
}
