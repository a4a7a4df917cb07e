package orchestrator_test

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/builder"
	"github.com/coxswain-io/coxswain/orchestrator/manager"
	"github.com/coxswain-io/coxswain/orchestrator/reconcile"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// A controller that gives every Namespace a "settings" ConfigMap it owns,
// and puts it back when someone deletes it.
func Example() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := memstore.New()
	mgr, _ := manager.New(manager.Options{Store: s, Logger: slog.New(slog.DiscardHandler)})

	nsInformer, _ := mgr.Informer(api.KindNamespace)
	namespaces := informer.ListerFor[*api.Namespace](nsInformer) // reads from the shared cache
	configMaps := store.For[*api.ConfigMap](s)                   // writes go to the store

	ensureSettings := reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
		ns, ok := namespaces.Get("", req.Name)
		if !ok {
			return reconcile.Result{}, nil // gone: nothing to do
		}
		_, err := configMaps.Create(ctx, &api.ConfigMap{
			Metadata: &api.ObjectMeta{Namespace: req.Name, Name: "settings", OwnerReferences: []*api.OwnerReference{{
				ApiVersion: "v1", Kind: api.KindNamespace, Name: req.Name, Uid: ns.GetMetadata().GetUid(), Controller: true,
			}}},
			Data: map[string]string{"greeting": "hello from " + req.Name},
		})
		if store.IsAlreadyExists(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err // a non-nil error is retried with backoff
	})
	_ = builder.ControllerManagedBy(mgr).
		For(api.KindNamespace).
		Owns(api.KindConfigMap). // a change to an owned ConfigMap wakes its Namespace
		Complete(ensureSettings)
	go func() { _ = mgr.Start(ctx) }()

	_, _ = s.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "team-a"}})
	first := waitForSettings(ctx, configMaps, "")
	fmt.Println(first.GetData()["greeting"])

	_, _ = s.Delete(ctx, api.KindConfigMap, "team-a", "settings", store.DeleteOptions{})
	again := waitForSettings(ctx, configMaps, first.GetMetadata().GetUid())
	fmt.Println("recreated:", again.GetMetadata().GetUid() != first.GetMetadata().GetUid())
	// Output:
	// hello from team-a
	// recreated: true
}

// waitForSettings polls until team-a/settings exists with a uid other than
// notUID.
func waitForSettings(ctx context.Context, cms store.Typed[*api.ConfigMap], notUID string) *api.ConfigMap {
	for {
		cm, err := cms.Get(ctx, "team-a", "settings")
		if err == nil && cm.GetMetadata().GetUid() != notUID {
			return cm
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Millisecond):
		}
	}
}
