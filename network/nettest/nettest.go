// Package nettest holds test helpers for the network packages: root checks,
// throwaway network namespaces and a check that a test left the host's
// links and iptables as it found them.
package nettest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/network"
)

// RequireRoot skips t unless the test runs as root.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, interfaces and iptables rules")
	}
}

// NetNS creates a network namespace for the test (removed in cleanup) and
// returns its path.
func NetNS(t testing.TB, name string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "netns")
	p, err := network.NewNetNS(dir, name)
	if err != nil {
		t.Fatalf("netns %s: %v", name, err)
	}
	t.Cleanup(func() {
		if err := network.DeleteNetNS(p); err != nil {
			t.Errorf("delete netns %s: %v", name, err)
		}
	})
	return p
}

// Run runs a command in the namespace at nsPath ("" for the test's own) and
// returns its combined output.
func Run(ctx context.Context, nsPath string, name string, args ...string) (string, error) {
	var out bytes.Buffer
	run := func() error {
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Stdout, cmd.Stderr = &out, &out
		return cmd.Run()
	}
	var err error
	if nsPath == "" {
		err = run()
	} else {
		err = network.Do(nsPath, run)
	}
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), nil
}

// MustRun is Run that fails the test on error.
func MustRun(t testing.TB, nsPath string, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := Run(ctx, nsPath, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Start starts a long-running command in the namespace at nsPath; it is
// killed in cleanup.
func Start(t testing.TB, nsPath string, name string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(name, args...)
	var err error
	if nsPath == "" {
		err = cmd.Start()
	} else {
		err = network.Do(nsPath, cmd.Start)
	}
	if err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	return cmd
}

// HostUnchanged records the host's links and iptables rules and checks in
// cleanup that the test left them as they were.
func HostUnchanged(t testing.TB) {
	t.Helper()
	before := hostState(t)
	t.Cleanup(func() {
		if after := hostState(t); after != before {
			t.Errorf("host network state changed:\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func hostState(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, c := range [][]string{{"ip", "-o", "-br", "link", "show"}, {"iptables-save"}, {"ip", "route", "show"}} {
		out, err := exec.Command(c[0], c[1:]...).Output()
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "#") || line == "" {
				continue // iptables-save timestamps
			}
			// Counters and link states move on their own: keep names.
			if i := strings.Index(line, " ["); i >= 0 && strings.HasPrefix(line, ":") {
				line = line[:i]
			}
			if c[0] == "ip" && c[2] == "-br" {
				line = strings.Fields(line)[0]
			}
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// Eventually polls cond every 10ms until it returns nil or the timeout ends,
// then fails the test with cond's last error.
func Eventually(t testing.TB, timeout time.Duration, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met in %v: %v", timeout, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// CNIPluginDir returns the directory with the CNI plugins: $COXSWAIN_CNI_BIN_DIR,
// else .tools/cni/bin at the module root (built by `make cni-plugins`). It
// fails the test when neither holds the bridge plugin.
func CNIPluginDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("COXSWAIN_CNI_BIN_DIR"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for d := wd; d != "/"; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			bin := filepath.Join(d, ".tools", "cni", "bin")
			if _, err := os.Stat(filepath.Join(bin, "bridge")); err == nil {
				return bin
			}
			break
		}
	}
	t.Fatal("CNI plugins not found: run `make cni-plugins` or set COXSWAIN_CNI_BIN_DIR")
	return ""
}
