package endpoints_test

import (
	"context"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
)

func ptr[T any](v T) *T { return &v }

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func counts(ep *api.Endpoints) (ready, notReady int) {
	for _, s := range ep.GetSubsets() {
		ready += len(s.GetAddresses())
		notReady += len(s.GetNotReadyAddresses())
	}
	return ready, notReady
}

func waitCounts(ctx context.Context, t *testing.T, env *testenv.Env, name string, ready, notReady int) *api.Endpoints {
	t.Helper()
	ep, err := testenv.UntilObject(ctx, env.Store, "default", name, func(ep *api.Endpoints) bool {
		r, n := counts(ep)
		return r == ready && n == notReady
	})
	if err != nil {
		t.Fatalf("waiting for %d ready and %d not-ready endpoints of %s: %v", ready, notReady, name, err)
	}
	return ep
}

func TestEndpointsFollowPods(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{Nodes: 2})
	rs := &api.ReplicaSet{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &api.ReplicaSetSpec{
			Replicas: ptr(int32(3)),
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
			Template: &api.PodTemplateSpec{
				Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
				Spec: &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "nginx",
					Ports: []*api.ContainerPort{{Name: "http", ContainerPort: 8080}}}}},
			},
		},
	}
	if _, err := store.For[*api.ReplicaSet](env.Store).Create(ctx, rs); err != nil {
		t.Fatal(err)
	}
	svc := &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "web"},
		Spec: &api.ServiceSpec{
			Selector: map[string]string{"app": "web"},
			Ports: []*api.ServicePort{
				{Name: "http", Port: 80, TargetPort: &api.IntOrString{Value: &api.IntOrString_StrVal{StrVal: "http"}}},
				{Name: "metrics", Port: 9090, TargetPort: &api.IntOrString{Value: &api.IntOrString_IntVal{IntVal: 9100}}},
			},
		},
	}
	if _, err := store.For[*api.Service](env.Store).Create(ctx, svc); err != nil {
		t.Fatal(err)
	}
	ep := waitCounts(ctx, t, env, "web", 3, 0)
	ports := map[string]int32{}
	for _, p := range ep.GetSubsets()[0].GetPorts() {
		ports[p.GetName()] = p.GetPort()
	}
	if ports["http"] != 8080 || ports["metrics"] != 9100 {
		t.Fatalf("ports = %v, want http 8080 (by name) and metrics 9100", ports)
	}
	for _, a := range ep.GetSubsets()[0].GetAddresses() {
		if a.GetIp() == "" || a.GetNodeName() == "" || a.GetTargetRef().GetKind() != api.KindPod {
			t.Errorf("incomplete address %v", a)
		}
	}

	// A pod that stops being ready moves to notReadyAddresses.
	name := ep.GetSubsets()[0].GetAddresses()[0].GetTargetRef().GetName()
	if err := env.SetPodReady(ctx, "default", name, false); err != nil {
		t.Fatal(err)
	}
	waitCounts(ctx, t, env, "web", 2, 1)
	if err := env.SetPodReady(ctx, "default", name, true); err != nil {
		t.Fatal(err)
	}
	waitCounts(ctx, t, env, "web", 3, 0)

	// Scaling down removes addresses.
	if _, err := store.For[*api.ReplicaSet](env.Store).Mutate(ctx, "default", "web", func(rs *api.ReplicaSet) error {
		rs.Spec.Replicas = ptr(int32(1))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	waitCounts(ctx, t, env, "web", 1, 0)

	// Deleting the Service deletes its Endpoints.
	if _, err := env.Store.Delete(ctx, api.KindService, "default", "web", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := testenv.UntilGone(ctx, env.Store, api.KindEndpoints, "default", "web"); err != nil {
		t.Fatal(err)
	}
}

func TestServiceWithoutSelectorIsLeftAlone(t *testing.T) {
	ctx := testCtx(t)
	env := testenv.Start(t, testenv.Options{})
	if _, err := store.For[*api.Service](env.Store).Create(ctx, &api.Service{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "external"},
		Spec:     &api.ServiceSpec{Ports: []*api.ServicePort{{Port: 5432}}},
	}); err != nil {
		t.Fatal(err)
	}
	manual := &api.Endpoints{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "external"},
		Subsets:  []*api.EndpointSubset{{Addresses: []*api.EndpointAddress{{Ip: "192.0.2.10"}}, Ports: []*api.EndpointPort{{Port: 5432}}}},
	}
	created, err := store.For[*api.Endpoints](env.Store).Create(ctx, manual)
	if err != nil {
		t.Fatal(err)
	}
	// Touch the service; the controller must not rewrite the endpoints.
	if _, err := store.For[*api.Service](env.Store).Mutate(ctx, "default", "external", func(s *api.Service) error {
		s.Metadata.Labels = map[string]string{"touched": "yes"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Wait until the endpoints informer has seen the service change, then
	// check that the object is untouched.
	inf, err := env.Informer(api.KindService)
	if err != nil {
		t.Fatal(err)
	}
	rev, _ := env.Store.Revision(ctx)
	if err := inf.WaitForRevision(ctx, rev); err != nil {
		t.Fatal(err)
	}
	got, err := store.For[*api.Endpoints](env.Store).Get(ctx, "default", "external")
	if err != nil {
		t.Fatal(err)
	}
	if got.GetMetadata().GetResourceVersion() != created.GetMetadata().GetResourceVersion() {
		t.Fatalf("user-managed endpoints were rewritten")
	}
}
