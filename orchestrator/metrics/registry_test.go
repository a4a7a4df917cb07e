package metrics_test

import (
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/metrics"
)

// value returns the value of the series name whose labels include want.
func value(t *testing.T, reg *metrics.Registry, name string, want map[string]string) (float64, bool) {
	t.Helper()
next:
	for _, s := range reg.Gather() {
		if s.Name != name {
			continue
		}
		for k, v := range want {
			if s.Labels[k] != v {
				continue next
			}
		}
		return s.Value, true
	}
	return 0, false
}

func TestRegistryInstruments(t *testing.T) {
	reg := metrics.NewRegistry()
	if got := reg.Gather(); len(got) != 0 {
		t.Fatalf("empty registry gathered %v", got)
	}
	ins := reg.Instruments("rs")
	ins.Success.Inc()
	ins.Success.Inc()
	ins.Terminal.Inc()
	ins.ReconcileErrors.Inc()
	ins.Retries.Inc()
	ins.ActiveWorkers.Inc()
	ins.ActiveWorkers.Inc()
	ins.ActiveWorkers.Dec()
	ins.ReconcileTime.Observe(0.00005) // first bucket
	ins.ReconcileTime.Observe(0.0003)  // le 0.0004
	ins.ReconcileTime.Observe(100)     // +Inf only
	// Asked again, the registry hands out the same series.
	reg.Instruments("rs").Success.Inc()

	ctl := map[string]string{"controller": "rs"}
	for _, tc := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{metrics.ReconcileTotal, map[string]string{"controller": "rs", "result": metrics.ResultSuccess}, 3},
		{metrics.ReconcileTotal, map[string]string{"controller": "rs", "result": metrics.ResultTerminal}, 1},
		{metrics.ReconcileTotal, map[string]string{"controller": "rs", "result": metrics.ResultRequeue}, 0},
		{metrics.ReconcileErrors, ctl, 1},
		{metrics.WorkqueueRetry, ctl, 1},
		{metrics.ActiveWorkers, ctl, 1},
		{metrics.ReconcileTime + "_bucket", map[string]string{"controller": "rs", "le": "0.0001"}, 1},
		{metrics.ReconcileTime + "_bucket", map[string]string{"controller": "rs", "le": "0.0002"}, 1},
		{metrics.ReconcileTime + "_bucket", map[string]string{"controller": "rs", "le": "0.0004"}, 2},
		{metrics.ReconcileTime + "_bucket", map[string]string{"controller": "rs", "le": "13.1072"}, 2},
		{metrics.ReconcileTime + "_bucket", map[string]string{"controller": "rs", "le": "+Inf"}, 3},
		{metrics.ReconcileTime + "_sum", ctl, 100.00035},
		{metrics.ReconcileTime + "_count", ctl, 3},
	} {
		got, ok := value(t, reg, tc.name, tc.labels)
		if !ok || got != tc.want {
			t.Errorf("%s%v = %v (found %v), want %v", tc.name, tc.labels, got, ok, tc.want)
		}
	}
	if _, ok := value(t, reg, metrics.WorkqueueDepth, ctl); ok {
		t.Error("queue depth reported with no queue registered")
	}
}

func TestRegistryQueue(t *testing.T) {
	reg := metrics.NewRegistry()
	ctl := map[string]string{"controller": "rs"}
	first := reg.RegisterQueue("rs", func() int { return 7 })
	if v, ok := value(t, reg, metrics.WorkqueueDepth, ctl); !ok || v != 7 {
		t.Fatalf("depth = %v (found %v), want 7", v, ok)
	}
	// A controller restarted before its previous run unregistered: the
	// new queue wins, and the old run's unregister leaves it alone.
	second := reg.RegisterQueue("rs", func() int { return 2 })
	first()
	if v, ok := value(t, reg, metrics.WorkqueueDepth, ctl); !ok || v != 2 {
		t.Fatalf("depth after a stale unregister = %v (found %v), want 2", v, ok)
	}
	second()
	if _, ok := value(t, reg, metrics.WorkqueueDepth, ctl); ok {
		t.Fatal("depth still reported after unregister")
	}
}

