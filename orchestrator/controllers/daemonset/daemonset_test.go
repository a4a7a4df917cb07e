package daemonset_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/daemonset"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func timeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func start(t *testing.T, nodes int) *testenv.Env {
	t.Helper()
	env := testenv.Start(t, testenv.Options{Nodes: nodes})
	if err := daemonset.Add(env.Manager, daemonset.Options{}); err != nil {
		t.Fatal(err)
	}
	return env
}

func newDaemonSet(name string) *api.DaemonSet {
	return &api.DaemonSet{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec: &api.DaemonSetSpec{
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "agent", Image: "agent:v1"}}},
			},
		},
	}
}

// podsOn waits until the daemon's active pods sit exactly on nodes (one
// each) and returns them.
func podsOn(ctx context.Context, t *testing.T, env *testenv.Env, app string, nodes ...string) []*api.Pod {
	t.Helper()
	slices.Sort(nodes)
	var got []*api.Pod
	err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app}, func(pods []*api.Pod) bool {
		got = got[:0]
		var on []string
		for _, p := range pods {
			if podutil.IsActive(p) {
				got = append(got, p)
				on = append(on, p.GetSpec().GetNodeName())
			}
		}
		slices.Sort(on)
		return slices.Equal(on, nodes)
	})
	if err != nil {
		t.Fatalf("want pods of %s on %v: %v", app, nodes, err)
	}
	return got
}

func TestNodesAddedAndRemoved(t *testing.T) {
	ctx := timeout(t)
	env := start(t, 3)
	if _, err := env.Store.Create(ctx, newDaemonSet("logs")); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "logs", "node-0", "node-1", "node-2")

	// A new node gets a pod.
	if _, err := env.Store.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "node-new", Labels: map[string]string{"kubernetes.io/hostname": "node-new"}}}); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "logs", "node-0", "node-1", "node-2", "node-new")

	// A removed node loses it.
	if _, err := env.Store.Delete(ctx, api.KindNode, "", "node-1", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "logs", "node-0", "node-2", "node-new")

	ds, err := testenv.UntilObject(ctx, env.Store, "default", "logs", func(ds *api.DaemonSet) bool {
		st := ds.GetStatus()
		return st.GetDesiredNumberScheduled() == 3 && st.GetCurrentNumberScheduled() == 3 && st.GetNumberMisscheduled() == 0
	})
	if err != nil {
		t.Fatalf("status: %v (%v)", err, ds.GetStatus())
	}
}

