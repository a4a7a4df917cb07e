package remote

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the server's Prometheus collectors.
type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	watches  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "coxswain", Subsystem: "apiserver", Name: "requests_total",
			Help: "API requests by verb, resource (with subresource) and HTTP code.",
		}, []string{"verb", "resource", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "coxswain", Subsystem: "apiserver", Name: "request_duration_seconds",
			Help:    "Latency of API requests other than watches, by verb and resource.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"verb", "resource"}),
		watches: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "coxswain", Subsystem: "apiserver", Name: "watches",
			Help: "Watch streams open now, by resource.",
		}, []string{"resource"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.watches} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("remote: server metrics are already registered in this registry")
			}
			return nil, err
		}
	}
	return m, nil
}

// requestInfo is filled in by the handlers for the metrics.
type requestInfo struct {
	verb, resource string
}

type requestInfoKey struct{}

func infoFrom(ctx context.Context) *requestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*requestInfo)
	if ri == nil {
		return &requestInfo{}
	}
	return ri
}

// setInfo records what a request is, for the metrics.
func setInfo(r *http.Request, verb, resource string) {
	ri := infoFrom(r.Context())
	ri.verb, ri.resource = verb, resource
}

// statusWriter remembers the status code written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes through to the underlying writer (watch streams).
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe records one finished request.
func (m *metrics) observe(ri *requestInfo, code int, start time.Time) {
	verb := ri.verb
	if verb == "" {
		verb = "other"
	}
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(verb, ri.resource, strconv.Itoa(code)).Inc()
	if verb != "watch" {
		m.duration.WithLabelValues(verb, ri.resource).Observe(time.Since(start).Seconds())
	}
}
