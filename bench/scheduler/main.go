// Command scheduler-bench measures the default scheduler's throughput in
// memory, like kube-scheduler's scheduler_perf SchedulingBasic: fake Nodes
// and pending pods are written to a memstore, the real scheduler binds them
// (each binding is a compare-and-swap Update in the store), and the
// program prints pods bound per second as `figure:` lines.
//
// Variants:
//
//	basic     pods request 100m cpu and 500Mi memory, nothing else.
//	affinity  pods in groups of 100 with required pod anti-affinity on
//	          hostname within their group and a zone topology spread
//	          constraint (maxSkew 1, DoNotSchedule) over 10 zones.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func main() {
	nodes := flag.Int("nodes", 5000, "number of fake nodes")
	pods := flag.Int("pods", 50000, "number of pods to schedule")
	variant := flag.String("variant", "basic", "basic or affinity")
	name := flag.String("name", "", "figure name (default scheduler_<variant>_pods_per_s)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file at the end")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "scheduler-bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "scheduler-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *name == "" {
		*name = "scheduler_" + *variant + "_pods_per_s"
	}
	rate, cpuPerPod, err := run(*nodes, *pods, *variant)
	if err != nil {
		fmt.Fprintln(os.Stderr, "scheduler-bench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	if *memProfile != "" {
		if f, err := os.Create(*memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			_ = f.Close()
		}
	}
	fmt.Printf("figure: %s %.0f pods/s\n", *name, rate)
	fmt.Printf("figure: %s_cpu_per_pod %.1f us\n", strings.TrimSuffix(*name, "_pods_per_s"), cpuPerPod)
}

// cpuTime returns the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// run returns pods bound per second of wall time and the process CPU time
// per pod (creating the pod, scheduling and binding it, all watches), which
// is steadier than wall time on a shared machine.
func run(numNodes, numPods int, variant string) (float64, float64, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memstore.New()
	defer func() { _ = s.Close() }()
	for i := range numNodes {
		n := &api.Node{
			Metadata: &api.ObjectMeta{Name: fmt.Sprintf("node-%05d", i), Labels: map[string]string{
				"kubernetes.io/hostname":      fmt.Sprintf("node-%05d", i),
				"topology.kubernetes.io/zone": fmt.Sprintf("zone-%d", i%10),
			}},
			Spec:   &api.NodeSpec{},
			Status: &api.NodeStatus{Allocatable: map[string]string{"cpu": "4", "memory": "32Gi", "pods": "110"}},
		}
		if _, err := s.Create(ctx, n); err != nil {
			return 0, 0, err
		}
	}
	sch, err := scheduler.New(s, scheduler.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return 0, 0, err
	}
	done := make(chan error, 1)
	go func() { done <- sch.Start(ctx) }()
	// Let the scheduler list the nodes before the clock starts.
	for sch.NodeCount() < numNodes {
		time.Sleep(time.Millisecond)
	}
	runtime.GC()
	start, startCPU := time.Now(), cpuTime()
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Go(func() {
		for i := range numPods {
			if _, err := s.Create(ctx, benchPod(i, variant)); err != nil {
				errc <- err
				return
			}
		}
	})
	deadline := time.Now().Add(10 * time.Minute)
	for sch.Scheduled() < int64(numPods) {
		select {
		case err := <-errc:
			return 0, 0, err
		case err := <-done:
			return 0, 0, fmt.Errorf("scheduler stopped: %v", err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return 0, 0, fmt.Errorf("only %d of %d pods bound after 10m", sch.Scheduled(), numPods)
		}
	}
	elapsed, cpu := time.Since(start), cpuTime()-startCPU
	wg.Wait()
	cancel()
	if err := <-done; err != nil {
		return 0, 0, err
	}
	return float64(numPods) / elapsed.Seconds(), float64(cpu.Microseconds()) / float64(numPods), nil
}

func benchPod(i int, variant string) *api.Pod {
	p := &api.Pod{
		Metadata: &api.ObjectMeta{Name: fmt.Sprintf("pod-%06d", i), Namespace: "bench", Labels: map[string]string{}},
		Spec: &api.PodSpec{Containers: []*api.Container{{
			Name: "c", Image: "registry.k8s.io/pause:3.10",
			Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "100m", "memory": "500Mi"}},
		}}},
	}
	if variant == "affinity" {
		group := fmt.Sprintf("group-%d", i/100)
		p.Metadata.Labels["group"] = group
		sel := &api.LabelSelector{MatchLabels: map[string]string{"group": group}}
		p.Spec.Affinity = &api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{{LabelSelector: sel, TopologyKey: "kubernetes.io/hostname"}},
		}}
		p.Spec.TopologySpreadConstraints = []*api.TopologySpreadConstraint{{
			MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: "DoNotSchedule", LabelSelector: sel,
		}}
	}
	return p
}
