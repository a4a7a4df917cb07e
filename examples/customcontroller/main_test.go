package main

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/examples/customcontroller/website"
	"github.com/coxswain-io/coxswain/orchestrator/testenv"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// TestRunAgainstRemoteAPI runs the program's run function against a
// control plane served over the remote API (testenv's controllers and fake
// nodes behind remote.NewServer), as it runs against coxd: the Website
// controller reaches the store only through HTTP.
func TestRunAgainstRemoteAPI(t *testing.T) {
	mem := memstore.New(memstore.WithRegistry(website.Registry()))
	env := testenv.Start(t, testenv.Options{Nodes: 2, Store: mem})
	srv, err := remote.NewServer(remote.ServerConfig{Store: env.Store})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() { done <- run(ctx, []string{hs.URL}, "", "test", "127.0.0.1:0", true, log) }()

	if _, err := store.For[*website.Website](env.Store).Create(ctx, &website.Website{
		Metadata: &api.ObjectMeta{Name: "remote", Namespace: "default"},
		Spec:     &website.WebsiteSpec{Replicas: 2, Message: "over HTTP"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := testenv.UntilObject(ctx, env.Store, "default", "remote", func(w *website.Website) bool {
		return w.GetStatus().GetReadyReplicas() == 2 && w.GetStatus().GetClusterIp() != ""
	}); err != nil {
		t.Fatalf("the remote controller never made the site ready: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
