package prommetrics_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics"
)

// drive reports the same things into any Provider.
func drive(p metrics.Provider) (unregister func()) {
	rs := p.Instruments("replicaset")
	rs.Success.Inc()
	rs.Success.Inc()
	rs.RequeueAfter.Inc()
	rs.Error.Inc()
	rs.ReconcileErrors.Inc()
	rs.Retries.Inc()
	rs.ActiveWorkers.Inc()
	for _, v := range []float64{0.00002, 0.003, 0.5, 40} {
		rs.ReconcileTime.Observe(v)
	}
	dep := p.Instruments("deployment")
	dep.Terminal.Inc()
	dep.ReconcileErrors.Inc()
	return p.RegisterQueue("replicaset", func() int { return 5 })
}

// parse reads text-format metrics with Prometheus's own parser (legacy,
// strict names) and returns them canonically re-encoded per family: series
// and labels sorted, so two producers' outputs compare as strings.
func parse(t *testing.T, text []byte) map[string]string {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus cannot parse the output: %v\n%s", err, text)
	}
	out := map[string]string{}
	for name, mf := range fams {
		for _, m := range mf.Metric {
			sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
		}
		sort.Slice(mf.Metric, func(i, j int) bool { return labelKey(mf.Metric[i]) < labelKey(mf.Metric[j]) })
		var b strings.Builder
		if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
			t.Fatal(err)
		}
		out[name] = b.String()
	}
	return out
}

func labelKey(m *dto.Metric) string {
	var b strings.Builder
	for _, l := range m.Label {
		b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
	}
	return b.String()
}

func scrape(t *testing.T, h interface {
	ServeHTTP(http.ResponseWriter, *http.Request)
}) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// TestSameExpositionAsRegistry checks that the lean metrics.Registry and
// the Prometheus-backed Exporter, given the same reports, expose the same
// families (names, types, help, labels, buckets, values) as far as a
// Prometheus server can tell: both outputs go through Prometheus's parser.
func TestSameExpositionAsRegistry(t *testing.T) {
	lean := metrics.NewRegistry()
	defer drive(lean)()
	exp, err := prommetrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer drive(exp)()

	want := parse(t, scrape(t, exp))
	got := parse(t, scrape(t, lean))
	names := []string{metrics.ReconcileTotal, metrics.ReconcileErrors, metrics.ReconcileTime, metrics.ActiveWorkers, metrics.WorkqueueDepth, metrics.WorkqueueRetry}
	if len(got) != len(names) {
		t.Errorf("metrics.Registry exposes %d families, want %d", len(got), len(names))
	}
	for _, n := range names {
		if want[n] == "" {
			t.Errorf("prommetrics does not expose %s", n)
		}
		if got[n] != want[n] {
			t.Errorf("%s differs\nmetrics.Registry:\n%s\nprommetrics:\n%s", n, got[n], want[n])
		}
	}
}

// TestRuntimeMetricsMatchClientGolang checks that every runtime or process
// metric metrics.WithRuntimeMetrics exposes has the name, type and labels
// of the client_golang Go or process collector's metric, so a dashboard
// built on coxd's metrics reads a lean controller's too.
func TestRuntimeMetricsMatchClientGolang(t *testing.T) {
	lean := metrics.NewRegistry(metrics.WithRuntimeMetrics())
	p := expfmt.NewTextParser(model.LegacyValidation)
	got, err := p.TextToMetricFamilies(bytes.NewReader(scrape(t, lean)))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		want[mf.GetName()] = mf
	}
	n := 0
	for name, mf := range got {
		if strings.HasPrefix(name, "coxswain_") {
			continue
		}
		n++
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: not a client_golang collector metric", name)
			continue
		}
		if mf.GetType() != w.GetType() {
			t.Errorf("%s: type %v, client_golang %v", name, mf.GetType(), w.GetType())
		}
		if a, b := labelNames(mf), labelNames(w); a != b {
			t.Errorf("%s: labels %q, client_golang %q", name, a, b)
		}
	}
	if n < 20 {
		t.Errorf("only %d runtime metrics", n)
	}
}

func labelNames(mf *dto.MetricFamily) string {
	if len(mf.Metric) == 0 {
		return ""
	}
	var names []string
	for _, l := range mf.Metric[0].Label {
		names = append(names, l.GetName())
	}
	sort.Strings(names)
	return strings.Join(names, ",")
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
