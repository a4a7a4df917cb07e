package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// NewStore returns a fresh, empty store for one subtest.
type NewStore func(t *testing.T) store.Store

// eventTimeout bounds every wait for a watch event.
const eventTimeout = 10 * time.Second

// Run runs the conformance suite against the stores newStore returns, one
// fresh store per subtest.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"CRUD", testCRUD},
		{"ErrorClasses", testErrorClasses},
		{"CallerOwnsObjects", testCallerOwnsObjects},
		{"MetadataRules", testMetadataRules},
		{"UpdateStatus", testUpdateStatus},
		{"NoOpUpdate", testNoOpUpdate},
		{"GenerateName", testGenerateName},
		{"SecretStringData", testSecretStringData},
		{"ClusterScoped", testClusterScoped},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CASRace", testCASRace},
		{"WatchOrderingUnderLoad", testWatchOrdering},
		{"ListThenWatchNoGap", testListWatchNoGap},
		{"EmptyListThenWatch", testEmptyListThenWatch},
		{"WatchFromRevision", testWatchFromRevision},
		{"WatchFilters", testWatchFilters},
		{"WatchFieldSelector", testWatchFieldSelector},
		{"WatchNamespace", testWatchNamespace},
		{"WatchStop", testWatchStop},
		{"SlowWatcher", testSlowWatcher},
		{"Bookmarks", testBookmarks},
		{"Compaction", testCompaction},
		{"ListSelectors", testListSelectors},
		{"Pagination", testPagination},
		{"PaginationCompacted", testPaginationCompacted},
		{"Finalizers", testFinalizers},
		{"PropagationPolicies", testPropagation},
		{"DeletePreconditions", testDeletePreconditions},
		{"Txn", testTxn},
		{"TxnAllOrNothing", testTxnAllOrNothing},
		{"ContextCancellation", testContextCancellation},
		{"Typed", testTyped},
		{"WriteOptions", testWriteOptions},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			tt.fn(t, s)
		})
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pod(ns, name string, labels map[string]string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}
}

func mustCreate(t *testing.T, s store.Store, obj api.Object) api.Object {
	t.Helper()
	out, err := s.Create(ctxFor(t), obj)
	if err != nil {
		t.Fatalf("Create %s: %v", obj.GetMetadata().GetName(), err)
	}
	return out
}

// asPod returns a function that fails t on error and returns the pod.
func asPod(t *testing.T) func(api.Object, error) *api.Pod {
	return func(obj api.Object, err error) *api.Pod {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		p, ok := obj.(*api.Pod)
		if !ok {
			t.Fatalf("got %T, want *api.Pod", obj)
		}
		return p
	}
}

func wantErr(t *testing.T, what string, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("%s: error = %v, want %v", what, err, class)
	}
}

func rv(obj api.Object) int64 { return obj.GetMetadata().GetResourceVersion() }

func watch(t *testing.T, s store.Store, kind string, opts store.WatchOptions) store.Watch {
	t.Helper()
	w, err := s.Watch(ctxFor(t), kind, opts)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	t.Cleanup(w.Stop)
	return w
}

// next returns the next non-bookmark event.
func next(t *testing.T, w store.Watch) store.Event {
	t.Helper()
	timer := time.NewTimer(eventTimeout)
	defer timer.Stop()
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatalf("watch closed early: %v", w.Err())
			}
			if ev.Type == store.EventBookmark {
				continue
			}
			return ev
		case <-timer.C:
			t.Fatalf("no watch event within %v", eventTimeout)
		}
	}
}

func expectEvent(t *testing.T, w store.Watch, typ store.EventType, name string) store.Event {
	t.Helper()
	ev := next(t, w)
	if ev.Type != typ || ev.Object.GetMetadata().GetName() != name {
		t.Fatalf("event = %s %s, want %s %s", ev.Type, ev.Object.GetMetadata().GetName(), typ, name)
	}
	if ev.Revision <= 0 {
		t.Fatalf("event %s %s has revision %d", ev.Type, name, ev.Revision)
	}
	return ev
}

func errorsIsTooSlow(err error) bool { return errors.Is(err, store.ErrTooSlow) }

func sentinelName(i int) string { return fmt.Sprintf("sentinel-%d", i) }
