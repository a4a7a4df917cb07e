package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	crremote "github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/cmd/coxd/daemon"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/nettest"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

// envRunCoxd makes the test binary run coxd instead of the tests: the
// end-to-end test starts it as a separate process that way, without a build.
const envRunCoxd = "COXD_TEST_RUN_COXD"

func TestMain(m *testing.M) {
	if os.Getenv(envRunCoxd) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := daemon.Run(ctx, os.Args[1:], os.Stderr, daemon.Options{})
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// cluster is a `coxd all` process and a coxctl binary that talks to it.
type cluster struct {
	t          *testing.T
	cmd        *exec.Cmd
	log        *syncBuffer
	api        string
	coxctl     string
	dataDir    string
	cgroupRoot string
	nodeNS     string
	client     store.Store
	http       *http.Client
	exited     chan error
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// nsTransport dials from inside the network namespace ns.
func nsTransport(ns string) *http.Transport {
	return &http.Transport{DialContext: func(ctx context.Context, network_, addr string) (net.Conn, error) {
		var c net.Conn
		err := network.Do(ns, func() error {
			var err error
			c, err = (&net.Dialer{}).DialContext(ctx, network_, addr)
			return err
		})
		return c, err
	}}
}

// registryIn serves an image registry on loopback inside the namespace ns
// and returns its host:port.
func registryIn(t *testing.T, ns string) string {
	t.Helper()
	var ln net.Listener
	if err := network.Do(ns, func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// buildCoxctl builds cmd/coxctl into dir.
func buildCoxctl(t *testing.T, dir string) string {
	t.Helper()
	out := filepath.Join(dir, "coxctl")
	cmd := exec.Command("go", "build", "-o", out, "../coxctl")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build coxctl: %v\n%s", err, b)
	}
	return out
}

// startCluster starts `coxd all` with its node network in a namespace the
// test creates.
func startCluster(t *testing.T, nodeNS string) *cluster {
	t.Helper()
	nettest.RequireRoot(t)
	var b [4]byte
	_, _ = rand.Read(b[:])
	c := &cluster{
		t: t, log: &syncBuffer{}, api: "127.0.0.1:6443", dataDir: t.TempDir(),
		cgroupRoot: "/coxd-e2e-" + hex.EncodeToString(b[:]), nodeNS: nodeNS,
		exited: make(chan error, 1),
	}
	c.coxctl = buildCoxctl(t, t.TempDir())
	// coxd runs inside the node's network namespace, as it would on a
	// machine of its own: its API, the pods' bridge, the service rules and
	// the probes all live there, and nothing touches the host's network.
	c.cmd = exec.Command("nsenter", "--net="+c.nodeNS, os.Args[0], "all",
		"-data-dir", c.dataDir, "-api-addr", c.api, "-health-addr", "127.0.0.1:0",
		"-node-name", "e2e-node", "-cgroup-root", c.cgroupRoot,
		"-cni-bin-dir", nettest.CNIPluginDir(t), "-node-api-addr", "127.0.0.1:10255",
		"-dns-addr", "0.0.0.0:53")
	c.cmd.Env = append(os.Environ(), envRunCoxd+"=1")
	c.cmd.Stdout, c.cmd.Stderr = c.log, c.log
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.exited <- c.cmd.Wait() }()
	t.Cleanup(c.cleanup)
	c.http = &http.Client{Timeout: 5 * time.Second, Transport: nsTransport(c.nodeNS)}
	cl, err := remote.NewClient(remote.ClientConfig{Servers: []string{"http://" + c.api}, Transport: nsTransport(c.nodeNS)})
	if err != nil {
		t.Fatal(err)
	}
	c.client = cl
	c.eventually("API healthy", 60*time.Second, func() error {
		resp, err := c.http.Get("http://" + c.api + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return c
}

// coxctl runs coxctl against the cluster and returns its output.
func (c *cluster) ctl(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + c.nodeNS, c.coxctl}, args...)...)
	cmd.Env = append(os.Environ(), "COXSWAIN_SERVER=http://"+c.api, "COXSWAIN_CONFIG=/dev/null")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (c *cluster) mustCtl(args ...string) string {
	c.t.Helper()
	out, err := c.ctl(args...)
	if err != nil {
		c.t.Fatalf("coxctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// eventually polls cond until it returns nil.
func (c *cluster) eventually(what string, timeout time.Duration, cond func() error) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case e := <-c.exited:
			c.exited <- e
			c.t.Fatalf("%s: coxd exited (%v)\n%s", what, e, c.log.String())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: %v\ncoxd log:\n%s", what, err, tail(c.log.String(), 60))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// stop sends SIGTERM and waits for a clean exit.
func (c *cluster) stop() error {
	if c.cmd.ProcessState != nil {
		return nil
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-c.exited:
		c.exited <- err
		return err
	case <-time.After(30 * time.Second):
		_ = c.cmd.Process.Kill()
		return fmt.Errorf("coxd did not stop within 30s of SIGTERM")
	}
}

// cleanup stops coxd and removes whatever a failed test left: containers,
// mounts and cgroups.
func (c *cluster) cleanup() {
	if err := c.stop(); err != nil {
		c.t.Errorf("coxd: %v", err)
	}
	ctx := context.Background()
	if rt, err := libcontainer.New(libcontainer.Config{StateDir: filepath.Join(c.dataDir, "node", "runtime"), CgroupRoot: c.cgroupRoot}); err == nil {
		if sbs, err := rt.ListPodSandboxes(ctx, nil); err == nil {
			for _, sb := range sbs {
				_ = rt.RemovePodSandbox(ctx, sb.ID)
			}
		}
	}
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) > 4 && strings.HasPrefix(f[4], c.dataDir+"/") {
				_ = unix.Unmount(f[4], unix.MNT_DETACH)
			}
		}
	}
	removeCgroups(c.cgroupRoot)
}

// removeCgroups removes root and everything below it in every hierarchy.
func removeCgroups(root string) {
	hiers := []string{"/sys/fs/cgroup"}
	if entries, err := os.ReadDir("/sys/fs/cgroup"); err == nil {
		for _, en := range entries {
			hiers = append(hiers, filepath.Join("/sys/fs/cgroup", en.Name()))
		}
	}
	for _, h := range hiers {
		var dirs []string
		_ = filepath.WalkDir(filepath.Join(h, root), func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			_ = os.Remove(dirs[i])
		}
	}
}

// httpGetIn fetches url from inside the network namespace ns.
func httpGetIn(ns, url string) (string, error) {
	tr := nsTransport(ns)
	tr.DisableKeepAlives = true
	cl := &http.Client{Timeout: 2 * time.Second, Transport: tr}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

// TestCoxdAllEndToEnd starts `coxd all` as a process, applies the
// quickstart manifest with coxctl, and sees three pods Running with real
// containers that serve HTTP on their pod IPs and through the Service's
// cluster IP; then scales, reads logs, execs, and deletes everything.
func TestCoxdAllEndToEnd(t *testing.T) {
	nettest.RequireRoot(t)
	if _, err := os.Stat(imagetest.BusyboxPath); err != nil {
		t.Skipf("%s missing (install busybox-static; `make setup` does)", imagetest.BusyboxPath)
	}
	nodeNS := nettest.NetNS(t, "coxd-e2e")
	nettest.MustRun(t, nodeNS, "ip", "link", "set", "lo", "up")
	reg := registryIn(t, nodeNS)
	img, err := imagetest.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(reg + "/coxswain/busybox:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := crremote.Write(ref, img, crremote.WithTransport(nsTransport(nodeNS))); err != nil {
		t.Fatal(err)
	}

	c := startCluster(t, nodeNS)
	manifest, err := os.ReadFile("../../examples/quickstart/web.yaml")
	if err != nil {
		t.Fatal(err)
	}
	mf := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(mf, bytes.ReplaceAll(manifest, []byte("127.0.0.1:5000"), []byte(reg)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := c.mustCtl("apply", "-f", mf)
	if !strings.Contains(out, "deployment.apps/web created") || !strings.Contains(out, "service/web created") {
		t.Fatalf("apply output:\n%s", out)
	}
	if out := c.mustCtl("apply", "-f", mf); !strings.Contains(out, "deployment.apps/web unchanged") {
		t.Errorf("second apply should change nothing:\n%s", out)
	}

	ctx := context.Background()
	pods := store.For[*api.Pod](c.client)
	var running []*api.Pod
	c.eventually("3 web pods running and ready", 90*time.Second, func() error {
		items, _, err := pods.List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		running = running[:0]
		for _, p := range items {
			if p.GetStatus().GetPhase() == "Running" && len(p.GetStatus().GetContainerStatuses()) == 1 &&
				p.GetStatus().GetContainerStatuses()[0].GetReady() && p.GetStatus().GetPodIp() != "" {
				running = append(running, p)
			}
		}
		if len(running) != 3 {
			var states []string
			for _, p := range items {
				states = append(states, fmt.Sprintf("%s node=%q phase=%q conditions=%v containers=%v",
					p.Metadata.Name, p.GetSpec().GetNodeName(), p.GetStatus().GetPhase(), p.GetStatus().GetConditions(), p.GetStatus().GetContainerStatuses()))
			}
			return fmt.Errorf("%d of 3 pods running and ready (of %d):\n%s", len(running), len(items), strings.Join(states, "\n"))
		}
		return nil
	})
	// Real containers: each answers on its pod IP with its own name.
	for _, p := range running {
		body, err := httpGetIn(c.nodeNS, "http://"+p.Status.PodIp+":8080/")
		if err != nil {
			t.Fatalf("pod %s: %v", p.Metadata.Name, err)
		}
		if !strings.Contains(body, p.Metadata.Name) {
			t.Errorf("pod %s answered %q", p.Metadata.Name, body)
		}
	}
	// The Service's cluster IP reaches them.
	var clusterIP string
	c.eventually("service has a cluster IP", 30*time.Second, func() error {
		svc, err := store.For[*api.Service](c.client).Get(ctx, "default", "web")
		if err != nil {
			return err
		}
		if clusterIP = svc.GetSpec().GetClusterIp(); clusterIP == "" {
			return fmt.Errorf("no cluster IP yet")
		}
		return nil
	})
	c.eventually("cluster IP answers", 30*time.Second, func() error {
		body, err := httpGetIn(c.nodeNS, "http://"+clusterIP+"/")
		if err != nil {
			return err
		}
		if !strings.Contains(body, "hello from web-") {
			return fmt.Errorf("answer %q", body)
		}
		return nil
	})

	out = c.mustCtl("get", "pods", "-l", "app=web", "-o", "wide")
	if strings.Count(out, "Running") != 3 || !strings.Contains(out, "e2e-node") {
		t.Errorf("get pods:\n%s", out)
	}
	name := running[0].Metadata.Name
	// A command on a terminal, and one fed from standard input.
	if out := c.mustCtl("exec", "-t", name, "--", "tty"); !strings.Contains(out, "/dev/") {
		t.Errorf("exec -t: %q", out)
	}
	stdinCmd := exec.Command("nsenter", "--net="+c.nodeNS, c.coxctl, "exec", "-i", name, "--", "sh", "-c", "tr a-z A-Z")
	stdinCmd.Env = append(os.Environ(), "COXSWAIN_SERVER=http://"+c.api, "COXSWAIN_CONFIG=/dev/null")
	stdinCmd.Stdin = strings.NewReader("shout\n")
	if out, err := stdinCmd.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "SHOUT" {
		t.Errorf("exec -i: %v %q", err, out)
	}
	if _, err := c.ctl("exec", name, "--", "sh", "-c", "exit 3"); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("exec exit code: %v", err)
	}
	// What the container writes to its stdout reaches coxctl logs. Append
	// (>>): reopening /proc/1/fd/1 with > would truncate the log file, and a
	// follower at the same offset would see nothing new.
	c.mustCtl("exec", name, "--", "sh", "-c", "echo log-marker-1 >> /proc/1/fd/1")
	c.eventually("logs show the container's output", 10*time.Second, func() error {
		out, err := c.ctl("logs", name)
		if err != nil || !strings.Contains(out, "log-marker-1") {
			return fmt.Errorf("logs: %v: %q", err, out)
		}
		return nil
	})
	// logs -f streams what comes later.
	fctx, fcancel := context.WithCancel(context.Background())
	follow := exec.CommandContext(fctx, "nsenter", "--net="+c.nodeNS, c.coxctl, "logs", "-f", name)
	follow.Env = append(os.Environ(), "COXSWAIN_SERVER=http://"+c.api, "COXSWAIN_CONFIG=/dev/null")
	followed := &syncBuffer{}
	follow.Stdout, follow.Stderr = followed, followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	c.eventually("logs -f streams new output", 10*time.Second, func() error {
		c.mustCtl("exec", name, "--", "sh", "-c", "echo log-marker-2 >> /proc/1/fd/1")
		if !strings.Contains(followed.String(), "log-marker-2") {
			return fmt.Errorf("followed: %q", followed.String())
		}
		return nil
	})
	fcancel()
	_ = follow.Wait()
	if out := c.mustCtl("exec", name, "--", "cat", "/www/index.html"); !strings.Contains(out, "hello from "+name) {
		t.Errorf("exec output %q", out)
	}
	// Cluster DNS answers the Service's name with its cluster IP.
	c.eventually("service name resolves in a pod", 30*time.Second, func() error {
		out, err := c.ctl("exec", name, "--", "nslookup", "web.default.svc.cluster.local")
		if err != nil || !strings.Contains(out, clusterIP) {
			return fmt.Errorf("nslookup: %v: %s", err, out)
		}
		return nil
	})
	if out := c.mustCtl("describe", "deployment", "web"); !strings.Contains(out, "Name:") || !strings.Contains(out, "Events:") {
		t.Errorf("describe:\n%s", out)
	}

	c.mustCtl("scale", "deployment/web", "--replicas=1")
	c.eventually("scaled down to 1 pod", 60*time.Second, func() error {
		items, _, err := pods.List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app=web"})
		if err != nil {
			return err
		}
		if len(items) != 1 {
			return fmt.Errorf("%d pods", len(items))
		}
		return nil
	})

	c.mustCtl("delete", "-f", mf, "--timeout=60s")
	c.eventually("every pod gone", 60*time.Second, func() error {
		items, _, err := pods.List(ctx, store.ListOptions{Namespace: "default"})
		if err != nil {
			return err
		}
		if len(items) != 0 {
			return fmt.Errorf("%d pods left", len(items))
		}
		return nil
	})
	if err := c.stop(); err != nil {
		t.Fatalf("coxd did not stop cleanly: %v\n%s", err, tail(c.log.String(), 40))
	}
	entries, _ := os.ReadDir(filepath.Join(c.dataDir, "node", "runtime", "sandboxes"))
	if len(entries) != 0 {
		t.Errorf("sandboxes left after deleting every pod: %d", len(entries))
	}
}
