package remote_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, data)
		}
	}
	return resp.StatusCode
}

func send(t *testing.T, method, url, ctype, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// customRegistry is the built-ins plus a custom kind, Widget.
func customRegistry(t *testing.T) *api.Registry {
	reg := api.NewBuiltinRegistry()
	if err := reg.Register(api.KindInfo{APIVersion: "example.io/v1", Kind: "Widget", Scope: api.Namespaced, New: func() api.Object { return &api.Binding{} }}); err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestDiscovery(t *testing.T) {
	reg := customRegistry(t)
	e := newEnv(t, envOptions{mem: []memstore.Option{memstore.WithRegistry(reg)}, client: func(c *remote.ClientConfig) { c.Registry = reg }})
	base := e.http.URL
	var v remote.VersionInfo
	if getJSON(t, base+"/version", &v) != 200 || v.GitVersion == "" || v.GoVersion == "" {
		t.Fatalf("/version = %+v", v)
	}
	var core remote.APIVersions
	if getJSON(t, base+"/api", &core); len(core.Versions) != 1 || core.Versions[0] != "v1" {
		t.Fatalf("/api = %+v", core)
	}
	var groups remote.APIGroupList
	getJSON(t, base+"/apis", &groups)
	names := map[string]string{}
	for _, g := range groups.Groups {
		names[g.Name] = g.PreferredVersion.GroupVersion
	}
	for g, gv := range map[string]string{"apps": "apps/v1", "batch": "batch/v1", "example.io": "example.io/v1", "rbac.authorization.k8s.io": "rbac.authorization.k8s.io/v1"} {
		if names[g] != gv {
			t.Errorf("/apis: group %s preferred %q, want %q", g, names[g], gv)
		}
	}
	var g remote.APIGroup
	if getJSON(t, base+"/apis/example.io", &g) != 200 || g.Name != "example.io" {
		t.Fatalf("/apis/example.io = %+v", g)
	}
	var coreRes, appsRes, exRes remote.APIResourceList
	getJSON(t, base+"/api/v1", &coreRes)
	getJSON(t, base+"/apis/apps/v1", &appsRes)
	getJSON(t, base+"/apis/example.io/v1", &exRes)
	has := func(l remote.APIResourceList, name, kind string, namespaced bool) {
		t.Helper()
		for _, r := range l.Resources {
			if r.Name == name {
				if r.Kind != kind || r.Namespaced != namespaced {
					t.Errorf("%s: %+v", name, r)
				}
				return
			}
		}
		t.Errorf("%s does not list %s", l.GroupVersion, name)
	}
	has(coreRes, "pods", "Pod", true)
	has(coreRes, "pods/status", "Pod", true)
	has(coreRes, "nodes", "Node", false)
	has(coreRes, "replicationcontrollers/scale", "Scale", true)
	has(appsRes, "deployments/scale", "Scale", true)
	has(appsRes, "replicasets/scale", "Scale", true)
	has(exRes, "widgets", "Widget", true)

	// The custom kind is served like a built-in one.
	ctx := context.Background()
	w := &api.Binding{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "w1"}, Target: &api.ObjectReference{Name: "n1"}}
	if _, err := e.client.Create(ctx, w); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.Get(ctx, "Widget", "ns", "w1")
	if err != nil || got.(*api.Binding).GetTarget().GetName() != "n1" {
		t.Fatalf("Get widget = %v, %v", got, err)
	}
	var raw map[string]any
	if getJSON(t, base+"/apis/example.io/v1/namespaces/ns/widgets/w1", &raw) != 200 || raw["kind"] != "Widget" || raw["apiVersion"] != "example.io/v1" {
		t.Fatalf("raw widget = %v", raw)
	}
}

// TestJSONShape checks the wire shape a person or kubectl-like tool sees.
func TestJSONShape(t *testing.T) {
	e := newEnv(t, envOptions{})
	base := e.http.URL + "/api/v1/namespaces/ns/pods"
	yamlPod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  containers:\n  - name: c\n    image: busybox\n"
	code, body := send(t, "POST", base, "application/yaml", yamlPod)
	if code != 201 {
		t.Fatalf("create from YAML = %d %s", code, body)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(body), &obj); err != nil || obj["apiVersion"] != "v1" || obj["kind"] != "Pod" {
		t.Fatalf("created object = %s", body)
	}
	var list struct {
		APIVersion, Kind string
		Metadata         struct{ ResourceVersion string }
		Items            []map[string]any
	}
	if getJSON(t, base+"?labelSelector=app%3Dweb", &list) != 200 || list.Kind != "PodList" || list.Metadata.ResourceVersion == "" || len(list.Items) != 1 {
		t.Fatalf("list = %+v", list)
	}
	if getJSON(t, base+"?labelSelector=app%3Ddb", &list); len(list.Items) != 0 {
		t.Fatalf("label selector did not filter: %+v", list)
	}
	if getJSON(t, e.http.URL+"/api/v1/pods?fieldSelector=metadata.namespace%3Dns", &list); len(list.Items) != 1 {
		t.Fatalf("list across namespaces = %+v", list)
	}

	// A JSON watch: one event per line, with a bookmark when asked.
	resp, err := http.Get(base + "?watch=true&resourceVersion=" + list.Metadata.ResourceVersion + "&allowWatchBookmarks=true")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get(remote.HeaderWatchRevision) != list.Metadata.ResourceVersion {
		t.Fatalf("watch revision header = %q", resp.Header.Get(remote.HeaderWatchRevision))
	}
	if code, body := send(t, "DELETE", base+"/web", "application/json", `{"apiVersion":"v1","kind":"DeleteOptions","propagationPolicy":"Background"}`); code != 200 {
		t.Fatalf("delete = %d %s", code, body)
	}
	sc := bufio.NewScanner(resp.Body)
	var sawDelete, sawBookmark bool
	deadline := time.Now().Add(10 * time.Second)
	for (!sawDelete || !sawBookmark) && time.Now().Before(deadline) && sc.Scan() {
		var ev struct {
			Type   string
			Object map[string]any
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("watch line %q: %v", sc.Text(), err)
		}
		switch ev.Type {
		case "DELETED":
			sawDelete = ev.Object["kind"] == "Pod"
		case "BOOKMARK":
			md, _ := ev.Object["metadata"].(map[string]any)
			sawBookmark = ev.Object["kind"] == "Pod" && md["resourceVersion"] != nil
		}
	}
	if !sawDelete || !sawBookmark {
		t.Fatalf("watch: deleted %v bookmark %v", sawDelete, sawBookmark)
	}
}

func TestScaleAndStatus(t *testing.T) {
	for _, jsonMode := range []bool{false, true} {
		e := newEnv(t, envOptions{json: jsonMode})
		ctx := context.Background()
		three := int32(3)
		d := &api.Deployment{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: &api.DeploymentSpec{Replicas: &three,
			Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}}
		created, err := e.client.Create(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		withStatus := api.Clone(created.(*api.Deployment))
		withStatus.Status = &api.DeploymentStatus{Replicas: 2}
		if _, err := e.client.UpdateStatus(ctx, withStatus); err != nil {
			t.Fatal(err)
		}
		sc, err := e.client.Scale(ctx, api.KindDeployment, "ns", "web")
		if err != nil {
			t.Fatal(err)
		}
		if sc.GetSpec().GetReplicas() != 3 || sc.GetStatus().GetReplicas() != 2 || sc.GetStatus().GetSelector() != "app=web" {
			t.Fatalf("scale = %v", sc)
		}
		sc.Spec.Replicas = 5
		out, err := e.client.UpdateScale(ctx, api.KindDeployment, sc)
		if err != nil || out.GetSpec().GetReplicas() != 5 {
			t.Fatalf("UpdateScale = %v, %v", out, err)
		}
		// The old resourceVersion is a precondition now.
		if _, err := e.client.UpdateScale(ctx, api.KindDeployment, sc); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("stale UpdateScale: %v, want ErrConflict", err)
		}
		got, _ := e.mem.Get(ctx, api.KindDeployment, "ns", "web")
		if got.(*api.Deployment).GetSpec().GetReplicas() != 5 || got.(*api.Deployment).GetStatus().GetReplicas() != 2 {
			t.Fatalf("stored deployment = %v", got)
		}
		rc := &api.ReplicationController{Metadata: &api.ObjectMeta{Namespace: "ns", Name: "rc"}, Spec: &api.ReplicationControllerSpec{Selector: map[string]string{"app": "x"}}}
		if _, err := e.client.Create(ctx, rc); err != nil {
			t.Fatal(err)
		}
		if sc, err := e.client.Scale(ctx, api.KindReplicationController, "ns", "rc"); err != nil || sc.GetStatus().GetSelector() != "app=x" {
			t.Fatalf("rc scale = %v, %v", sc, err)
		}
	}
}

func TestTxnOverHTTP(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	p, err := e.client.Create(ctx, testPod("ns", "a"))
	if err != nil {
		t.Fatal(err)
	}
	body := `{"apiVersion":"remote.coxswain.io/v1","kind":"Transaction","ops":[
	  {"op":"check","kind":"Pod","namespace":"ns","name":"a","resourceVersion":"` + jsonInt(p.GetMetadata().GetResourceVersion()) + `"},
	  {"op":"create","object":{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","name":"b"},"spec":{"containers":[{"name":"c","image":"x"}]}}},
	  {"op":"delete","kind":"Pod","namespace":"ns","name":"a","deleteOptions":{"preconditions":{"uid":"` + p.GetMetadata().GetUid() + `"}}}]}`
	code, out := send(t, "POST", e.http.URL+remote.TxnPath, "application/json", body)
	if code != 200 {
		t.Fatalf("txn = %d %s", code, out)
	}
	var res struct {
		Kind  string
		Items []json.RawMessage
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || res.Kind != "TransactionResult" || len(res.Items) != 3 {
		t.Fatalf("txn result = %s", out)
	}
	if _, err := e.mem.Get(ctx, api.KindPod, "ns", "a"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a still there: %v", err)
	}
	// A failing check fails the whole transaction with 409.
	code, out = send(t, "POST", e.http.URL+remote.TxnPath, "application/json",
		`{"ops":[{"op":"create","object":{"apiVersion":"v1","kind":"Pod","metadata":{"namespace":"ns","name":"c"}}},{"op":"check","kind":"Pod","namespace":"ns","name":"b","resourceVersion":"1"}]}`)
	if code != 409 {
		t.Fatalf("failing txn = %d %s", code, out)
	}
	if _, err := e.mem.Get(ctx, api.KindPod, "ns", "c"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("failed txn wrote c: %v", err)
	}
}

func jsonInt(v int64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestDeleteOptionsOverHTTP(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	p, _ := e.client.Create(ctx, testPod("ns", "a"))
	base := e.http.URL + "/api/v1/namespaces/ns/pods/a"
	if code, _ := send(t, "DELETE", base+"?preconditions.resourceVersion=999", "", ""); code != 409 {
		t.Fatalf("stale resourceVersion in query: %d, want 409", code)
	}
	code, out := send(t, "DELETE", base+"?propagationPolicy=Foreground&preconditions.uid="+p.GetMetadata().GetUid(), "", "")
	if code != 200 {
		t.Fatalf("foreground delete = %d %s", code, out)
	}
	got, err := e.mem.Get(ctx, api.KindPod, "ns", "a")
	if err != nil || got.GetMetadata().GetDeletionTimestamp() == nil {
		t.Fatalf("foreground delete should mark the pod: %v, %v", got, err)
	}
}

func TestServerStart(t *testing.T) {
	mem := memstore.New()
	t.Cleanup(func() { _ = mem.Close() })
	srv, err := remote.NewServer(remote.ServerConfig{Store: mem, Address: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Start = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Start did not return after its context ended")
	}
	if _, err := remote.NewServer(remote.ServerConfig{}); err == nil {
		t.Fatal("NewServer without a store succeeded")
	}
	if _, err := remote.NewClient(remote.ClientConfig{Servers: []string{"ftp://x"}}); err == nil {
		t.Fatal("NewClient with a bad URL succeeded")
	}
}

func TestMethodNotAllowedNamesAllowed(t *testing.T) {
	e := newEnv(t, envOptions{noClient: true})
	req, _ := http.NewRequest("PATCH", e.http.URL+"/api/v1/namespaces/ns/pods/p", strings.NewReader("{}"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, PUT, DELETE" {
		t.Fatalf("PATCH = %d, Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestHealthAndReadiness(t *testing.T) {
	e := newEnv(t, envOptions{noClient: true})
	if code := getJSON(t, e.http.URL+"/healthz", nil); code != 200 {
		t.Fatalf("/healthz = %d", code)
	}
	if code := getJSON(t, e.http.URL+"/readyz", nil); code != 200 {
		t.Fatalf("/readyz = %d", code)
	}
	_ = e.mem.Close()
	if code := getJSON(t, e.http.URL+"/readyz", nil); code != 503 {
		t.Fatalf("/readyz of a closed store = %d, want 503", code)
	}
}
