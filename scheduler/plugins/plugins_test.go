package plugins_test

import (
	"context"
	"slices"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/scheduler/framework"
	"github.com/coxswain-io/coxswain/scheduler/plugins"
)

func TestNodeResourcesFit(t *testing.T) {
	small := func() *api.Node {
		return mkNode("n", alloc("cpu", "2", "memory", "4Gi", "pods", "2", "example.com/gpu", "1"))
	}
	tests := []struct {
		name   string
		node   *api.Node
		onNode []*api.Pod
		pod    *api.Pod
		reason string // "" means fits
	}{
		{name: "fits", node: small(), pod: mkPod("p", req("cpu", "1", "memory", "1Gi"))},
		{name: "best effort fits", node: small(), pod: mkPod("p")},
		{name: "insufficient cpu", node: small(), onNode: []*api.Pod{mkPod("a", req("cpu", "1500m"))}, pod: mkPod("p", req("cpu", "600m")), reason: "Insufficient cpu"},
		{name: "insufficient memory", node: small(), pod: mkPod("p", req("memory", "5Gi")), reason: "Insufficient memory"},
		{name: "cpu and memory", node: small(), pod: mkPod("p", req("cpu", "3", "memory", "5Gi")), reason: "Insufficient cpu, Insufficient memory"},
		{name: "too many pods", node: small(), onNode: []*api.Pod{mkPod("a"), mkPod("b")}, pod: mkPod("p"), reason: "Too many pods"},
		{name: "gpu fits", node: small(), pod: mkPod("p", req("example.com/gpu", "1"))},
		{name: "insufficient gpu", node: small(), onNode: []*api.Pod{mkPod("a", req("example.com/gpu", "1"))}, pod: mkPod("p", req("example.com/gpu", "1")), reason: "Insufficient example.com/gpu"},
		{name: "gpu on node without gpus", node: mkNode("n"), pod: mkPod("p", req("example.com/gpu", "1")), reason: "Insufficient example.com/gpu"},
		{name: "init container dominates", node: small(), pod: mkPod("p", req("cpu", "1"), func(p *api.Pod) {
			p.Spec.InitContainers = []*api.Container{{Name: "i", Resources: &api.ResourceRequirements{Requests: map[string]string{"cpu": "3"}}}}
		}), reason: "Insufficient cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, reasons := filter(t, tt.pod, []*framework.NodeInfo{info(tt.node, tt.onNode...)}, plugins.NameNodeResourcesFit)
			if tt.reason == "" && len(fit) != 1 {
				t.Fatalf("want fit, got %v", reasons)
			}
			if tt.reason != "" && reasons["n"] != tt.reason {
				t.Fatalf("reason = %q, want %q", reasons["n"], tt.reason)
			}
		})
	}
}

func TestResourceScoring(t *testing.T) {
	empty := info(mkNode("empty"))
	busy := info(mkNode("busy"), mkPod("a", req("cpu", "3", "memory", "6Gi")))
	skewed := info(mkNode("skewed"), mkPod("b", req("cpu", "3", "memory", "100Mi")))
	nodes := []*framework.NodeInfo{empty, busy, skewed}
	pod := mkPod("p", req("cpu", "500m", "memory", "1Gi"))
	least := score(t, pod, nodes, plugins.NameNodeResourcesFit)
	if !(least["empty"] > least["skewed"] && least["skewed"] > least["busy"]) {
		t.Errorf("least allocated scores %v: want empty > skewed > busy", least)
	}
	balanced := score(t, pod, nodes, plugins.NameNodeResourcesBalanced)
	if !(balanced["busy"] > balanced["skewed"]) {
		t.Errorf("balanced scores %v: want busy > skewed", balanced)
	}
	for n, s := range balanced {
		if s < 0 || s > framework.MaxNodeScore {
			t.Errorf("score of %s out of range: %d", n, s)
		}
	}
}

