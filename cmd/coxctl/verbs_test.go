package main

import (
	"context"
	"flag"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/orchestrator/admission"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/store/remote"
)

// startServer serves an in-memory store (behind the admission chain, as
// coxd does) over the remote API and points coxctl at it.
func startServer(t *testing.T) store.Store {
	t.Helper()
	ms := memstore.New()
	chain, err := admission.NewDefault(ms)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := remote.NewServer(remote.ServerConfig{Store: chain})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Setenv("COXSWAIN_SERVER", hs.URL)
	t.Setenv("COXSWAIN_CONFIG", "/dev/null")
	t.Setenv("COXSWAIN_TOKEN", "")
	t.Setenv("COXSWAIN_NAMESPACE", "")
	return chain
}

const webManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: httpd
        image: busybox:1
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  clusterIP: 10.96.0.10
  ports:
  - port: 80
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := runCmd(t, "", args...)
	if code != exitOK {
		t.Fatalf("coxctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestApplyCreatesUpdatesAndLeavesUnchanged(t *testing.T) {
	st := startServer(t)
	f := writeFile(t, "web.yaml", webManifest)
	if out := mustRun(t, "apply", "-f", f); out != "deployment.apps/web created\nservice/web created\n" {
		t.Errorf("first apply:\n%s", out)
	}
	if out := mustRun(t, "apply", "-f", f); out != "deployment.apps/web unchanged\nservice/web unchanged\n" {
		t.Errorf("second apply:\n%s", out)
	}
	f2 := writeFile(t, "web.yaml", strings.Replace(webManifest, "busybox:1", "busybox:2", 1))
	if out := mustRun(t, "apply", "-f", filepath.Dir(f2)); out != "deployment.apps/web configured\nservice/web unchanged\n" {
		t.Errorf("apply of a directory with a changed image:\n%s", out)
	}
	d, err := store.For[*api.Deployment](st).Get(context.Background(), "default", "web")
	if err != nil {
		t.Fatal(err)
	}
	if img := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0].GetImage(); img != "busybox:2" {
		t.Errorf("image %q", img)
	}
	// Dry runs change nothing.
	f3 := writeFile(t, "web.yaml", strings.Replace(webManifest, "busybox:1", "busybox:3", 1))
	if out := mustRun(t, "apply", "--dry-run", "-f", f3); !strings.Contains(out, "configured (dry run)") {
		t.Errorf("dry run:\n%s", out)
	}
	d2, _ := store.For[*api.Deployment](st).Get(context.Background(), "default", "web")
	if d2.GetMetadata().GetResourceVersion() != d.GetMetadata().GetResourceVersion() {
		t.Error("dry run wrote")
	}
}

