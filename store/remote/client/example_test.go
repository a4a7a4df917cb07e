package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
	"github.com/coxswain-io/coxswain/store/remote/client"
)

// A program that only talks to an API server imports package client alone;
// here the server is started in-process for the example.
func ExampleNew() {
	mem := memstore.New()
	defer mem.Close()
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem})
	if err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()

	c, err := client.New(client.Config{Servers: []string{hs.URL}})
	if err != nil {
		panic(err)
	}
	defer c.Close()

	ctx := context.Background()
	cms := store.For[*api.ConfigMap](c)
	if _, err := cms.Create(ctx, &api.ConfigMap{
		Metadata: &api.ObjectMeta{Namespace: "default", Name: "settings"},
		Data:     map[string]string{"color": "blue"},
	}); err != nil {
		panic(err)
	}
	got, err := cms.Get(ctx, "default", "settings")
	if err != nil {
		panic(err)
	}
	fmt.Println(got.GetData()["color"])

	_, err = cms.Get(ctx, "default", "missing")
	var se *client.StatusError
	fmt.Println(store.IsNotFound(err), errors.As(err, &se) && se.Status.GetCode() == 404)
	// Output:
	// blue
	// true true
}
