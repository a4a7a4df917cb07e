package metrics

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// ContentType is the media type of the Prometheus text exposition format
// that Registry writes.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry is a Provider that keeps the framework's metrics in memory and
// serves them, in the Prometheus text exposition format, as an
// http.Handler. It depends on the standard library only. Create it with
// NewRegistry; it is safe for concurrent use.
type Registry struct {
	runtime *runtimeCollector // nil without WithRuntimeMetrics

	mu          sync.Mutex
	controllers map[string]*controllerSet
	queues      map[string]*queueSource
}

// Option configures a Registry.
type Option func(*Registry)

// WithRuntimeMetrics adds the Go runtime's and the process's metrics under
// the names Prometheus client libraries use: go_goroutines, go_threads,
// go_info, go_gc_duration_seconds, go_gc_gogc_percent,
// go_gc_gomemlimit_bytes, go_sched_gomaxprocs_threads, the go_memstats_*
// heap, stack and allocation series, and (on Linux, from /proc)
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_resident_memory_bytes, process_virtual_memory_bytes and
// process_start_time_seconds. They are read when the metrics are collected.
func WithRuntimeMetrics() Option {
	return func(r *Registry) { r.runtime = newRuntimeCollector() }
}

// NewRegistry returns an empty Registry.
func NewRegistry(opts ...Option) *Registry {
	r := &Registry{controllers: map[string]*controllerSet{}, queues: map[string]*queueSource{}}
	for _, o := range opts {
		o(r)
	}
	return r
}

// controllerSet is one controller's series.
type controllerSet struct {
	active                                            gauge
	time                                              *histogram
	errors, retries                                   counter
	success, requeue, requeueAfter, failure, terminal counter
}

// queueSource is one registration of a queue depth; its address tells a
// stale unregister from the current one.
type queueSource struct{ depth func() int }

// Instruments returns controller's instruments, creating its series (at
// zero) on first use.
func (r *Registry) Instruments(controller string) Instruments {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.controllers[controller]
	if !ok {
		s = &controllerSet{time: newHistogram(ReconcileTimeBuckets())}
		r.controllers[controller] = s
	}
	return Instruments{
		ActiveWorkers: &s.active, ReconcileTime: s.time,
		ReconcileErrors: &s.errors, Retries: &s.retries,
		Success: &s.success, Requeue: &s.requeue, RequeueAfter: &s.requeueAfter,
		Error: &s.failure, Terminal: &s.terminal,
	}
}

// RegisterQueue reports depth() as controller's work-queue depth until the
// returned function is called (see Provider).
func (r *Registry) RegisterQueue(controller string, depth func() int) (unregister func()) {
	src := &queueSource{depth: depth}
	r.mu.Lock()
	r.queues[controller] = src
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		if r.queues[controller] == src {
			delete(r.queues, controller)
		}
		r.mu.Unlock()
	}
}

// Sample is one series' value at the time it was gathered, named and
// labelled as in the text format: a histogram gives NAME_bucket samples
// (with an "le" label), NAME_sum and NAME_count; a summary gives NAME
// samples with a "quantile" label, NAME_sum and NAME_count.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// Gather returns every series of r, sorted by metric name and then by
// labels.
func (r *Registry) Gather() []Sample {
	var out []Sample
	for _, f := range r.collect() {
		for _, s := range f.samples {
			labels := make(map[string]string, len(s.labels))
			for _, l := range s.labels {
				labels[l.name] = l.value
			}
			out = append(out, Sample{Name: f.name + s.suffix, Labels: labels, Value: s.value})
		}
	}
	return out
}

// WriteText writes every metric of r to w in the Prometheus text
// exposition format (ContentType), sorted by metric name.
func (r *Registry) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	for _, f := range r.collect() {
		bw.WriteString("# HELP ")
		bw.WriteString(f.name)
		bw.WriteByte(' ')
		writeEscaped(bw, f.help, false)
		bw.WriteString("\n# TYPE ")
		bw.WriteString(f.name)
		bw.WriteByte(' ')
		bw.WriteString(f.typ)
		bw.WriteByte('\n')
		for _, s := range f.samples {
			bw.WriteString(f.name)
			bw.WriteString(s.suffix)
			if len(s.labels) > 0 {
				bw.WriteByte('{')
				for i, l := range s.labels {
					if i > 0 {
						bw.WriteByte(',')
					}
					bw.WriteString(l.name)
					bw.WriteString(`="`)
					writeEscaped(bw, l.value, true)
					bw.WriteByte('"')
				}
				bw.WriteByte('}')
			}
			bw.WriteByte(' ')
			bw.WriteString(formatFloat(s.value))
			bw.WriteByte('\n')
		}
	}
	return bw.Flush()
}

// ServeHTTP writes the metrics in the text format, gzipped when the
// request accepts it.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	var buf bytes.Buffer
	_ = r.WriteText(&buf) // a bytes.Buffer does not fail
	w.Header().Set("Content-Type", ContentType)
	if !acceptsGzip(req.Header.Get("Accept-Encoding")) {
		w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
		_, _ = w.Write(buf.Bytes())
		return
	}
	w.Header().Set("Content-Encoding", "gzip")
	w.Header().Add("Vary", "Accept-Encoding")
	gz := gzip.NewWriter(w)
	_, _ = gz.Write(buf.Bytes())
	_ = gz.Close()
}

