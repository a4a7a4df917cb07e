package remote_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// Serve an in-memory store over HTTP and use it through a Client, which is
// a store.Store like any other.
func Example() {
	mem := memstore.New()
	defer mem.Close()
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv.Handler()) // or srv.Start(ctx) on cfg.Address
	defer hs.Close()

	client, err := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}})
	if err != nil {
		panic(err)
	}
	defer client.Close()

	ctx := context.Background()
	pods := store.For[*api.Pod](client)
	w, err := pods.Watch(ctx, store.WatchOptions{Namespace: "shop"})
	if err != nil {
		panic(err)
	}
	defer w.Stop()

	_, err = pods.Create(ctx, &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: "shop", Name: "web"},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "web", Image: "busybox"}}},
	})
	if err != nil {
		panic(err)
	}
	ev := <-w.Events()
	fmt.Println(ev.Type, ev.Object.GetMetadata().GetName())

	_, err = pods.Create(ctx, &api.Pod{Metadata: &api.ObjectMeta{Namespace: "shop", Name: "web"}})
	fmt.Println(store.IsAlreadyExists(err))
	// Output:
	// ADDED web
	// true
}

// A control plane with TLS, bearer tokens and RBAC: tokens come from a
// file of "token,user,groups..." lines, and roles from the store itself.
func ExampleNewServer() {
	mem := memstore.New()
	defer mem.Close()
	tokens, err := remote.ParseTokens([]byte("s3cret,admin,system:masters\n"))
	if err != nil {
		panic(err)
	}
	srv, err := remote.NewServer(remote.ServerConfig{
		Store:         mem,
		Address:       "127.0.0.1:6443",
		Authenticator: tokens,
		Authorizer:    remote.NewRBACAuthorizer(mem),
		// TLS: &tls.Config{Certificates: ...},
	})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	anonymous, _ := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}})
	_, err = anonymous.List(context.Background(), api.KindPod, store.ListOptions{})
	fmt.Println(err)

	admin, _ := remote.NewClient(remote.ClientConfig{Servers: []string{hs.URL}, Token: "s3cret"})
	_, err = admin.List(context.Background(), api.KindPod, store.ListOptions{})
	fmt.Println(err)
	// Output:
	// unauthorized: credentials required
	// <nil>
}
