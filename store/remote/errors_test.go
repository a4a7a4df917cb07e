package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

func testPod(ns, name string) *api.Pod {
	return &api.Pod{
		Metadata: &api.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": "web"}},
		Spec:     &api.PodSpec{Containers: []*api.Container{{Name: "c", Image: "busybox"}}},
	}
}

const podJSON = `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"containers":[{"name":"c","image":"busybox"}]}}`

type statusBody struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Status     string `json:"status"`
	Message    string `json:"message"`
	Reason     string `json:"reason"`
	Code       int    `json:"code"`
}

// rawDo sends an HTTP request and returns the code and decoded Status.
func rawDo(t *testing.T, method, url, contentType, body string, hdr map[string]string) (int, statusBody) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var st statusBody
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatalf("%s %s: error body is not a Status: %v: %s", method, url, err, data)
		}
	}
	return resp.StatusCode, st
}

// TestErrorMapping checks every store error class and every kind of bad
// request against its HTTP status, reason and the client's error class.
func TestErrorMapping(t *testing.T) {
	e := newEnv(t, envOptions{server: func(c *remote.ServerConfig) { c.MaxRequestBytes = 4096 }})
	ctx := context.Background()
	created, err := e.client.Create(ctx, testPod("ns", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Create(ctx, &api.Deployment{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "d"}, Spec: &api.DeploymentSpec{}}); err != nil {
		t.Fatal(err)
	}
	base := e.http.URL
	pods := base + "/api/v1/namespaces/ns/pods"
	stale := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p1","resourceVersion":"999"},"spec":{"containers":[{"name":"c","image":"x"}]}}`
	_ = created
	tests := []struct {
		name        string
		method, url string
		ctype, body string
		code        int
		reason      string
	}{
		{"not found", "GET", pods + "/missing", "", "", 404, remote.ReasonNotFound},
		{"already exists", "POST", pods, "application/json", strings.Replace(podJSON, "%s", "p1", 1), 409, remote.ReasonAlreadyExists},
		{"conflict", "PUT", pods + "/p1", "application/json", stale, 409, remote.ReasonConflict},
		{"invalid: no name", "POST", pods, "application/json", strings.Replace(podJSON, "%s", "", 1), 422, remote.ReasonInvalid},
		{"invalid label selector", "GET", pods + "?labelSelector=a%20in%20(", "", "", 422, remote.ReasonInvalid},
		{"invalid field selector", "GET", pods + "?fieldSelector=nosuch.field=1", "", "", 422, remote.ReasonInvalid},
		{"malformed JSON", "POST", pods, "application/json", `{"apiVersion":`, 400, remote.ReasonBadRequest},
		{"empty body", "POST", pods, "application/json", ``, 400, remote.ReasonBadRequest},
		{"unknown field", "POST", pods, "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"},"spec":{"containerz":[]}}`, 400, remote.ReasonBadRequest},
		{"missing kind", "POST", pods, "application/json", `{"metadata":{"name":"x"}}`, 400, remote.ReasonBadRequest},
		{"kind mismatch", "POST", pods, "application/json", `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}`, 400, remote.ReasonBadRequest},
		{"namespace mismatch", "POST", pods, "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","namespace":"other"}}`, 400, remote.ReasonBadRequest},
		{"name mismatch", "PUT", pods + "/p1", "application/json", strings.Replace(podJSON, "%s", "p2", 1), 400, remote.ReasonBadRequest},
		{"two documents", "POST", pods, "application/yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\n", 400, remote.ReasonBadRequest},
		{"garbage protobuf", "POST", pods, remote.MediaProtobuf, "\xff\xff\xff", 400, remote.ReasonBadRequest},
		{"unsupported media type", "POST", pods, "text/plain", "hello", 415, remote.ReasonUnsupportedMediaType},
		{"malformed media type", "POST", pods, ";;;", "hello", 415, remote.ReasonUnsupportedMediaType},
		{"body too large", "POST", pods, "application/json", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x","annotations":{"a":"` + strings.Repeat("x", 5000) + `"}}}`, 413, remote.ReasonRequestEntityTooLarge},
		{"unknown resource", "GET", base + "/api/v1/namespaces/ns/widgets", "", "", 404, remote.ReasonNotFound},
		{"wrong group version", "GET", base + "/apis/apps/v2/namespaces/ns/deployments", "", "", 404, remote.ReasonNotFound},
		{"core kind under a group", "GET", base + "/apis/apps/v1/namespaces/ns/pods", "", "", 404, remote.ReasonNotFound},
		{"namespaced kind without namespace", "GET", base + "/api/v1/pods/p1", "", "", 404, remote.ReasonNotFound},
		{"unknown subresource", "GET", pods + "/p1/exec", "", "", 404, remote.ReasonNotFound},
		{"scale of a pod", "GET", pods + "/p1/scale", "", "", 404, remote.ReasonNotFound},
		{"too many segments", "GET", pods + "/p1/status/x", "", "", 404, remote.ReasonNotFound},
		{"unknown path", "GET", base + "/nope", "", "", 404, remote.ReasonNotFound},
		{"unknown group", "GET", base + "/apis/nope.io", "", "", 404, remote.ReasonNotFound},
		{"unknown group version", "GET", base + "/apis/nope.io/v1", "", "", 404, remote.ReasonNotFound},
		{"patch", "PATCH", pods + "/p1", "application/json", "{}", 405, remote.ReasonMethodNotAllowed},
		{"delete collection", "DELETE", pods, "", "", 405, remote.ReasonMethodNotAllowed},
		{"post to version", "POST", base + "/version", "", "", 405, remote.ReasonMethodNotAllowed},
		{"create across namespaces", "POST", base + "/api/v1/pods", "application/json", strings.Replace(podJSON, "%s", "x", 1), 400, remote.ReasonBadRequest},
		{"bad limit", "GET", pods + "?limit=-1", "", "", 400, remote.ReasonBadRequest},
		{"bad limit text", "GET", pods + "?limit=ten", "", "", 400, remote.ReasonBadRequest},
		{"bad watch flag", "GET", pods + "?watch=maybe", "", "", 400, remote.ReasonBadRequest},
		{"bad resourceVersion", "GET", pods + "?watch=true&resourceVersion=x", "", "", 400, remote.ReasonBadRequest},
		{"bad continue token", "GET", pods + "?limit=1&continue=garbage", "", "", 422, remote.ReasonInvalid},
		{"bad propagation policy", "DELETE", pods + "/p1?propagationPolicy=Sideways", "", "", 400, remote.ReasonBadRequest},
		{"bad delete body", "DELETE", pods + "/p1", "application/json", `{"propagationPolicy":1}`, 400, remote.ReasonBadRequest},
		{"unknown delete option", "DELETE", pods + "/p1", "application/json", `{"orphanDependents":true}`, 400, remote.ReasonBadRequest},
		{"delete precondition", "DELETE", pods + "/p1", "application/json", `{"preconditions":{"uid":"not-it"}}`, 409, remote.ReasonConflict},
		{"scale bad body", "PUT", base + "/apis/apps/v1/namespaces/ns/deployments/d/scale", "application/json", `{"apiVersion":"v1","kind":"Pod"}`, 400, remote.ReasonBadRequest},
		{"scale negative", "PUT", base + "/apis/apps/v1/namespaces/ns/deployments/d/scale", "application/json", `{"apiVersion":"autoscaling/v1","kind":"Scale","spec":{"replicas":-1}}`, 422, remote.ReasonInvalid},
		{"txn bad op", "POST", base + remote.TxnPath, "application/json", `{"ops":[{"op":"explode"}]}`, 400, remote.ReasonBadRequest},
		{"txn missing object", "POST", base + remote.TxnPath, "application/json", `{"ops":[{"op":"create"}]}`, 400, remote.ReasonBadRequest},
		{"txn unknown kind", "POST", base + remote.TxnPath, "application/json", `{"ops":[{"op":"check","kind":"Widget","name":"w"}]}`, 400, remote.ReasonBadRequest},
		{"txn get", "GET", base + remote.TxnPath, "", "", 405, remote.ReasonMethodNotAllowed},
		{"compact without revision", "POST", base + remote.CompactPath, "", "", 400, remote.ReasonBadRequest},
		{"compact in the future", "POST", base + remote.CompactPath + "?revision=999999", "", "", 422, remote.ReasonInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, st := rawDo(t, tt.method, tt.url, tt.ctype, tt.body, nil)
			if code != tt.code || st.Reason != tt.reason {
				t.Fatalf("%s %s = %d %s (%s), want %d %s", tt.method, tt.url, code, st.Reason, st.Message, tt.code, tt.reason)
			}
			if st.Kind != "Status" || st.APIVersion != "v1" || st.Status != "Failure" || st.Code != code || st.Message == "" {
				t.Fatalf("malformed status %+v", st)
			}
		})
	}
}

