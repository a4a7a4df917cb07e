package replicaset_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/controllers/replicaset"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// While pod creation fails, each reconcile tries one create (the first
// slow-start batch), not the whole missing count; once creates succeed the
// batches double until the count is reached.
func TestSlowStartStopsAtTheFirstFailure(t *testing.T) {
	ctx := testCtx(t)
	ms := memstore.New()
	var failing atomic.Bool
	failing.Store(true)
	attempts := make(chan struct{}, 1000)
	errQuota := errors.New("quota exceeded")
	remove := ms.AddHook(func(_ context.Context, op memstore.Operation, kind string) error {
		if op == memstore.OpCreate && kind == api.KindPod && failing.Load() {
			attempts <- struct{}{}
			return store.Errorf(store.ErrForbidden, "%v", errQuota)
		}
		return nil
	})
	t.Cleanup(remove)
	env := testenv.Start(t, testenv.Options{Nodes: 2, Store: ms, Controllers: []string{testenv.ControllerReplicaSet}})
	if _, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, newRS("quota", 50)); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		select {
		case <-attempts:
		case <-ctx.Done():
			t.Fatal("no create attempts")
		}
	}
	// Attempts made after the first four are at most one more reconcile's
	// worth: one create each.
	if extra := len(attempts); extra > 1 {
		t.Fatalf("%d more failed creates were tried after 4 reconciles; slow start should stop each reconcile at the first", extra)
	}
	// The failure shows in the status.
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "quota", func(rs *api.ReplicaSet) bool {
		for _, c := range rs.GetStatus().GetConditions() {
			if c.GetType() == replicaset.ConditionReplicaFailure && c.GetStatus() == "True" && strings.Contains(c.GetMessage(), "quota exceeded") {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("no ReplicaFailure condition: %v", err)
	}
	failing.Store(false)
	waitRunning(ctx, t, env, "quota", 50)
	// And goes once creates succeed.
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "quota", func(rs *api.ReplicaSet) bool {
		return len(rs.GetStatus().GetConditions()) == 0
	}); err != nil {
		t.Fatalf("the ReplicaFailure condition stayed: %v", err)
	}
}
