// Command quickstart is Coxswain's demo: a single-machine cluster running
// real containers, driven with coxctl the way a person would.
//
// It needs root (containers, network namespaces, iptables) and the coxd and
// coxctl binaries (run.sh builds them). Everything happens inside a network
// namespace it creates, which plays the machine's network: the image
// registry, the API server, the pods' bridge, the service rules, and the
// requests to the Service. Nothing is changed on the host's network, and
// everything is removed at the end.
//
//	go build -o /tmp/cx/coxd ./cmd/coxd && go build -o /tmp/cx/coxctl ./cmd/coxctl
//	sudo go run ./examples/quickstart -coxd /tmp/cx/coxd -coxctl /tmp/cx/coxctl
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	crremote "github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

func main() {
	coxd := flag.String("coxd", "coxd", "path of the coxd binary")
	coxctl := flag.String("coxctl", "coxctl", "path of the coxctl binary")
	cni := flag.String("cni-bin-dir", os.Getenv("COXSWAIN_CNI_BIN_DIR"), "directory of the CNI plugins")
	manifest := flag.String("f", "examples/quickstart/web.yaml", "the app's manifest")
	keep := flag.Bool("keep", false, "leave the cluster running at the end (Ctrl-C to clean up)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d := &demo{coxd: *coxd, coxctl: *coxctl, cni: *cni, manifest: *manifest}
	err := d.run(ctx, *keep)
	if err != nil && d.logPath != "" {
		fmt.Fprintf(os.Stderr, "\nthe end of coxd's log:\n%s\n", tailFile(d.logPath, 40))
	}
	d.cleanup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "\ndemo failed: %v\n", err)
		os.Exit(1)
	}
}

// demo holds what the demo created, so cleanup can remove it.
type demo struct {
	coxd, coxctl, cni, manifest string

	dir     string
	ns      string
	proc    *exec.Cmd
	exited  chan error
	logPath string
	client  store.Store
	undo    []func()

	// failedDuringRollout counts the requests that failed while v2 rolled out.
	failedDuringRollout int
}

const (
	apiAddr    = "127.0.0.1:6443"
	cgroupRoot = "/coxswain-demo"
)

// step prints a heading.
func step(format string, args ...any) {
	fmt.Printf("\n==> "+format+"\n", args...)
}

// say prints an explanation.
func say(format string, args ...any) {
	fmt.Printf("    "+format+"\n", args...)
}