func TestWriteText(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.Instruments("b").Success.Inc()
	odd := reg.Instruments("a\"\\\nz") // a name that needs escaping
	odd.ReconcileTime.Observe(0.5)
	reg.RegisterQueue("b", func() int { return 3 })
	var sb strings.Builder
	if err := reg.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	out := sb.String()
	for _, want := range []string{
		"# HELP coxswain_controller_reconcile_total Reconciles per controller and result.\n# TYPE coxswain_controller_reconcile_total counter\n" +
			`coxswain_controller_reconcile_total{controller="a\"\\\nz",result="error"} 0` + "\n",
		`coxswain_controller_reconcile_total{controller="b",result="success"} 1` + "\n",
		"# TYPE coxswain_controller_reconcile_time_seconds histogram\n" +
			`coxswain_controller_reconcile_time_seconds_bucket{controller="a\"\\\nz",le="0.0001"} 0` + "\n",
		`coxswain_controller_reconcile_time_seconds_bucket{controller="a\"\\\nz",le="0.8192"} 1` + "\n" +
			`coxswain_controller_reconcile_time_seconds_bucket{controller="a\"\\\nz",le="1.6384"} 1` + "\n",
		`coxswain_controller_reconcile_time_seconds_bucket{controller="a\"\\\nz",le="+Inf"} 1` + "\n" +
			`coxswain_controller_reconcile_time_seconds_sum{controller="a\"\\\nz"} 0.5` + "\n" +
			`coxswain_controller_reconcile_time_seconds_count{controller="a\"\\\nz"} 1` + "\n",
		"# TYPE coxswain_workqueue_depth gauge\n" + `coxswain_workqueue_depth{controller="b"} 3` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks\n%s\nin\n%s", want, out)
		}
	}
	// Families come sorted by name, each once.
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if n, ok := strings.CutPrefix(line, "# TYPE "); ok {
			names = append(names, strings.Fields(n)[0])
		}
	}
	want := []string{metrics.ActiveWorkers, metrics.ReconcileErrors, metrics.ReconcileTime, metrics.ReconcileTotal, metrics.WorkqueueDepth, metrics.WorkqueueRetry}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("families %v, want %v", names, want)
	}
}

