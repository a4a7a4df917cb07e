// Command podstartup measures pod startup through the node agent on this
// machine, side by side in one run with its floor:
//
//   - pod: a pod (already bound to the node, with the agent's finalizer, as
//     the scheduler leaves it) is created in an in-process memstore; the
//     clock stops when the agent's status write (phase Running, the
//     container running) arrives on a watch. The agent runs on
//     runtime/libcontainer with the image already present.
//   - floor: the same busybox container started directly through
//     libcontainer (Create + Run), its root filesystem and cgroup path
//     prepared before the clock starts; with -cni, plus one CNI ADD of a
//     fresh pod network namespace, which the pod path also pays.
//
// Iterations alternate between the two so drift affects both; each pod is
// deleted (and released by the agent) before the next one starts. It prints
// p50 and p99 of each and the ratios as `figure: NAME VALUE UNIT` lines.
// Needs root.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/network"
	"github.com/coxswain-io/coxswain/network/cni"
	"github.com/coxswain-io/coxswain/orchestrator/agent"
	"github.com/coxswain-io/coxswain/runtime/image"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func init() { libcontainer.Init() }

const imageRef = "bench.local/busybox:1"

var cmd = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"}

var verbose = flag.Bool("v", false, "log each iteration and the agent's warnings to stderr")

func main() {
	n := flag.Int("n", 50, "pod starts (and floor starts)")
	cniDir := flag.String("cni", "", "directory of the CNI plugins: pods get a real network in a node netns the program creates (empty: $COXSWAIN_CNI_BIN_DIR if set, else loopback only)")
	flag.Parse()
	if os.Geteuid() != 0 {
		log.Fatal("bench/runtime/podstartup needs root")
	}
	if *cniDir == "" {
		*cniDir = os.Getenv("COXSWAIN_CNI_BIN_DIR")
	}
	if err := run(*n, *cniDir); err != nil {
		log.Fatal(err)
	}
}

func run(n int, cniDir string) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir, err := os.MkdirTemp("", "coxswain-bench-podstartup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cgroupRoot := "/coxswain-bench-" + filepath.Base(dir)
	defer removeCgroupRoot(cgroupRoot)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	agentLog := quiet
	if *verbose {
		agentLog = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rt, err := libcontainer.New(libcontainer.Config{StateDir: filepath.Join(dir, "state"), CgroupRoot: cgroupRoot, Logger: quiet})
	if err != nil {
		return err
	}
	img, err := imagetest.Busybox()
	if err != nil {
		return err
	}
	if _, err := rt.Images().Add(ctx, img, imageRef); err != nil {
		return err
	}

	var netw network.PodNetwork
	var floorNet *cni.Network
	if cniDir != "" {
		nodeNS, err := network.NewNetNS(filepath.Join(dir, "nodens"), "node")
		if err != nil {
			return err
		}
		defer network.DeleteNetNS(nodeNS)
		mk := func(name, cidr string) (*cni.Network, error) {
			return cni.New(cni.Config{PluginDirs: []string{cniDir}, NodeNetNS: nodeNS, StateDir: filepath.Join(dir, name), PodCIDR: cidr, Bridge: "b" + name})
		}
		c, err := mk("cnipod", "10.77.0.0/24")
		if err != nil {
			return err
		}
		netw = c
		if floorNet, err = mk("cnifloor", "10.78.0.0/24"); err != nil {
			return err
		}
	}

	s := memstore.New()
	a, err := agent.New(ctx, agent.Config{
		NodeName: "bench-node", Store: s, Runtime: rt, Network: netw, RootDir: filepath.Join(dir, "agent"),
		StatsInterval: -1, Logger: agentLog, DefaultGracePeriod: time.Second,
	})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- a.Start(ctx) }()
	defer func() { cancel(); <-done }()

	var floor, floorCNI, pod []time.Duration
	for i := range n {
		d, err := floorStart(rt.Images(), dir, cgroupRoot, i)
		if err != nil {
			return fmt.Errorf("floor %d: %w", i, err)
		}
		floor = append(floor, d)
		if floorNet != nil {
			d, err := cniAdd(ctx, floorNet, dir, i)
			if err != nil {
				return fmt.Errorf("floor CNI ADD %d: %w", i, err)
			}
			floorCNI = append(floorCNI, d)
		}
		d, err = podStart(ctx, s, i)
		if err != nil {
			return fmt.Errorf("pod %d: %w", i, err)
		}
		pod = append(pod, d)
		if *verbose {
			fmt.Fprintf(os.Stderr, "pod %d: %v (floor %v)\n", i, d, floor[i])
		}
	}
	base := floor
	if floorNet != nil {
		base = make([]time.Duration, n)
		for i := range n {
			base[i] = floor[i] + floorCNI[i]
		}
		fmt.Printf("figure: podstartup_floor_cni_add_p50 %.1f ms\n", ms(percentile(floorCNI, 50)))
		fmt.Printf("figure: podstartup_floor_cni_add_p99 %.1f ms\n", ms(percentile(floorCNI, 99)))
	}
	fp50, fp99 := percentile(base, 50), percentile(base, 99)
	pp50, pp99 := percentile(pod, 50), percentile(pod, 99)
	fmt.Printf("figure: podstartup_floor_p50 %.1f ms\n", ms(fp50))
	fmt.Printf("figure: podstartup_floor_p99 %.1f ms\n", ms(fp99))
	fmt.Printf("figure: pod_startup_p50 %.1f ms\n", ms(pp50))
	fmt.Printf("figure: pod_startup_p99 %.1f ms\n", ms(pp99))
	fmt.Printf("figure: pod_startup_vs_floor_p50 %.2f x\n", ms(pp50)/ms(fp50))
	fmt.Printf("figure: pod_startup_vs_floor_p99 %.2f x\n", ms(pp99)/ms(fp99))
	return nil
}