func TestTaintToleration(t *testing.T) {
	tainted := mkNode("tainted", taint("dedicated", "infra", plugins.EffectNoSchedule))
	noExec := mkNode("noexec", taint("maintenance", "", plugins.EffectNoExecute))
	prefer := mkNode("prefer", taint("spot", "true", plugins.EffectPreferNoSchedule))
	plain := mkNode("plain")
	nodes := []*framework.NodeInfo{info(tainted), info(noExec), info(prefer), info(plain)}
	tests := []struct {
		name string
		pod  *api.Pod
		want []string
	}{
		{name: "no tolerations", pod: mkPod("p"), want: []string{"prefer", "plain"}},
		{name: "equal toleration", pod: mkPod("p", tolerate("dedicated", "Equal", "infra", plugins.EffectNoSchedule)), want: []string{"tainted", "prefer", "plain"}},
		{name: "wrong value", pod: mkPod("p", tolerate("dedicated", "Equal", "web", plugins.EffectNoSchedule)), want: []string{"prefer", "plain"}},
		{name: "exists any effect", pod: mkPod("p", tolerate("maintenance", "Exists", "", "")), want: []string{"noexec", "prefer", "plain"}},
		{name: "tolerate everything", pod: mkPod("p", tolerate("", "Exists", "", "")), want: []string{"tainted", "noexec", "prefer", "plain"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, reasons := filter(t, tt.pod, nodes, plugins.NameTaintToleration)
			if !slices.Equal(fit, tt.want) {
				t.Fatalf("fit = %v, want %v (reasons %v)", fit, tt.want, reasons)
			}
			if r, ok := reasons["tainted"]; ok && r != "node(s) had untolerated taint {dedicated: infra}" {
				t.Fatalf("reason = %q", r)
			}
		})
	}
	s := score(t, mkPod("p"), []*framework.NodeInfo{info(prefer), info(plain)}, plugins.NameTaintToleration)
	if s["plain"] != framework.MaxNodeScore || s["prefer"] != 0 {
		t.Fatalf("scores = %v, want plain 100, prefer 0", s)
	}
	s = score(t, mkPod("p", tolerate("spot", "Exists", "", plugins.EffectPreferNoSchedule)), []*framework.NodeInfo{info(prefer), info(plain)}, plugins.NameTaintToleration)
	if s["plain"] != s["prefer"] {
		t.Fatalf("tolerated PreferNoSchedule should not lower the score: %v", s)
	}
}

func TestNodeAffinity(t *testing.T) {
	nodes := []*framework.NodeInfo{
		info(mkNode("a", nodeLabels("zone", "z1", "disk", "ssd", "gen", "3"))),
		info(mkNode("b", nodeLabels("zone", "z2", "gen", "5"))),
		info(mkNode("c")),
	}
	required := func(reqs ...*api.NodeSelectorRequirement) podOpt {
		return affinity(&api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
			NodeSelectorTerms: []*api.NodeSelectorTerm{{MatchExpressions: reqs}},
		}}})
	}
	r := func(key, op string, vals ...string) *api.NodeSelectorRequirement {
		return &api.NodeSelectorRequirement{Key: key, Operator: op, Values: vals}
	}
	tests := []struct {
		name string
		pod  *api.Pod
		want []string
	}{
		{name: "none", pod: mkPod("p"), want: []string{"a", "b", "c"}},
		{name: "nodeSelector", pod: mkPod("p", func(p *api.Pod) { p.Spec.NodeSelector = map[string]string{"disk": "ssd"} }), want: []string{"a"}},
		{name: "In", pod: mkPod("p", required(r("zone", "In", "z1", "z2"))), want: []string{"a", "b"}},
		{name: "NotIn", pod: mkPod("p", required(r("zone", "NotIn", "z1"))), want: []string{"b", "c"}},
		{name: "Exists", pod: mkPod("p", required(r("disk", "Exists"))), want: []string{"a"}},
		{name: "DoesNotExist", pod: mkPod("p", required(r("zone", "DoesNotExist"))), want: []string{"c"}},
		{name: "Gt", pod: mkPod("p", required(r("gen", "Gt", "4"))), want: []string{"b"}},
		{name: "Lt", pod: mkPod("p", required(r("gen", "Lt", "4"))), want: []string{"a"}},
		{name: "matchFields", pod: mkPod("p", affinity(&api.Affinity{NodeAffinity: &api.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{
			NodeSelectorTerms: []*api.NodeSelectorTerm{{MatchFields: []*api.NodeSelectorRequirement{r("metadata.name", "In", "c")}}},
		}}})), want: []string{"c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, reasons := filter(t, tt.pod, nodes, plugins.NameNodeAffinity)
			if !slices.Equal(fit, tt.want) {
				t.Fatalf("fit = %v, want %v", fit, tt.want)
			}
			for _, reason := range reasons {
				if reason != plugins.ReasonNodeAffinity {
					t.Fatalf("reason = %q", reason)
				}
			}
		})
	}
	pref := mkPod("p", affinity(&api.Affinity{NodeAffinity: &api.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []*api.PreferredSchedulingTerm{
		{Weight: 10, Preference: &api.NodeSelectorTerm{MatchExpressions: []*api.NodeSelectorRequirement{r("zone", "In", "z2")}}},
		{Weight: 5, Preference: &api.NodeSelectorTerm{MatchExpressions: []*api.NodeSelectorRequirement{r("disk", "Exists")}}},
	}}}))
	s := score(t, pref, nodes, plugins.NameNodeAffinity)
	if s["b"] != framework.MaxNodeScore || s["a"] != 50 || s["c"] != 0 {
		t.Fatalf("scores = %v, want b=100 a=50 c=0", s)
	}
}

