package libcontainer_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/runtime/runtimetest"
)

// The test binary is re-executed as each container's init, and as the
// crashing runtime owner of TestRecoveryAfterOwnerCrash.
func init() {
	libcontainer.Init()
	if spec := os.Getenv(crashHelperEnv); spec != "" {
		crashHelper(spec) // does not return
	}
}

const cgroupFS = "/sys/fs/cgroup"

// testEnv is a runtime environment of its own: state dir and cgroup root.
type testEnv struct {
	stateDir   string
	cgroupRoot string
	image      string
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the libcontainer runtime needs root (namespaces, cgroups, mounts)")
	}
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func newTestEnv(t *testing.T, ref string) *testEnv {
	t.Helper()
	requireRoot(t)
	e := &testEnv{stateDir: t.TempDir(), cgroupRoot: "/" + randomName("coxswain-test-"), image: ref}
	t.Cleanup(func() { e.cleanup(t) })
	return e
}

func (e *testEnv) config() libcontainer.Config {
	return libcontainer.Config{StateDir: e.stateDir, CgroupRoot: e.cgroupRoot}
}

func (e *testEnv) open(t *testing.T) *libcontainer.Runtime {
	t.Helper()
	rt, err := libcontainer.New(e.config())
	if err != nil {
		t.Fatalf("libcontainer.New: %v", err)
	}
	return rt
}

// mounts returns the mount points under dir, as this thread sees them (the
// thread-group leader may be left in a container's mount namespace).
func mounts(dir string) []string {
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir+"/") {
			out = append(out, fields[4])
		}
	}
	return out
}

// cgroupDirs returns the cgroup directories under the environment's root,
// in every hierarchy.
func (e *testEnv) cgroupDirs() []string {
	var out []string
	for _, h := range hierarchies() {
		root := filepath.Join(h, e.cgroupRoot)
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && p != root {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// hierarchies returns the cgroup hierarchy roots: /sys/fs/cgroup itself
// (cgroup v2) and each v1 controller's (and the hybrid unified) mount.
func hierarchies() []string {
	out := []string{cgroupFS}
	entries, _ := os.ReadDir(cgroupFS)
	for _, en := range entries {
		if en.IsDir() && !cgroupV2() {
			out = append(out, filepath.Join(cgroupFS, en.Name()))
		}
	}
	return out
}

// cgroupV2 reports whether the host runs the unified hierarchy only.
func cgroupV2() bool {
	_, err := os.Stat(filepath.Join(cgroupFS, "cgroup.controllers"))
	return err == nil
}

// leftovers lists what the runtime still holds.
func (e *testEnv) leftovers() []string {
	var out []string
	for _, sub := range []string{"sandboxes", "containers", "libcontainer", "logs"} {
		entries, _ := os.ReadDir(filepath.Join(e.stateDir, sub))
		for _, en := range entries {
			out = append(out, "state: "+filepath.Join(sub, en.Name()))
		}
	}
	for _, m := range mounts(e.stateDir) {
		out = append(out, "mount: "+m)
	}
	for _, d := range e.cgroupDirs() {
		out = append(out, "cgroup: "+d)
	}
	return out
}

// cleanup removes whatever a failed test left: mounts, cgroups (deepest
// first), the cgroup root.
func (e *testEnv) cleanup(t *testing.T) {
	for _, m := range mounts(e.stateDir) {
		if err := unix.Unmount(m, unix.MNT_DETACH); err != nil {
			t.Errorf("cleanup: unmount %s: %v", m, err)
		}
	}
	dirs := e.cgroupDirs()
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Remove(dirs[i]); err != nil {
			t.Errorf("cleanup: remove cgroup %s: %v", dirs[i], err)
		}
	}
	for _, h := range hierarchies() {
		if err := os.Remove(filepath.Join(h, e.cgroupRoot)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cleanup: remove cgroup root: %v", err)
		}
	}
}

func TestConformance(t *testing.T) {
	requireRoot(t)
	ref := imagetest.BusyboxRef(t)
	runtimetest.Run(t, func(t *testing.T) runtimetest.Env {
		e := newTestEnv(t, ref)
		return runtimetest.Env{
			NewRuntime: func() runtime.Runtime { return e.open(t) },
			Image:      ref,
			Command:    runtimetest.ShellCommand,
			Leftovers:  e.leftovers,
		}
	})
}
