package informer_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func pod(ns, name string, lbls map[string]string, owner string) *api.Pod {
	p := &api.Pod{Metadata: &api.ObjectMeta{Namespace: ns, Name: name, Labels: lbls}, Spec: &api.PodSpec{}}
	if owner != "" {
		p.Metadata.OwnerReferences = []*api.OwnerReference{{ApiVersion: "apps/v1", Kind: api.KindReplicaSet, Name: "rs-" + owner, Uid: owner, Controller: true}}
	}
	return p
}

func mustCreate(t *testing.T, s store.Store, obj api.Object) api.Object {
	t.Helper()
	out, err := s.Create(context.Background(), obj)
	if err != nil {
		t.Fatalf("create %s: %v", obj.GetMetadata().GetName(), err)
	}
	return out
}

// run starts inf and stops it at cleanup, checking Start's result.
func run(t *testing.T, inf *informer.Informer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inf.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Start returned %v", err)
		}
	})
	if err := inf.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
}

// recorder is a Handler that records what it saw, as "op ns/name".
type recorder struct {
	mu  sync.Mutex
	ops []string
}

func (r *recorder) add(s string) {
	r.mu.Lock()
	r.ops = append(r.ops, s)
	r.mu.Unlock()
}
func (r *recorder) OnAdd(obj api.Object) { r.add("add " + informer.KeyOf(obj)) }
func (r *recorder) OnUpdate(old, new api.Object) {
	r.add(fmt.Sprintf("update %s %d->%d", informer.KeyOf(new), old.GetMetadata().GetResourceVersion(), new.GetMetadata().GetResourceVersion()))
}
func (r *recorder) OnDelete(obj api.Object) { r.add("delete " + informer.KeyOf(obj)) }
func (r *recorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}
func (r *recorder) has(prefix string) bool {
	for _, op := range r.seen() {
		if len(op) >= len(prefix) && op[:len(prefix)] == prefix {
			return true
		}
	}
	return false
}

func names(objs []api.Object) []string {
	out := make([]string, 0, len(objs))
	for _, o := range objs {
		out = append(out, informer.KeyOf(o))
	}
	sort.Strings(out)
	return out
}

