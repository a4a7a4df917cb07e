package prommetrics_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics"
)

func scrape(t *testing.T, h http.Handler) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

func TestExporter(t *testing.T) {
	reg := prometheus.NewRegistry()
	exp, err := prommetrics.New(reg)
	if err != nil {
		t.Fatal(err)
	}
	if exp.Registry() != reg {
		t.Error("Registry() is not the registry given")
	}
	if _, err := prommetrics.New(reg); err == nil {
		t.Fatal("registering twice in one registry succeeded")
	}
	if _, err := prommetrics.New(nil); err == nil {
		t.Fatal("nil registry accepted")
	}
	first := exp.RegisterQueue("rs", func() int { return 7 })
	second := exp.RegisterQueue("rs", func() int { return 2 })
	first() // stale: the second registration stays
	if body := string(scrape(t, exp)); !strings.Contains(body, `coxswain_workqueue_depth{controller="rs"} 2`) {
		t.Errorf("depth after a stale unregister:\n%s", body)
	}
	second()
	if body := string(scrape(t, exp)); strings.Contains(body, "coxswain_workqueue_depth") {
		t.Errorf("depth still reported after unregister:\n%s", body)
	}
	// The handler serves the whole registry, the program's own metrics too.
	own := prometheus.NewCounter(prometheus.CounterOpts{Name: "my_things_total", Help: "Things."})
	reg.MustRegister(own)
	own.Inc()
	if body := string(scrape(t, exp)); !strings.Contains(body, "my_things_total 1") {
		t.Errorf("the program's own metric is not served:\n%s", body)
	}
}
