package plugins_test

import (
	"context"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/scheduler/plugins"
)

type nopBinder struct{}

func (nopBinder) Name() string { return "NopBinder" }
func (nopBinder) Bind(context.Context, *framework.CycleState, *framework.PodInfo, string) *framework.Status {
	return nil
}

// newFramework builds a framework with the named default plugins over nodes.
func newFramework(t *testing.T, nodes []*framework.NodeInfo, names ...string) *framework.Framework {
	t.Helper()
	reg := plugins.NewRegistry()
	if err := reg.Register("NopBinder", func(framework.Handle) (framework.Plugin, error) { return nopBinder{}, nil }); err != nil {
		t.Fatal(err)
	}
	prof := framework.Profile{SchedulerName: "test"}
	for _, n := range names {
		prof.Plugins = append(prof.Plugins, framework.PluginRef{Name: n})
	}
	prof.Plugins = append(prof.Plugins, framework.PluginRef{Name: "NopBinder"})
	fwk, err := framework.New(reg, prof, framework.WithParallelism(2))
	if err != nil {
		t.Fatal(err)
	}
	fwk.SetSnapshot(framework.NewSnapshot(nodes...))
	return fwk
}

// filter runs PreFilter and Filter of the named plugins for pod on every
// node and returns the nodes that passed and the first reason of each
// rejected node.
func filter(t *testing.T, pod *api.Pod, nodes []*framework.NodeInfo, names ...string) (fit []string, reasons map[string]string) {
	t.Helper()
	fwk := newFramework(t, nodes, names...)
	ctx := context.Background()
	state := framework.NewCycleState()
	pi := framework.NewPodInfo(pod)
	reasons = map[string]string{}
	if st := fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		for _, n := range nodes {
			reasons[n.Name()] = st.Message()
		}
		return nil, reasons
	}
	for _, n := range nodes {
		st := fwk.RunFilterPlugins(ctx, state, pi, n)
		if st.IsSuccess() {
			fit = append(fit, n.Name())
		} else {
			reasons[n.Name()] = st.Message()
		}
	}
	return fit, reasons
}

// score runs the named plugins' scoring for pod on nodes.
func score(t *testing.T, pod *api.Pod, nodes []*framework.NodeInfo, names ...string) map[string]int64 {
	t.Helper()
	fwk := newFramework(t, nodes, names...)
	ctx := context.Background()
	state := framework.NewCycleState()
	pi := framework.NewPodInfo(pod)
	if st := fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		t.Fatalf("prefilter: %v", st.AsError())
	}
	scores, st := fwk.RunScorePlugins(ctx, state, pi, nodes)
	if !st.IsSuccess() {
		t.Fatalf("score: %v", st.AsError())
	}
	out := map[string]int64{}
	for _, s := range scores {
		out[s.Name] = s.Score
	}
	return out
}

type nodeOpt func(*api.Node)

func mkNode(name string, opts ...nodeOpt) *api.Node {
	n := &api.Node{
		Metadata: &api.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
		Spec:     &api.NodeSpec{},
		Status:   &api.NodeStatus{Allocatable: map[string]string{"cpu": "4", "memory": "8Gi", "pods": "110"}},
	}
	for _, o := range opts {
		o(n)
	}
	return n
}

func nodeLabels(kv ...string) nodeOpt {
	return func(n *api.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func alloc(kv ...string) nodeOpt {
	return func(n *api.Node) {
		for i := 0; i+1 < len(kv); i += 2 {
			n.Status.Allocatable[kv[i]] = kv[i+1]
		}
	}
}

func taint(key, value, effect string) nodeOpt {
	return func(n *api.Node) {
		n.Spec.Taints = append(n.Spec.Taints, &api.Taint{Key: key, Value: value, Effect: effect})
	}
}

type podOpt func(*api.Pod)

func mkPod(name string, opts ...podOpt) *api.Pod {
	p := &api.Pod{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default", Uid: "uid-" + name, Labels: map[string]string{}},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "img"}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func req(kv ...string) podOpt {
	return func(p *api.Pod) {
		c := p.Spec.Containers[0]
		if c.Resources == nil {
			c.Resources = &api.ResourceRequirements{Requests: map[string]string{}}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c.Resources.Requests[kv[i]] = kv[i+1]
		}
	}
}

func podLabels(kv ...string) podOpt {
	return func(p *api.Pod) {
		for i := 0; i+1 < len(kv); i += 2 {
			p.Metadata.Labels[kv[i]] = kv[i+1]
		}
	}
}

func onNode(n string) podOpt { return func(p *api.Pod) { p.Spec.NodeName = n } }

func priority(v int32) podOpt { return func(p *api.Pod) { p.Spec.Priority = v } }

func hostPort(port int32, proto, ip string) podOpt {
	return func(p *api.Pod) {
		c := p.Spec.Containers[0]
		c.Ports = append(c.Ports, &api.ContainerPort{ContainerPort: port, HostPort: port, Protocol: proto, HostIp: ip})
	}
}

func tolerate(key, op, value, effect string) podOpt {
	return func(p *api.Pod) {
		p.Spec.Tolerations = append(p.Spec.Tolerations, &api.Toleration{Key: key, Operator: op, Value: value, Effect: effect})
	}
}

func affinity(a *api.Affinity) podOpt { return func(p *api.Pod) { p.Spec.Affinity = a } }

func sel(kv ...string) *api.LabelSelector {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return &api.LabelSelector{MatchLabels: m}
}

// info builds a NodeInfo with pods placed on it.
func info(n *api.Node, pods ...*api.Pod) *framework.NodeInfo {
	ni := framework.NewNodeInfo(n)
	for _, p := range pods {
		p.Spec.NodeName = n.Metadata.Name
		ni.AddPod(framework.NewPodInfo(p))
	}
	return ni
}
