package framework_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
)

type fakePlugin struct {
	name   string
	reject string
	score  int64
}

func (p *fakePlugin) Name() string { return p.name }
func (p *fakePlugin) Filter(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) *framework.Status {
	if n.Name() == p.reject {
		return framework.NewStatus(framework.Unschedulable, "rejected by "+p.name)
	}
	return nil
}
func (p *fakePlugin) Score(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, n *framework.NodeInfo) (int64, *framework.Status) {
	if n.Name() == p.reject {
		return 0, nil
	}
	return p.score, nil
}
func (p *fakePlugin) ScoreExtensions() framework.ScoreExtensions { return nil }
func (p *fakePlugin) Bind(context.Context, *framework.CycleState, *framework.PodInfo, string) *framework.Status {
	return framework.NewStatus(framework.Skip)
}

type binder struct{ bound atomic.Value }

func (b *binder) Name() string { return "Binder" }
func (b *binder) Bind(_ context.Context, _ *framework.CycleState, _ *framework.PodInfo, node string) *framework.Status {
	b.bound.Store(node)
	return nil
}

func factory(p framework.Plugin) framework.PluginFactory {
	return func(framework.Handle) (framework.Plugin, error) { return p, nil }
}

func node(name string) *framework.NodeInfo {
	return framework.NewNodeInfo(&api.Node{Metadata: &api.ObjectMeta{Name: name}})
}

func TestRegistryRefusesDuplicates(t *testing.T) {
	r := framework.NewRegistry()
	if err := r.Register("A", factory(&fakePlugin{name: "A"})); err != nil {
		t.Fatal(err)
	}
	if err := r.Register("A", factory(&fakePlugin{name: "A"})); !errors.Is(err, framework.ErrDuplicate) {
		t.Fatalf("second Register: %v, want ErrDuplicate", err)
	}
	other := framework.NewRegistry()
	_ = other.Register("A", factory(&fakePlugin{name: "A"}))
	if err := r.Merge(other); !errors.Is(err, framework.ErrDuplicate) {
		t.Fatalf("Merge: %v, want ErrDuplicate", err)
	}
	if _, err := framework.New(r, framework.Profile{SchedulerName: "s", Plugins: []framework.PluginRef{{Name: "missing"}}}); !errors.Is(err, framework.ErrUnknownPlugin) {
		t.Fatalf("New: %v, want ErrUnknownPlugin", err)
	}
	if _, err := framework.New(r, framework.Profile{SchedulerName: "s", Plugins: []framework.PluginRef{{Name: "A"}, {Name: "A"}}}); !errors.Is(err, framework.ErrDuplicate) {
		t.Fatalf("New: %v, want ErrDuplicate", err)
	}
}

