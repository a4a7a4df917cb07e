package daemon

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store/remote"
)

// TestServerMetrics checks what a member serves at /metrics on
// -health-addr: one Prometheus registry with the framework's metrics
// (prommetrics), the API server's, and the Go and process collectors.
func TestServerMetrics(t *testing.T) {
	apiAddr, healthAddr := freePort(t), freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logs := &lockedBuf{}
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"server", "-data-dir", filepath.Join(t.TempDir(), "data"), "-api-addr", apiAddr,
			"-health-addr", healthAddr, "-log-level", "warn"}, logs, Options{})
	}()
	client, err := remote.NewClient(remote.ClientConfig{Servers: []string{"http://" + apiAddr}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err := client.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c", Namespace: "default"}})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("create: %v\n%s", err, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	want := []string{
		`coxswain_controller_reconcile_total{controller="replicasets",result="success"}`,
		`coxswain_controller_reconcile_time_seconds_bucket{controller="deployment",le="0.0001"}`,
		`coxswain_workqueue_depth{controller="replicasets"}`,
		`coxswain_apiserver_requests_total{code="201",resource="configmaps",verb="create"}`,
		"\ngo_goroutines ",
		"\ngo_memstats_alloc_bytes ",
		"\nprocess_cpu_seconds_total ",
		"\npromhttp_metric_handler_errors_total{",
	}
	var body string
	for {
		resp, err := http.Get("http://" + healthAddr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			body = string(b)
		}
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("/metrics lacks %q:\n%s\ncoxd:\n%s", missing, body, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d\n%s", code, logs.String())
	}
}