func TestNodePortsNameUnschedulable(t *testing.T) {
	used := info(mkNode("used"), mkPod("web", hostPort(80, "TCP", "")))
	usedIP := info(mkNode("usedip"), mkPod("web2", hostPort(80, "TCP", "10.0.0.1")))
	free := info(mkNode("free"))
	nodes := []*framework.NodeInfo{used, usedIP, free}
	tests := []struct {
		name string
		pod  *api.Pod
		want []string
	}{
		{name: "no ports", pod: mkPod("p"), want: []string{"used", "usedip", "free"}},
		{name: "tcp 80", pod: mkPod("p", hostPort(80, "TCP", "")), want: []string{"free"}},
		{name: "udp 80", pod: mkPod("p", hostPort(80, "UDP", "")), want: []string{"used", "usedip", "free"}},
		{name: "other ip", pod: mkPod("p", hostPort(80, "TCP", "10.0.0.2")), want: []string{"usedip", "free"}},
		{name: "default protocol", pod: mkPod("p", hostPort(80, "", "")), want: []string{"free"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, _ := filter(t, tt.pod, nodes, plugins.NameNodePorts)
			if !slices.Equal(fit, tt.want) {
				t.Fatalf("fit = %v, want %v", fit, tt.want)
			}
		})
	}
	fit, reasons := filter(t, mkPod("p", onNode("free")), nodes, plugins.NameNodeName)
	if !slices.Equal(fit, []string{"free"}) || reasons["used"] != plugins.ReasonNodeName {
		t.Fatalf("NodeName: fit %v reasons %v", fit, reasons)
	}
	cordoned := mkNode("cordoned")
	cordoned.Spec.Unschedulable = true
	nodes = []*framework.NodeInfo{info(cordoned), free}
	if fit, reasons := filter(t, mkPod("p"), nodes, plugins.NameNodeUnschedulable); !slices.Equal(fit, []string{"free"}) || reasons["cordoned"] != plugins.ReasonNodeUnschedulable {
		t.Fatalf("NodeUnschedulable: fit %v reasons %v", fit, reasons)
	}
	if fit, _ := filter(t, mkPod("p", tolerate(plugins.TaintNodeUnschedulable, "Exists", "", plugins.EffectNoSchedule)), nodes, plugins.NameNodeUnschedulable); len(fit) != 2 {
		t.Fatalf("tolerating pod should fit a cordoned node: %v", fit)
	}
}

func zoneNodes(pods map[string][]*api.Pod) []*framework.NodeInfo {
	zones := map[string]string{"a1": "za", "a2": "za", "b1": "zb", "c1": "zc"}
	var out []*framework.NodeInfo
	for _, n := range []string{"a1", "a2", "b1", "c1"} {
		out = append(out, info(mkNode(n, nodeLabels("zone", zones[n])), pods[n]...))
	}
	return out
}