// TestClientErrorClasses checks that the client turns every status back
// into the store's error class.
func TestClientErrorClasses(t *testing.T) {
	for _, json := range []bool{false, true} {
		e := newEnv(t, envOptions{json: json, mem: []memstore.Option{memstore.WithHistory(2, 0)}})
		ctx := context.Background()
		c := e.client
		p, err := c.Create(ctx, testPod("ns", "p"))
		if err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := c.Create(ctx, testPod("ns", "q"+string(rune('a'+i)))); err != nil {
				t.Fatal(err)
			}
		}
		stale := api.Clone(p.(*api.Pod))
		stale.Metadata.ResourceVersion = 1_000_000
		removeFault := e.mem.InjectFault(memstore.Fault{Op: memstore.OpGet, Kind: api.KindSecret, Err: store.ErrUnavailable})
		t.Cleanup(removeFault)
		checks := []struct {
			name  string
			err   error
			class error
		}{
			{"not found", func() error { _, err := c.Get(ctx, api.KindPod, "ns", "nope"); return err }(), store.ErrNotFound},
			{"already exists", func() error { _, err := c.Create(ctx, testPod("ns", "p")); return err }(), store.ErrAlreadyExists},
			{"conflict", func() error { _, err := c.Update(ctx, stale); return err }(), store.ErrConflict},
			{"invalid", func() error { _, err := c.Create(ctx, testPod("ns", "")); return err }(), store.ErrInvalid},
			{"invalid selector", func() error {
				_, err := c.List(ctx, api.KindPod, store.ListOptions{LabelSelector: "a in ("})
				return err
			}(), store.ErrInvalid},
			{"compacted", func() error { _, err := c.Watch(ctx, api.KindPod, store.WatchOptions{Revision: 1}); return err }(), store.ErrCompacted},
			{"unavailable", func() error { _, err := c.Get(ctx, api.KindSecret, "ns", "s"); return err }(), store.ErrUnavailable},
			{"unknown kind", func() error { _, err := c.Get(ctx, "Widget", "ns", "w"); return err }(), store.ErrInvalid},
		}
		for _, ch := range checks {
			if !errors.Is(ch.err, ch.class) {
				t.Errorf("json=%v %s: error %v, want class %v", json, ch.name, ch.err, ch.class)
			}
		}
		var se *remote.StatusError
		if _, err := c.Get(ctx, api.KindPod, "ns", "nope"); !errors.As(err, &se) || se.Status.GetCode() != 404 {
			t.Errorf("json=%v: Get missing = %v, want a *StatusError with code 404", json, err)
		}
	}
}
