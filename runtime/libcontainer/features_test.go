package libcontainer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

// fixture is a runtime with the busybox image pulled, for one test.
type fixture struct {
	t   *testing.T
	env *testEnv
	rt  *libcontainer.Runtime
	ctx context.Context
	ref string
}

func newFixture(t *testing.T, mutateCfg func(*libcontainer.Config)) *fixture {
	t.Helper()
	requireRoot(t)
	ref := imagetest.BusyboxRef(t)
	e := newTestEnv(t, ref)
	cfg := e.config()
	if mutateCfg != nil {
		mutateCfg(&cfg)
	}
	rt, err := libcontainer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	f := &fixture{t: t, env: e, rt: rt, ctx: ctx, ref: ref}
	t.Cleanup(f.removeAll)
	if _, err := rt.PullImage(ctx, ref, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) removeAll() {
	ctx := context.Background()
	sbs, _ := f.rt.ListPodSandboxes(ctx, nil)
	for _, sb := range sbs {
		if err := f.rt.RemovePodSandbox(ctx, sb.ID); err != nil {
			f.t.Errorf("cleanup: %v", err)
		}
	}
	if left := f.env.leftovers(); len(left) > 0 {
		f.t.Errorf("left behind: %v", left)
	}
}

func (f *fixture) sandbox(cfg *runtime.SandboxConfig) string {
	f.t.Helper()
	if cfg == nil {
		cfg = &runtime.SandboxConfig{}
	}
	if cfg.Name == "" {
		cfg.Name = randomName("pod-")
	}
	id, err := f.rt.RunPodSandbox(f.ctx, cfg)
	if err != nil {
		f.t.Fatalf("RunPodSandbox: %v", err)
	}
	return id
}

// start creates and starts a container.
func (f *fixture) start(sb string, cfg runtime.ContainerConfig) string {
	f.t.Helper()
	if cfg.Image == "" {
		cfg.Image = f.ref
	}
	if cfg.Name == "" {
		cfg.Name = randomName("c-")
	}
	id, err := f.rt.CreateContainer(f.ctx, sb, &cfg)
	if err != nil {
		f.t.Fatalf("CreateContainer: %v", err)
	}
	if err := f.rt.StartContainer(f.ctx, id); err != nil {
		f.t.Fatalf("StartContainer: %v", err)
	}
	return id
}

// sleeper is a container command that runs until stopped.
var sleeper = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"}

// exec runs a shell command in the container and returns its stdout.
func (f *fixture) exec(id, script string) (string, int) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	code, err := f.rt.Exec(f.ctx, id, runtime.ExecRequest{Cmd: []string{"sh", "-c", script}, Stdout: &out, Stderr: &errOut})
	if err != nil {
		f.t.Fatalf("Exec(%q): %v", script, err)
	}
	if code != 0 && errOut.Len() > 0 {
		f.t.Logf("exec %q stderr: %s", script, errOut.String())
	}
	return strings.TrimSpace(out.String()), code
}

