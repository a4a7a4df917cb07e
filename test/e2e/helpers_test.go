package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
)

// The test binary is re-executed as each container's init.
func init() { libcontainer.Init() }

// requireRoot skips the test unless it runs as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("end-to-end tests run real containers, network namespaces and iptables: they need root")
	}
}

// discard is a logger that drops everything.
var discard = slog.New(slog.DiscardHandler)

// eventually polls cond every 20ms until it reports true or timeout passes,
// then fails the test with cond's last message.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, msg := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached in %v: %s", what, timeout, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runBG runs start in the background until the test ends; cleanup cancels
// it and reports its error.
func runBG(t *testing.T, name string, start func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	})
}

// safeBuffer is a bytes.Buffer safe for the concurrent writes of an exec's
// stdout and stderr.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// node is one agent with its libcontainer runtime, state dir, agent root
// and cgroup root (and, for the network tests, its network namespace).
type node struct {
	name       string
	ip         string // InternalIP
	ns         string // network namespace path ("" = the test's own)
	podCIDR    string
	cniState   string // the CNI plugins' state (cache, IP allocations)
	rt         *libcontainer.Runtime
	stateDir   string
	rootDir    string
	cgroupRoot string
	stop       func()
}

// newNode makes a node's runtime and directories; cleanup kills and removes
// whatever the node still runs and removes its cgroups and mounts. Call
// start to run its agent.
func newNode(t *testing.T, name string) *node {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	n := &node{
		name: name, stateDir: t.TempDir(), rootDir: t.TempDir(),
		cgroupRoot: "/coxswain-e2e-" + name + "-" + hex.EncodeToString(b[:]),
	}
	n.reopen(t)
	// Runs after cleanup: the node's cgroups are gone from every hierarchy.
	t.Cleanup(func() {
		for _, h := range cgroupHierarchies() {
			if _, err := os.Stat(filepath.Join(h, n.cgroupRoot)); err == nil {
				t.Errorf("cgroup %s left behind", filepath.Join(h, n.cgroupRoot))
			}
		}
	})
	t.Cleanup(n.cleanup)
	return n
}

// reopen opens a new runtime handle over the node's state dir, as a
// restarted node process would.
func (n *node) reopen(t *testing.T) {
	t.Helper()
	rt, err := libcontainer.New(libcontainer.Config{StateDir: n.stateDir, CgroupRoot: n.cgroupRoot, Logger: discard})
	if err != nil {
		t.Fatal(err)
	}
	n.rt = rt
}

// start runs an agent for the node over st; mod adjusts its config.
func (n *node) start(t *testing.T, st store.Store, mod func(*agent.Config)) {
	t.Helper()
	cfg := agent.Config{
		NodeName: n.name, Store: st, Runtime: n.rt, RootDir: n.rootDir, NodeIP: n.ip,
		SyncPeriod: 50 * time.Millisecond, ResyncPeriod: 500 * time.Millisecond,
		BackoffBase: 200 * time.Millisecond, BackoffMax: time.Second,
		HeartbeatInterval: 500 * time.Millisecond, LeaseDuration: 10 * time.Second,
		StatsInterval: -1, DefaultGracePeriod: time.Second, Logger: discard,
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("agent %s: %v", n.name, err)
			}
		})
	}
	t.Cleanup(n.stop)
}

// cleanup stops the agent and removes what a failed test left behind.
func (n *node) cleanup() {
	if n.stop != nil {
		n.stop()
	}
	ctx := context.Background()
	if sbs, err := n.rt.ListPodSandboxes(ctx, nil); err == nil {
		for _, sb := range sbs {
			_ = n.rt.RemovePodSandbox(ctx, sb.ID)
		}
	}
	for _, m := range mountsUnder(n.stateDir, n.rootDir) {
		_ = unix.Unmount(m, unix.MNT_DETACH)
	}
	dirs := cgroupDirs(n.cgroupRoot)
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i])
	}
	for _, d := range cgroupHierarchies() {
		_ = os.Remove(filepath.Join(d, n.cgroupRoot))
	}
}

// leftovers lists what the node's runtime and agent still hold on the host.
func (n *node) leftovers() []string {
	var out []string
	for _, sub := range []string{"sandboxes", "containers", "libcontainer"} {
		entries, _ := os.ReadDir(filepath.Join(n.stateDir, sub))
		for _, en := range entries {
			out = append(out, "state: "+filepath.Join(sub, en.Name()))
		}
	}
	for _, d := range []string{"pods", "netns"} {
		entries, _ := os.ReadDir(filepath.Join(n.rootDir, d))
		for _, en := range entries {
			out = append(out, "agent: "+filepath.Join(d, en.Name()))
		}
	}
	for _, m := range mountsUnder(n.stateDir, n.rootDir) {
		out = append(out, "mount: "+m)
	}
	for _, d := range cgroupDirs(n.cgroupRoot) {
		out = append(out, "cgroup: "+d)
	}
	return out
}

// mountInfo is one line of /proc/self/mountinfo: mount point and fs type.
type mountInfo struct {
	point, fstype string
}

