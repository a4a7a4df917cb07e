package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/cmd/coxd/daemon"
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
	health := freeAddr(t)
	go func() { done <- run(ctx, []string{hs.URL}, "", "test", health, true, log) }()

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
	// -health-addr serves /healthz, /readyz and /metrics (the framework's
	// metrics with the Go runtime's and the process's, from vmmetrics).
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, "http://"+health+path); code != http.StatusOK {
			t.Errorf("%s = %d %q", path, code, body)
		}
	}
	code, body := get(t, "http://"+health+"/metrics")
	for _, want := range []string{
		`coxswain_controller_reconcile_total{controller="website",result="success"} `,
		`coxswain_controller_reconcile_time_seconds_count{controller="website"} `,
		`coxswain_workqueue_depth{controller="website"} `,
		"\ngo_goroutines ",
		"\nprocess_resident_memory_bytes ",
	} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("/metrics = %d, lacks %q:\n%s", code, want, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}

// TestRunAgainstCoxd runs a coxd control-plane member that serves the
// Website kind (daemon.Run with website.Registry(), as
// examples/customcontroller/coxd does) and the controller against its API.
// There is no node, so the test checks what the controller itself does: a
// Deployment and a Service owned by the Website, and the Service's address
// in the Website's status.
func TestRunAgainstCoxd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	coxd := make(chan int, 1)
	var logs strings.Builder
	var mu sync.Mutex
	go func() {
		coxd <- daemon.Run(ctx, []string{"server", "-data-dir", t.TempDir(), "-api-addr", addr, "-health-addr", "127.0.0.1:0", "-log-level", "error"},
			lockedWriter{&mu, &logs}, daemon.Options{Registry: website.Registry()})
	}()
	client, err := remote.NewClient(remote.ClientConfig{Servers: []string{"http://" + addr}, Registry: website.Registry(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctl := make(chan error, 1)
	go func() {
		ctl <- run(ctx, []string{"http://" + addr}, "", "", "127.0.0.1:0", false, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	site := &website.Website{Metadata: &api.ObjectMeta{Name: "docs", Namespace: "default"}, Spec: &website.WebsiteSpec{Replicas: 1}}
	for {
		_, err := store.For[*website.Website](client).Create(ctx, site)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			mu.Lock()
			t.Fatalf("create: %v\ncoxd:\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := testenv.UntilObject(ctx, client, "default", "docs", func(w *website.Website) bool {
		return w.GetStatus().GetClusterIp() != ""
	})
	if err != nil {
		t.Fatalf("status never showed the Service's address: %v", err)
	}
	dep, err := store.For[*api.Deployment](client).Get(ctx, "default", "docs")
	if err != nil || dep.GetMetadata().GetOwnerReferences()[0].GetUid() != got.GetMetadata().GetUid() {
		t.Errorf("deployment %v %v", dep.GetMetadata(), err)
	}
	cancel()
	if code := <-coxd; code != 0 {
		mu.Lock()
		t.Errorf("coxd exit %d\n%s", code, logs.String())
	}
	<-ctl
}

// freeAddr returns a local address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// get returns the status and body of a GET of url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
