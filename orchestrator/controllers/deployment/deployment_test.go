package deployment_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/deployment"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/podutil"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func intOrStr(n int32) *api.IntOrString {
	return &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: n}}
}

func newDeployment(name string, replicas int32, image string) *api.Deployment {
	return &api.Deployment{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: name},
		Spec: &api.DeploymentSpec{
			Replicas: ptr(replicas),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: image}}},
			},
		},
	}
}

func imageOf(p *api.Pod) string { return p.GetSpec().GetContainers()[0].GetImage() }

// waitRolledOut waits until the deployment's pods are exactly replicas
// running, ready pods of image, and its status says the rollout is complete.
func waitRolledOut(ctx context.Context, t *testing.T, env *testenv.Env, name string, replicas int, image string) {
	t.Helper()
	var last []*api.Pod
	err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default", LabelSelector: "app=" + name}, func(pods []*api.Pod) bool {
		last = pods
		if len(pods) != replicas {
			return false
		}
		for _, p := range pods {
			if !podutil.IsActive(p) || !podutil.IsReady(p) || imageOf(p) != image {
				return false
			}
		}
		return true
	})
	if err != nil {
		for _, p := range last {
			t.Logf("pod %s %s node=%q phase=%s ready=%v terminating=%v finalizers=%v", p.GetMetadata().GetName(), imageOf(p),
				p.GetSpec().GetNodeName(), p.GetStatus().GetPhase(), podutil.IsReady(p), podutil.IsTerminating(p), p.GetMetadata().GetFinalizers())
		}
		dumpState(t, env, name)
		t.Fatalf("%s: waiting for %d pods of %s (last saw %d): %v", name, replicas, image, len(last), err)
	}
	_, err = testenv.UntilObject(ctx, env.Store, "default", name, func(d *api.Deployment) bool {
		st := d.GetStatus()
		c := podutil.Condition(st.GetConditions(), deployment.ConditionProgressing)
		return st.GetObservedGeneration() == d.GetMetadata().GetGeneration() && st.GetUpdatedReplicas() == int32(replicas) &&
			st.GetAvailableReplicas() == int32(replicas) && st.GetReplicas() == int32(replicas) &&
			c != nil && c.GetReason() == deployment.ReasonNewRSAvailable
	})
	if err != nil {
		t.Fatalf("%s: status: %v", name, err)
	}
}

