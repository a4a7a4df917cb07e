package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

func drainUntilClosed(t *testing.T, w store.Watch) {
	t.Helper()
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-w.Events():
			if !ok {
				return
			}
		case <-timer.C:
			t.Fatal("watch channel not closed")
		}
	}
}

func testWatchOrdering(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	const writers, perWriter = 8, 40
	w := watch(t, s, api.KindPod, store.WatchOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("p%d", g)
			if _, err := s.Create(ctx, pod("ns", name, nil)); err != nil {
				errs <- err
				return
			}
			for i := range perWriter - 1 {
				_, err := store.For[*api.Pod](s).Mutate(ctx, "ns", name, func(p *api.Pod) error {
					p.Metadata.Labels = map[string]string{"i": fmt.Sprint(i)}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last := int64(0)
	perObject := map[string]int64{}
	for i := range writers * perWriter {
		ev := next(t, w)
		if ev.Revision <= last {
			t.Fatalf("event %d: revision %d after %d", i, ev.Revision, last)
		}
		last = ev.Revision
		if rv(ev.Object) != ev.Revision {
			t.Fatalf("event %d: object resourceVersion %d, event revision %d", i, rv(ev.Object), ev.Revision)
		}
		name := ev.Object.GetMetadata().GetName()
		if prev := perObject[name]; ev.Type == store.EventModified && (ev.PrevObject == nil || rv(ev.PrevObject) != prev) {
			t.Fatalf("event %d for %s: previous object rv %v, want %d", i, name, ev.PrevObject, prev)
		}
		perObject[name] = ev.Revision
	}
	rev, _ := s.Revision(ctx)
	if last != rev {
		t.Fatalf("last event revision %d, store revision %d", last, rev)
	}
}

func testListWatchNoGap(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	for i := range 20 {
		mustCreate(t, s, pod("ns", fmt.Sprintf("p%02d", i), nil))
	}
	// Writers run while we list and start watching.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("p%02d", (g*5+i)%20)
				switch i % 3 {
				case 0, 1:
					_, _ = store.For[*api.Pod](s).Mutate(ctx, "ns", name, func(p *api.Pod) error {
						p.Metadata.Labels = map[string]string{"g": fmt.Sprint(g), "i": fmt.Sprint(i)}
						return nil
					})
				case 2:
					_, _ = s.Delete(ctx, api.KindPod, "ns", name, store.DeleteOptions{})
					_, _ = s.Create(ctx, pod("ns", name, nil))
				}
				if i >= 60 {
					return
				}
			}
		}()
	}
	list, err := s.List(ctx, api.KindPod, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]int64{}
	for _, it := range list.Items {
		state[it.GetMetadata().GetName()] = rv(it)
	}
	w := watch(t, s, api.KindPod, store.WatchOptions{Revision: list.Revision})
	wg.Wait()
	close(stop)
	final, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	last := list.Revision
	for last < final {
		ev := next(t, w)
		if ev.Revision <= list.Revision || ev.Revision < last {
			t.Fatalf("event at revision %d, list at %d, last %d", ev.Revision, list.Revision, last)
		}
		last = ev.Revision
		name := ev.Object.GetMetadata().GetName()
		switch ev.Type {
		case store.EventAdded:
			if _, ok := state[name]; ok {
				t.Fatalf("ADDED %s which exists", name)
			}
			state[name] = ev.Revision
		case store.EventModified:
			if _, ok := state[name]; !ok {
				t.Fatalf("MODIFIED %s which does not exist", name)
			}
			state[name] = ev.Revision
		case store.EventDeleted:
			if _, ok := state[name]; !ok {
				t.Fatalf("DELETED %s which does not exist", name)
			}
			delete(state, name)
		}
	}
	now, err := s.List(ctx, api.KindPod, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(now.Items) != len(state) {
		t.Fatalf("list+watch rebuilt %d objects, store has %d", len(state), len(now.Items))
	}
	for _, it := range now.Items {
		if state[it.GetMetadata().GetName()] != rv(it) {
			t.Fatalf("%s: rebuilt rv %d, stored %d", it.GetMetadata().GetName(), state[it.GetMetadata().GetName()], rv(it))
		}
	}
}

func testWatchFromRevision(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	a := mustCreate(t, s, pod("ns", "a", nil))
	mustCreate(t, s, pod("ns", "b", nil))
	if _, err := s.Delete(ctx, api.KindPod, "ns", "a", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	w := watch(t, s, api.KindPod, store.WatchOptions{Revision: rv(a)})
	expectEvent(t, w, store.EventAdded, "b")
	del := expectEvent(t, w, store.EventDeleted, "a")
	if rv(del.Object) != del.Revision {
		t.Fatalf("deleted object resourceVersion %d, event revision %d", rv(del.Object), del.Revision)
	}
	mustCreate(t, s, pod("ns", "c", nil))
	expectEvent(t, w, store.EventAdded, "c")

	// Watching from 0 starts now.
	w0 := watch(t, s, api.KindPod, store.WatchOptions{})
	mustCreate(t, s, pod("ns", "d", nil))
	expectEvent(t, w0, store.EventAdded, "d")
}

func testWatchFilters(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	pods := store.For[*api.Pod](s)
	w := watch(t, s, api.KindPod, store.WatchOptions{LabelSelector: "app=web"})
	mustCreate(t, s, pod("ns", "other", map[string]string{"app": "db"}))
	mustCreate(t, s, pod("ns", "p", map[string]string{"app": "web"}))
	expectEvent(t, w, store.EventAdded, "p")

	setApp := func(v string) {
		t.Helper()
		if _, err := pods.Mutate(ctx, "ns", "p", func(p *api.Pod) error {
			p.Metadata.Labels["app"] = v
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setApp("db") // leaves the filter
	ev := expectEvent(t, w, store.EventDeleted, "p")
	if ev.Object.GetMetadata().GetLabels()["app"] != "web" {
		t.Fatalf("leaving event carries labels %v, want the last matching state", ev.Object.GetMetadata().GetLabels())
	}
	if rv(ev.Object) != ev.Revision {
		t.Fatalf("leaving event: object rv %d, revision %d", rv(ev.Object), ev.Revision)
	}
	setApp("web") // enters the filter
	expectEvent(t, w, store.EventAdded, "p")
	if _, err := pods.Mutate(ctx, "ns", "p", func(p *api.Pod) error {
		p.Spec.NodeName = "n1"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mod := expectEvent(t, w, store.EventModified, "p")
	if mod.PrevObject == nil || mod.PrevObject.(*api.Pod).GetSpec().GetNodeName() != "" {
		t.Fatalf("MODIFIED previous object = %v", mod.PrevObject)
	}
	// Changes to objects outside the filter are not seen.
	if _, err := pods.Mutate(ctx, "ns", "other", func(p *api.Pod) error {
		p.Spec.NodeName = "n2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, api.KindPod, "ns", "other", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete(ctx, api.KindPod, "ns", "p", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, w, store.EventDeleted, "p")

	// Other kinds are not seen.
	mustCreate(t, s, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "cm", Labels: map[string]string{"app": "web"}}})
	mustCreate(t, s, pod("ns", "last", map[string]string{"app": "web"}))
	expectEvent(t, w, store.EventAdded, "last")
}

func testWatchFieldSelector(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	pods := store.For[*api.Pod](s)
	w1 := watch(t, s, api.KindPod, store.WatchOptions{FieldSelector: "spec.nodeName=n1"})
	wNone := watch(t, s, api.KindPod, store.WatchOptions{FieldSelector: "spec.nodeName="})
	wNotDone := watch(t, s, api.KindPod, store.WatchOptions{FieldSelector: "status.phase!=Succeeded,spec.nodeName=n2"})

	mustCreate(t, s, pod("ns", "p", nil))
	expectEvent(t, wNone, store.EventAdded, "p")
	bind := func(node string) {
		t.Helper()
		if _, err := pods.Mutate(ctx, "ns", "p", func(p *api.Pod) error {
			p.Spec.NodeName = node
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	bind("n1")
	expectEvent(t, w1, store.EventAdded, "p")
	expectEvent(t, wNone, store.EventDeleted, "p")
	bind("n2")
	expectEvent(t, w1, store.EventDeleted, "p")
	expectEvent(t, wNotDone, store.EventAdded, "p")
	if _, err := pods.MutateStatus(ctx, "ns", "p", func(p *api.Pod) error {
		p.Status = &api.PodStatus{Phase: "Succeeded"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expectEvent(t, wNotDone, store.EventDeleted, "p")
	// A sentinel shows w1 saw nothing in between.
	sentinel := pod("ns", sentinelName(1), nil)
	sentinel.Spec.NodeName = "n1"
	mustCreate(t, s, sentinel)
	expectEvent(t, w1, store.EventAdded, sentinelName(1))
}

func testWatchNamespace(t *testing.T, s store.Store) {
	w := watch(t, s, api.KindPod, store.WatchOptions{Namespace: "a"})
	mustCreate(t, s, pod("b", "x", nil))
	mustCreate(t, s, pod("a", "y", nil))
	ev := expectEvent(t, w, store.EventAdded, "y")
	if ev.Object.GetMetadata().GetNamespace() != "a" {
		t.Fatalf("event from namespace %q", ev.Object.GetMetadata().GetNamespace())
	}
}

func testWatchStop(t *testing.T, s store.Store) {
	w, err := s.Watch(ctxFor(t), api.KindPod, store.WatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, pod("ns", "p", nil))
	w.Stop()
	drainUntilClosed(t, w)
	if err := w.Err(); err != nil {
		t.Fatalf("Err after Stop = %v, want nil", err)
	}
	w.Stop() // idempotent
	// Writes go on.
	mustCreate(t, s, pod("ns", "q", nil))
}

// testSlowWatcher checks that a watcher nobody reads never blocks writers,
// and that it then either delivers everything in order or is cancelled
// with ErrTooSlow.
func testSlowWatcher(t *testing.T, s store.Store) {
	const n = 500
	slow := watch(t, s, api.KindPod, store.WatchOptions{})
	fast := watch(t, s, api.KindPod, store.WatchOptions{})
	done := make(chan struct{})
	got := 0
	go func() {
		defer close(done)
		for ev := range fast.Events() {
			if ev.Type == store.EventAdded {
				got++
				if got == n {
					return
				}
			}
		}
	}()
	for i := range n {
		mustCreate(t, s, pod("ns", fmt.Sprintf("p%03d", i), nil))
	}
	select {
	case <-done:
	case <-time.After(eventTimeout):
		t.Fatalf("fast watcher got %d of %d events while another watcher was not read", got, n)
	}
	last := int64(0)
	count := 0
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for count < n {
		select {
		case ev, ok := <-slow.Events():
			if !ok {
				if !errorsIsTooSlow(slow.Err()) {
					t.Fatalf("slow watcher closed with %v, want ErrTooSlow", slow.Err())
				}
				return
			}
			if ev.Type == store.EventBookmark {
				continue
			}
			if ev.Revision <= last {
				t.Fatalf("slow watcher: revision %d after %d", ev.Revision, last)
			}
			last = ev.Revision
			count++
		case <-timer.C:
			t.Fatalf("slow watcher delivered %d of %d events", count, n)
		}
	}
}

func testBookmarks(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	mustCreate(t, s, pod("ns", "p", nil))
	start, _ := s.Revision(ctx)
	w := watch(t, s, api.KindPod, store.WatchOptions{Bookmarks: true, FieldSelector: "spec.nodeName=nowhere"})
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	select {
	case ev, ok := <-w.Events():
		if !ok {
			t.Fatalf("watch closed: %v", w.Err())
		}
		if ev.Type != store.EventBookmark || ev.Object != nil {
			t.Fatalf("got %s %v, want a bookmark", ev.Type, ev.Object)
		}
		if ev.Revision < start {
			t.Fatalf("bookmark revision %d before the watch started at %d", ev.Revision, start)
		}
	case <-timer.C:
		t.Fatal("no bookmark within 5s")
	}
}

// testEmptyListThenWatch checks that even a store never written lists at
// a revision a watch can start from: a write between the List and the
// Watch is delivered (a revision of 0 would mean "from now" and lose it).
func testEmptyListThenWatch(t *testing.T, s store.Store) {
	ctx := ctxFor(t)
	list, err := s.List(ctx, api.KindConfigMap, store.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if list.Revision <= 0 || len(list.Items) != 0 {
		t.Fatalf("List of an empty store: revision %d, %d items; want a revision > 0", list.Revision, len(list.Items))
	}
	mustCreate(t, s, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "between"}})
	w := watch(t, s, api.KindConfigMap, store.WatchOptions{Revision: list.Revision})
	expectEvent(t, w, store.EventAdded, "between")
}