func (f *fixture) waitExit(id string) *runtime.ContainerStatus {
	f.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := f.rt.ContainerStatus(f.ctx, id)
		if err != nil {
			f.t.Fatal(err)
		}
		if st.State == runtime.ContainerExited {
			return st
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("container %s still %s", id, st.State)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) logs(id string) string {
	f.t.Helper()
	var buf bytes.Buffer
	if err := f.rt.Logs(f.ctx, id, runtime.LogOptions{Stream: runtime.LogStdout}, &buf); err != nil {
		f.t.Fatal(err)
	}
	return buf.String()
}

func TestImageConfigApplies(t *testing.T) {
	f := newFixture(t, nil)
	base, err := imagetest.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	cf, err := base.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cfg := cf.Config
	cfg.Entrypoint = []string{"/bin/sh", "-c"}
	cfg.Cmd = []string{"echo from-cmd $(id -u):$(id -g) $(pwd) $GREETING $HOME"}
	cfg.WorkingDir = "/home/app"
	cfg.User = "app"
	cfg.Env = append(cfg.Env, "GREETING=hello")
	img, err := mutate.Config(base, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref := strings.Replace(f.ref, "busybox:latest", "configured:1", 1)
	imagetest.Push(t, ref, img)
	if _, err := f.rt.PullImage(f.ctx, ref, nil); err != nil {
		t.Fatal(err)
	}
	root, group := int64(0), int64(65534)
	sb := f.sandbox(nil)
	for _, tc := range []struct {
		name string
		cfg  runtime.ContainerConfig
		want string
	}{
		{"image defaults", runtime.ContainerConfig{}, "from-cmd 1000:1000 /home/app hello /home/app"},
		{"args replace cmd", runtime.ContainerConfig{Args: []string{"echo from-args $GREETING"}}, "from-args hello"},
		{"command replaces entrypoint", runtime.ContainerConfig{Command: []string{"echo", "plain"}}, "plain"},
		{"env and workdir override", runtime.ContainerConfig{Env: []runtime.EnvVar{{Name: "GREETING", Value: "bye"}}, WorkingDir: "/tmp"}, "from-cmd 1000:1000 /tmp bye /home/app"},
		{"runAsUser and group", runtime.ContainerConfig{Security: runtime.SecurityConfig{RunAsUser: &root, RunAsGroup: &group}}, "from-cmd 0:65534 /home/app hello /root"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Image = ref
			id := f.start(sb, tc.cfg)
			st := f.waitExit(id)
			if st.ExitCode != 0 {
				t.Fatalf("exit %d", st.ExitCode)
			}
			if got := strings.TrimSpace(f.logs(id)); got != tc.want {
				t.Fatalf("output %q, want %q", got, tc.want)
			}
		})
	}
}

func TestWhiteoutsInContainer(t *testing.T) {
	f := newFixture(t, nil)
	id := f.start(f.sandbox(nil), runtime.ContainerConfig{Command: sleeper})
	if out, code := f.exec(id, "ls "+imagetest.OpaqueDir+"; test -e "+imagetest.RemovedFile+" && echo present || echo absent"); code != 0 || out != "new\nabsent" {
		t.Fatalf("merged view = %q (exit %d), want opaque dir with only new and the removed file absent", out, code)
	}
}

// procStatus returns fields of /proc/self/status inside the container.
func procStatus(f *fixture, id string) map[string]string {
	out, code := f.exec(id, "cat /proc/self/status")
	if code != 0 {
		f.t.Fatalf("cat /proc/self/status: exit %d", code)
	}
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestSecurity(t *testing.T) {
	f := newFixture(t, nil)
	sb := f.sandbox(nil)
	const capSysAdmin, capChown = 21, 0
	t.Run("defaults", func(t *testing.T) {
		id := f.start(sb, runtime.ContainerConfig{Command: sleeper})
		st := procStatus(f, id)
		eff, err := strconv.ParseUint(st["CapEff"], 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		if eff&(1<<capSysAdmin) != 0 || eff&(1<<capChown) == 0 {
			t.Errorf("CapEff %x: want CAP_CHOWN and no CAP_SYS_ADMIN", eff)
		}
		if st["NoNewPrivs"] != "1" {
			t.Errorf("NoNewPrivs = %q, want 1", st["NoNewPrivs"])
		}
		if out, code := f.exec(id, "mount -t tmpfs none /mnt 2>&1"); code == 0 {
			t.Errorf("mount succeeded without CAP_SYS_ADMIN: %s", out)
		}
		if _, code := f.exec(id, "touch /written"); code != 0 {
			t.Errorf("writing the root failed")
		}
		if out, _ := f.exec(id, "cat /proc/kcore 2>/dev/null | head -c 10 | wc -c"); out != "0" {
			t.Errorf("/proc/kcore is readable (%s bytes)", out)
		}
		if _, code := f.exec(id, "touch /sys/x 2>/dev/null"); code == 0 {
			t.Errorf("/sys is writable")
		}
		if out, _ := f.exec(id, "ls /dev/null /dev/zero /dev/urandom /dev/pts /dev/shm >/dev/null && echo ok"); out != "ok" {
			t.Errorf("/dev is incomplete: %q", out)
		}
	})
	t.Run("drop all, read-only root", func(t *testing.T) {
		id := f.start(sb, runtime.ContainerConfig{Command: sleeper, Security: runtime.SecurityConfig{DropCapabilities: []string{"ALL"}, ReadOnlyRootfs: true}})
		if st := procStatus(f, id); st["CapEff"] != "0000000000000000" {
			t.Errorf("CapEff = %s, want none", st["CapEff"])
		}
		if _, code := f.exec(id, "touch /written 2>/dev/null"); code == 0 {
			t.Errorf("wrote to a read-only root")
		}
	})
	t.Run("add capability", func(t *testing.T) {
		id := f.start(sb, runtime.ContainerConfig{Command: sleeper, Security: runtime.SecurityConfig{AddCapabilities: []string{"SYS_ADMIN"}, AllowPrivilegeEscalation: true}})
		st := procStatus(f, id)
		eff, _ := strconv.ParseUint(st["CapEff"], 16, 64)
		if eff&(1<<capSysAdmin) == 0 || st["NoNewPrivs"] != "0" {
			t.Errorf("CapEff %x NoNewPrivs %s: want CAP_SYS_ADMIN and privilege escalation allowed", eff, st["NoNewPrivs"])
		}
	})
}

func TestSandboxNamespaces(t *testing.T) {
	f := newFixture(t, nil)
	sb1 := f.sandbox(&runtime.SandboxConfig{Hostname: "web-0"})
	sb2 := f.sandbox(nil)
	a := f.start(sb1, runtime.ContainerConfig{Command: sleeper})
	b := f.start(sb1, runtime.ContainerConfig{Command: sleeper})
	c := f.start(sb2, runtime.ContainerConfig{Command: sleeper})
	ns := func(id string) map[string]string {
		out, code := f.exec(id, "for n in net ipc uts pid; do echo $n $(readlink /proc/self/ns/$n); done; echo host $(hostname); echo lo $(cat /sys/class/net/lo/flags)")
		if code != 0 {
			t.Fatalf("exec: %d", code)
		}
		m := map[string]string{}
		for _, line := range strings.Split(out, "\n") {
			k, v, _ := strings.Cut(line, " ")
			m[k] = v
		}
		return m
	}
	na, nb, nc := ns(a), ns(b), ns(c)
	for _, k := range []string{"net", "ipc", "uts"} {
		if na[k] != nb[k] {
			t.Errorf("%s namespace differs between containers of one sandbox: %s, %s", k, na[k], nb[k])
		}
		if na[k] == nc[k] {
			t.Errorf("%s namespace shared across sandboxes: %s", k, na[k])
		}
	}
	if na["pid"] == nb["pid"] {
		t.Errorf("containers share a pid namespace")
	}
	if na["host"] != "web-0" || nb["host"] != "web-0" {
		t.Errorf("hostnames %q %q, want web-0", na["host"], nb["host"])
	}
	// IFF_UP|IFF_LOOPBACK|IFF_RUNNING...: the UP bit is set.
	if flags, err := strconv.ParseUint(strings.TrimPrefix(na["lo"], "0x"), 16, 32); err != nil || flags&unix.IFF_UP == 0 {
		t.Errorf("loopback flags %q: want up", na["lo"])
	}
	// This thread's namespace: the thread-group leader (/proc/self) may be a
	// thread Go parked after it was moved into a sandbox's namespace.
	var host unix.Stat_t
	if err := unix.Stat("/proc/thread-self/ns/net", &host); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(na["net"], strconv.FormatUint(host.Ino, 10)) {
		t.Errorf("container runs in the host network namespace")
	}
}

// newNetNS creates a network namespace bound to a file under t.TempDir,
// as a CNI caller would, and removes it at cleanup.
func newNetNS(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "netns")
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread() // the thread exits with the goroutine
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()), p, "", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = unix.Unmount(p, unix.MNT_DETACH) })
	return p
}