func TestApplyKeepsAllocatedFields(t *testing.T) {
	st := startServer(t)
	noIP := strings.Replace(webManifest, "  clusterIP: 10.96.0.10\n", "", 1)
	f := writeFile(t, "web.yaml", noIP)
	mustRun(t, "apply", "-f", f)
	// The control plane allocates an address; a re-apply keeps it.
	if _, err := store.For[*api.Service](st).Mutate(context.Background(), "default", "web", func(s *api.Service) error {
		s.Spec.ClusterIp = "10.96.0.7"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "apply", "-f", f); !strings.Contains(out, "service/web unchanged") {
		t.Errorf("re-apply:\n%s", out)
	}
}

func TestGetFormats(t *testing.T) {
	startServer(t)
	mustRun(t, "apply", "-f", writeFile(t, "web.yaml", webManifest))
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"get", "deployments"}, []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "web", "0/2"}},
		{[]string{"get", "deploy", "web", "-o", "wide"}, []string{"IMAGES", "busybox:1"}},
		{[]string{"get", "svc"}, []string{"CLUSTER-IP", "10.96.0.10", "80/TCP"}},
		{[]string{"get", "services", "-o", "name"}, []string{"service/web"}},
		{[]string{"get", "deployment/web", "-o", "yaml"}, []string{"apiVersion: apps/v1", "kind: Deployment", "name: web"}},
		{[]string{"get", "svc", "web", "-o", "json"}, []string{`"kind": "Service"`}},
		{[]string{"get", "deployments", "-A"}, []string{"NAMESPACE", "default"}},
		{[]string{"get", "deployments", "-l", "app=web"}, []string{"web"}},
		{[]string{"get", "deploy,svc", "-o", "name"}, []string{"deployment.apps/web", "service/web"}},
		{[]string{"get", "deploy,svc"}, []string{"UP-TO-DATE", "CLUSTER-IP"}},
	}
	for _, tt := range tests {
		out := mustRun(t, tt.args...)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("coxctl %s: missing %q in:\n%s", strings.Join(tt.args, " "), w, out)
			}
		}
	}
	if out := mustRun(t, "get", "deployments", "-l", "app=other"); strings.Contains(out, "web") {
		t.Errorf("selector did not filter:\n%s", out)
	}
	if _, errOut, code := runCmd(t, "", "get", "widgets"); code != exitUsage || !strings.Contains(errOut, "unknown resource type") {
		t.Errorf("unknown type: %d %s", code, errOut)
	}
	if _, errOut, code := runCmd(t, "", "get", "pods", "missing"); code != exitFailed || !strings.Contains(errOut, "not found") {
		t.Errorf("missing pod: %d %s", code, errOut)
	}
}

func TestScaleDescribeDelete(t *testing.T) {
	st := startServer(t)
	ctx := context.Background()
	mustRun(t, "apply", "-f", writeFile(t, "web.yaml", webManifest))
	if out := mustRun(t, "scale", "deployment/web", "--replicas=5"); out != "deployment.apps/web scaled\n" {
		t.Errorf("scale: %q", out)
	}
	d, _ := store.For[*api.Deployment](st).Get(ctx, "default", "web")
	if d.GetSpec().GetReplicas() != 5 {
		t.Errorf("replicas %d", d.GetSpec().GetReplicas())
	}
	if _, errOut, code := runCmd(t, "", "scale", "service/web", "--replicas=2"); code != exitFailed || !strings.Contains(errOut, "no spec.replicas") {
		t.Errorf("scaling a service: %d %s", code, errOut)
	}
	ev := &api.Event{
		Metadata:       &api.ObjectMeta{Name: "web.1", Namespace: "default"},
		InvolvedObject: &api.ObjectReference{Kind: "Deployment", Name: "web", Namespace: "default", Uid: d.GetMetadata().GetUid()},
		Reason:         "ScalingReplicaSet", Message: "Scaled up replica set web-1 to 5", Type: "Normal", Count: 1,
	}
	if _, err := st.Create(ctx, ev); err != nil {
		t.Fatal(err)
	}
	out := mustRun(t, "describe", "deployment", "web")
	for _, w := range []string{"Name:", "web", "Labels:", "app=web", "replicas: 5", "Events:", "ScalingReplicaSet", "Scaled up replica set web-1 to 5"} {
		if !strings.Contains(out, w) {
			t.Errorf("describe lacks %q:\n%s", w, out)
		}
	}
	if out := mustRun(t, "delete", "deployment", "web", "--cascade=orphan", "--wait=false"); out != "deployment.apps/web deleted\n" {
		t.Errorf("delete: %q", out)
	}
	if out := mustRun(t, "delete", "svc/web"); out != "service/web deleted\n" {
		t.Errorf("delete: %q", out)
	}
	if _, err := st.Get(ctx, api.KindService, "default", "web"); !store.IsNotFound(err) {
		t.Errorf("service still there: %v", err)
	}
}