func TestInterPodAffinity(t *testing.T) {
	term := func(key string, s *api.LabelSelector) *api.PodAffinityTerm {
		return &api.PodAffinityTerm{LabelSelector: s, TopologyKey: key}
	}
	antiHost := affinity(&api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{term("kubernetes.io/hostname", sel("app", "web"))}}})
	antiZone := affinity(&api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{term("zone", sel("app", "web"))}}})
	withDB := affinity(&api.Affinity{PodAffinity: &api.PodAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{term("zone", sel("app", "db"))}}})
	tests := []struct {
		name string
		pods map[string][]*api.Pod
		pod  *api.Pod
		want []string
	}{
		{name: "anti-affinity by host", pods: map[string][]*api.Pod{"a1": {mkPod("w1", podLabels("app", "web"))}}, pod: mkPod("p", podLabels("app", "web"), antiHost), want: []string{"a2", "b1", "c1"}},
		{name: "anti-affinity by zone", pods: map[string][]*api.Pod{"a1": {mkPod("w1", podLabels("app", "web"))}, "b1": {mkPod("w2", podLabels("app", "web"))}}, pod: mkPod("p", podLabels("app", "web"), antiZone), want: []string{"c1"}},
		{name: "other namespace ignored", pods: map[string][]*api.Pod{"a1": {mkPod("w1", podLabels("app", "web"), func(p *api.Pod) { p.Metadata.Namespace = "other" })}}, pod: mkPod("p", antiHost), want: []string{"a1", "a2", "b1", "c1"}},
		{name: "affinity to db zone", pods: map[string][]*api.Pod{"b1": {mkPod("db", podLabels("app", "db"))}}, pod: mkPod("p", withDB), want: []string{"b1"}},
		{name: "affinity without match", pods: nil, pod: mkPod("p", withDB), want: nil},
		{name: "first pod of a self-affine group", pods: nil, pod: mkPod("p", podLabels("app", "db"), withDB), want: []string{"a1", "a2", "b1", "c1"}},
		{name: "existing pod's anti-affinity", pods: map[string][]*api.Pod{"a1": {mkPod("loner", antiZone)}}, pod: mkPod("p", podLabels("app", "web")), want: []string{"b1", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, _ := filter(t, tt.pod, zoneNodes(tt.pods), plugins.NameInterPodAffinity)
			if !slices.Equal(fit, tt.want) {
				t.Fatalf("fit = %v, want %v", fit, tt.want)
			}
		})
	}
	pref := mkPod("p", affinity(&api.Affinity{
		PodAffinity:     &api.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []*api.WeightedPodAffinityTerm{{Weight: 10, PodAffinityTerm: term("zone", sel("app", "cache"))}}},
		PodAntiAffinity: &api.PodAntiAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []*api.WeightedPodAffinityTerm{{Weight: 20, PodAffinityTerm: term("kubernetes.io/hostname", sel("app", "web"))}}},
	}))
	nodes := zoneNodes(map[string][]*api.Pod{"a1": {mkPod("cache", podLabels("app", "cache"))}, "a2": {mkPod("w", podLabels("app", "web"))}})
	s := score(t, pref, nodes, plugins.NameInterPodAffinity)
	if !(s["a1"] > s["b1"] && s["b1"] > s["a2"]) {
		t.Fatalf("scores = %v: want a1 (cache zone) > b1 > a2 (web host)", s)
	}
}

