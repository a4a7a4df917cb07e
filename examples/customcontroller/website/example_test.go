package website_test

import (
	"context"
	"fmt"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/examples/customcontroller/website"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// Example runs the Website controller on an in-memory control plane with two
// fake nodes and waits until the site's replicas are ready.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	env, err := testenv.New(ctx, testenv.Options{Nodes: 2, Store: memstore.New(memstore.WithRegistry(website.Registry()))})
	if err != nil {
		panic(err)
	}
	defer env.Stop()
	if err := website.Add(env.Manager); err != nil {
		panic(err)
	}
	site := &website.Website{
		Metadata: &api.ObjectMeta{Name: "docs", Namespace: "default"},
		Spec:     &website.WebsiteSpec{Replicas: 2, Message: "hello"},
	}
	if _, err := store.For[*website.Website](env.Store).Create(ctx, site); err != nil {
		panic(err)
	}
	got, err := testenv.UntilObject(ctx, env.Store, "default", "docs", func(w *website.Website) bool {
		return w.GetStatus().GetReadyReplicas() == 2
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("ready replicas:", got.GetStatus().GetReadyReplicas(), "has a cluster IP:", got.GetStatus().GetClusterIp() != "")
	// Output: ready replicas: 2 has a cluster IP: true
}
