package kindwatch

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

type recorder struct {
	mu       sync.Mutex
	state    map[string]string // key -> clusterIP
	replaces int
	rev      int64
}

func (r *recorder) Replace(objs []api.Object, rev int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replaces++
	r.rev = rev
	r.state = map[string]string{}
	for _, o := range objs {
		r.state[Key(o)] = o.(*api.Service).GetSpec().GetClusterIp()
	}
}

func (r *recorder) Apply(ev store.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Type == store.EventDeleted {
		delete(r.state, Key(ev.Object))
		return
	}
	r.state[Key(ev.Object)] = ev.Object.(*api.Service).GetSpec().GetClusterIp()
}

func (r *recorder) snapshot() (map[string]string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]string{}
	for k, v := range r.state {
		out[k] = v
	}
	return out, r.replaces
}

func TestRunFollowsTheStore(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	st := memstore.New()
	svc := func(name, ip string) *api.Service {
		return &api.Service{Metadata: &api.ObjectMeta{Namespace: "ns", Name: name}, Spec: &api.ServiceSpec{ClusterIp: ip}}
	}
	if _, err := st.Create(ctx, svc("a", "10.0.0.1")); err != nil {
		t.Fatal(err)
	}
	r := &recorder{}
	done := make(chan error, 1)
	go func() { done <- Run(ctx, st, api.KindService, store.ListOptions{}, r) }()

	waitFor := func(want map[string]string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, _ := r.snapshot()
			if fmt.Sprint(got) == fmt.Sprint(want) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("state %v, want %v", got, want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(map[string]string{"ns/a": "10.0.0.1"})
	if _, err := st.Create(ctx, svc("b", "10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	if _, err := store.For[*api.Service](st).Mutate(ctx, "ns", "a", func(s *api.Service) error {
		s.Spec.ClusterIp = "10.0.0.3"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Delete(ctx, api.KindService, "ns", "b", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(map[string]string{"ns/a": "10.0.0.3"})
	if _, n := r.snapshot(); n != 1 {
		t.Errorf("%d lists, want 1", n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
}