// podStart creates a bound pod and returns the time until its Running
// status is seen; it then deletes the pod and waits until the agent has
// released it.
func podStart(ctx context.Context, s store.Store, i int) (time.Duration, error) {
	name := fmt.Sprintf("bench-%d", i)
	w, err := s.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "bench", FieldSelector: "metadata.name=" + name})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	p := &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "bench", Finalizers: []string{agent.FinalizerNodeAgent}},
		Spec: &api.PodSpec{NodeName: "bench-node", TerminationGracePeriodSeconds: 1,
			Containers: []*api.Container{{Name: "main", Image: imageRef, ImagePullPolicy: "IfNotPresent", Command: cmd}}},
	}
	start := time.Now()
	if _, err := s.Create(ctx, p); err != nil {
		return 0, err
	}
	var took time.Duration
	timeout := time.After(30 * time.Second)
	for took == 0 {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return 0, fmt.Errorf("watch ended: %v", w.Err())
			}
			if running(ev.Object.(*api.Pod)) {
				took = time.Since(start)
			}
		case <-timeout:
			return 0, fmt.Errorf("pod not running after 30s")
		}
	}
	if _, err := s.Delete(ctx, api.KindPod, "bench", name, store.DeleteOptions{}); err != nil {
		return 0, err
	}
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				return 0, fmt.Errorf("watch ended: %v", w.Err())
			}
			if ev.Type == store.EventDeleted {
				return took, nil
			}
		case <-timeout:
			return 0, fmt.Errorf("pod not released after 30s")
		}
	}
}

func running(p *api.Pod) bool {
	if p.GetStatus().GetPhase() != agent.PhaseRunning {
		return false
	}
	for _, c := range p.GetStatus().GetContainerStatuses() {
		if c.GetState().GetRunning() == nil {
			return false
		}
	}
	return len(p.GetStatus().GetContainerStatuses()) > 0
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	return s[max(rank-1, 0)]
}

// floorStart starts one container straight through libcontainer and
// returns the time of Create + Run, as bench/runtime measures its floor.
func floorStart(images *image.Store, dir, cgroupRoot string, i int) (time.Duration, error) {
	id := fmt.Sprintf("floor-%d", i)
	rootfs, err := images.Mount(imageRef, filepath.Join(dir, "floor", id))
	if err != nil {
		return 0, err
	}
	defer rootfs.Unmount()
	spec := specconv.Example()
	spec.Root.Path = rootfs.Path()
	spec.Root.Readonly = false
	spec.Process.Terminal = false
	spec.Process.Args = cmd
	spec.Hostname = id
	spec.Linux.CgroupsPath = filepath.Join(cgroupRoot, id)
	cfg, err := specconv.CreateLibcontainerConfig(&specconv.CreateOpts{CgroupName: id, Spec: spec})
	if err != nil {
		return 0, err
	}
	start := time.Now()
	c, err := lc.Create(filepath.Join(dir, "floor-state"), id, cfg)
	if err != nil {
		return 0, err
	}
	p := &lc.Process{Args: cmd, Env: spec.Process.Env, Cwd: "/", Init: true}
	if err := c.Run(p); err != nil {
		_ = c.Destroy()
		return 0, err
	}
	took := time.Since(start)
	_ = p.Signal(unix.SIGKILL)
	_, _ = p.Wait()
	if err := c.Destroy(); err != nil {
		return 0, err
	}
	return took, nil
}

// cniAdd times one CNI ADD of a fresh network namespace, then frees it.
func cniAdd(ctx context.Context, n *cni.Network, dir string, i int) (time.Duration, error) {
	id := fmt.Sprintf("floor-net-%d", i)
	path, err := network.NewNetNS(filepath.Join(dir, "floorns"), id)
	if err != nil {
		return 0, err
	}
	defer network.DeleteNetNS(path)
	sb := network.Sandbox{ID: id, NetNS: path, Namespace: "bench", Name: id, UID: id}
	start := time.Now()
	if _, err := n.SetUp(ctx, sb); err != nil {
		return 0, err
	}
	took := time.Since(start)
	return took, n.TearDown(ctx, sb)
}

func removeCgroupRoot(root string) {
	for _, sub := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc", ""} {
		_ = os.Remove(filepath.Join("/sys/fs/cgroup", sub, root))
	}
}