// acceptsGzip reports whether an Accept-Encoding header value lists gzip
// with a non-zero quality.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.TrimSpace(k) == "q" {
				q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				return err == nil && q > 0
			}
		}
		return true
	}
	return false
}

// family is one metric with its samples, as collected for output.
type family struct {
	name, help, typ string
	samples         []sample
}

type sample struct {
	suffix string // "", "_bucket", "_sum" or "_count"
	labels []label
	value  float64
}

type label struct{ name, value string }

// collect snapshots every family of r, sorted by name; samples are sorted
// by labels, except a histogram's or summary's, which keep their order
// (buckets ascending, then sum and count) within each label set.
func (r *Registry) collect() []family {
	r.mu.Lock()
	names := make([]string, 0, len(r.controllers))
	sets := make(map[string]*controllerSet, len(r.controllers))
	for n, s := range r.controllers {
		names = append(names, n)
		sets[n] = s
	}
	queues := make(map[string]func() int, len(r.queues))
	for n, q := range r.queues {
		queues[n] = q.depth
	}
	r.mu.Unlock()
	sort.Strings(names)

	fams := []family{
		{name: ReconcileTotal, typ: "counter"},
		{name: ReconcileErrors, typ: "counter"},
		{name: ReconcileTime, typ: "histogram"},
		{name: ActiveWorkers, typ: "gauge"},
		{name: WorkqueueDepth, typ: "gauge"},
		{name: WorkqueueRetry, typ: "counter"},
	}
	for i := range fams {
		fams[i].help = Help(fams[i].name)
	}
	total, errs, hist, active, depth, retries := &fams[0], &fams[1], &fams[2], &fams[3], &fams[4], &fams[5]
	for _, n := range names {
		s, ctl := sets[n], []label{{"controller", n}}
		for _, res := range []struct {
			name string
			c    *counter
		}{ // sorted by result label
			{ResultError, &s.failure}, {ResultRequeue, &s.requeue}, {ResultRequeueAfter, &s.requeueAfter},
			{ResultSuccess, &s.success}, {ResultTerminal, &s.terminal},
		} {
			total.samples = append(total.samples, sample{labels: []label{{"controller", n}, {"result", res.name}}, value: res.c.value()})
		}
		errs.samples = append(errs.samples, sample{labels: ctl, value: s.errors.value()})
		hist.samples = append(hist.samples, s.time.samples(ctl)...)
		active.samples = append(active.samples, sample{labels: ctl, value: s.active.value()})
		retries.samples = append(retries.samples, sample{labels: ctl, value: s.retries.value()})
	}
	qnames := make([]string, 0, len(queues))
	for n := range queues {
		qnames = append(qnames, n)
	}
	sort.Strings(qnames)
	for _, n := range qnames { // outside r.mu: depth may take the queue's lock
		depth.samples = append(depth.samples, sample{labels: []label{{"controller", n}}, value: float64(queues[n]())})
	}
	if r.runtime != nil {
		fams = append(fams, r.runtime.collect()...)
	}
	fams = slices.DeleteFunc(fams, func(f family) bool { return len(f.samples) == 0 })
	slices.SortStableFunc(fams, func(a, b family) int { return strings.Compare(a.name, b.name) })
	return fams
}

// counter is a Counter of whole increments.
type counter struct{ n atomic.Uint64 }

func (c *counter) Inc()           { c.n.Add(1) }
func (c *counter) value() float64 { return float64(c.n.Load()) }

// gauge is a Gauge of whole steps.
type gauge struct{ n atomic.Int64 }

func (g *gauge) Inc()           { g.n.Add(1) }
func (g *gauge) Dec()           { g.n.Add(-1) }
func (g *gauge) value() float64 { return float64(g.n.Load()) }

// histogram is an Observer with fixed bucket upper bounds; a lock keeps
// its buckets, sum and count consistent with one another.
type histogram struct {
	upper []float64 // ascending, without +Inf

	mu     sync.Mutex
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

func newHistogram(upper []float64) *histogram {
	return &histogram{upper: upper, counts: make([]uint64, len(upper)+1)}
}

// Observe adds v to the first bucket whose upper bound is >= v.
func (h *histogram) Observe(v float64) {
	i := sort.SearchFloat64s(h.upper, v)
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.count++
	h.mu.Unlock()
}

// samples returns the cumulative buckets, the sum and the count, each
// with labels plus (for buckets) le.
func (h *histogram) samples(labels []label) []sample {
	h.mu.Lock()
	counts := slices.Clone(h.counts)
	sum, count := h.sum, h.count
	h.mu.Unlock()
	out := make([]sample, 0, len(counts)+2)
	var cum uint64
	for i, c := range counts {
		cum += c
		le := math.Inf(1)
		if i < len(h.upper) {
			le = h.upper[i]
		}
		out = append(out, sample{suffix: "_bucket", labels: append(slices.Clip(labels), label{"le", formatFloat(le)}), value: float64(cum)})
	}
	return append(out,
		sample{suffix: "_sum", labels: labels, value: sum},
		sample{suffix: "_count", labels: labels, value: float64(count)})
}

// formatFloat formats v as the text format writes numbers: the shortest
// representation, +Inf, -Inf or NaN.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// writeEscaped writes s with backslash and newline escaped, and double
// quotes too in a label value.
func writeEscaped(w *bufio.Writer, s string, quote bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			w.WriteString(`\\`)
		case c == '\n':
			w.WriteString(`\n`)
		case c == '"' && quote:
			w.WriteString(`\"`)
		default:
			w.WriteByte(c)
		}
	}
}
