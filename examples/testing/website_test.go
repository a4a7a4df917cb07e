package examplestesting

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/examples/customcontroller/website"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// env is a control plane in memory whose store the test can break.
type env struct {
	*testenv.Env
	mem *memstore.Store
}

// start runs the built-in controllers, the scheduler, nodes fake nodes and
// the Website controller over a memstore that knows the Website kind.
func start(t *testing.T, nodes int) *env {
	t.Helper()
	mem := memstore.New(memstore.WithRegistry(website.Registry()))
	e := testenv.Start(t, testenv.Options{Nodes: nodes, Store: mem})
	if err := website.Add(e.Manager); err != nil {
		t.Fatal(err)
	}
	return &env{Env: e, mem: mem}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func createSite(t *testing.T, ctx context.Context, s store.Store, name string, replicas int32) {
	t.Helper()
	_, err := store.For[*website.Website](s).Create(ctx, &website.Website{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec:     &website.WebsiteSpec{Replicas: replicas, Image: "busybox:1", Message: "hi"},
	})
	if err != nil {
		t.Fatal(err)
	}
}

// untilReady waits for the Website's status to report replicas ready.
func untilReady(t *testing.T, ctx context.Context, s store.Store, name string, replicas int32) {
	t.Helper()
	got, err := testenv.UntilObject(ctx, s, "default", name, func(w *website.Website) bool {
		return w.GetStatus().GetReadyReplicas() == replicas
	})
	if err != nil {
		t.Fatalf("website %s never had %d ready replicas (status %v): %v", name, replicas, got.GetStatus(), err)
	}
}

// TestConvergesThroughFailingWrites makes the first creates of Deployments
// fail as an unavailable store would; the controller retries with backoff
// and gets there.
func TestConvergesThroughFailingWrites(t *testing.T) {
	e := start(t, 2)
	ctx := ctxFor(t)
	remove := e.mem.InjectFault(memstore.Fault{Op: memstore.OpCreate, Kind: api.KindDeployment,
		Err: fmt.Errorf("injected: %w", store.ErrUnavailable), Count: 3})
	defer remove()
	createSite(t, ctx, e.Store, "blog", 2)
	untilReady(t, ctx, e.Store, "blog", 2)
}

// TestConvergesOnASlowStore adds latency to every status write.
func TestConvergesOnASlowStore(t *testing.T) {
	e := start(t, 1)
	ctx := ctxFor(t)
	remove := e.mem.InjectFault(memstore.Fault{Op: memstore.OpUpdateStatus, Delay: 5 * time.Millisecond})
	defer remove()
	createSite(t, ctx, e.Store, "slow", 3)
	untilReady(t, ctx, e.Store, "slow", 3)
}

// TestHookSeesTheController counts the controller's writes with a hook,
// and checks that a converged Website costs no further writes.
func TestHookSeesTheController(t *testing.T) {
	e := start(t, 1)
	ctx := ctxFor(t)
	createSite(t, ctx, e.Store, "quiet", 1)
	untilReady(t, ctx, e.Store, "quiet", 1)
	var writes atomic.Int64
	remove := e.mem.AddHook(func(_ context.Context, op memstore.Operation, kind string) error {
		if kind == website.Kind && (op == memstore.OpUpdate || op == memstore.OpUpdateStatus) {
			writes.Add(1)
		}
		return nil
	})
	defer remove()
	// Touch the Website's labels: a reconcile runs and finds nothing to do.
	if _, err := store.For[*website.Website](e.Store).Mutate(ctx, "default", "quiet", func(w *website.Website) error {
		api.Meta(w).Labels = map[string]string{"touched": "yes"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	untilReady(t, ctx, e.Store, "quiet", 1)
	if n := writes.Load(); n != 1 { // the test's own label update
		t.Errorf("%d writes to the Website, want only the test's own", n)
	}
}

// TestFailedPodIsReplaced fails a pod as a crashed container on a node
// would; the ReplicaSet replaces it and the Website is ready again.
func TestFailedPodIsReplaced(t *testing.T) {
	e := start(t, 2)
	ctx := ctxFor(t)
	createSite(t, ctx, e.Store, "shop", 2)
	untilReady(t, ctx, e.Store, "shop", 2)
	pods, _, err := store.For[*api.Pod](e.Store).List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app.kubernetes.io/instance=shop"})
	if err != nil || len(pods) != 2 {
		t.Fatalf("pods %d %v", len(pods), err)
	}
	if err := e.FailPod(ctx, "default", pods[0].Metadata.Name, 1); err != nil {
		t.Fatal(err)
	}
	// The failed pod is removed and replaced (the dip in readiness may be
	// too brief to observe, so the test waits for what must happen).
	if err := testenv.UntilGone(ctx, e.Store, api.KindPod, "default", pods[0].Metadata.Name); err != nil {
		t.Fatalf("the failed pod was never removed: %v", err)
	}
	untilReady(t, ctx, e.Store, "shop", 2)
}

// TestNotReadyPodShowsInStatus flips a pod's readiness, as a failing
// readiness probe would.
func TestNotReadyPodShowsInStatus(t *testing.T) {
	e := start(t, 1)
	ctx := ctxFor(t)
	createSite(t, ctx, e.Store, "docs", 1)
	untilReady(t, ctx, e.Store, "docs", 1)
	pods, _, err := store.For[*api.Pod](e.Store).List(ctx, store.ListOptions{Namespace: "default", LabelSelector: "app.kubernetes.io/instance=docs"})
	if err != nil || len(pods) != 1 {
		t.Fatalf("pods %d %v", len(pods), err)
	}
	if err := e.SetPodReady(ctx, "default", pods[0].Metadata.Name, false); err != nil {
		t.Fatal(err)
	}
	untilReady(t, ctx, e.Store, "docs", 0)
	if err := e.SetPodReady(ctx, "default", pods[0].Metadata.Name, true); err != nil {
		t.Fatal(err)
	}
	untilReady(t, ctx, e.Store, "docs", 1)
}