func TestPodTopologySpread(t *testing.T) {
	spread := func(maxSkew int32, when string) podOpt {
		return func(p *api.Pod) {
			p.Spec.TopologySpreadConstraints = append(p.Spec.TopologySpreadConstraints, &api.TopologySpreadConstraint{
				MaxSkew: maxSkew, TopologyKey: "zone", WhenUnsatisfiable: when, LabelSelector: sel("app", "web"),
			})
		}
	}
	web := func(n string) *api.Pod { return mkPod(n, podLabels("app", "web")) }
	tests := []struct {
		name string
		pods map[string][]*api.Pod
		pod  *api.Pod
		want []string
	}{
		{name: "empty cluster", pod: mkPod("p", podLabels("app", "web"), spread(1, "")), want: []string{"a1", "a2", "b1", "c1"}},
		{name: "one zone ahead", pods: map[string][]*api.Pod{"a1": {web("w1")}}, pod: mkPod("p", podLabels("app", "web"), spread(1, "DoNotSchedule")), want: []string{"b1", "c1"}},
		{name: "maxSkew 2", pods: map[string][]*api.Pod{"a1": {web("w1")}}, pod: mkPod("p", podLabels("app", "web"), spread(2, "")), want: []string{"a1", "a2", "b1", "c1"}},
		{name: "balanced", pods: map[string][]*api.Pod{"a1": {web("w1")}, "b1": {web("w2")}, "c1": {web("w3")}}, pod: mkPod("p", podLabels("app", "web"), spread(1, "")), want: []string{"a1", "a2", "b1", "c1"}},
		{name: "non-matching pods ignored", pods: map[string][]*api.Pod{"a1": {mkPod("x"), mkPod("y")}}, pod: mkPod("p", podLabels("app", "web"), spread(1, "")), want: []string{"a1", "a2", "b1", "c1"}},
		{name: "soft constraint does not filter", pods: map[string][]*api.Pod{"a1": {web("w1"), web("w2")}}, pod: mkPod("p", podLabels("app", "web"), spread(1, "ScheduleAnyway")), want: []string{"a1", "a2", "b1", "c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fit, _ := filter(t, tt.pod, zoneNodes(tt.pods), plugins.NamePodTopologySpread)
			if !slices.Equal(fit, tt.want) {
				t.Fatalf("fit = %v, want %v", fit, tt.want)
			}
		})
	}
	nodes := append(zoneNodes(map[string][]*api.Pod{"a1": {web("w1"), web("w2")}, "b1": {web("w3")}}), info(mkNode("nolabel")))
	fit, reasons := filter(t, mkPod("p", podLabels("app", "web"), spread(1, "")), nodes, plugins.NamePodTopologySpread)
	if !slices.Equal(fit, []string{"c1"}) || reasons["nolabel"] != plugins.ReasonTopologySpreadMissing {
		t.Fatalf("fit %v reasons %v", fit, reasons)
	}
	s := score(t, mkPod("p", podLabels("app", "web"), spread(1, "ScheduleAnyway")), nodes, plugins.NamePodTopologySpread)
	if !(s["c1"] > s["b1"] && s["b1"] > s["a1"] && s["nolabel"] == 0) {
		t.Fatalf("scores = %v: want c1 > b1 > a1, nolabel 0", s)
	}
}

func TestDefaultPreemption(t *testing.T) {
	full := func(name string, prios ...int32) *framework.NodeInfo {
		var pods []*api.Pod
		for i, p := range prios {
			pods = append(pods, mkPod(name+"-"+string(rune('a'+i)), req("cpu", "1"), priority(p)))
		}
		return info(mkNode(name, alloc("cpu", "2")), pods...)
	}
	tests := []struct {
		name        string
		nodes       []*framework.NodeInfo
		pod         *api.Pod
		wantNode    string
		wantVictims int
		wantFail    bool
	}{
		{name: "evict one low pod", nodes: []*framework.NodeInfo{full("n1", 0, 0)}, pod: mkPod("hi", req("cpu", "1"), priority(100)), wantNode: "n1", wantVictims: 1},
		{name: "need both", nodes: []*framework.NodeInfo{full("n1", 0, 0)}, pod: mkPod("hi", req("cpu", "2"), priority(100)), wantNode: "n1", wantVictims: 2},
		{name: "prefer lower victims", nodes: []*framework.NodeInfo{full("n1", 50, 50), full("n2", 10, 50)}, pod: mkPod("hi", req("cpu", "1"), priority(100)), wantNode: "n2", wantVictims: 1},
		{name: "higher priority pods stay", nodes: []*framework.NodeInfo{full("n1", 200, 200)}, pod: mkPod("hi", req("cpu", "1"), priority(100)), wantFail: true},
		{name: "never policy", nodes: []*framework.NodeInfo{full("n1", 0, 0)}, pod: mkPod("hi", req("cpu", "1"), priority(100), func(p *api.Pod) { p.Spec.PreemptionPolicy = "Never" }), wantFail: true},
		{name: "too big anyway", nodes: []*framework.NodeInfo{full("n1", 0, 0)}, pod: mkPod("hi", req("cpu", "3"), priority(100)), wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fwk := newFramework(t, tt.nodes, plugins.NameNodeResourcesFit, plugins.NameDefaultPreemption)
			ctx := context.Background()
			state := framework.NewCycleState()
			pi := framework.NewPodInfo(tt.pod)
			if st := fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
				t.Fatal(st.AsError())
			}
			filtered := framework.NodeToStatus{}
			for _, n := range tt.nodes {
				if st := fwk.RunFilterPlugins(ctx, state, pi, n); !st.IsSuccess() {
					filtered[n.Name()] = st
				}
			}
			res, st := fwk.RunPostFilterPlugins(ctx, state, pi, filtered)
			if tt.wantFail {
				if st.IsSuccess() {
					t.Fatalf("want failure, got %+v", res)
				}
				return
			}
			if !st.IsSuccess() {
				t.Fatalf("postfilter: %v", st.AsError())
			}
			if res.NominatedNodeName != tt.wantNode || len(res.Victims) != tt.wantVictims {
				t.Fatalf("got node %s with %d victims, want %s with %d", res.NominatedNodeName, len(res.Victims), tt.wantNode, tt.wantVictims)
			}
			for _, v := range res.Victims {
				if v.Spec.Priority >= tt.pod.Spec.Priority {
					t.Fatalf("victim %s has priority %d", v.Metadata.Name, v.Spec.Priority)
				}
			}
		})
	}
}

