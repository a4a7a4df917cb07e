// Command customscheduler runs a custom scheduler beside the default one,
// against an in-memory store. The custom scheduler, "bin-packer", uses the
// framework with one custom Score plugin, BinPacking, that prefers the
// fullest node that still fits, so batch pods leave whole nodes free; pods
// opt into it with spec.schedulerName. The default scheduler spreads pods
// and ignores the bin-packer's.
//
// The plugin imports only the framework and the object model, so it could
// live in any module.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/scheduler/plugins"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// BinPacking scores a node by the share of its cpu in use once the pod is
// placed: the fuller, the better.
type BinPacking struct{}

// Name returns BinPacking.
func (BinPacking) Name() string { return "BinPacking" }

// Score implements framework.ScorePlugin.
func (BinPacking) Score(_ context.Context, _ *framework.CycleState, pod *framework.PodInfo, node *framework.NodeInfo) (int64, *framework.Status) {
	if node.Allocatable.MilliCPU == 0 {
		return 0, nil
	}
	used := node.Requested.MilliCPU + pod.Requests.MilliCPU
	return min(used, node.Allocatable.MilliCPU) * framework.MaxNodeScore / node.Allocatable.MilliCPU, nil
}

// ScoreExtensions implements framework.ScorePlugin: scores are in range.
func (BinPacking) ScoreExtensions() framework.ScoreExtensions { return nil }

// binPacker is the custom scheduler's configuration: the default filters,
// BinPacking as the only score, and the default binder.
func binPacker() scheduler.Config {
	reg := framework.NewRegistry()
	if err := reg.Register("BinPacking", func(framework.Handle) (framework.Plugin, error) { return BinPacking{}, nil }); err != nil {
		panic(err)
	}
	return scheduler.Config{
		Registry: reg,
		Profiles: []framework.Profile{{
			SchedulerName: "bin-packer",
			Plugins: []framework.PluginRef{
				{Name: plugins.NameNodeUnschedulable},
				{Name: plugins.NameTaintToleration, Points: framework.PointFilter},
				{Name: plugins.NameNodeAffinity, Points: framework.PointPreFilter | framework.PointFilter},
				{Name: plugins.NameNodeResourcesFit, Points: framework.PointFilter},
				{Name: "BinPacking"},
				{Name: scheduler.NameDefaultBinder},
			},
		}},
	}
}

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "customscheduler:", err)
		os.Exit(1)
	}
}

// run starts both schedulers over a memstore with three nodes, creates
// three pods for each, waits until all six are bound and prints where.
func run(ctx context.Context, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := memstore.New()
	defer func() { _ = s.Close() }()
	for i := range 3 {
		if _, err := s.Create(ctx, &api.Node{
			Metadata: &api.ObjectMeta{Name: fmt.Sprintf("node-%d", i)},
			Status:   &api.NodeStatus{Allocatable: map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110"}},
		}); err != nil {
			return err
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, cfg := range []scheduler.Config{{}, binPacker()} {
		cfg.Logger = quiet
		sch, err := scheduler.New(s, cfg)
		if err != nil {
			return err
		}
		go func() { _ = sch.Start(ctx) }()
	}
	pods := store.For[*api.Pod](s)
	// The default scheduler's pods first, then the bin-packer's: each
	// scheduler scores nodes by what is already on them, so had the
	// bin-packer filled a node first, least-allocated scoring would rightly
	// steer the default's pods away from it, and the output would depend on
	// which scheduler won the race.
	for _, sched := range []string{"", "bin-packer"} {
		for i := range 3 {
			p := &api.Pod{
				Metadata: &api.ObjectMeta{Name: fmt.Sprintf("web-%d", i), Namespace: "default"},
				Spec: &api.PodSpec{SchedulerName: sched, Containers: []*api.Container{{
					Name: "app", Image: "nginx",
					Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "500m"}},
				}}},
			}
			if sched != "" {
				p.Metadata.Name = fmt.Sprintf("batch-%d", i)
			}
			if _, err := pods.Create(ctx, p); err != nil {
				return err
			}
		}
		if err := untilBound(ctx, pods); err != nil {
			return err
		}
	}
	list, _, err := pods.List(ctx, store.ListOptions{Namespace: "default"})
	if err != nil {
		return err
	}
	bound := map[string][]string{}
	for _, p := range list {
		bound[schedulerOf(p)] = append(bound[schedulerOf(p)], p.Spec.NodeName)
	}
	for _, name := range []string{"default-scheduler", "bin-packer"} {
		fmt.Fprintf(out, "%s: pods on %d distinct node(s)\n", name, distinct(bound[name]))
	}
	return nil
}

// untilBound waits until every pod in the default namespace has a node.
func untilBound(ctx context.Context, pods store.Typed[*api.Pod]) error {
	for {
		list, _, err := pods.List(ctx, store.ListOptions{Namespace: "default"})
		if err != nil {
			return err
		}
		n := 0
		for _, p := range list {
			if p.Spec.NodeName != "" {
				n++
			}
		}
		if n == len(list) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func schedulerOf(p *api.Pod) string {
	if p.Spec.SchedulerName == "" {
		return scheduler.DefaultSchedulerName
	}
	return p.Spec.SchedulerName
}

func distinct(nodes []string) int {
	sort.Strings(nodes)
	n := 0
	for i := range nodes {
		if i == 0 || nodes[i] != nodes[i-1] {
			n++
		}
	}
	return n
}