func setImage(ctx context.Context, t *testing.T, env *testenv.Env, name, image string) {
	t.Helper()
	if _, err := store.For[*api.Deployment](env.Store).Mutate(ctx, "default", name, func(d *api.Deployment) error {
		d.Spec.Template.Spec.Containers[0].Image = image
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// podWatcher follows a deployment's pods event by event and calls check
// after each one with the pods as they are then.
type podWatcher struct {
	mu     sync.Mutex
	failed []string
	done   chan struct{}
}

func watchPods(ctx context.Context, t *testing.T, env *testenv.Env, app string, check func(pods map[string]*api.Pod) string) *podWatcher {
	t.Helper()
	list, err := env.Store.List(ctx, api.KindPod, store.ListOptions{Namespace: "default", LabelSelector: "app=" + app})
	if err != nil {
		t.Fatal(err)
	}
	w, err := env.Store.Watch(ctx, api.KindPod, store.WatchOptions{Namespace: "default", LabelSelector: "app=" + app, Revision: list.Revision})
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]*api.Pod{}
	for _, o := range list.Items {
		pods[o.GetMetadata().GetName()] = o.(*api.Pod)
	}
	pw := &podWatcher{done: make(chan struct{})}
	go func() {
		defer close(pw.done)
		for ev := range w.Events() {
			if _, ok := ev.Object.(*api.Pod); !ok && ev.Object != nil {
				pw.mu.Lock()
				pw.failed = append(pw.failed, fmt.Sprintf("a pod watch delivered a %T", ev.Object))
				pw.mu.Unlock()
				continue
			}
			switch ev.Type {
			case store.EventAdded, store.EventModified:
				pods[ev.Object.GetMetadata().GetName()] = ev.Object.(*api.Pod)
			case store.EventDeleted:
				delete(pods, ev.Object.GetMetadata().GetName())
			default:
				continue
			}
			if msg := check(pods); msg != "" {
				pw.mu.Lock()
				pw.failed = append(pw.failed, msg)
				pw.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { w.Stop(); <-pw.done })
	return pw
}

func (pw *podWatcher) violations() []string {
	pw.mu.Lock()
	defer pw.mu.Unlock()
	return slices.Clone(pw.failed)
}

func countAvailable(pods map[string]*api.Pod) (available, active int) {
	for _, p := range pods {
		if !podutil.IsActive(p) {
			continue
		}
		active++
		if podutil.IsReady(p) {
			available++
		}
	}
	return available, active
}

func TestRollingUpdateHonoursBounds(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 4})
	d := newDeployment("web", 10, "web:v1")
	d.Spec.Strategy = &api.DeploymentStrategy{Type: deployment.StrategyRollingUpdate, RollingUpdate: &api.RollingUpdateDeployment{
		MaxSurge: intOrStr(2), MaxUnavailable: intOrStr(1),
	}}
	if _, err := store.For[*api.Deployment](env.Store).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "web", 10, "web:v1")

	minSeen := 10
	var seenMu sync.Mutex
	pw := watchPods(ctx, t, env, "web", func(pods map[string]*api.Pod) string {
		available, _ := countAvailable(pods)
		seenMu.Lock()
		minSeen = min(minSeen, available)
		seenMu.Unlock()
		if available < 9 {
			msg := "available pods dropped below replicas-maxUnavailable:"
			for _, p := range pods {
				msg += fmt.Sprintf("\n  %s %s ready=%v terminating=%v phase=%s node=%q", p.GetMetadata().GetName(), imageOf(p), podutil.IsReady(p), podutil.IsTerminating(p), p.GetStatus().GetPhase(), p.GetSpec().GetNodeName())
			}
			return msg
		}
		return ""
	})
	setImage(ctx, t, env, "web", "web:v2")
	waitRolledOut(ctx, t, env, "web", 10, "web:v2")
	setImage(ctx, t, env, "web", "web:v3")
	waitRolledOut(ctx, t, env, "web", 10, "web:v3")
	if v := pw.violations(); len(v) > 0 {
		t.Fatalf("%d violations, first: %s", len(v), v[0])
	}
	seenMu.Lock()
	t.Logf("fewest available pods seen during the rollouts: %d", minSeen)
	seenMu.Unlock()

	// Revisions: v1, v2, v3 are 1, 2, 3.
	rss, _, err := store.For[*api.ReplicaSet](env.Store).List(ctx, store.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	revs := map[string]string{}
	for _, rs := range rss {
		revs[rs.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage()] = rs.GetMetadata().GetAnnotations()[deployment.AnnotationRevision]
	}
	if revs["web:v1"] != "1" || revs["web:v2"] != "2" || revs["web:v3"] != "3" {
		t.Fatalf("revisions = %v", revs)
	}
}

func TestScale(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	deps := store.For[*api.Deployment](env.Store)
	if _, err := deps.Create(ctx, newDeployment("api", 3, "api:v1")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "api", 3, "api:v1")
	for _, n := range []int32{7, 1, 4} {
		if _, err := deps.Mutate(ctx, "default", "api", func(d *api.Deployment) error { d.Spec.Replicas = ptr(n); return nil }); err != nil {
			t.Fatal(err)
		}
		waitRolledOut(ctx, t, env, "api", int(n), "api:v1")
	}
}

func TestMinReadySecondsFollowsTheDeployment(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 1})
	deps := store.For[*api.Deployment](env.Store)
	if _, err := deps.Create(ctx, newDeployment("m", 1, "m:v1")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "m", 1, "m:v1")
	if _, err := deps.Mutate(ctx, "default", "m", func(d *api.Deployment) error { d.Spec.MinReadySeconds = 7; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(rss []*api.ReplicaSet) bool {
		return len(rss) == 1 && rss[0].GetSpec().GetMinReadySeconds() == 7
	}); err != nil {
		t.Fatalf("the replica set kept its minReadySeconds: %v", err)
	}
}

func TestRecreate(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	d := newDeployment("db", 3, "db:v1")
	d.Spec.Strategy = &api.DeploymentStrategy{Type: deployment.StrategyRecreate}
	if _, err := store.For[*api.Deployment](env.Store).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "db", 3, "db:v1")
	pw := watchPods(ctx, t, env, "db", func(pods map[string]*api.Pod) string {
		images := map[string]bool{}
		for _, p := range pods {
			if podutil.IsActive(p) {
				images[imageOf(p)] = true
			}
		}
		if images["db:v1"] && images["db:v2"] {
			return "old and new pods were active at once"
		}
		return ""
	})
	setImage(ctx, t, env, "db", "db:v2")
	waitRolledOut(ctx, t, env, "db", 3, "db:v2")
	if v := pw.violations(); len(v) > 0 {
		t.Fatal(v[0])
	}
}

func TestPauseAndResume(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	deps := store.For[*api.Deployment](env.Store)
	if _, err := deps.Create(ctx, newDeployment("p", 2, "p:v1")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "p", 2, "p:v1")
	if _, err := deps.Mutate(ctx, "default", "p", func(d *api.Deployment) error {
		d.Spec.Paused = true
		d.Spec.Template.Spec.Containers[0].Image = "p:v2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "p", func(d *api.Deployment) bool {
		c := podutil.Condition(d.GetStatus().GetConditions(), deployment.ConditionProgressing)
		return d.GetStatus().GetObservedGeneration() == d.GetMetadata().GetGeneration() && c.GetReason() == deployment.ReasonPaused
	}); err != nil {
		t.Fatal(err)
	}
	rss, _, err := store.For[*api.ReplicaSet](env.Store).List(ctx, store.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 1 {
		t.Fatalf("a paused deployment has %d replica sets, want 1", len(rss))
	}
	if _, err := deps.Mutate(ctx, "default", "p", func(d *api.Deployment) error { d.Spec.Paused = false; return nil }); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "p", 2, "p:v2")
}