func TestCallerNetworkNamespace(t *testing.T) {
	f := newFixture(t, nil)
	netns := newNetNS(t)
	var want unix.Stat_t
	if err := unix.Stat(netns, &want); err != nil {
		t.Fatal(err)
	}
	sb := f.sandbox(&runtime.SandboxConfig{NetNSPath: netns})
	st, err := f.rt.PodSandboxStatus(f.ctx, sb)
	if err != nil || st.NetNSPath != netns {
		t.Fatalf("sandbox status %+v, %v; want NetNSPath %s", st, err, netns)
	}
	id := f.start(sb, runtime.ContainerConfig{Command: sleeper})
	if out, _ := f.exec(id, "readlink /proc/self/ns/net"); out != fmt.Sprintf("net:[%d]", want.Ino) {
		t.Fatalf("container netns %s, want net:[%d]", out, want.Ino)
	}
	if err := f.rt.RemovePodSandbox(f.ctx, sb); err != nil {
		t.Fatal(err)
	}
	var after unix.Stat_t
	if err := unix.Stat(netns, &after); err != nil || after.Ino != want.Ino {
		t.Fatalf("the caller's network namespace was released by the sandbox: %v", err)
	}
	if _, err := f.rt.RunPodSandbox(f.ctx, &runtime.SandboxConfig{Name: "bad", NetNSPath: "/no/such/netns"}); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("sandbox with a missing netns: %v, want ErrInvalid", err)
	}
}

