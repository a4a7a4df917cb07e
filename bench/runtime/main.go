// Command runtime measures container start latency on this machine, side
// by side in one run:
//
//   - floor: a busybox container started directly through libcontainer
//     (Create + Run until the process is started), on a root filesystem and
//     cgroup prepared beforehand;
//   - runtime: the same container through runtime/libcontainer's Runtime
//     interface (RunPodSandbox + CreateContainer + StartContainer: namespace
//     files, pod cgroup, overlay root, records, process started and exec'd).
//
// Iterations alternate between the two so drift affects both. It prints
// p50 and p99 of each, and their ratios, as `figure: NAME VALUE UNIT`
// lines. Needs root.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"time"

	lc "github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/specconv"
	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/image"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
	"github.com/coxswain-io/coxswain/runtime/libcontainer"
)

func init() { libcontainer.Init() }

const imageRef = "bench.local/busybox:latest"

func main() {
	n := flag.Int("n", 50, "container starts per path")
	flag.Parse()
	if os.Geteuid() != 0 {
		log.Fatal("bench/runtime needs root")
	}
	if err := run(*n); err != nil {
		log.Fatal(err)
	}
}

func run(n int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "coxswain-bench-runtime-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cgroupRoot := "/coxswain-bench-" + filepath.Base(dir)
	rt, err := libcontainer.New(libcontainer.Config{StateDir: filepath.Join(dir, "state"), CgroupRoot: cgroupRoot})
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
	cmd := []string{"sh", "-c", "trap 'exit 0' TERM; sleep 100000 & wait"}

	var floor, viaRuntime []time.Duration
	var phases [3][]time.Duration // sandbox, create, start
	for i := range n {
		d, err := floorStart(rt.Images(), dir, cgroupRoot, i, cmd)
		if err != nil {
			return fmt.Errorf("floor start %d: %w", i, err)
		}
		floor = append(floor, d)
		ph, err := runtimeStart(ctx, rt, i, cmd)
		if err != nil {
			return fmt.Errorf("runtime start %d: %w", i, err)
		}
		viaRuntime = append(viaRuntime, ph[0]+ph[1]+ph[2])
		for j := range ph {
			phases[j] = append(phases[j], ph[j])
		}
	}
	for _, sub := range []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified", ""} {
		_ = os.Remove(filepath.Join("/sys/fs/cgroup", sub, cgroupRoot))
	}
	fp50, fp99 := percentile(floor, 50), percentile(floor, 99)
	rp50, rp99 := percentile(viaRuntime, 50), percentile(viaRuntime, 99)
	fmt.Printf("figure: libcontainer_start_p50 %.1f ms\n", ms(fp50))
	fmt.Printf("figure: libcontainer_start_p99 %.1f ms\n", ms(fp99))
	fmt.Printf("figure: runtime_start_p50 %.1f ms\n", ms(rp50))
	fmt.Printf("figure: runtime_start_p99 %.1f ms\n", ms(rp99))
	for j, name := range []string{"runpodsandbox", "createcontainer", "startcontainer"} {
		fmt.Printf("figure: runtime_step_%s_p50 %.1f ms\n", name, ms(percentile(phases[j], 50)))
	}
	fmt.Printf("figure: runtime_start_vs_floor_p50 %.2f x\n", ms(rp50)/ms(fp50))
	fmt.Printf("figure: runtime_start_vs_floor_p99 %.2f x\n", ms(rp99)/ms(fp99))
	return nil
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
// returns the time of Create + Run. The overlay root is mounted before the
// clock starts; the container gets fresh namespaces (libcontainer's
// example spec) and a cgroup under cgroupRoot.
func floorStart(images *image.Store, dir, cgroupRoot string, i int, cmd []string) (time.Duration, error) {
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
	root := filepath.Join(dir, "floor-state")
	start := time.Now()
	c, err := lc.Create(root, id, cfg)
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

// runtimeStart starts one pod (sandbox + container) through the Runtime
// interface and returns the time of each step (RunPodSandbox,
// CreateContainer, StartContainer); it then removes the pod.
func runtimeStart(ctx context.Context, rt runtime.Runtime, i int, cmd []string) ([3]time.Duration, error) {
	var ph [3]time.Duration
	t0 := time.Now()
	sb, err := rt.RunPodSandbox(ctx, &runtime.SandboxConfig{Name: fmt.Sprintf("bench-%d", i), Namespace: "bench", UID: fmt.Sprint(i)})
	if err != nil {
		return ph, err
	}
	defer rt.RemovePodSandbox(ctx, sb)
	t1 := time.Now()
	id, err := rt.CreateContainer(ctx, sb, &runtime.ContainerConfig{Name: "main", Image: imageRef, Command: cmd})
	if err != nil {
		return ph, err
	}
	t2 := time.Now()
	if err := rt.StartContainer(ctx, id); err != nil {
		return ph, err
	}
	t3 := time.Now()
	return [3]time.Duration{t1.Sub(t0), t2.Sub(t1), t3.Sub(t2)}, nil
}