func TestRolloutHistoryAndUndo(t *testing.T) {
	st := startServer(t)
	ctx := context.Background()
	mustRun(t, "apply", "-f", writeFile(t, "web.yaml", webManifest))
	d, _ := store.For[*api.Deployment](st).Get(ctx, "default", "web")
	for i, img := range []string{"busybox:1", "busybox:2"} {
		rs := &api.ReplicaSet{
			Metadata: &api.ObjectMeta{Name: "web-" + img[len(img)-1:], Namespace: "default",
				Labels:          map[string]string{"app": "web"},
				Annotations:     map[string]string{"deployment.kubernetes.io/revision": string(rune('1' + i))},
				OwnerReferences: []*api.OwnerReference{{ApiVersion: "apps/v1", Kind: "Deployment", Name: "web", Uid: d.GetMetadata().GetUid(), Controller: true}}},
			Spec: &api.ReplicaSetSpec{Replicas: proto.Int32(int32(i * 2)), Selector: &api.LabelSelector{MatchLabels: map[string]string{"app": "web"}},
				Template: &api.PodTemplateSpec{Metadata: &api.ObjectMeta{Labels: map[string]string{"app": "web"}},
					Spec: &api.PodSpec{Containers: []*api.Container{{Name: "httpd", Image: img}}}}},
		}
		if _, err := st.Create(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	out := mustRun(t, "rollout", "history", "deployment/web")
	if !strings.Contains(out, "REVISION") || strings.Index(out, "web-1") > strings.Index(out, "web-2") || !strings.Contains(out, "busybox:2") {
		t.Errorf("history:\n%s", out)
	}
	mustRun(t, "rollout", "undo", "deployment/web")
	d, _ = store.For[*api.Deployment](st).Get(ctx, "default", "web")
	if d.GetMetadata().GetAnnotations()["deployment.coxswain.io/rollback-to"] != "0" {
		t.Errorf("annotations %v", d.GetMetadata().GetAnnotations())
	}
}

func TestCordonUncordon(t *testing.T) {
	st := startServer(t)
	ctx := context.Background()
	if _, err := st.Create(ctx, &api.Node{Metadata: &api.ObjectMeta{Name: "n1"}, Spec: &api.NodeSpec{}}); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, "cordon", "n1"); out != "node/n1 cordoned\n" {
		t.Errorf("cordon: %q", out)
	}
	if out := mustRun(t, "get", "nodes"); !strings.Contains(out, "SchedulingDisabled") {
		t.Errorf("get nodes:\n%s", out)
	}
	mustRun(t, "uncordon", "n1")
	n, _ := store.For[*api.Node](st).Get(ctx, "", "n1")
	if n.GetSpec().GetUnschedulable() {
		t.Error("still unschedulable")
	}
}

func TestParseVerbFlagsInterspersed(t *testing.T) {
	tests := []struct {
		args []string
		pos  []string
		ns   string
	}{
		{[]string{"pods", "-n", "x"}, []string{"pods"}, "x"},
		{[]string{"-n", "x", "pods", "a"}, []string{"pods", "a"}, "x"},
		{[]string{"pod", "-n", "x", "--", "ls", "-l"}, []string{"pod", "ls", "-l"}, "x"},
	}
	for _, tt := range tests {
		var c connFlags
		fs := newTestFlagSet(&c)
		pos, code, stop := parseVerbFlags(fs, tt.args)
		if stop || code != exitOK || strings.Join(pos, " ") != strings.Join(tt.pos, " ") || c.namespace != tt.ns {
			t.Errorf("%v: pos %v ns %q (code %d stop %v)", tt.args, pos, c.namespace, code, stop)
		}
	}
}

func TestResolveKind(t *testing.T) {
	reg := api.Builtin()
	for typed, want := range map[string]string{
		"pods": api.KindPod, "pod": api.KindPod, "po": api.KindPod, "Pod": api.KindPod,
		"deploy": api.KindDeployment, "deployments.apps": api.KindDeployment, "svc": api.KindService,
		"no": api.KindNode, "rs": api.KindReplicaSet, "endpoints": api.KindEndpoints,
	} {
		k, err := resolveKind(reg, typed)
		if err != nil || k.Kind != want {
			t.Errorf("%s: %v %v", typed, k.Kind, err)
		}
	}
}

func newTestFlagSet(c *connFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.register(fs, true)
	return fs
}