func TestListThenWatch(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	p1rv := mustCreate(t, s, pod("a", "p1", nil, "")).GetMetadata().GetResourceVersion()
	mustCreate(t, s, pod("a", "p2", nil, ""))
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	reg := inf.AddEventHandler(rec)
	if inf.HasSynced() {
		t.Fatal("synced before start")
	}
	run(t, inf)
	if got := names(inf.List()); !slices.Equal(got, []string{"a/p1", "a/p2"}) {
		t.Fatalf("cache after sync = %v", got)
	}
	eventually(t, "handler sync", reg.HasSynced)

	mustCreate(t, s, pod("a", "p3", nil, ""))
	p1, err := store.For[*api.Pod](s).Mutate(ctx, "a", "p1", func(p *api.Pod) error {
		api.Meta(p).Labels = map[string]string{"x": "y"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, api.KindPod, "a", "p2", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delete seen", func() bool { return rec.has("delete a/p2") })
	got := rec.seen()
	want := []string{"add a/p1", "add a/p2", "add a/p3",
		fmt.Sprintf("update a/p1 %d->%d", p1rv, p1.GetMetadata().GetResourceVersion()), "delete a/p2"}
	// The first two adds may come in either order (list order is by name, but
	// the handler sees them as the cache was filled).
	if len(got) != len(want) {
		t.Fatalf("handler saw %v, want %v", got, want)
	}
	if !slices.Equal(got[2:], want[2:]) {
		t.Fatalf("handler saw %v, want %v", got, want)
	}
	if obj, ok := inf.Get("a", "p1"); !ok || obj.GetMetadata().GetLabels()["x"] != "y" {
		t.Fatalf("Get(a/p1) = %v, %v", obj, ok)
	}
	if _, ok := inf.Get("a", "p2"); ok {
		t.Fatal("deleted object still cached")
	}
	rev, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "revision caught up", func() bool { return inf.Revision() == rev })
}

func TestIndexes(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	mustCreate(t, s, pod("a", "web-1", map[string]string{"app": "web", "tier": "fe"}, "u1"))
	mustCreate(t, s, pod("a", "web-2", map[string]string{"app": "web"}, "u1"))
	mustCreate(t, s, pod("b", "db-1", map[string]string{"app": "db"}, "u2"))
	mustCreate(t, s, pod("b", "lone", nil, ""))
	byNode := func(obj api.Object) []string {
		if n := obj.(*api.Pod).GetSpec().GetNodeName(); n != "" {
			return []string{n}
		}
		return nil
	}
	inf, err := informer.New(s, api.KindPod, informer.WithIndex("node", byNode))
	if err != nil {
		t.Fatal(err)
	}
	if err := inf.AddIndex("node", byNode); err == nil {
		t.Fatal("duplicate index accepted")
	}
	run(t, inf)

	check := func(index, value string, want ...string) {
		t.Helper()
		objs, err := inf.ByIndex(index, value)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(objs); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("ByIndex(%s, %s) = %v, want %v", index, value, got, want)
		}
	}
	check(informer.IndexNamespace, "a", "a/web-1", "a/web-2")
	check(informer.IndexNamespace, "b", "b/db-1", "b/lone")
	check(informer.IndexLabels, "app=web", "a/web-1", "a/web-2")
	check(informer.IndexLabels, "tier=fe", "a/web-1")
	check(informer.IndexOwner, "u1", "a/web-1", "a/web-2")
	check(informer.IndexOwner, "u2", "b/db-1")
	check("node", "n1")

	// Changes move objects between index values.
	if _, err := store.For[*api.Pod](s).Mutate(ctx, "a", "web-2", func(p *api.Pod) error {
		p.Metadata.Labels = map[string]string{"app": "db"}
		p.Metadata.OwnerReferences = nil
		p.Spec.NodeName = "n1"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "update applied", func() bool {
		o, _ := inf.Get("a", "web-2")
		return o.GetMetadata().GetLabels()["app"] == "db"
	})
	check(informer.IndexLabels, "app=web", "a/web-1")
	check(informer.IndexLabels, "app=db", "a/web-2", "b/db-1")
	check(informer.IndexOwner, "u1", "a/web-1")
	check("node", "n1", "a/web-2")
	if _, err := s.Delete(ctx, api.KindPod, "a", "web-1", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "delete applied", func() bool { _, ok := inf.Get("a", "web-1"); return !ok })
	check(informer.IndexLabels, "app=web")
	check(informer.IndexOwner, "u1")
	if vals, _ := inf.IndexValues(informer.IndexOwner); !slices.Equal(vals, []string{"u2"}) {
		t.Fatalf("owner index values = %v, want [u2]", vals)
	}

	// An index added after start covers existing objects.
	if err := inf.AddIndex("has-labels", func(obj api.Object) []string {
		if len(obj.GetMetadata().GetLabels()) > 0 {
			return []string{"yes"}
		}
		return []string{"no"}
	}); err != nil {
		t.Fatal(err)
	}
	check("has-labels", "no", "b/lone")
	if _, err := inf.ByIndex("missing", "x"); !errors.Is(err, informer.ErrUnknownIndex) {
		t.Fatalf("unknown index: err = %v, want ErrUnknownIndex", err)
	}
}

func TestSelect(t *testing.T) {
	s := memstore.New()
	mustCreate(t, s, pod("a", "web-1", map[string]string{"app": "web", "env": "prod"}, ""))
	mustCreate(t, s, pod("a", "web-2", map[string]string{"app": "web", "env": "dev"}, ""))
	mustCreate(t, s, pod("b", "web-3", map[string]string{"app": "web", "env": "prod"}, ""))
	mustCreate(t, s, pod("b", "db-1", map[string]string{"app": "db"}, ""))
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	tests := []struct {
		ns, sel string
		want    []string
	}{
		{"", "app=web", []string{"a/web-1", "a/web-2", "b/web-3"}},
		{"a", "app=web", []string{"a/web-1", "a/web-2"}},
		{"", "app=web,env!=dev", []string{"a/web-1", "b/web-3"}},
		{"", "env in (prod,dev)", []string{"a/web-1", "a/web-2", "b/web-3"}},
		{"b", "", []string{"b/db-1", "b/web-3"}},
		{"", "!env", []string{"b/db-1"}},
		{"c", "app=web", nil},
	}
	for _, tt := range tests {
		t.Run(tt.ns+"?"+tt.sel, func(t *testing.T) {
			sel, err := labels.Parse(tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			got := names(inf.Select(tt.ns, sel))
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("Select = %v, want %v", got, tt.want)
			}
		})
	}
	if got := inf.Select("", labels.Nothing()); len(got) != 0 {
		t.Fatalf("Select(Nothing) = %v", names(got))
	}
}

// breakableStore wraps a Store so a test can end the informer's current
// watch with a chosen error, and hold List and Watch calls at a gate.
type breakableStore struct {
	store.Store
	mu      sync.Mutex
	current *breakableWatch
	gate    chan struct{} // nil: open
	lists   int
}

type breakableWatch struct {
	inner  store.Watch
	out    chan store.Event
	once   sync.Once
	quit   chan struct{}
	forced error // set before quit is closed
	err    error
	done   chan struct{}
}

func (b *breakableStore) wait(ctx context.Context) error {
	b.mu.Lock()
	g := b.gate
	b.mu.Unlock()
	if g == nil {
		return nil
	}
	select {
	case <-g:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *breakableStore) List(ctx context.Context, kind string, opts store.ListOptions) (*store.ListResult, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.lists++
	b.mu.Unlock()
	return b.Store.List(ctx, kind, opts)
}

func (b *breakableStore) Watch(ctx context.Context, kind string, opts store.WatchOptions) (store.Watch, error) {
	if err := b.wait(ctx); err != nil {
		return nil, err
	}
	inner, err := b.Store.Watch(ctx, kind, opts)
	if err != nil {
		return nil, err
	}
	w := &breakableWatch{inner: inner, out: make(chan store.Event), quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer close(w.out)
		for {
			select {
			case ev, ok := <-inner.Events():
				if !ok {
					w.err = inner.Err()
					return
				}
				select {
				case w.out <- ev:
				case <-w.quit:
					w.err = w.forced
					return
				}
			case <-w.quit:
				w.err = w.forced
				return
			}
		}
	}()
	b.mu.Lock()
	b.current = w
	b.mu.Unlock()
	return w, nil
}

func (w *breakableWatch) Events() <-chan store.Event { return w.out }
func (w *breakableWatch) Stop()                      { w.once.Do(func() { close(w.quit) }); w.inner.Stop() }
func (w *breakableWatch) Err() error                 { <-w.done; return w.err }

// breakWatch ends the current watch with err and closes the gate.
func (b *breakableStore) breakWatch(err error) {
	b.mu.Lock()
	w := b.current
	b.gate = make(chan struct{})
	b.mu.Unlock()
	w.once.Do(func() {
		w.forced = err
		close(w.quit)
	})
	<-w.done
	w.inner.Stop()
}

func (b *breakableStore) watching() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.current != nil
}

func (b *breakableStore) open() {
	b.mu.Lock()
	close(b.gate)
	b.gate = nil
	b.mu.Unlock()
}

func (b *breakableStore) listCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lists
}

func TestRelist(t *testing.T) {
	tests := []struct {
		name string
		// cause ends the watch; compact also compacts the store so that a
		// plain re-watch fails with ErrCompacted.
		cause   error
		compact bool
	}{
		{"too slow", store.ErrTooSlow, false},
		{"compacted", store.ErrCompacted, false},
		{"watch closed, then compacted", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			ms := memstore.New()
			bs := &breakableStore{Store: ms}
			mustCreate(t, ms, pod("a", "keep", nil, ""))
			mustCreate(t, ms, pod("a", "change", nil, ""))
			mustCreate(t, ms, pod("a", "gone", nil, ""))
			inf, err := informer.New(bs, api.KindPod)
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder{}
			inf.AddEventHandler(rec)
			run(t, inf)
			eventually(t, "initial adds", func() bool { return len(rec.seen()) == 3 })
			eventually(t, "the informer to watch", bs.watching)

			bs.breakWatch(tt.cause)
			// While the informer cannot list or watch, the store moves on.
			mustCreate(t, ms, pod("a", "new", nil, ""))
			if _, err := store.For[*api.Pod](ms).Mutate(ctx, "a", "change", func(p *api.Pod) error {
				p.Metadata.Labels = map[string]string{"v": "2"}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if _, err := ms.Delete(ctx, api.KindPod, "a", "gone", store.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if tt.compact {
				rev, _ := ms.Revision(ctx)
				if err := ms.Compact(ctx, rev); err != nil {
					t.Fatal(err)
				}
			}
			bs.open()

			eventually(t, "relist differences", func() bool {
				return rec.has("add a/new") && rec.has("update a/change") && rec.has("delete a/gone")
			})
			if bs.listCount() != 2 {
				t.Fatalf("lists = %d, want 2 (initial + relist)", bs.listCount())
			}
			if rec.has("update a/keep") || rec.has("add a/keep") && len(rec.seen()) != 6 {
				t.Fatalf("unchanged object reported again: %v", rec.seen())
			}
			if got := names(inf.List()); !slices.Equal(got, []string{"a/change", "a/keep", "a/new"}) {
				t.Fatalf("cache after relist = %v", got)
			}
			// And the new watch works.
			mustCreate(t, ms, pod("a", "after", nil, ""))
			eventually(t, "event after relist", func() bool { return rec.has("add a/after") })
		})
	}
}

func TestSlowHandlerDoesNotBlockOthers(t *testing.T) {
	s := memstore.New()
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var releaseOnce sync.Once
	slowReg := inf.AddEventHandler(informer.HandlerFuncs{AddFunc: func(api.Object) { <-release }})
	fast := &recorder{}
	inf.AddEventHandler(fast)
	run(t, inf)
	// Registered after run's cleanup, so it runs first: the informer's stop
	// waits for the blocked handler call.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	for i := range 50 {
		mustCreate(t, s, pod("a", fmt.Sprintf("p%02d", i), nil, ""))
	}
	eventually(t, "fast handler to see every add", func() bool { return len(fast.seen()) == 50 })
	if inf.Len() != 50 {
		t.Fatalf("cache has %d objects, want 50", inf.Len())
	}
	if slowReg.Pending() < 48 {
		t.Fatalf("slow handler backlog = %d, want its adds queued", slowReg.Pending())
	}
	releaseOnce.Do(func() { close(release) })
	eventually(t, "slow handler to drain", func() bool { return slowReg.Pending() == 0 })
}

func TestLateHandlerGetsExistingObjects(t *testing.T) {
	s := memstore.New()
	mustCreate(t, s, pod("a", "p1", nil, ""))
	mustCreate(t, s, pod("a", "p2", nil, ""))
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	rec := &recorder{}
	reg := inf.AddEventHandler(rec)
	eventually(t, "late handler synced", reg.HasSynced)
	got := rec.seen()
	sort.Strings(got)
	if !slices.Equal(got, []string{"add a/p1", "add a/p2"}) {
		t.Fatalf("late handler saw %v", got)
	}
	inf.RemoveEventHandler(reg)
	mustCreate(t, s, pod("a", "p3", nil, ""))
	other := &recorder{}
	inf.AddEventHandler(other)
	eventually(t, "p3 seen by another handler", func() bool { return other.has("add a/p3") })
	if rec.has("add a/p3") {
		t.Fatal("removed handler still called")
	}
}

func TestResync(t *testing.T) {
	s := memstore.New()
	mustCreate(t, s, pod("a", "p1", nil, ""))
	inf, err := informer.New(s, api.KindPod, informer.WithResyncPeriod(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	inf.AddEventHandler(rec)
	run(t, inf)
	eventually(t, "a resync update", func() bool { return rec.has("update a/p1") })
}

func TestStartTwiceAndWaitForSync(t *testing.T) {
	s := memstore.New()
	if _, err := informer.New(s, "NoSuchKind"); !errors.Is(err, api.ErrUnknownKind) {
		t.Fatalf("unknown kind: err = %v", err)
	}
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := inf.WaitForSync(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForSync on cancelled ctx = %v", err)
	}
	run(t, inf)
	if err := inf.Start(context.Background()); !errors.Is(err, informer.ErrAlreadyStarted) {
		t.Fatalf("second Start = %v, want ErrAlreadyStarted", err)
	}
}

func TestFilteredInformer(t *testing.T) {
	s := memstore.New()
	mustCreate(t, s, pod("a", "web", map[string]string{"app": "web"}, ""))
	mustCreate(t, s, pod("a", "db", map[string]string{"app": "db"}, ""))
	mustCreate(t, s, pod("b", "web", map[string]string{"app": "web"}, ""))
	inf, err := informer.New(s, api.KindPod, informer.WithNamespace("a"), informer.WithLabelSelector("app=web"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	if got := names(inf.List()); !slices.Equal(got, []string{"a/web"}) {
		t.Fatalf("filtered cache = %v", got)
	}
}

func TestLister(t *testing.T) {
	s := memstore.New()
	mustCreate(t, s, pod("a", "web", map[string]string{"app": "web"}, "u1"))
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	pods := informer.ListerFor[*api.Pod](inf)
	if p, ok := pods.Get("a", "web"); !ok || p.GetMetadata().GetName() != "web" {
		t.Fatalf("Get = %v, %v", p, ok)
	}
	if _, ok := pods.Get("a", "nope"); ok {
		t.Fatal("Get of a missing pod succeeded")
	}
	owned, err := pods.ByIndex(informer.IndexOwner, "u1")
	if err != nil || len(owned) != 1 {
		t.Fatalf("ByIndex = %v, %v", owned, err)
	}
	if got := pods.Select("a", labels.SelectorFromSet(labels.Set{"app": "web"})); len(got) != 1 {
		t.Fatalf("Select = %v", got)
	}
	if got := pods.List(); len(got) != 1 {
		t.Fatalf("List = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("ListerFor with the wrong type did not panic")
		}
	}()
	informer.ListerFor[*api.Node](inf)
}

func ExampleInformer() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memstore.New()
	_, _ = s.Create(ctx, &api.Pod{Metadata: &api.ObjectMeta{Namespace: "default", Name: "web-1", Labels: map[string]string{"app": "web"}}})

	inf, _ := informer.New(s, api.KindPod)
	added := make(chan string, 10)
	inf.AddEventHandler(informer.HandlerFuncs{AddFunc: func(obj api.Object) { added <- informer.KeyOf(obj) }})
	go func() { _ = inf.Start(ctx) }()
	_ = inf.WaitForSync(ctx)
	fmt.Println("added:", <-added)

	_, _ = s.Create(ctx, &api.Pod{Metadata: &api.ObjectMeta{Namespace: "default", Name: "web-2", Labels: map[string]string{"app": "web"}}})
	fmt.Println("added:", <-added)

	web, _ := inf.ByIndex(informer.IndexLabels, "app=web")
	fmt.Println("pods with app=web:", len(web))
	// Output:
	// added: default/web-1
	// added: default/web-2
	// pods with app=web: 2
}

func TestWaitForRevision(t *testing.T) {
	s := memstore.New()
	inf, err := informer.New(s, api.KindPod)
	if err != nil {
		t.Fatal(err)
	}
	run(t, inf)
	ctx := context.Background()
	for i := range 20 {
		created := mustCreate(t, s, pod("a", fmt.Sprintf("p%d", i), nil, ""))
		if err := inf.WaitForRevision(ctx, created.GetMetadata().GetResourceVersion()); err != nil {
			t.Fatal(err)
		}
		if _, ok := inf.Get("a", fmt.Sprintf("p%d", i)); !ok {
			t.Fatalf("p%d not in the cache after WaitForRevision", i)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := inf.WaitForRevision(cctx, 1<<40); !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForRevision of a future revision with a cancelled ctx = %v", err)
	}
}

// A store that has never been written lists at revision 0, and a watch from
// revision 0 means "from now": writes racing the informer's start must
// still reach the cache.
func TestNoGapOnAFreshStore(t *testing.T) {
	for round := range 200 {
		s := memstore.New()
		inf, err := informer.New(s, api.KindPod)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- inf.Start(ctx) }()
		created := mustCreate(t, s, pod("a", "p0", nil, "")) // races the first list and watch
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		err = inf.WaitForRevision(wctx, created.GetMetadata().GetResourceVersion())
		wcancel()
		_, ok := inf.Get("a", "p0")
		cancel()
		<-done
		if err != nil || !ok {
			t.Fatalf("round %d: write racing the start was lost (wait: %v, cached: %v)", round, err, ok)
		}
	}
}