func TestRollback(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	deps := store.For[*api.Deployment](env.Store)
	if _, err := deps.Create(ctx, newDeployment("r", 3, "r:v1")); err != nil {
		t.Fatal(err)
	}
	waitRolledOut(ctx, t, env, "r", 3, "r:v1")
	setImage(ctx, t, env, "r", "r:v2")
	waitRolledOut(ctx, t, env, "r", 3, "r:v2")

	rollback := func(rev string) {
		t.Helper()
		if _, err := deps.Mutate(ctx, "default", "r", func(d *api.Deployment) error {
			if d.Metadata.Annotations == nil {
				d.Metadata.Annotations = map[string]string{}
			}
			d.Metadata.Annotations[deployment.AnnotationRollbackTo] = rev
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	rollback("1")
	waitRolledOut(ctx, t, env, "r", 3, "r:v1")
	d, err := deps.Get(ctx, "default", "r")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.GetMetadata().GetAnnotations()[deployment.AnnotationRollbackTo]; ok {
		t.Fatal("the rollback annotation stayed")
	}
	// The v1 replica set is reused and becomes revision 3.
	rss, _, err := store.For[*api.ReplicaSet](env.Store).List(ctx, store.ListOptions{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rss) != 2 {
		t.Fatalf("%d replica sets, want 2 (v1 reused)", len(rss))
	}
	for _, rs := range rss {
		img := rs.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage()
		if rev := rs.GetMetadata().GetAnnotations()[deployment.AnnotationRevision]; (img == "r:v1") != (rev == "3") {
			t.Errorf("replica set of %s has revision %s", img, rev)
		}
	}
	// "0" is the previous revision: v2 again.
	rollback("0")
	waitRolledOut(ctx, t, env, "r", 3, "r:v2")
	// A revision that does not exist changes nothing but the annotation.
	rollback("42")
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "r", func(d *api.Deployment) bool {
		_, ok := d.GetMetadata().GetAnnotations()[deployment.AnnotationRollbackTo]
		return !ok && d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage() == "r:v2"
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRevisionHistoryLimit(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	d := newDeployment("h", 2, "h:v1")
	d.Spec.RevisionHistoryLimit = ptr(int32(1))
	if _, err := store.For[*api.Deployment](env.Store).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	for _, img := range []string{"h:v1", "h:v2", "h:v3", "h:v4"} {
		setImage(ctx, t, env, "h", img)
		waitRolledOut(ctx, t, env, "h", 2, img)
	}
	if err := testenv.UntilTyped(ctx, env.Store, store.ListOptions{Namespace: "default"}, func(rss []*api.ReplicaSet) bool {
		return len(rss) == 2
	}); err != nil {
		t.Fatalf("old replica sets beyond the history limit were not deleted: %v", err)
	}
}

func TestProgressDeadline(t *testing.T) {
	ctx := testCtx(t)
	// No scheduler: pods never run, so the rollout cannot progress.
	env := testenv.Start(t, testenv.Options{Nodes: 1, NoScheduler: true})
	d := newDeployment("stuck", 2, "stuck:v1")
	d.Spec.ProgressDeadlineSeconds = ptr(int32(1))
	if _, err := store.For[*api.Deployment](env.Store).Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := testenv.UntilObject(ctx, env.Store, "default", "stuck", func(d *api.Deployment) bool {
		c := podutil.Condition(d.GetStatus().GetConditions(), deployment.ConditionProgressing)
		return c.GetStatus() == podutil.StatusFalse && c.GetReason() == deployment.ReasonDeadlineExceeded
	})
	if err != nil {
		t.Fatal(err)
	}
	if a := podutil.Condition(got.GetStatus().GetConditions(), deployment.ConditionAvailable); a.GetStatus() != podutil.StatusFalse {
		t.Errorf("Available = %v, want False", a.GetStatus())
	}
	if got.GetStatus().GetUnavailableReplicas() != 2 {
		t.Errorf("unavailableReplicas = %d, want 2", got.GetStatus().GetUnavailableReplicas())
	}
}

// dumpState logs the deployment and its replica sets, for a failing test.
func dumpState(t *testing.T, env *testenv.Env, name string) {
	t.Helper()
	ctx := context.Background()
	if d, err := store.For[*api.Deployment](env.Store).Get(ctx, "default", name); err == nil {
		t.Logf("deployment %s gen=%d spec.replicas=%d status=%v", name, d.GetMetadata().GetGeneration(), d.GetSpec().GetReplicas(), d.GetStatus())
	}
	rss, _, _ := store.For[*api.ReplicaSet](env.Store).List(ctx, store.ListOptions{Namespace: "default"})
	for _, rs := range rss {
		t.Logf("replica set %s gen=%d spec.replicas=%d status=%v", rs.GetMetadata().GetName(), rs.GetMetadata().GetGeneration(), rs.GetSpec().GetReplicas(), rs.GetStatus())
	}
}