func TestServeHTTP(t *testing.T) {
	reg := metrics.NewRegistry()
	reg.Instruments("rs").Success.Inc()
	srv := httptest.NewServer(reg)
	defer srv.Close()
	get := func(acceptEncoding string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Accept-Encoding", acceptEncoding) // set: the transport then does not decompress
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body io.Reader = resp.Body
		if resp.Header.Get("Content-Encoding") == "gzip" {
			gz, err := gzip.NewReader(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			body = gz
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	for _, tc := range []struct {
		accept string
		gzip   bool
	}{
		{"identity", false},
		{"gzip", true},
		{"deflate, GZIP;q=0.5", true},
		{"gzip;q=0", false},
	} {
		resp, body := get(tc.accept)
		if ct := resp.Header.Get("Content-Type"); ct != metrics.ContentType {
			t.Errorf("%q: Content-Type %q", tc.accept, ct)
		}
		if got := resp.Header.Get("Content-Encoding") == "gzip"; got != tc.gzip {
			t.Errorf("Accept-Encoding %q: gzipped %v, want %v", tc.accept, got, tc.gzip)
		}
		if !strings.Contains(body, `coxswain_controller_reconcile_total{controller="rs",result="success"} 1`) {
			t.Errorf("%q: body lacks the counter:\n%s", tc.accept, body)
		}
	}
}

func TestRuntimeMetrics(t *testing.T) {
	reg := metrics.NewRegistry(metrics.WithRuntimeMetrics())
	got := map[string]float64{}
	for _, s := range reg.Gather() {
		if s.Name == "go_info" && s.Labels["version"] != runtime.Version() {
			t.Errorf("go_info labels %v", s.Labels)
		}
		if s.Name == "go_gc_duration_seconds" && s.Labels["quantile"] == "" {
			t.Errorf("go_gc_duration_seconds without a quantile: %v", s)
		}
		got[s.Name] = s.Value
	}
	for _, name := range []string{"go_goroutines", "go_threads", "go_info", "go_sched_gomaxprocs_threads",
		"go_gc_gogc_percent", "go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_heap_objects",
		"go_memstats_next_gc_bytes", "go_memstats_sys_bytes", "go_memstats_mallocs_total"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, got[name])
		}
	}
	if _, ok := got["go_gc_duration_seconds_count"]; !ok {
		t.Error("no go_gc_duration_seconds_count")
	}
	if runtime.GOOS != "linux" {
		return
	}
	for _, name := range []string{"process_cpu_seconds_total", "process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds"} {
		if got[name] <= 0 {
			t.Errorf("%s = %v, want > 0", name, got[name])
		}
	}
	// The test binary started at most a few minutes ago.
	start := time.Unix(int64(got["process_start_time_seconds"]), 0)
	if d := time.Since(start); d < -2*time.Second || d > 30*time.Minute {
		t.Errorf("process_start_time_seconds = %v (%v ago)", got["process_start_time_seconds"], d)
	}
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, s := range reg.Gather() {
		if s.Name == "process_open_fds" && s.Value <= got["process_open_fds"]-1 {
			t.Errorf("process_open_fds did not count an opened file: %v then %v", got["process_open_fds"], s.Value)
		}
	}
}

// TestConcurrentUse reports and gathers from many goroutines (run with
// -race).
func TestConcurrentUse(t *testing.T) {
	reg := metrics.NewRegistry(metrics.WithRuntimeMetrics())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprint("c", i%3)
			for j := range 200 {
				ins := reg.Instruments(name)
				ins.ActiveWorkers.Inc()
				ins.ReconcileTime.Observe(float64(j) / 1000)
				ins.Success.Inc()
				ins.ActiveWorkers.Dec()
				unregister := reg.RegisterQueue(name, func() int { return j })
				if j%50 == 0 {
					_ = reg.WriteText(io.Discard)
				}
				unregister()
			}
		}()
	}
	wg.Wait()
	var total float64
	for _, s := range reg.Gather() {
		if s.Name == metrics.ReconcileTotal && s.Labels["result"] == metrics.ResultSuccess {
			total += s.Value
		}
		if s.Name == metrics.ActiveWorkers && s.Value != 0 {
			t.Errorf("%v: active workers left at %v", s.Labels, s.Value)
		}
	}
	if total != 8*200 {
		t.Errorf("successes = %v, want %v", total, 8*200)
	}
}

func TestDiscardAndDefaults(t *testing.T) {
	ins := metrics.Discard{}.Instruments("x")
	ins.Success.Inc()
	ins.ActiveWorkers.Dec()
	ins.ReconcileTime.Observe(1)
	metrics.Discard{}.RegisterQueue("x", func() int { return 1 })()

	var n countingCounter
	filled := metrics.Instruments{Success: &n}.WithDefaults()
	for _, c := range []metrics.Counter{filled.ReconcileErrors, filled.Retries, filled.Requeue, filled.RequeueAfter, filled.Error, filled.Terminal} {
		c.Inc() // must not panic
	}
	filled.ActiveWorkers.Inc()
	filled.ReconcileTime.Observe(1)
	filled.Success.Inc()
	if n != 1 {
		t.Errorf("WithDefaults replaced a set instrument: %d", n)
	}
}

type countingCounter int

func (c *countingCounter) Inc() { *c++ }

func TestReconcileTimeBuckets(t *testing.T) {
	b := metrics.ReconcileTimeBuckets()
	if len(b) != 18 || b[0] != 0.0001 || b[17] < 13 || b[17] > 13.2 {
		t.Fatalf("buckets %v", b)
	}
	for i := 1; i < len(b); i++ {
		if b[i] <= b[i-1] {
			t.Fatalf("buckets not ascending: %v", b)
		}
	}
	for _, n := range []string{metrics.ReconcileTotal, metrics.ReconcileErrors, metrics.ReconcileTime, metrics.ActiveWorkers, metrics.WorkqueueDepth, metrics.WorkqueueRetry} {
		if metrics.Help(n) == "" {
			t.Errorf("no help for %s", n)
		}
	}
	if metrics.Help("nope") != "" {
		t.Error("help for an unknown name")
	}
}
