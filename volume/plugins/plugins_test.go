package plugins_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/fake"
	"github.com/coxswain-io/coxswain/volume/local"
	"github.com/coxswain-io/coxswain/volume/plugins"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func create(t *testing.T, s store.Store, objs ...api.Object) {
	t.Helper()
	for _, o := range objs {
		if _, err := s.Create(t.Context(), o); err != nil {
			t.Fatalf("create %T: %v", o, err)
		}
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestPodLifecycle runs a pod with every built-in volume type against a
// real (in-memory) store: set-up, an update of the ConfigMap and the Secret
// through the store, and tear-down; then a second pod reads what the first
// wrote to its claim.
func TestPodLifecycle(t *testing.T) {
	volumetest.RequireRoot(t)
	ctx := t.Context()
	s := memstore.New()
	t.Cleanup(func() { s.Close() })
	create(t, s, &api.Namespace{Metadata: &api.ObjectMeta{Name: "shop"}})

	prov, err := local.New(local.Config{BaseDir: filepath.Join(t.TempDir(), "pvs"), NodeName: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	claim := &api.PersistentVolumeClaim{
		Metadata: &api.ObjectMeta{Name: "data", Namespace: "shop"},
		Spec:     &api.PersistentVolumeClaimSpec{AccessModes: []string{"ReadWriteOnce"}, Resources: &api.ResourceRequirements{Requests: map[string]string{"storage": "1Gi"}}},
	}
	pv, err := prov.Provision(ctx, volume.ProvisionRequest{Claim: claim, Class: &api.StorageClass{Metadata: &api.ObjectMeta{Name: "local"}}, VolumeName: "pv-data"})
	if err != nil {
		t.Fatal(err)
	}
	// Bind by hand, as the binding controller would.
	claim.Spec.VolumeName = "pv-data"
	claim.Status = &api.PersistentVolumeClaimStatus{Phase: "Bound"}
	pv.Spec.ClaimRef = &api.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "shop", Name: "data"}
	create(t, s,
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "web", Namespace: "shop"}, Data: map[string]string{"index.html": "v1"}},
		&api.Secret{Metadata: &api.ObjectMeta{Name: "tls", Namespace: "shop"}, Data: map[string][]byte{"key": []byte("k1")}},
		claim, pv,
	)

	reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: s, Extra: []volume.Plugin{fake.New("fake")}})
	if err != nil {
		t.Fatal(err)
	}
	host := t.TempDir()
	pod := func(name string) *api.Pod {
		return &api.Pod{
			Metadata: &api.ObjectMeta{Name: name, Namespace: "shop", Labels: map[string]string{"app": "web"}},
			Spec: &api.PodSpec{Volumes: []*api.Volume{
				{Name: "scratch", EmptyDir: &api.EmptyDirVolumeSource{}},
				{Name: "cache", EmptyDir: &api.EmptyDirVolumeSource{Medium: "Memory", SizeLimit: "4Mi"}},
				{Name: "host", HostPath: &api.HostPathVolumeSource{Path: host, Type: "Directory"}},
				{Name: "site", ConfigMap: &api.ConfigMapVolumeSource{Name: "web"}},
				{Name: "tls", Secret: &api.SecretVolumeSource{SecretName: "tls"}},
				{Name: "info", DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{{Path: "labels", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.labels"}}}}},
				{Name: "all", Projected: &api.ProjectedVolumeSource{Sources: []*api.VolumeProjection{{ConfigMap: &api.ConfigMapVolumeSource{Name: "web"}}}}},
				{Name: "data", PersistentVolumeClaim: &api.PersistentVolumeClaimVolumeSource{ClaimName: "data"}},
				{Name: "vendor", FlexVolume: &api.FlexVolumeSource{Driver: "fake", Options: map[string]string{"k": "v"}}},
			}},
		}
	}

	podDir := t.TempDir()
	t.Cleanup(func() { volumetest.UnmountUnder(t, podDir) })
	p1 := pod("web-1")
	paths, err := reg.SetUpPod(ctx, p1, podDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) != len(p1.Spec.Volumes) {
		t.Fatalf("paths = %v", paths)
	}
	checks := map[string]string{
		filepath.Join(paths["site"], "index.html"): "v1",
		filepath.Join(paths["tls"], "key"):         "k1",
		filepath.Join(paths["info"], "labels"):     `app="web"`,
		filepath.Join(paths["all"], "index.html"):  "v1",
		filepath.Join(paths["vendor"], "k"):        "v",
	}
	for p, want := range checks {
		if got := read(t, p); got != want {
			t.Errorf("%s = %q, want %q", p, got, want)
		}
	}
	for _, v := range []string{"cache", "tls", "all"} {
		if fs, _ := volume.FSType(paths[v]); fs != volume.FSTmpfs {
			t.Errorf("volume %s on %q, want tmpfs", v, fs)
		}
	}
	if paths["host"] != host {
		t.Errorf("hostPath = %q", paths["host"])
	}
	if err := os.WriteFile(filepath.Join(paths["data"], "row"), []byte("42"), 0o644); err != nil {
		t.Fatal(err)
	}

	// The ConfigMap and the Secret change in the store; the agent updates
	// the pods that use them.
	if _, err := store.For[*api.ConfigMap](s).Mutate(ctx, "shop", "web", func(cm *api.ConfigMap) error {
		cm.Data["index.html"] = "v2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.For[*api.Secret](s).Mutate(ctx, "shop", "tls", func(sec *api.Secret) error {
		sec.Data["key"] = []byte("k2")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !volume.Uses(p1, api.KindConfigMap, "shop", "web") {
		t.Fatal("Uses does not see the ConfigMap")
	}
	if err := reg.UpdatePod(ctx, p1, podDir); err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		filepath.Join(paths["site"], "index.html"): "v2",
		filepath.Join(paths["all"], "index.html"):  "v2",
		filepath.Join(paths["tls"], "key"):         "k2",
	} {
		if got := read(t, p); got != want {
			t.Errorf("after update %s = %q, want %q", p, got, want)
		}
	}

	if err := reg.TearDownPod(ctx, podDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(podDir, "volumes")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("volumes left after tear-down: %v", err)
	}

	// A new pod with the same claim reads the data back.
	podDir2 := t.TempDir()
	t.Cleanup(func() { volumetest.UnmountUnder(t, podDir2) })
	paths, err = reg.SetUpPod(ctx, pod("web-2"), podDir2)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(paths["data"], "row")); got != "42" {
		t.Fatalf("second pod reads %q", got)
	}
	if err := reg.TearDownPod(ctx, podDir2); err != nil {
		t.Fatal(err)
	}
}

func TestConfig(t *testing.T) {
	if _, err := plugins.NewRegistry(t.Context(), plugins.Config{}); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("no Objects: %v", err)
	}
	s := memstore.New()
	t.Cleanup(func() { s.Close() })
	if _, err := plugins.NewRegistry(t.Context(), plugins.Config{Objects: s, Extra: []volume.Plugin{fake.New("secret")}}); !errors.Is(err, volume.ErrDuplicate) {
		t.Fatalf("duplicate extra plugin: %v", err)
	}
}

func ExampleNewRegistry() {
	ctx := context.Background()
	s := memstore.New()
	defer s.Close()
	_, _ = s.Create(ctx, &api.Namespace{Metadata: &api.ObjectMeta{Name: "default"}})
	_, _ = s.Create(ctx, &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "greeting", Namespace: "default"}, Data: map[string]string{"message": "hello"}})

	reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: s})
	if err != nil {
		fmt.Println(err)
		return
	}
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "app", Namespace: "default"},
		Spec: &api.PodSpec{Volumes: []*api.Volume{
			{Name: "config", ConfigMap: &api.ConfigMapVolumeSource{Name: "greeting"}},
			{Name: "scratch", EmptyDir: &api.EmptyDirVolumeSource{}},
		}},
	}
	podDir, _ := os.MkdirTemp("", "pod")
	defer os.RemoveAll(podDir)

	paths, err := reg.SetUpPod(ctx, pod, podDir)
	if err != nil {
		fmt.Println(err)
		return
	}
	msg, _ := os.ReadFile(filepath.Join(paths["config"], "message"))
	fmt.Println(string(msg))
	fmt.Println(reg.TearDownPod(ctx, podDir))
	// Output:
	// hello
	// <nil>
}
