package gc_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

// Deleting an owner with the Orphan policy keeps its dependents and drops
// their owner reference.
func Example_orphan() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	cms := store.For[*api.ConfigMap](env.Store)
	owner, _ := cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "owner"}})
	_, _ = cms.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Namespace: "default", Name: "dependent",
		OwnerReferences: []*api.OwnerReference{{ApiVersion: "v1", Kind: api.KindConfigMap, Name: "owner", Uid: owner.GetMetadata().GetUid()}}}})

	_, _ = cms.Delete(ctx, "default", "owner", store.DeleteOptions{PropagationPolicy: store.PropagationOrphan})
	_ = testenv.UntilGone(ctx, env.Store, api.KindConfigMap, "default", "owner")
	dep, err := cms.Get(ctx, "default", "dependent")
	fmt.Println("dependent kept:", err == nil, "owners:", len(dep.GetMetadata().GetOwnerReferences()))
	// Output: dependent kept: true owners: 0
}