func (d *demo) run(ctx context.Context, keep bool) error {
	if os.Geteuid() != 0 {
		return errors.New("the demo runs real containers and needs root")
	}
	for _, bin := range []*string{&d.coxd, &d.coxctl} {
		p, err := exec.LookPath(*bin)
		if err != nil {
			return fmt.Errorf("%s not found (run.sh builds it): %w", *bin, err)
		}
		*bin, _ = filepath.Abs(p)
	}
	if d.cni == "" {
		d.cni = "/opt/cni/bin"
	}
	if _, err := os.Stat(filepath.Join(d.cni, "bridge")); err != nil {
		return fmt.Errorf("CNI plugins not found in %s (make setup builds them into .tools/cni/bin): %w", d.cni, err)
	}
	manifest, err := os.ReadFile(d.manifest)
	if err != nil {
		return err
	}
	d.dir, err = os.MkdirTemp("", "coxswain-demo-")
	if err != nil {
		return err
	}

	step("Creating a network namespace to play this machine's network")
	d.ns, err = network.NewNetNS(filepath.Join(d.dir, "netns"), "node")
	if err != nil {
		return err
	}
	say("everything below (registry, API, pods, service IPs) lives in %s", d.ns)

	step("Starting an image registry on 127.0.0.1:5000 with a busybox image")
	if err := d.startRegistry(); err != nil {
		return err
	}

	step("Starting coxd all: store, API, controllers, scheduler and a node agent in one process")
	if err := d.startCoxd(ctx); err != nil {
		return err
	}
	say("API at http://%s, logs in %s", apiAddr, d.logPath)
	d.ctl(ctx, "get", "nodes", "-o", "wide")

	step("Deploying 3 web servers and a Service")
	say("each server is busybox httpd answering with its pod's name")
	if err := d.ctl(ctx, "apply", "-f", d.manifest); err != nil {
		return err
	}
	if err := d.ctl(ctx, "rollout", "status", "deployment/web", "--timeout=2m"); err != nil {
		return err
	}
	d.ctl(ctx, "get", "pods", "-o", "wide")
	d.ctl(ctx, "get", "services")
	ip, err := d.clusterIP(ctx)
	if err != nil {
		return err
	}

	step("Asking the Service's cluster IP (%s) 12 times", ip)
	if err := d.curlMany(ctx, ip, 12, 3); err != nil {
		return err
	}

	step("Scaling to 5 replicas")
	if err := d.ctl(ctx, "scale", "deployment/web", "--replicas=5"); err != nil {
		return err
	}
	if err := d.ctl(ctx, "rollout", "status", "deployment/web", "--timeout=2m"); err != nil {
		return err
	}
	d.ctl(ctx, "get", "deployment", "web")
	if err := d.curlMany(ctx, ip, 20, 5); err != nil {
		return err
	}

	step("Rolling out version 2 while a client keeps asking the Service")
	v2 := filepath.Join(d.dir, "web-v2.yaml")
	body := bytes.ReplaceAll(manifest, []byte("(v1)"), []byte("(v2)"))
	body = bytes.ReplaceAll(body, []byte("busybox:v1"), []byte("busybox:v2"))
	body = bytes.ReplaceAll(body, []byte("replicas: 3"), []byte("replicas: 5"))
	if err := os.WriteFile(v2, body, 0o644); err != nil {
		return err
	}
	load := d.startLoad(ip)
	if err := d.ctl(ctx, "apply", "-f", v2); err != nil {
		return err
	}
	if err := d.ctl(ctx, "rollout", "status", "deployment/web", "--timeout=3m"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	stats := load()
	d.failedDuringRollout = stats.failed
	say("%d requests during the rollout: %d failed; answers by version: v1 %d, v2 %d",
		stats.total, stats.failed, stats.byVersion["v1"], stats.byVersion["v2"])
	d.ctl(ctx, "rollout", "history", "deployment/web")
	if stats.failed > 0 {
		say("some requests failed: %v", stats.lastErr)
	}

	step("Rolling back to version 1")
	load = d.startLoad(ip)
	if err := d.ctl(ctx, "rollout", "undo", "deployment/web"); err != nil {
		return err
	}
	if err := d.wait(ctx, "the rollback to start", 30*time.Second, func() error {
		dep, err := store.For[*api.Deployment](d.client).Get(ctx, "default", "web")
		if err != nil {
			return err
		}
		if !strings.Contains(dep.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(), ":v1") {
			return errors.New("template not rolled back yet")
		}
		return nil
	}); err != nil {
		return err
	}
	if err := d.ctl(ctx, "rollout", "status", "deployment/web", "--timeout=3m"); err != nil {
		return err
	}
	time.Sleep(time.Second)
	back := load()
	d.failedDuringRollout += back.failed
	say("%d requests during the rollback: %d failed; answers by version: v1 %d, v2 %d",
		back.total, back.failed, back.byVersion["v1"], back.byVersion["v2"])

	step("Killing a container: the node agent restarts it in place")
	pod, err := d.killOne(ctx)
	if err != nil {
		return err
	}
	if err := d.waitRestart(ctx, pod); err != nil {
		return err
	}
	d.ctl(ctx, "get", "pods", "-o", "wide")
	d.ctl(ctx, "describe", "pod", pod)

	if keep {
		step("The cluster keeps running; press Ctrl-C to clean up")
		say("try: nsenter --net=%s %s get pods", d.ns, d.coxctl)
		<-ctx.Done()
	}

	step("Cleaning up: deleting the app, stopping coxd")
	if err := d.ctl(context.Background(), "delete", "-f", d.manifest, "--timeout=2m"); err != nil {
		return err
	}
	return nil
}

// ctl runs coxctl in the node's namespace, echoing the command and its
// output.
func (d *demo) ctl(ctx context.Context, args ...string) error {
	fmt.Printf("\n    $ coxctl %s\n", strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"--net=" + d.ns, d.coxctl}, args...)...)
	cmd.Env = append(os.Environ(), "COXSWAIN_SERVER=http://"+apiAddr, "COXSWAIN_CONFIG=/dev/null")
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		fmt.Println("    " + line)
	}
	if err != nil {
		return fmt.Errorf("coxctl %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// dial dials from inside the node's namespace.
func (d *demo) dial(ctx context.Context, netw, addr string) (net.Conn, error) {
	var c net.Conn
	err := network.Do(d.ns, func() error {
		var err error
		c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, netw, addr)
		return err
	})
	return c, err
}

func (d *demo) transport() *http.Transport {
	return &http.Transport{DialContext: d.dial, DisableKeepAlives: true}
}

func (d *demo) startRegistry() error {
	var ln net.Listener
	if err := network.Do(d.ns, func() error {
		var err error
		ln, err = net.Listen("tcp", "127.0.0.1:5000")
		return err
	}); err != nil {
		return err
	}
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	d.undo = append(d.undo, func() { _ = srv.Close() })
	img, err := imagetest.Busybox()
	if err != nil {
		return fmt.Errorf("building the busybox image (install busybox-static): %w", err)
	}
	for _, tag := range []string{"v1", "v2"} {
		ref, err := name.ParseReference("127.0.0.1:5000/coxswain/busybox:" + tag)
		if err != nil {
			return err
		}
		if err := crremote.Write(ref, img, crremote.WithTransport(d.transport())); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
		say("pushed %s", ref)
	}
	return nil
}

func (d *demo) startCoxd(ctx context.Context) error {
	d.logPath = filepath.Join(d.dir, "coxd.log")
	logf, err := os.Create(d.logPath)
	if err != nil {
		return err
	}
	d.proc = exec.Command("nsenter", "--net="+d.ns, d.coxd, "all",
		"-data-dir", filepath.Join(d.dir, "data"), "-api-addr", apiAddr, "-health-addr", "127.0.0.1:10251",
		"-node-name", "demo-node", "-cgroup-root", cgroupRoot, "-cni-bin-dir", d.cni,
		"-node-api-addr", "127.0.0.1:10255", "-cleanup-on-exit")
	d.proc.Stdout, d.proc.Stderr = logf, logf
	if err := d.proc.Start(); err != nil {
		return err
	}
	d.exited = make(chan error, 1)
	go func() { d.exited <- d.proc.Wait(); logf.Close() }()
	cl, err := remote.NewClient(remote.ClientConfig{Servers: []string{"http://" + apiAddr}, Transport: d.transport(),
		Logger: slogDiscard()})
	if err != nil {
		return err
	}
	d.client = cl
	hc := &http.Client{Transport: d.transport(), Timeout: 2 * time.Second}
	return d.wait(ctx, "the API", time.Minute, func() error {
		resp, err := hc.Get("http://" + apiAddr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New(resp.Status)
		}
		nodes, _, err := store.For[*api.Node](d.client).List(ctx, store.ListOptions{})
		if err != nil || len(nodes) == 0 {
			return fmt.Errorf("no node yet (%v)", err)
		}
		for _, c := range nodes[0].GetStatus().GetConditions() {
			if c.GetType() == "Ready" && c.GetStatus() == "True" {
				return nil
			}
		}
		return errors.New("node not ready yet")
	})
}

// wait polls cond until it succeeds, coxd exits, or the timeout passes.
func (d *demo) wait(ctx context.Context, what string, timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		if err == nil {
			return nil
		}
		select {
		case e := <-d.exited:
			d.exited <- e
			return fmt.Errorf("waiting for %s: coxd exited: %v", what, e)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (d *demo) clusterIP(ctx context.Context) (string, error) {
	var ip string
	err := d.wait(ctx, "the Service's cluster IP", 30*time.Second, func() error {
		svc, err := store.For[*api.Service](d.client).Get(ctx, "default", "web")
		if err != nil {
			return err
		}
		if ip = svc.GetSpec().GetClusterIp(); ip == "" {
			return errors.New("not allocated yet")
		}
		return nil
	})
	return ip, err
}

// get asks url once.
func (d *demo) get(url string) (string, error) {
	cl := &http.Client{Transport: d.transport(), Timeout: 2 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(resp.Status)
	}
	return strings.TrimSpace(string(b)), err
}

// curlMany asks the Service n times and shows which pods answered; it
// waits until at least want distinct pods have answered.
func (d *demo) curlMany(ctx context.Context, ip string, n, want int) error {
	seen := map[string]int{}
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; i < n || (len(seen) < want && time.Now().Before(deadline)); i++ {
		body, err := d.get("http://" + ip + "/")
		if err != nil {
			if time.Now().After(deadline) {
				return err
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		if i < n {
			say("%2d: %s", i+1, body)
		}
		seen[body]++
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	say("%d different pods answered", len(seen))
	if len(seen) < want {
		return fmt.Errorf("only %d of %d pods answered", len(seen), want)
	}
	return nil
}

type loadStats struct {
	total, failed int
	byVersion     map[string]int
	lastErr       error
}

// startLoad asks the Service continuously until the returned function is
// called, which returns what happened.
func (d *demo) startLoad(ip string) func() loadStats {
	var stop atomic.Bool
	var mu sync.Mutex
	st := loadStats{byVersion: map[string]int{}}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			body, err := d.get("http://" + ip + "/")
			mu.Lock()
			st.total++
			if err != nil {
				st.failed++
				st.lastErr = err
			} else if i := strings.LastIndex(body, "(v"); i >= 0 {
				st.byVersion[strings.Trim(body[i:], "()")]++
			}
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return func() loadStats {
		stop.Store(true)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return st
	}
}

// killOne kills one web server's process with SIGKILL, from the host, as
// a crash would, and returns its pod's name.
func (d *demo) killOne(ctx context.Context) (string, error) {
	pods, _, err := store.For[*api.Pod](d.client).List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app=web"})
	if err != nil || len(pods) == 0 {
		return "", fmt.Errorf("no pods to kill (%v)", err)
	}
	var live []*api.Pod
	for _, p := range pods {
		if p.GetMetadata().GetDeletionTimestamp() == nil && p.GetStatus().GetPhase() == "Running" {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return "", errors.New("no running pod to kill")
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Metadata.Name < live[j].Metadata.Name })
	target := live[0].Metadata.Name
	pid, err := findPodProcess(target)
	if err != nil {
		return "", err
	}
	say("pod %s runs httpd as host pid %d; sending it SIGKILL", target, pid)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return "", err
	}
	return target, nil
}

// findPodProcess finds the httpd process whose UTS namespace's hostname is
// the pod's name.
func findPodProcess(pod string) (int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte("httpd\x00-f\x00-p\x008080")) {
			continue
		}
		out, err := exec.Command("nsenter", "-t", e.Name(), "-u", "hostname").Output()
		if err == nil && strings.TrimSpace(string(out)) == pod {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no httpd process found for pod %s", pod)
}

func (d *demo) waitRestart(ctx context.Context, pod string) error {
	return d.wait(ctx, "the container's restart", time.Minute, func() error {
		p, err := store.For[*api.Pod](d.client).Get(ctx, "default", pod)
		if err != nil {
			return err
		}
		for _, cs := range p.GetStatus().GetContainerStatuses() {
			if cs.GetRestartCount() > 0 && cs.GetReady() {
				say("container %s of %s restarted (restarts: %d) and is ready again", cs.GetName(), pod, cs.GetRestartCount())
				return nil
			}
		}
		return errors.New("not restarted yet")
	})
}

// cleanup stops coxd and removes everything the demo created.
func (d *demo) cleanup() {
	if d.proc != nil && d.proc.Process != nil {
		_ = d.proc.Process.Signal(syscall.SIGTERM)
		select {
		case <-d.exited:
		case <-time.After(30 * time.Second):
			_ = d.proc.Process.Kill()
		}
	}
	for i := len(d.undo) - 1; i >= 0; i-- {
		d.undo[i]()
	}
	if d.dir == "" {
		return
	}
	killLeftovers(d.dir)
	if d.ns != "" {
		_ = network.DeleteNetNS(d.ns)
	}
	removeCgroups(cgroupRoot)
	if err := os.RemoveAll(d.dir); err != nil {
		fmt.Fprintf(os.Stderr, "cleanup: %v\n", err)
	}
	fmt.Println("\n==> Done: containers, network namespace, cgroups and state removed")
}
