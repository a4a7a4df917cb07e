package volume_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/encrypt"
	"github.com/coxswain-io/coxswain/store/memstore"
	"github.com/coxswain-io/coxswain/volume/atomicwriter"
	"github.com/coxswain-io/coxswain/volume/plugins"
)

// BenchmarkAtomicUpdate swaps a 10-file, 1 KiB-per-file set (alternating
// content, so every write changes it).
func BenchmarkAtomicUpdate(b *testing.B) {
	dir := b.TempDir()
	sets := [2]map[string]atomicwriter.File{{}, {}}
	for i := range 10 {
		k := fmt.Sprintf("key-%d", i)
		sets[0][k] = atomicwriter.File{Data: []byte(strings.Repeat("a", 1024)), Mode: 0o644}
		sets[1][k] = atomicwriter.File{Data: []byte(strings.Repeat("b", 1024)), Mode: 0o644}
	}
	i := 0
	for b.Loop() {
		if _, err := atomicwriter.Write(dir, sets[i%2]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAtomicNoChange re-writes an unchanged set (the periodic resync
// case): a compare, no write.
func BenchmarkAtomicNoChange(b *testing.B) {
	dir := b.TempDir()
	set := map[string]atomicwriter.File{}
	for i := range 10 {
		set[fmt.Sprintf("key-%d", i)] = atomicwriter.File{Data: []byte(strings.Repeat("a", 1024)), Mode: 0o644}
	}
	if _, err := atomicwriter.Write(dir, set); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := atomicwriter.Write(dir, set); err != nil {
			b.Fatal(err)
		}
	}
}

func setupStore(b *testing.B) *memstore.Store {
	b.Helper()
	ctx := context.Background()
	s := memstore.New()
	b.Cleanup(func() { s.Close() })
	for _, o := range []api.Object{
		&api.Namespace{Metadata: &api.ObjectMeta{Name: "default"}},
		&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "cfg", Namespace: "default"}, Data: map[string]string{"app.conf": strings.Repeat("x", 4096)}},
		&api.Secret{Metadata: &api.ObjectMeta{Name: "sec", Namespace: "default"}, Data: map[string][]byte{"password": []byte("hunter2")}},
	} {
		if _, err := s.Create(ctx, o); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkPodVolumes sets up and tears down a pod's configMap, secret
// (tmpfs), downwardAPI and emptyDir volumes: the volume work on a pod's
// start and end. Needs root (tmpfs).
func BenchmarkPodVolumes(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root: mounts tmpfs")
	}
	ctx := context.Background()
	s := setupStore(b)
	reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: s})
	if err != nil {
		b.Fatal(err)
	}
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec: &api.PodSpec{Volumes: []*api.Volume{
			{Name: "c", ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}},
			{Name: "s", Secret: &api.SecretVolumeSource{SecretName: "sec"}},
			{Name: "d", DownwardApi: &api.DownwardAPIVolumeSource{Items: []*api.DownwardAPIVolumeFile{{Path: "name", FieldRef: &api.ObjectFieldSelector{FieldPath: "metadata.name"}}}}},
			{Name: "e", EmptyDir: &api.EmptyDirVolumeSource{}},
		}},
	}
	root := b.TempDir()
	i := 0
	for b.Loop() {
		podDir := filepath.Join(root, fmt.Sprint(i))
		i++
		if _, err := reg.SetUpPod(ctx, pod, podDir); err != nil {
			b.Fatal(err)
		}
		if err := reg.TearDownPod(ctx, podDir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkConfigMapChangeToFile measures a ConfigMap update in the store
// until the new content is in the pod's file (store write + UpdatePod,
// without the agent's watch delivery).
func BenchmarkConfigMapChangeToFile(b *testing.B) {
	ctx := context.Background()
	s := setupStore(b)
	reg, err := plugins.NewRegistry(ctx, plugins.Config{Objects: s})
	if err != nil {
		b.Fatal(err)
	}
	pod := &api.Pod{
		Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"},
		Spec:     &api.PodSpec{Volumes: []*api.Volume{{Name: "c", ConfigMap: &api.ConfigMapVolumeSource{Name: "cfg"}}}},
	}
	podDir := b.TempDir()
	paths, err := reg.SetUpPod(ctx, pod, podDir)
	if err != nil {
		b.Fatal(err)
	}
	file := filepath.Join(paths["c"], "app.conf")
	cms := store.For[*api.ConfigMap](s)
	i := 0
	for b.Loop() {
		i++
		want := fmt.Sprint("v", i)
		if _, err := cms.Mutate(ctx, "default", "cfg", func(cm *api.ConfigMap) error {
			cm.Data["app.conf"] = want
			return nil
		}); err != nil {
			b.Fatal(err)
		}
		if err := reg.UpdatePod(ctx, pod, podDir); err != nil {
			b.Fatal(err)
		}
		if got, err := os.ReadFile(file); err != nil || string(got) != want {
			b.Fatalf("file = %q, %v", got, err)
		}
	}
	b.StopTimer()
	if err := reg.TearDownPod(ctx, podDir); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSealSecret seals and opens a Secret with 1 KiB of data, as a
// backend does around persisting it.
func BenchmarkSealSecret(b *testing.B) {
	k, err := encrypt.GenerateKey("k1")
	if err != nil {
		b.Fatal(err)
	}
	tr, err := encrypt.New(encrypt.Config{Keys: []encrypt.Key{k}})
	if err != nil {
		b.Fatal(err)
	}
	s := &api.Secret{Metadata: &api.ObjectMeta{Name: "s", Namespace: "default"}, Data: map[string][]byte{"blob": []byte(strings.Repeat("x", 1024))}}
	b.SetBytes(1024)
	for b.Loop() {
		sealed, err := tr.SealObject(s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.OpenObject(sealed); err != nil {
			b.Fatal(err)
		}
	}
}
