package daemon

import (
	"context"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/remote"
)

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestJoinRunningCluster starts one member, then a second with -join: the
// leader adds it, and a write through the new member is read on the first.
func TestJoinRunningCluster(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	api1, api2 := freePort(t), freePort(t)
	logs := &lockedBuf{}
	done := make(chan int, 2)
	go func() {
		done <- Run(ctx, []string{"server", "-member-id", "m1", "-data-dir", filepath.Join(dir, "m1"), "-raft-addr", freePort(t),
			"-bootstrap", "-api-addr", api1, "-health-addr", "127.0.0.1:0", "-log-level", "warn"}, logs, Options{})
	}()
	go func() {
		done <- Run(ctx, []string{"server", "-member-id", "m2", "-data-dir", filepath.Join(dir, "m2"), "-raft-addr", freePort(t),
			"-join", "http://" + api1, "-api-addr", api2, "-health-addr", "127.0.0.1:0", "-log-level", "warn"}, logs, Options{})
	}()
	client := func(addr string) store.Store {
		c, err := remote.NewClient(remote.ClientConfig{Servers: []string{"http://" + addr}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	c1, c2 := client(api1), client(api2)
	cm := &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "via-m2", Namespace: "default"}, Data: map[string]string{"k": "v"}}
	for {
		_, err := c2.Create(ctx, cm)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("write through the new member: %v\n%s", err, logs.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	for {
		got, err := store.For[*api.ConfigMap](c1).Get(ctx, "default", "via-m2")
		if err == nil && got.GetData()["k"] == "v" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("read on the first member: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	for range 2 {
		if code := <-done; code != 0 {
			t.Errorf("exit %d\n%s", code, logs.String())
		}
	}
}
