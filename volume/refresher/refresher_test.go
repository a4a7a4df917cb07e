package refresher_test

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/configmap"
	"github.com/coxswain-io/coxswain/volume/refresher"
)

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type env struct {
	store *memstore.Store
	reg   *volume.Registry
	pod   *api.Pod
	dir   string
	file  string
}

func setup(t *testing.T) *env {
	t.Helper()
	ctx := t.Context()
	s := memstore.New()
	t.Cleanup(func() { s.Close() })
	for _, o := range []api.Object{
		&api.Namespace{Metadata: &api.ObjectMeta{Name: "default"}},
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "app", Namespace: "default"}, Data: map[string]string{"color": "blue"}},
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "unrelated", Namespace: "default"}, Data: map[string]string{"x": "1"}},
	} {
		if _, err := s.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	reg := volume.NewRegistry(nil)
	if err := reg.Register(configmap.New(s)); err != nil {
		t.Fatal(err)
	}
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"},
		Spec:     &api.PodSpec{Volumes: []*api.Volume{{Name: "cfg", ConfigMap: &api.ConfigMapVolumeSource{Name: "app"}}}},
	}
	dir := t.TempDir()
	paths, err := reg.SetUpPod(ctx, pod, dir)
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: s, reg: reg, pod: pod, dir: dir, file: filepath.Join(paths["cfg"], "color")}
}

func (e *env) setColor(t *testing.T, color string) {
	t.Helper()
	if _, err := store.For[*api.ConfigMap](e.store).Mutate(t.Context(), "default", "app", func(cm *api.ConfigMap) error {
		cm.Data["color"] = color
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) content(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(e.file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func start(t *testing.T, cfg refresher.Config) {
	t.Helper()
	r, err := refresher.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := r.Start(ctx); err != nil {
			t.Errorf("Start: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func TestUpdateOnChange(t *testing.T) {
	e := setup(t)
	pods := refresher.PodSourceFunc(func() []refresher.PodDir { return []refresher.PodDir{{Pod: e.pod, Dir: e.dir}} })
	start(t, refresher.Config{Store: e.store, Registry: e.reg, Pods: pods, Resync: time.Hour})

	// A change to an object the pod does not use touches nothing.
	if _, err := store.For[*api.ConfigMap](e.store).Mutate(t.Context(), "default", "unrelated", func(cm *api.ConfigMap) error {
		cm.Data["x"] = "2"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, color := range []string{"green", "red", "green"} {
		e.setColor(t, color)
		eventually(t, "file shows "+color, func() bool { return e.content(t) == color })
	}
}

// TestConvergesOnStart: a change made before the refresher runs (a missed
// event) is applied by its first pass.
func TestConvergesOnStart(t *testing.T) {
	e := setup(t)
	e.setColor(t, "purple")
	if got := e.content(t); got != "blue" {
		t.Fatalf("file changed before the refresher ran: %q", got)
	}
	pods := refresher.PodSourceFunc(func() []refresher.PodDir { return []refresher.PodDir{{Pod: e.pod, Dir: e.dir}} })
	start(t, refresher.Config{Store: e.store, Registry: e.reg, Pods: pods, Resync: time.Hour})
	eventually(t, "file shows purple", func() bool { return e.content(t) == "purple" })
}

func TestConfig(t *testing.T) {
	if _, err := refresher.New(refresher.Config{}); err == nil {
		t.Fatal("empty config accepted")
	}
}

// TestRetriesFailedWatch: the first watch fails (an unavailable store); the
// refresher retries and still delivers later changes.
func TestRetriesFailedWatch(t *testing.T) {
	e := setup(t)
	remove := e.store.InjectFault(memstore.Fault{Op: memstore.OpWatch, Kind: api.KindConfigMap, Err: store.ErrUnavailable, Count: 1})
	t.Cleanup(remove)
	pods := refresher.PodSourceFunc(func() []refresher.PodDir { return []refresher.PodDir{{Pod: e.pod, Dir: e.dir}} })
	start(t, refresher.Config{Store: e.store, Registry: e.reg, Pods: pods, Resync: time.Hour, RetryDelay: 10 * time.Millisecond})
	e.setColor(t, "orange")
	eventually(t, "file shows orange", func() bool { return e.content(t) == "orange" })
}