// mounts lists the mount table of the calling thread's mount namespace.
//
// Not /proc/self: that is the thread group leader's view, and the leader
// can be stuck in a container's mount namespace. runc's libcontainer joins
// each new container's mount namespace on a locked thread it never unlocks
// (goCreateMountSources); when that goroutine ran on the main thread, which
// Go cannot end, the main thread stays there, and /proc/self/mountinfo shows
// the container's mounts.
func mounts() []mountInfo {
	goruntime.LockOSThread()
	defer goruntime.UnlockOSThread()
	f, err := os.Open("/proc/thread-self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []mountInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		i := slices.Index(fields, "-")
		if len(fields) < 5 || i < 0 || i+1 >= len(fields) {
			continue
		}
		out = append(out, mountInfo{point: fields[4], fstype: fields[i+1]})
	}
	return out
}

// mountsUnder lists the mount points below the given directories.
func mountsUnder(dirs ...string) []string {
	var out []string
	for _, m := range mounts() {
		for _, d := range dirs {
			if strings.HasPrefix(m.point, d+"/") {
				out = append(out, m.point)
			}
		}
	}
	return out
}

// hostMountsUnchanged checks in cleanup that the test left no new mount
// under its temporary directories or anywhere outside the system's temp
// dir (other tests running at the same time may mount under their own temp
// dirs). Register it before anything that mounts.
func hostMountsUnchanged(t *testing.T) {
	t.Helper()
	mine := filepath.Dir(t.TempDir()) + "/"
	tmp := filepath.Clean(os.TempDir()) + "/"
	list := func() []string {
		var out []string
		for _, m := range mounts() {
			out = append(out, m.point+" "+m.fstype)
		}
		slices.Sort(out)
		return out
	}
	before := list()
	t.Cleanup(func() {
		for _, m := range list() {
			if _, found := slices.BinarySearch(before, m); found {
				continue
			}
			if strings.HasPrefix(m, mine) || !strings.HasPrefix(m, tmp) {
				t.Errorf("mount left behind: %s", m)
			}
		}
	})
}

// cgroupHierarchies lists the cgroup hierarchies' roots (one on v2).
func cgroupHierarchies() []string {
	hier := []string{"/sys/fs/cgroup"}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		entries, _ := os.ReadDir("/sys/fs/cgroup")
		for _, en := range entries {
			if en.IsDir() {
				hier = append(hier, filepath.Join("/sys/fs/cgroup", en.Name()))
			}
		}
	}
	return hier
}

// cgroupDirs lists the directories below root in every cgroup hierarchy.
func cgroupDirs(root string) []string {
	var out []string
	for _, h := range cgroupHierarchies() {
		r := filepath.Join(h, root)
		_ = filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && p != r {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

// podReady reports whether the pod's Ready condition is True.
func podReady(p *api.Pod) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == agent.PodReady {
			return c.GetStatus() == "True"
		}
	}
	return false
}

// waitPod polls the pod until cond holds.
func waitPod(t *testing.T, st store.Store, ns, name, what string, cond func(*api.Pod) bool) *api.Pod {
	t.Helper()
	var p *api.Pod
	eventually(t, 30*time.Second, name+" "+what, func() (bool, string) {
		var err error
		p, err = store.For[*api.Pod](st).Get(context.Background(), ns, name)
		if err != nil {
			return false, err.Error()
		}
		return cond(p), p.GetStatus().String()
	})
	return p
}

// waitGone polls until the pod is no longer stored (the agent released it).
func waitGone(t *testing.T, st store.Store, ns, name string) {
	t.Helper()
	eventually(t, 30*time.Second, name+" released", func() (bool, string) {
		_, err := store.For[*api.Pod](st).Get(context.Background(), ns, name)
		return store.IsNotFound(err), fmt.Sprint(err)
	})
}

// containerID returns the runtime ID of the pod's container named name.
func containerID(t *testing.T, p *api.Pod, name string) string {
	t.Helper()
	for _, cs := range p.GetStatus().GetContainerStatuses() {
		if cs.GetName() == name && cs.GetContainerId() != "" {
			return strings.TrimPrefix(cs.GetContainerId(), "coxswain://")
		}
	}
	t.Fatalf("pod %s has no container %s: %v", p.GetMetadata().GetName(), name, p.GetStatus())
	return ""
}

// execIn runs script with sh -c in the container and returns its combined
// output and exit code.
func execIn(ctx context.Context, rt runtime.Runtime, id, script string) (string, int, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var out safeBuffer
	code, err := rt.Exec(ctx, id, runtime.ExecRequest{Cmd: []string{"sh", "-c", script}, Stdout: &out, Stderr: &out})
	return out.String(), code, err
}

// mustExec is execIn that fails the test unless the script exits 0.
func mustExec(t *testing.T, rt runtime.Runtime, id, script string) string {
	t.Helper()
	out, code, err := execIn(context.Background(), rt, id, script)
	if err != nil || code != 0 {
		t.Fatalf("exec %q: code %d, err %v: %s", script, code, err, out)
	}
	return out
}

// busybox returns a pod bound to nodeName running script in the image.
func busybox(name, nodeName, image, script string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default", Labels: map[string]string{"pod": name}},
		Spec: &api.PodSpec{
			NodeName: nodeName, TerminationGracePeriodSeconds: 2,
			Containers: []*api.Container{{
				Name: "main", Image: image, ImagePullPolicy: "IfNotPresent",
				Command: []string{"sh", "-c", script},
			}},
		},
	}
}

// idle is the tail of a container script: wait, exit 0 on SIGTERM.
const idle = `trap 'exit 0' TERM; while true; do sleep 0.1; done`
