package vmmetrics_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
	"github.com/coxswain-io/coxswain/orchestrator/metrics/prommetrics"
	"github.com/coxswain-io/coxswain/orchestrator/metrics/vmmetrics"
)

// frameworkFamilies are the metric families every Provider serves.
var frameworkFamilies = []string{
	metrics.ReconcileTotal, metrics.ReconcileErrors, metrics.ReconcileTime,
	metrics.ActiveWorkers, metrics.WorkqueueDepth, metrics.WorkqueueRetry,
}

// drive reports the same things into any Provider: two controllers, every
// instrument, observations in the first, a middle and past the last bucket,
// and a queue depth.
func drive(p metrics.Provider) (unregister func()) {
	rs := p.Instruments("replicaset")
	rs.Success.Inc()
	rs.Success.Inc()
	rs.Requeue.Inc()
	rs.RequeueAfter.Inc()
	rs.Error.Inc()
	rs.ReconcileErrors.Inc()
	rs.Retries.Inc()
	rs.Retries.Inc()
	rs.ActiveWorkers.Inc()
	rs.ActiveWorkers.Inc()
	rs.ActiveWorkers.Dec()
	for _, v := range []float64{0.00002, 0.0001, 0.003, 0.5, 40} {
		rs.ReconcileTime.Observe(v)
	}
	dep := p.Instruments("deployment")
	dep.Terminal.Inc()
	dep.ReconcileErrors.Inc()
	return p.RegisterQueue("replicaset", func() int { return 5 })
}

// scrape serves h one GET /metrics and returns the body.
func scrape(t *testing.T, h http.Handler) []byte {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.Bytes()
}

// parse reads text-format metrics with Prometheus's own parser (legacy,
// strict names), as a Prometheus server would.
func parse(t *testing.T, text []byte) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		t.Fatalf("Prometheus cannot parse the output: %v\n%s", err, text)
	}
	return fams
}

// canonical re-encodes mf with its series and their labels sorted and
// without help text, so that two producers' families compare as strings:
// equal strings mean the same name, type, label sets and values.
func canonical(t *testing.T, mf *dto.MetricFamily) string {
	t.Helper()
	mf.Help = nil
	for _, m := range mf.Metric {
		sort.Slice(m.Label, func(i, j int) bool { return m.Label[i].GetName() < m.Label[j].GetName() })
	}
	key := func(m *dto.Metric) string {
		var b strings.Builder
		for _, l := range m.Label {
			b.WriteString(l.GetName() + "=" + l.GetValue() + ",")
		}
		return b.String()
	}
	sort.Slice(mf.Metric, func(i, j int) bool { return key(mf.Metric[i]) < key(mf.Metric[j]) })
	var b strings.Builder
	if _, err := expfmt.MetricFamilyToText(&b, mf); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// withoutMetadata drops the # HELP and # TYPE lines of a text exposition:
// what is left is the same samples, untyped.
func withoutMetadata(text []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(text))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "#") {
			out.WriteString(sc.Text() + "\n")
		}
	}
	return out.Bytes()
}

// exposeMetadata turns the library's process-wide HELP/TYPE switch on for
// one test, as a program's main would.
func exposeMetadata(t *testing.T) {
	vm.ExposeMetadata(true)
	t.Cleanup(func() { vm.ExposeMetadata(false) })
}

