package website_test

import (
	"context"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/examples/customcontroller/website"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
)

// startEnv is an in-memory control plane that serves the Website kind, with
// the Website controller added to its manager.
func startEnv(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.Start(t, testenv.Options{Nodes: 2, Store: memstore.New(memstore.WithRegistry(website.Registry()))})
	if err := website.Add(env.Manager); err != nil {
		t.Fatal(err)
	}
	return env
}

func newSite(name string, replicas int32, msg string) *website.Website {
	return &website.Website{
		Metadata: &api.ObjectMeta{Name: name, Namespace: "default"},
		Spec:     &website.WebsiteSpec{Replicas: replicas, Image: "busybox:1", Message: msg},
	}
}

func TestWebsiteLifecycle(t *testing.T) {
	env := startEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sites := store.For[*website.Website](env.Store)
	if _, err := sites.Create(ctx, newSite("blog", 3, "hello")); err != nil {
		t.Fatal(err)
	}

	// The controller makes a Deployment and a Service, and reports
	// readiness and the Service's address once the pods run.
	got, err := testenv.UntilObject(ctx, env.Store, "default", "blog", func(w *website.Website) bool {
		return w.GetStatus().GetReadyReplicas() == 3 && w.GetStatus().GetClusterIp() != ""
	})
	if err != nil {
		t.Fatalf("website never became ready: %v (status %v)", err, got.GetStatus())
	}
	dep, err := store.For[*api.Deployment](env.Store).Get(ctx, "default", "blog")
	if err != nil {
		t.Fatal(err)
	}
	if c := dep.GetSpec().GetTemplate().GetSpec().GetContainers(); len(c) != 1 || c[0].GetImage() != "busybox:1" {
		t.Errorf("deployment containers = %v", c)
	}
	if refs := dep.GetMetadata().GetOwnerReferences(); len(refs) != 1 || refs[0].GetKind() != website.Kind || !refs[0].GetController() {
		t.Errorf("deployment owner references = %v", refs)
	}

	// A spec change reaches the Deployment.
	if _, err := sites.Mutate(ctx, "default", "blog", func(w *website.Website) error {
		w.Spec.Replicas = 5
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "blog", func(w *website.Website) bool {
		return w.GetStatus().GetReadyReplicas() == 5
	}); err != nil {
		t.Fatalf("scale to 5: %v", err)
	}

	// Deleting the Website removes what it owns.
	if _, err := sites.Delete(ctx, "default", "blog", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{api.KindDeployment, api.KindService} {
		if err := testenv.UntilGone(ctx, env.Store, kind, "default", "blog"); err != nil {
			t.Errorf("%s not collected: %v", kind, err)
		}
	}
}

func TestWebsiteLeavesForeignObjectsAlone(t *testing.T) {
	env := startEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A Service of the same name that someone else owns.
	if _, err := store.For[*api.Service](env.Store).Create(ctx, &api.Service{
		Metadata: &api.ObjectMeta{Name: "shop", Namespace: "default"},
		Spec:     &api.ServiceSpec{Ports: []*api.ServicePort{{Port: 81}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.For[*website.Website](env.Store).Create(ctx, newSite("shop", 1, "hi")); err != nil {
		t.Fatal(err)
	}
	// The Deployment is made, the foreign Service is not taken over.
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "shop", func(d *api.Deployment) bool { return d != nil }); err != nil {
		t.Fatal(err)
	}
	svc, err := store.For[*api.Service](env.Store).Get(ctx, "default", "shop")
	if err != nil {
		t.Fatal(err)
	}
	if len(svc.GetMetadata().GetOwnerReferences()) != 0 || svc.GetSpec().GetPorts()[0].GetPort() != 81 {
		t.Errorf("foreign service changed: %v", svc)
	}
}