func TestSelectorAffinityTolerations(t *testing.T) {
	ctx := timeout(t)
	env := start(t, 3)
	nodes := store.For[*api.Node](env.Store)
	if _, err := nodes.Mutate(ctx, "", "node-0", func(n *api.Node) error {
		n.Metadata.Labels["disk"] = "ssd"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Mutate(ctx, "", "node-1", func(n *api.Node) error {
		n.Metadata.Labels["disk"] = "ssd"
		n.Spec.Taints = append(n.Spec.Taints, &api.Taint{Key: "dedicated", Value: "db", Effect: "NoSchedule"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	ds := newDaemonSet("ssd")
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"disk": "ssd"}
	if _, err := env.Store.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "ssd", "node-0") // node-1 is tainted, node-2 has no ssd

	// Tolerate the taint: node-1 gets one too.
	if _, err := store.For[*api.DaemonSet](env.Store).Mutate(ctx, "default", "ssd", func(ds *api.DaemonSet) error {
		ds.Spec.Template.Spec.Tolerations = []*api.Toleration{{Key: "dedicated", Operator: "Equal", Value: "db", Effect: "NoSchedule"}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "ssd", "node-0", "node-1")

	// A node that stops matching loses its pod.
	if _, err := nodes.Mutate(ctx, "", "node-0", func(n *api.Node) error {
		delete(n.Metadata.Labels, "disk")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "ssd", "node-1")

	// Required node affinity, by hostname.
	aff := newDaemonSet("aff")
	aff.Spec.Template.Spec.Affinity = &api.Affinity{NodeAffinity: &api.NodeAffinity{
		RequiredDuringSchedulingIgnoredDuringExecution: &api.NodeSelector{NodeSelectorTerms: []*api.NodeSelectorTerm{{
			MatchExpressions: []*api.NodeSelectorRequirement{{Key: "kubernetes.io/hostname", Operator: "In", Values: []string{"node-2"}}},
		}}},
	}}
	if _, err := env.Store.Create(ctx, aff); err != nil {
		t.Fatal(err)
	}
	podsOn(ctx, t, env, "aff", "node-2")
}

// A template change rolls out node by node, never more than maxUnavailable
// down at once.
func TestRollingUpdate(t *testing.T) {
	ctx := timeout(t)
	env := start(t, 4)
	ds := newDaemonSet("roll")
	ds.Spec.UpdateStrategy = &api.DaemonSetUpdateStrategy{Type: daemonset.StrategyRollingUpdate, RollingUpdate: &api.RollingUpdateDaemonSet{
		MaxUnavailable: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 1}},
	}}
	if _, err := env.Store.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		return readyCount(pods, "") == 4
	}); err != nil {
		t.Fatal(err)
	}
	// The controller must see the pods available too, or it would replace
	// them all at once as already unavailable.
	availableAll(ctx, t, env, "roll", 4)
	upd, err := store.For[*api.DaemonSet](env.Store).Mutate(ctx, "default", "roll", func(ds *api.DaemonSet) error {
		ds.Spec.Template.Spec.Containers[0].Image = "agent:v2"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	newHash := daemonset.TemplateHash(upd.Spec.Template)
	worst := 4
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		worst = min(worst, readyCount(pods, ""))
		return readyCount(pods, newHash) == 4 && readyCount(pods, "") == 4
	}); err != nil {
		t.Fatal(err)
	}
	if worst < 3 {
		t.Fatalf("only %d of 4 daemon pods ready during the rollout, maxUnavailable is 1", worst)
	}
}

// availableAll waits until the DaemonSet's status counts n available pods.
func availableAll(ctx context.Context, t *testing.T, env *testenv.Env, name string, n int32) {
	t.Helper()
	if _, err := testenv.UntilObject(ctx, env.Store, "default", name, func(ds *api.DaemonSet) bool {
		return ds.GetStatus().GetNumberAvailable() == n
	}); err != nil {
		t.Fatal(err)
	}
}

// readyCount counts ready, active pods, of one template hash if hash != "".
func readyCount(pods []*api.Pod, hash string) int {
	n := 0
	for _, p := range pods {
		if podutil.IsActive(p) && podutil.IsReady(p) && (hash == "" || p.GetMetadata().GetLabels()[daemonset.LabelTemplateHash] == hash) {
			n++
		}
	}
	return n
}

// With maxSurge 1 the new pod starts beside the old one on a node, and the
// old one goes once the new one is available: never fewer than all ready.
func TestRollingUpdateSurge(t *testing.T) {
	ctx := timeout(t)
	env := start(t, 3)
	ds := newDaemonSet("surge")
	ds.Spec.UpdateStrategy = &api.DaemonSetUpdateStrategy{Type: daemonset.StrategyRollingUpdate, RollingUpdate: &api.RollingUpdateDaemonSet{
		MaxSurge: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 1}},
	}}
	if _, err := env.Store.Create(ctx, ds); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		return readyCount(pods, "") == 3
	}); err != nil {
		t.Fatal(err)
	}
	// The controller must see the pods available too, or it would replace
	// them all at once as already unavailable.
	availableAll(ctx, t, env, "surge", 3)
	upd, err := store.For[*api.DaemonSet](env.Store).Mutate(ctx, "default", "surge", func(ds *api.DaemonSet) error {
		ds.Spec.Template.Spec.Containers[0].Image = "agent:v2"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	newHash := daemonset.TemplateHash(upd.Spec.Template)
	fewest, most := 3, 0
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(pods []*api.Pod) bool {
		fewest = min(fewest, readyCount(pods, ""))
		active := 0
		for _, p := range pods {
			if podutil.IsActive(p) {
				active++
			}
		}
		most = max(most, active)
		return readyCount(pods, newHash) == 3 && active == 3
	}); err != nil {
		t.Fatal(err)
	}
	if fewest < 3 {
		t.Errorf("only %d ready during a surge rollout, want never fewer than 3", fewest)
	}
	if most > 4 {
		t.Errorf("%d pods at once, maxSurge 1 allows 4", most)
	}
}