func TestPreemptionKeepsAntiAffinityState(t *testing.T) {
	// The only node runs a low-priority pod whose app label the incoming
	// pod's anti-affinity rejects; evicting it must make room.
	anti := affinity(&api.Affinity{PodAntiAffinity: &api.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []*api.PodAffinityTerm{{LabelSelector: sel("app", "web"), TopologyKey: "kubernetes.io/hostname"}}}})
	nodes := []*framework.NodeInfo{info(mkNode("n1"), mkPod("old", podLabels("app", "web"), priority(1)))}
	fwk := newFramework(t, nodes, plugins.NameInterPodAffinity, plugins.NameDefaultPreemption)
	ctx := context.Background()
	state := framework.NewCycleState()
	pi := framework.NewPodInfo(mkPod("new", priority(10), anti))
	if st := fwk.RunPreFilterPlugins(ctx, state, pi); !st.IsSuccess() {
		t.Fatal(st.AsError())
	}
	st := fwk.RunFilterPlugins(ctx, state, pi, nodes[0])
	if st.IsSuccess() {
		t.Fatal("pod should not fit before preemption")
	}
	res, st := fwk.RunPostFilterPlugins(ctx, state, pi, framework.NodeToStatus{"n1": st})
	if !st.IsSuccess() || res.NominatedNodeName != "n1" || len(res.Victims) != 1 {
		t.Fatalf("res %+v st %v", res, st.AsError())
	}
}

func TestPodTopologySpreadRestrictsNodes(t *testing.T) {
	web := mkPod("w1", podLabels("app", "web"))
	nodes := zoneNodes(map[string][]*api.Pod{"a1": {web}})
	fwk := newFramework(t, nodes, plugins.NamePodTopologySpread)
	state := framework.NewCycleState()
	pod := framework.NewPodInfo(mkPod("p", podLabels("app", "web"), func(p *api.Pod) {
		p.Spec.TopologySpreadConstraints = []*api.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "zone", LabelSelector: sel("app", "web")}}
	}))
	if st := fwk.RunPreFilterPlugins(context.Background(), state, pod); !st.IsSuccess() {
		t.Fatal(st.AsError())
	}
	got, others, ok := state.NodeRestriction()
	if !ok {
		t.Fatal("no restriction")
	}
	var names []string
	for _, n := range got {
		names = append(names, n.Name())
	}
	if !slices.Equal(names, []string{"b1", "c1"}) {
		t.Fatalf("restricted to %v, want [b1 c1]", names)
	}
	if others.Plugin() != plugins.NamePodTopologySpread || others.Message() != plugins.ReasonTopologySpread {
		t.Fatalf("status of the others: %q from %q", others.Message(), others.Plugin())
	}
}