func TestFrameworkRunsExtensionPoints(t *testing.T) {
	r := framework.NewRegistry()
	b := &binder{}
	_ = r.Register("A", factory(&fakePlugin{name: "A", reject: "n1", score: 10}))
	_ = r.Register("B", factory(&fakePlugin{name: "B", reject: "n2", score: 100}))
	_ = r.Register("Binder", factory(b))
	fwk, err := framework.New(r, framework.Profile{SchedulerName: "s", Plugins: []framework.PluginRef{{Name: "A", Weight: 2}, {Name: "B"}, {Name: "Binder"}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	state := framework.NewCycleState()
	pi := framework.NewPodInfo(&api.Pod{Metadata: &api.ObjectMeta{Name: "p"}, Spec: &api.PodSpec{}})
	nodes := []*framework.NodeInfo{node("n1"), node("n2"), node("n3")}
	st := fwk.RunFilterPlugins(ctx, state, pi, nodes[0])
	if st.Code() != framework.Unschedulable || st.Plugin() != "A" || st.Message() != "rejected by A" {
		t.Fatalf("filter n1: code %v plugin %q msg %q", st.Code(), st.Plugin(), st.Message())
	}
	if !errors.Is(st.AsError(), framework.ErrUnschedulable) {
		t.Fatalf("AsError: %v", st.AsError())
	}
	if st := fwk.RunFilterPlugins(ctx, state, pi, nodes[2]); !st.IsSuccess() {
		t.Fatalf("filter n3: %v", st.AsError())
	}
	scores, st := fwk.RunScorePlugins(ctx, state, pi, nodes)
	if !st.IsSuccess() {
		t.Fatal(st.AsError())
	}
	want := map[string]int64{"n1": 100, "n2": 20, "n3": 120}
	for _, s := range scores {
		if want[s.Name] != s.Score {
			t.Errorf("score %s = %d, want %d", s.Name, s.Score, want[s.Name])
		}
	}
	if st := fwk.RunBindPlugins(ctx, state, pi, "n3"); !st.IsSuccess() || b.bound.Load() != "n3" {
		t.Fatalf("bind: %v, bound %v", st.AsError(), b.bound.Load())
	}
}

func TestNumFeasibleNodesToFind(t *testing.T) {
	tests := []struct {
		pct   int32
		nodes int
		want  int
	}{
		{0, 50, 50},
		{0, 100, 100},
		{0, 1000, 420},
		{0, 5000, 500},
		{0, 6000, 300},
		{0, 100000, 5000},
		{10, 500, 100},
		{100, 5000, 5000},
		{50, 5000, 2500},
	}
	for _, tt := range tests {
		if got := framework.NumFeasibleNodesToFind(tt.pct, tt.nodes); got != tt.want {
			t.Errorf("NumFeasibleNodesToFind(%d, %d) = %d, want %d", tt.pct, tt.nodes, got, tt.want)
		}
	}
}

type counter struct{ n int }

func (c *counter) Clone() framework.StateData { cp := *c; return &cp }

func TestCycleStateClone(t *testing.T) {
	s := framework.NewCycleState()
	s.Write("k", &counter{n: 1})
	c := s.Clone()
	v, err := framework.ReadAs[*counter](c, "k")
	if err != nil {
		t.Fatal(err)
	}
	v.n = 2
	orig, _ := framework.ReadAs[*counter](s, "k")
	if orig.n != 1 {
		t.Fatalf("clone shares data: %d", orig.n)
	}
	if _, err := s.Read("missing"); !errors.Is(err, framework.ErrNotFound) {
		t.Fatalf("Read missing: %v", err)
	}
}

func TestParallelizeVisitsEveryIndex(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		seen := make([]atomic.Int32, n)
		framework.Parallelize(context.Background(), 4, n, func(i int) { seen[i].Add(1) })
		for i := range seen {
			if seen[i].Load() != 1 {
				t.Fatalf("n=%d: index %d visited %d times", n, i, seen[i].Load())
			}
		}
	}
}

func TestNodeInfoAccounting(t *testing.T) {
	n := framework.NewNodeInfo(&api.Node{Metadata: &api.ObjectMeta{Name: "n"}, Status: &api.NodeStatus{Capacity: map[string]string{"cpu": "2", "memory": "1Gi", "example.com/gpu": "2"}}})
	if n.Allocatable.MilliCPU != 2000 || n.Allocatable.Memory != 1<<30 || n.Allocatable.Scalar["example.com/gpu"] != 2 {
		t.Fatalf("allocatable from capacity: %+v", n.Allocatable)
	}
	p := &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Uid: "u"}, Spec: &api.PodSpec{Containers: []*api.Container{
		{Name: "a", Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "250m", "example.com/gpu": "1"}}},
		{Name: "b", Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "250m", "memory": "64Mi"}}},
	}}}
	pi := framework.NewPodInfo(p)
	if pi.ParseError != nil {
		t.Fatal(pi.ParseError)
	}
	n.AddPod(pi)
	if n.Requested.MilliCPU != 500 || n.Requested.Memory != 64<<20 || n.Requested.Scalar["example.com/gpu"] != 1 {
		t.Fatalf("requested: %+v", n.Requested)
	}
	if n.NonZeroRequested.Memory != 64<<20+framework.DefaultMemoryRequest {
		t.Fatalf("non-zero memory: %d", n.NonZeroRequested.Memory)
	}
	c := n.Clone()
	if !n.RemovePod(p) || n.Requested.MilliCPU != 0 || n.Requested.Scalar["example.com/gpu"] != 0 || len(n.Pods) != 0 {
		t.Fatalf("after remove: %+v", n.Requested)
	}
	if c.Requested.MilliCPU != 500 || len(c.Pods) != 1 {
		t.Fatalf("clone changed with original: %+v", c.Requested)
	}
	bad := framework.NewPodInfo(&api.Pod{Metadata: &api.ObjectMeta{Name: "bad"}, Spec: &api.PodSpec{Containers: []*api.Container{{Name: "a", Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "lots"}}}}}})
	if bad.ParseError == nil {
		t.Fatal("malformed quantity accepted")
	}
}
