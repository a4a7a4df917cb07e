package framework_test

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

// OddNodes is a Filter plugin that rejects nodes with an even-length name.
type OddNodes struct{}

func (OddNodes) Name() string { return "OddNodes" }

func (OddNodes) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if len(n.Name())%2 == 0 {
		return framework.NewStatus(framework.Unschedulable, "node name has even length")
	}
	return nil
}

type printBinder struct{}

func (printBinder) Name() string { return "PrintBinder" }

func (printBinder) Bind(_ context.Context, _ *framework.CycleState, p *framework.PodInfo, node string) *framework.Status {
	fmt.Println("bind", p.Pod.Metadata.Name, "to", node)
	return nil
}

// A plugin lives outside the scheduler: register its factory, name it in a
// profile, and the framework runs it at every extension point it implements.
func ExampleNew() {
	reg := framework.NewRegistry()
	_ = reg.Register("OddNodes", func(framework.Handle) (framework.Plugin, error) { return OddNodes{}, nil })
	_ = reg.Register("PrintBinder", func(framework.Handle) (framework.Plugin, error) { return printBinder{}, nil })
	fwk, err := framework.New(reg, framework.Profile{
		SchedulerName: "odd-scheduler",
		Plugins:       []framework.PluginRef{{Name: "OddNodes"}, {Name: "PrintBinder"}},
	})
	if err != nil {
		panic(err)
	}
	nodes := []*framework.NodeInfo{
		framework.NewNodeInfo(&api.Node{Metadata: &api.ObjectMeta{Name: "ab"}}),
		framework.NewNodeInfo(&api.Node{Metadata: &api.ObjectMeta{Name: "abc"}}),
	}
	fwk.SetSnapshot(framework.NewSnapshot(nodes...))
	ctx := context.Background()
	pod := framework.NewPodInfo(&api.Pod{Metadata: &api.ObjectMeta{Name: "p"}, Spec: &api.PodSpec{}})
	state := framework.NewCycleState()
	for _, n := range nodes {
		if st := fwk.RunFilterPlugins(ctx, state, pod, n); !st.IsSuccess() {
			fmt.Printf("%s: %s (%s)\n", n.Name(), st.Message(), st.Plugin())
			continue
		}
		fwk.RunBindPlugins(ctx, state, pod, n.Name())
	}
	// Output:
	// ab: node name has even length (OddNodes)
	// bind p to abc
}