// TestSameExpositionAsPrometheus feeds vmmetrics and prommetrics (the
// client_golang bridge coxd uses) the same reports and reads both outputs
// with Prometheus's parser: the framework's families must agree in names,
// label sets and values and, once the program has turned on the library's
// metadata, in types. Help texts are not compared: the library writes
// none.
func TestSameExpositionAsPrometheus(t *testing.T) {
	exp, err := prommetrics.New(prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	defer drive(exp)()
	promText := scrape(t, exp)

	t.Run("typed", func(t *testing.T) {
		exposeMetadata(t)
		p := vmmetrics.New()
		defer drive(p)()
		got, want := parse(t, scrape(t, p)), parse(t, promText)
		if len(got) != len(frameworkFamilies) {
			t.Errorf("vmmetrics serves %d families, want %d", len(got), len(frameworkFamilies))
		}
		for _, name := range frameworkFamilies {
			if want[name] == nil || got[name] == nil {
				t.Errorf("%s: prommetrics serves it: %v, vmmetrics: %v", name, want[name] != nil, got[name] != nil)
				continue
			}
			if g, w := canonical(t, got[name]), canonical(t, want[name]); g != w {
				t.Errorf("%s differs\nvmmetrics:\n%s\nprommetrics:\n%s", name, g, w)
			}
		}
	})

	t.Run("untyped (the library's default)", func(t *testing.T) {
		p := vmmetrics.New()
		defer drive(p)()
		text := scrape(t, p)
		if bytes.Contains(text, []byte("# ")) {
			t.Errorf("metadata lines without ExposeMetadata:\n%s", text)
		}
		got, want := parse(t, text), parse(t, withoutMetadata(promText))
		for name := range want {
			if !strings.HasPrefix(name, "coxswain_") {
				delete(want, name) // promhttp's own
			}
		}
		if len(got) != len(want) {
			t.Errorf("vmmetrics serves %d untyped families, prommetrics %d", len(got), len(want))
		}
		for name, w := range want {
			if got[name] == nil {
				t.Errorf("vmmetrics does not serve %s", name)
				continue
			}
			if g, w := canonical(t, got[name]), canonical(t, w); g != w {
				t.Errorf("%s differs\nvmmetrics:\n%s\nprommetrics:\n%s", name, g, w)
			}
		}
	})
}

// value returns the value of the series name{labels} in p's output and
// whether it is there.
func value(t *testing.T, p *vmmetrics.Provider, name string, labels map[string]string) (float64, bool) {
	t.Helper()
	mf := parse(t, scrape(t, p))[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.Metric {
		if len(m.Label) != len(labels) {
			continue
		}
		for _, l := range m.Label {
			if labels[l.GetName()] != l.GetValue() {
				continue next
			}
		}
		return m.GetUntyped().GetValue(), true
	}
	return 0, false
}

func TestRegisterQueue(t *testing.T) {
	p := vmmetrics.New()
	rs := map[string]string{"controller": "rs"}
	depth := 7
	first := p.RegisterQueue("rs", func() int { return depth })
	if v, ok := value(t, p, metrics.WorkqueueDepth, rs); !ok || v != 7 {
		t.Fatalf("depth = %v (served %v), want 7", v, ok)
	}
	depth = 9 // read at scrape time
	if v, _ := value(t, p, metrics.WorkqueueDepth, rs); v != 9 {
		t.Fatalf("depth after a change = %v, want 9", v)
	}
	second := p.RegisterQueue("rs", func() int { return 2 })
	other := p.RegisterQueue("dep", func() int { return 4 })
	if v, _ := value(t, p, metrics.WorkqueueDepth, rs); v != 2 {
		t.Fatalf("depth after a replacing registration = %v, want 2", v)
	}
	first() // stale: the second registration stays
	if v, ok := value(t, p, metrics.WorkqueueDepth, rs); !ok || v != 2 {
		t.Fatalf("depth after a stale unregister = %v (served %v), want 2", v, ok)
	}
	second()
	if _, ok := value(t, p, metrics.WorkqueueDepth, rs); ok {
		t.Fatal("depth still served after unregister")
	}
	second() // twice: nothing
	if v, ok := value(t, p, metrics.WorkqueueDepth, map[string]string{"controller": "dep"}); !ok || v != 4 {
		t.Fatalf("another controller's depth = %v (served %v), want 4", v, ok)
	}
	third := p.RegisterQueue("rs", func() int { return 1 }) // again after unregister
	if v, ok := value(t, p, metrics.WorkqueueDepth, rs); !ok || v != 1 {
		t.Fatalf("depth registered again = %v (served %v), want 1", v, ok)
	}
	first() // stale from before the unregister: nothing
	if _, ok := value(t, p, metrics.WorkqueueDepth, rs); !ok {
		t.Fatal("a stale unregister removed a later registration")
	}
	third()
	other()
	if mf := parse(t, scrape(t, p))[metrics.WorkqueueDepth]; mf != nil {
		t.Fatalf("depth served with no queue registered: %v", mf)
	}
}

// TestInstrumentsShareSeries asks twice for one controller's instruments:
// both report into the same series.
func TestInstrumentsShareSeries(t *testing.T) {
	p := vmmetrics.New()
	p.Instruments("a").Success.Inc()
	p.Instruments("a").Success.Inc()
	p.Instruments("b").Error.Inc()
	if v, _ := value(t, p, metrics.ReconcileTotal, map[string]string{"controller": "a", "result": metrics.ResultSuccess}); v != 2 {
		t.Errorf("a's successes = %v, want 2", v)
	}
	if v, _ := value(t, p, metrics.ReconcileTotal, map[string]string{"controller": "b", "result": metrics.ResultSuccess}); v != 0 {
		t.Errorf("b's successes = %v, want 0", v)
	}
}

// TestLabelEscaping uses controller names the text format must escape.
func TestLabelEscaping(t *testing.T) {
	p := vmmetrics.New()
	for _, name := range []string{`quo"te`, `back\slash`, "line\nfeed", `end\`, "ünïcode"} {
		p.Instruments(name).Success.Inc()
		defer p.RegisterQueue(name, func() int { return 3 })()
		if v, ok := value(t, p, metrics.ReconcileTotal, map[string]string{"controller": name, "result": metrics.ResultSuccess}); !ok || v != 1 {
			t.Errorf("%q: successes = %v (served %v)", name, v, ok)
		}
		if v, ok := value(t, p, metrics.WorkqueueDepth, map[string]string{"controller": name}); !ok || v != 3 {
			t.Errorf("%q: depth = %v (served %v)", name, v, ok)
		}
	}
}

// TestConcurrentUse reports, registers queues and scrapes from many
// goroutines at once (run with -race); the counts must add up.
func TestConcurrentUse(t *testing.T) {
	p := vmmetrics.New(vmmetrics.WithProcessMetrics())
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctl := fmt.Sprintf("c%d", w%2) // workers/2 goroutines per controller
			for i := range rounds {
				ins := p.Instruments(ctl)
				ins.ActiveWorkers.Inc()
				ins.Success.Inc()
				ins.Retries.Inc()
				ins.ReconcileTime.Observe(float64(i) / 1000)
				ins.ActiveWorkers.Dec()
				unregister := p.RegisterQueue(ctl, func() int { return i })
				if i%3 == 0 {
					unregister()
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 20 {
			p.WritePrometheus(io.Discard)
		}
	}()
	wg.Wait()
	<-done
	for _, ctl := range []string{"c0", "c1"} {
		l := map[string]string{"controller": ctl}
		if v, _ := value(t, p, metrics.ReconcileTotal, map[string]string{"controller": ctl, "result": metrics.ResultSuccess}); v != workers/2*rounds {
			t.Errorf("%s successes = %v, want %d", ctl, v, workers/2*rounds)
		}
		if v, _ := value(t, p, metrics.ReconcileTime+"_count", l); v != workers/2*rounds {
			t.Errorf("%s observations = %v, want %d", ctl, v, workers/2*rounds)
		}
		if v, _ := value(t, p, metrics.ActiveWorkers, l); v != 0 {
			t.Errorf("%s active workers = %v, want 0", ctl, v)
		}
	}
}

// clientGolangNames are runtime and process metrics dashboards commonly
// read from client_golang's Go and process collectors; WithProcessMetrics
// serves each under the same name and type.
var clientGolangNames = []string{
	"go_goroutines", "go_threads", "go_gc_duration_seconds",
	"go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_heap_inuse_bytes",
	"go_memstats_heap_objects", "go_memstats_sys_bytes", "go_memstats_next_gc_bytes",
	"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes",
	"process_open_fds", "process_max_fds", "process_start_time_seconds",
}

func TestProcessMetrics(t *testing.T) {
	exposeMetadata(t)
	plain := parse(t, scrape(t, vmmetrics.New()))
	for name := range plain {
		if !strings.HasPrefix(name, "coxswain_") {
			t.Errorf("%s served without WithProcessMetrics", name)
		}
	}
	got := parse(t, scrape(t, vmmetrics.New(vmmetrics.WithProcessMetrics())))
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
	for _, name := range clientGolangNames {
		g, w := got[name], want[name]
		switch {
		case w == nil:
			t.Errorf("%s: client_golang's collectors do not serve it (fix the list)", name)
		case g == nil:
			t.Errorf("%s: not served", name)
		case g.GetType() != w.GetType():
			t.Errorf("%s: type %v, client_golang %v", name, g.GetType(), w.GetType())
		}
	}
	if v := got["go_goroutines"].GetMetric()[0].GetGauge().GetValue(); v < 1 {
		t.Errorf("go_goroutines = %v", v)
	}
}

func TestServeHTTP(t *testing.T) {
	p := vmmetrics.New()
	p.Instruments("web").Success.Inc()
	// A program's own metric in the Set is served at the same /metrics.
	p.Set().NewCounter(`my_things_total{kind="a"}`).Add(3)
	srv := httptest.NewServer(p)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, want := range []string{
		`coxswain_controller_reconcile_total{controller="web",result="success"} 1`,
		`my_things_total{kind="a"} 3`,
	} {
		if !bytes.Contains(body, []byte(want+"\n")) {
			t.Errorf("body lacks %q:\n%s", want, body)
		}
	}
}
