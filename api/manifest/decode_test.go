package manifest_test

import (
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/manifest"
	"github.com/coxswain-io/coxswain/api/validation"
)

const deploymentYAML = `# a real Kubernetes manifest, unchanged
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app: web
  resourceVersion: "12"
  creationTimestamp: 2024-01-02T03:04:05Z
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 25%
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        args: ["-g", "daemon off;"]
        env:
        - name: MODE
          value: "production"
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        ports:
        - name: http
          containerPort: 80
        resources:
          requests:
            cpu: 100m
            memory: 128Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: http
          periodSeconds: 5
      volumes:
      - name: cache
        emptyDir: {}
`

func TestDecodeDeployment(t *testing.T) {
	objs, err := manifest.Decode([]byte(deploymentYAML), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 {
		t.Fatalf("got %d objects", len(objs))
	}
	d, ok := objs[0].(*api.Deployment)
	if !ok {
		t.Fatalf("got %T", objs[0])
	}
	md := d.GetMetadata()
	c := d.GetSpec().GetTemplate().GetSpec().GetContainers()[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"name", md.GetName(), "web"},
		{"namespace", md.GetNamespace(), "shop"},
		{"resourceVersion", md.GetResourceVersion(), int64(12)},
		{"creationTimestamp", md.GetCreationTimestamp().AsTime().Unix(), int64(1704164645)},
		{"replicas", d.GetSpec().GetReplicas(), int32(3)},
		{"maxSurge", d.GetSpec().GetStrategy().GetRollingUpdate().GetMaxSurge().GetIntVal(), int32(1)},
		{"maxUnavailable", d.GetSpec().GetStrategy().GetRollingUpdate().GetMaxUnavailable().GetStrVal(), "25%"},
		{"image", c.GetImage(), "nginx:1.25"},
		{"args", strings.Join(c.GetArgs(), "|"), "-g|daemon off;"},
		{"env fieldRef", c.GetEnv()[1].GetValueFrom().GetFieldRef().GetFieldPath(), "metadata.name"},
		{"cpu", c.GetResources().GetRequests()["cpu"], "100m"},
		{"probe port", c.GetReadinessProbe().GetHttpGet().GetPort().GetStrVal(), "http"},
		{"emptyDir set", d.GetSpec().GetTemplate().GetSpec().GetVolumes()[0].GetEmptyDir() != nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDecodeJSONAndStreams(t *testing.T) {
	in := `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "resourceVersion": 7},
  "data": {"password": "cGFzc3dvcmQ="}}
---
---
# only a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: a}
  data: {k: v}
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop}
`
	objs, err := manifest.Decode([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 {
		t.Fatalf("got %d objects, want 3", len(objs))
	}
	s := objs[0].(*api.Secret)
	if string(s.GetData()["password"]) != "password" || s.GetMetadata().GetResourceVersion() != 7 {
		t.Errorf("secret = %v", s)
	}
	if objs[1].(*api.ConfigMap).GetData()["k"] != "v" || objs[2].(*api.Namespace).GetMetadata().GetName() != "shop" {
		t.Errorf("list items = %v", objs[1:])
	}
	docs, err := manifest.DecodeDocuments([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	if docs[0].Index != 0 || docs[1].Index != 3 || docs[2].Index != 3 {
		t.Errorf("document indexes = %d %d %d, want 0 3 3", docs[0].Index, docs[1].Index, docs[2].Index)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want error
		msg  string
	}{
		{"unknown field", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n      containers:\n      - name: x\n        imagee: y\n",
			manifest.ErrUnknownField, `document 0, line 9: spec.template.spec.containers[0].imagee: unknown field "imagee"`},
		{"unknown kind", "apiVersion: v1\nkind: Pot\n", api.ErrUnknownKind, `document 0, line 2: kind: unknown kind: apiVersion "v1" kind "Pot"`},
		{"wrong group", "apiVersion: v1\nkind: Deployment\n", api.ErrUnknownKind, `kind Deployment is served as apiVersion apps/v1`},
		{"missing kind", "apiVersion: v1\nmetadata: {name: x}\n", manifest.ErrMissingField, `document 0, line 1: kind: required field missing`},
		{"not a mapping", "- a\n- b\n", manifest.ErrInvalidValue, `must be a mapping`},
		{"syntax", "apiVersion: v1\nkind: Pod\n metadata: [\n", manifest.ErrSyntax, `document 0, line 3`},
		{"wrong type", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: 5\n", manifest.ErrInvalidValue, `metadata.name: invalid value: expected a string (quote it), got integer 5`},
		{"int overflow", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  replicas: 99999999999\n", manifest.ErrInvalidValue, `spec.replicas`},
		{"bad base64", "apiVersion: v1\nkind: Secret\ndata:\n  k: '***'\n", manifest.ErrInvalidValue, `data[k]: invalid value: expected base64 data`},
		{"bad time", "apiVersion: v1\nkind: Pod\nmetadata:\n  creationTimestamp: yesterday\n", manifest.ErrInvalidValue, `metadata.creationTimestamp`},
		{"duplicate", "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nmetadata: {name: b}\n", manifest.ErrDuplicateField, `line 4: metadata: duplicate field`},
		{"duplicate map key", "apiVersion: v1\nkind: ConfigMap\ndata: {a: x, a: y}\n", manifest.ErrDuplicateField, `data[a]`},
		{"list expected", "apiVersion: v1\nkind: Pod\nspec:\n  containers: {name: x}\n", manifest.ErrInvalidValue, `spec.containers: invalid value: expected a list, got a mapping`},
		{"intorstring", "apiVersion: apps/v1\nkind: Deployment\nspec:\n  strategy:\n    rollingUpdate:\n      maxSurge: [1]\n", manifest.ErrInvalidValue, `spec.strategy.rollingUpdate.maxSurge`},
		{"list item", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  spex: {}\n", manifest.ErrUnknownField, `items[0].spex`},
		{"second document", "apiVersion: v1\nkind: Namespace\n---\napiVersion: v1\nkind: Namespace\nstatus: {phas: x}\n", manifest.ErrUnknownField, `document 1, line 6: status.phas`},
		{"billion laughs", laughs(), manifest.ErrTooComplex, `too complex`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := manifest.Decode([]byte(tt.in), nil)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
			var me *manifest.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *manifest.Error", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("error %q does not contain %q", err, tt.msg)
			}
		})
	}
}

// laughs builds a small document whose aliases expand to more than a
// million nodes along the Pod schema (containers x args), past the budget.
func laughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  initContainers:\n  - &c\n    name: c\n    args: [")
	for j := 0; j < 1000; j++ {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString("x")
	}
	b.WriteString("]\n  containers: [")
	for j := 0; j < 1100; j++ {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*c")
	}
	b.WriteString("]\n")
	return b.String()
}

func TestDecodeReportsEveryFieldError(t *testing.T) {
	in := "apiVersion: v1\nkind: Pod\nmetadata:\n  nmae: x\nspec:\n  restartPolicy: 3\n  containers:\n  - name: a\n    imagePullPolicy: [x]\n"
	_, err := manifest.Decode([]byte(in), nil)
	for _, want := range []string{"metadata.nmae", "spec.restartPolicy", "spec.containers[0].imagePullPolicy"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not mention %s", err, want)
		}
	}
}

func TestDecodeCustomKind(t *testing.T) {
	reg := api.NewRegistry()
	// Any message with an ObjectMeta metadata field is a kind; reuse
	// ConfigMap's message under a custom group to show the mechanism.
	reg.MustRegister(api.KindInfo{APIVersion: "example.com/v1", Kind: "Settings", New: func() api.Object { return &api.ConfigMap{} }})
	objs, err := manifest.Decode([]byte("apiVersion: example.com/v1\nkind: Settings\nmetadata: {name: s}\ndata: {a: b}\n"), reg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := manifest.Encode(objs[0], manifest.YAML, manifest.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "apiVersion: example.com/v1\nkind: Settings\n") {
		t.Fatalf("encoded = %s", b)
	}
	if _, err := manifest.Encode(objs[0], manifest.YAML, manifest.WithRegistry(api.NewRegistry())); !errors.Is(err, api.ErrUnknownKind) {
		t.Fatalf("encode with empty registry: %v", err)
	}
}

func TestEncodeAllRoundTrip(t *testing.T) {
	objs, err := manifest.Decode([]byte(deploymentYAML+"---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports:\n  - port: 80\n    targetPort: http\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []manifest.Format{manifest.YAML, manifest.JSON, manifest.CompactJSON} {
		t.Run(f.String(), func(t *testing.T) {
			b, err := manifest.EncodeAll(objs, f)
			if err != nil {
				t.Fatal(err)
			}
			back, err := manifest.Decode(b, nil)
			if err != nil {
				t.Fatalf("decode %s: %v\n%s", f, err, b)
			}
			if len(back) != len(objs) {
				t.Fatalf("got %d objects back, want %d", len(back), len(objs))
			}
			for i := range objs {
				if !proto.Equal(objs[i], back[i]) {
					t.Errorf("object %d changed:\n%v\n%v", i, objs[i], back[i])
				}
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(deploymentYAML))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Secret","data":{"a":"YQ=="}}`))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1, kind: Pod}]\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		objs, err := manifest.Decode(data, nil)
		if err != nil {
			var me *manifest.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *manifest.Error", err)
			}
		}
		// Whatever decoded must survive a round trip, and defaulting and
		// validation must never panic on it.
		for _, obj := range objs {
			defaulted := proto.Clone(obj).(api.Object)
			validation.Default(defaulted)
			_ = validation.ValidateObject(defaulted)
			for _, format := range []manifest.Format{manifest.YAML, manifest.JSON} {
				b, err := manifest.Encode(obj, format)
				if err != nil {
					t.Fatalf("encode %s: %v", format, err)
				}
				back, err := manifest.Decode(b, nil)
				if err != nil || len(back) != 1 || !proto.Equal(back[0], obj) {
					t.Fatalf("%s round trip failed: %v\n%s", format, err, b)
				}
			}
		}
	})
}

func TestDecodeIsCaseSensitive(t *testing.T) {
	for _, field := range []string{"Image", "image_pull_policy", "hostip"} {
		in := "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    " + field + ": x\n"
		if _, err := manifest.Decode([]byte(in), nil); !errors.Is(err, manifest.ErrUnknownField) {
			t.Errorf("field %q: error = %v, want ErrUnknownField", field, err)
		}
	}
	in := "apiVersion: v1\nkind: Pod\nspec:\n  hostPID: true\n  hostIPC: true\n  containers:\n  - name: a\n    ports:\n    - containerPort: 80\n      hostIP: 127.0.0.1\n"
	objs, err := manifest.Decode([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := objs[0].(*api.Pod)
	if !p.GetSpec().GetHostPid() || !p.GetSpec().GetHostIpc() || p.GetSpec().GetContainers()[0].GetPorts()[0].GetHostIp() != "127.0.0.1" {
		t.Errorf("Kubernetes acronym field names not decoded: %v", p)
	}
}

func TestDecodeMergeKeys(t *testing.T) {
	in := `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
  - &base
    name: base
    image: busybox
    resources:
      limits: {cpu: "1"}
  - <<: *base
    name: second
  - <<: [{name: ignored, args: [a]}, *base]
    name: third
`
	objs, err := manifest.Decode([]byte(in), nil)
	if err != nil {
		t.Fatal(err)
	}
	cs := objs[0].(*api.Pod).GetSpec().GetContainers()
	if len(cs) != 3 {
		t.Fatalf("got %d containers", len(cs))
	}
	for i, want := range []string{"base", "second", "third"} {
		if cs[i].GetName() != want || cs[i].GetImage() != "busybox" || cs[i].GetResources().GetLimits()["cpu"] != "1" {
			t.Errorf("container %d = %v", i, cs[i])
		}
	}
	if got := cs[2].GetArgs(); len(got) != 1 || got[0] != "a" {
		t.Errorf("merged args = %v", got)
	}
	_, err = manifest.Decode([]byte("apiVersion: v1\nkind: Pod\nspec:\n  <<: [1]\n"), nil)
	if !errors.Is(err, manifest.ErrInvalidValue) || !strings.Contains(err.Error(), "line 4: spec: invalid value: a YAML merge key needs a mapping") {
		t.Errorf("bad merge error = %v", err)
	}
}

func TestDecodeListLimits(t *testing.T) {
	_, err := manifest.Decode([]byte("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items: []\n"), nil)
	if !errors.Is(err, manifest.ErrInvalidValue) || !strings.Contains(err.Error(), "items[0].kind: invalid value: a List may not hold another List") {
		t.Errorf("nested List error = %v", err)
	}
	// Items share one budget: many items aliasing one big container list
	// cannot multiply the work.
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: List\nitems:\n- &p\n  apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n  spec:\n    containers: [")
	for i := 0; i < 2000; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("{name: c, args: [a, b, c, d, e, f, g, h]}")
	}
	b.WriteString("]\n")
	for i := 0; i < 200; i++ {
		b.WriteString("- *p\n")
	}
	_, err = manifest.Decode([]byte(b.String()), nil)
	if !errors.Is(err, manifest.ErrTooComplex) {
		t.Errorf("shared budget error = %v", err)
	}
}
