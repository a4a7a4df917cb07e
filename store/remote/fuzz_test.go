package remote_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// FuzzServer checks that no request, however malformed, gets a 5xx: every
// bad request is a clear 4xx.
func FuzzServer(f *testing.F) {
	seeds := []struct{ method, target, ctype, body string }{
		{"GET", "/api/v1/namespaces/ns/pods", "", ""},
		{"POST", "/api/v1/namespaces/ns/pods", "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}`},
		{"POST", "/api/v1/namespaces/ns/pods", "application/yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {containers: [{name: c, image: x}]}"},
		{"POST", "/api/v1/namespaces/ns/pods", "application/x-protobuf", "\x0a\x02v1\x12\x03Pod\x1a\x00"},
		{"PUT", "/api/v1/namespaces/ns/pods/a", "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","resourceVersion":"x"}}`},
		{"PUT", "/api/v1/namespaces/ns/pods/a/status", "application/json", `{"apiVersion":"v1","kind":"Pod","status":{"phase":7}}`},
		{"PUT", "/apis/apps/v1/namespaces/ns/deployments/d/scale", "application/json", `{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":"x"}}`},
		{"DELETE", "/api/v1/namespaces/ns/pods/a?propagationPolicy=Orphan", "application/json", `{"preconditions":{"resourceVersion":"-1"}}`},
		{"GET", "/api/v1/pods?watch=1&resourceVersion=1&timeoutSeconds=1", "", ""},
		{"GET", "/api/v1/namespaces/ns/pods?limit=1&continue=%ff&labelSelector=a%20notin%20(b", "", ""},
		{"POST", "/apis/remote.coxswain.io/v1/transactions", "application/json", `{"ops":[{"op":"delete","kind":"Pod","name":"a"}]}`},
		{"POST", "/apis/remote.coxswain.io/v1/transactions", "application/x-protobuf", "\x0a\x05\x0a\x03xyz"},
		{"GET", "/api/v1/namespaces/%2F/pods/..", "", ""},
		{"GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/x", "", ""},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, s.ctype, s.body)
	}
	mem := memstore.New()
	f.Cleanup(func() { _ = mem.Close() })
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem, MaxRequestBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	h := srv.Handler()
	f.Fuzz(func(t *testing.T, method, target, ctype, body string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") || !validMethod(method) {
			return
		}
		if _, err := url.ParseRequestURI(target); err != nil {
			return // not a request a server can receive
		}
		req := httptest.NewRequest(method, "http://x"+target, strings.NewReader(body))
		ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
		defer cancel()
		req = req.WithContext(ctx)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (%s) %q = %d %s", method, target, ctype, body, rec.Code, rec.Body.String())
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range m {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}