// cgroupValue reads a cgroup file of a container (ctrl is the v1
// controller; ignored on cgroup v2).
func cgroupValue(t *testing.T, e *testEnv, ctrl, sandbox, id, file string) string {
	t.Helper()
	dir := filepath.Join(cgroupFS, ctrl)
	if cgroupV2() {
		dir = cgroupFS
	}
	data, err := os.ReadFile(filepath.Join(dir, e.cgroupRoot, sandbox, id, file))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

func TestResources(t *testing.T) {
	f := newFixture(t, nil)
	sb := f.sandbox(nil)
	id := f.start(sb, runtime.ContainerConfig{Command: sleeper, Resources: runtime.Resources{
		CPUShares: 512, CPUQuota: 50000, CPUPeriod: 100000, MemoryLimit: 64 << 20, PidsLimit: 32,
	}})
	want := []struct{ ctrl, file, want string }{
		{"cpu", "cpu.shares", "512"},
		{"cpu", "cpu.cfs_quota_us", "50000"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"memory", "memory.limit_in_bytes", strconv.Itoa(64 << 20)},
		{"pids", "pids.max", "32"},
	}
	if cgroupV2() {
		// libcontainer maps shares 512 to weight 1+(512-2)*9999/262142.
		want = []struct{ ctrl, file, want string }{
			{"", "cpu.weight", "20"},
			{"", "cpu.max", "50000 100000"},
			{"", "memory.max", strconv.Itoa(64 << 20)},
			{"", "pids.max", "32"},
		}
	}
	for _, tc := range want {
		if got := cgroupValue(t, f.env, tc.ctrl, sb, id, tc.file); got != tc.want {
			t.Errorf("%s/%s = %s, want %s", tc.ctrl, tc.file, got, tc.want)
		}
	}
	// The pids limit holds inside the container.
	if out, _ := f.exec(id, "for i in $(seq 1 40); do sleep 5 & done 2>&1 | grep -c 'can.t fork' || true"); out == "0" {
		t.Errorf("40 background processes started under a pids limit of 32")
	}
	stats, err := f.rt.ContainerStats(f.ctx, id)
	if err != nil || stats.Pids == 0 || stats.MemoryUsageBytes == 0 {
		t.Fatalf("stats %+v, %v", stats, err)
	}
	// A default pids limit applies when the container sets none.
	other := f.start(sb, runtime.ContainerConfig{Command: sleeper})
	if got := cgroupValue(t, f.env, "pids", sb, other, "pids.max"); got != "4096" {
		t.Errorf("default pids.max = %s, want 4096", got)
	}
}

func TestOOMKilled(t *testing.T) {
	f := newFixture(t, nil)
	id := f.start(f.sandbox(nil), runtime.ContainerConfig{
		Command: []string{"sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"},
		// The limit leaves room for libcontainer's init (this test binary, larger
		// under -race), which joins the cgroup before it execs the command.
		Resources: runtime.Resources{MemoryLimit: 48 << 20},
	})
	st := f.waitExit(id)
	if st.ExitCode != 137 || st.Reason != "OOMKilled" {
		t.Fatalf("exit %d reason %q, want 137 OOMKilled", st.ExitCode, st.Reason)
	}
}

func TestBindMounts(t *testing.T) {
	f := newFixture(t, nil)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("value\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rw := t.TempDir()
	id := f.start(f.sandbox(nil), runtime.ContainerConfig{Command: sleeper, Mounts: []runtime.Mount{
		{HostPath: dir, ContainerPath: "/etc/app", ReadOnly: true},
		{HostPath: rw, ContainerPath: "/data"},
	}})
	if out, _ := f.exec(id, "cat /etc/app/config"); out != "value" {
		t.Errorf("read-only volume reads %q", out)
	}
	if _, code := f.exec(id, "echo x > /etc/app/new 2>/dev/null"); code == 0 {
		t.Errorf("wrote to a read-only volume")
	}
	if _, code := f.exec(id, "echo hi > /data/out"); code != 0 {
		t.Fatalf("write to a volume failed")
	}
	if data, err := os.ReadFile(filepath.Join(rw, "out")); err != nil || string(data) != "hi\n" {
		t.Errorf("host sees %q, %v", data, err)
	}
}

func TestLogRotation(t *testing.T) {
	f := newFixture(t, func(c *libcontainer.Config) { c.LogMaxBytes = 64; c.LogMaxFiles = 2 })
	id := f.start(f.sandbox(nil), runtime.ContainerConfig{Command: []string{"sh", "-c",
		"trap 'exit 0' TERM; i=0; while [ $i -lt 20 ]; do echo line-$i; i=$((i+1)); done; " +
			"while [ ! -e /tmp/go ]; do sleep 0.02; done; echo after; sleep 100000 & wait"}})
	var want strings.Builder
	for i := range 20 {
		fmt.Fprintf(&want, "line-%d\n", i)
	}
	deadline := time.Now().Add(30 * time.Second)
	for f.logs(id) != want.String() {
		if time.Now().After(deadline) {
			t.Fatalf("logs = %q", f.logs(id))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.rt.RotateLogs(f.ctx); err != nil {
		t.Fatal(err)
	}
	st, err := f.rt.ContainerStatus(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	cur := filepath.Join(st.LogPath, "stdout.log")
	if fi, err := os.Stat(cur); err != nil || fi.Size() != 0 {
		t.Fatalf("current log after rotation: %v, %v", fi, err)
	}
	if data, err := os.ReadFile(cur + ".1"); err != nil || string(data) != want.String() {
		t.Fatalf("rotated log = %q, %v", data, err)
	}
	// Follow from here: the container writes on at the start of the
	// truncated file.
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	var followed safeBuffer
	done := make(chan error, 1)
	go func() {
		done <- f.rt.Logs(ctx, id, runtime.LogOptions{Follow: true, Stream: runtime.LogStdout}, &followed)
	}()
	if _, code := f.exec(id, "touch /tmp/go"); code != 0 {
		t.Fatal("touch failed")
	}
	want.WriteString("after\n")
	for followed.String() != want.String() {
		if time.Now().After(deadline) {
			t.Fatalf("followed logs = %q", followed.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := f.rt.StopContainer(f.ctx, id, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("follow: %v", err)
	}
	// A second rotation shifts .1 to .2.
	if err := os.WriteFile(cur, []byte(strings.Repeat("x", 100)), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := f.rt.RotateLogs(f.ctx); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(cur + ".2"); err != nil || string(data) != want.String()[:len(want.String())-len("after\n")] {
		t.Fatalf("second rotation: .2 = %q, %v", data, err)
	}
}

func TestSandboxFiles(t *testing.T) {
	f := newFixture(t, nil)
	resolv := "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n"
	sb := f.sandbox(&runtime.SandboxConfig{
		Hostname:   "web-0",
		ResolvConf: []byte(resolv),
		Hosts:      []runtime.HostEntry{{IP: "10.1.0.5", Names: []string{"web-0", "web-0.web"}}},
	})
	for _, ro := range []bool{false, true} {
		id := f.start(sb, runtime.ContainerConfig{Command: sleeper, Security: runtime.SecurityConfig{ReadOnlyRootfs: ro}})
		if out, _ := f.exec(id, "cat /etc/resolv.conf"); out+"\n" != resolv {
			t.Errorf("resolv.conf (read-only root %v) = %q", ro, out)
		}
		if out, _ := f.exec(id, "grep 10.1.0.5 /etc/hosts"); out != "10.1.0.5\tweb-0 web-0.web" {
			t.Errorf("hosts entry (read-only root %v) = %q", ro, out)
		}
		if out, _ := f.exec(id, "cat /etc/hostname"); out != "web-0" {
			t.Errorf("hostname file = %q", out)
		}
	}
	if _, err := f.rt.RunPodSandbox(f.ctx, &runtime.SandboxConfig{Name: "bad-hosts", Hosts: []runtime.HostEntry{{IP: "not-an-ip", Names: []string{"x"}}}}); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("bad hosts entry: %v, want ErrInvalid", err)
	}
}

// TestStartRotatesLogs: Start runs log rotation on its interval until its
// context ends.
func TestStartRotatesLogs(t *testing.T) {
	f := newFixture(t, func(c *libcontainer.Config) {
		c.LogMaxBytes = 16
		c.LogRotateInterval = 20 * time.Millisecond
	})
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error, 1)
	go func() { done <- f.rt.Start(ctx) }()
	id := f.start(f.sandbox(nil), runtime.ContainerConfig{Command: []string{"sh", "-c", "echo a-line-longer-than-sixteen-bytes; trap 'exit 0' TERM; sleep 100000 & wait"}})
	st, err := f.rt.ContainerStatus(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if data, err := os.ReadFile(filepath.Join(st.LogPath, "stdout.log.1")); err == nil && len(data) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Start did not rotate the log")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Start returned %v", err)
	}
	if got := f.logs(id); got != "a-line-longer-than-sixteen-bytes\n" {
		t.Fatalf("logs across rotation = %q", got)
	}
}

func TestExecTTY(t *testing.T) {
	f := newFixture(t, nil)
	id := f.start(f.sandbox(nil), runtime.ContainerConfig{Command: sleeper})
	var out safeBuffer
	code, err := f.rt.Exec(f.ctx, id, runtime.ExecRequest{
		Cmd:          []string{"sh", "-c", "tty; stty size; echo $TERM; read line; echo got-$line; exit 3"},
		Stdin:        strings.NewReader("typed\n"),
		Stdout:       &out,
		TTY:          true,
		TerminalSize: runtime.TerminalSize{Width: 100, Height: 30},
	})
	if err != nil || code != 3 {
		t.Fatalf("Exec with a TTY = %d, %v; want 3; output %q", code, err, out.String())
	}
	got := strings.ReplaceAll(out.String(), "\r\n", "\n")
	for _, want := range []string{"/dev/pts/", "30 100\n", "xterm\n", "got-typed\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("terminal output %q lacks %q", got, want)
		}
	}
}

// TestRemoveImageInUse: removing an image that a container runs from keeps
// the layers the container's root needs; the next removal frees them.
func TestRemoveImageInUse(t *testing.T) {
	f := newFixture(t, nil)
	sb := f.sandbox(nil)
	id := f.start(sb, runtime.ContainerConfig{Command: sleeper})
	if err := f.rt.RemoveImage(f.ctx, f.ref); err != nil {
		t.Fatal(err)
	}
	if _, err := f.rt.ImageStatus(f.ctx, f.ref); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("ImageStatus after removal: %v", err)
	}
	if out, code := f.exec(id, "ls /bin/busybox"); code != 0 || out != "/bin/busybox" {
		t.Fatalf("container root after its image was removed: %q, %d", out, code)
	}
	layers := filepath.Join(f.env.stateDir, "images", "layers")
	if entries, _ := os.ReadDir(layers); len(entries) != 2 {
		t.Fatalf("layers in use were pruned: %d left", len(entries))
	}
	if err := f.rt.RemovePodSandbox(f.ctx, sb); err != nil {
		t.Fatal(err)
	}
	if err := f.rt.RemoveImage(f.ctx, f.ref); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(layers); len(entries) != 0 {
		t.Fatalf("%d unused layers kept", len(entries))
	}
}
