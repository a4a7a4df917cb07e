package configmap_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/configmap"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func cm(data map[string]string) *api.ConfigMap {
	return &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "app", Namespace: "default"}, Data: data}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConformance(t *testing.T) {
	objs := volumetest.NewObjects()
	volumetest.Run(t, volumetest.Case{
		Plugin: configmap.New(objs),
		Volume: &api.Volume{Name: "config", ConfigMap: &api.ConfigMapVolumeSource{Name: "app"}},
		Reset:  func(t *testing.T) { objs.Set(cm(map[string]string{"app.conf": "v1", "other": "o"})) },
		Check: func(t *testing.T, path string) {
			if got := readFile(t, filepath.Join(path, "app.conf")); got != "v1" {
				t.Fatalf("app.conf = %q", got)
			}
		},
		Change: func(t *testing.T) { objs.Set(cm(map[string]string{"app.conf": "v2"})) },
		CheckUpdated: func(t *testing.T, path string) {
			if got := readFile(t, filepath.Join(path, "app.conf")); got != "v2" {
				t.Fatalf("app.conf after update = %q", got)
			}
			if _, err := os.Stat(filepath.Join(path, "other")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("removed key still projected: %v", err)
			}
		},
	})
}

func ptr(v int32) *int32 { return &v }

func TestProjection(t *testing.T) {
	objs := volumetest.NewObjects(&api.ConfigMap{
		Metadata:   &api.ObjectMeta{Name: "app", Namespace: "default"},
		Data:       map[string]string{"a": "A", "b": "B"},
		BinaryData: map[string][]byte{"bin": {0, 1, 2}},
	})
	p := configmap.New(objs)
	tests := []struct {
		name    string
		src     *api.ConfigMapVolumeSource
		want    map[string]string // path -> "content|mode"
		wantErr error
	}{
		{
			name: "all keys default mode",
			src:  &api.ConfigMapVolumeSource{Name: "app"},
			want: map[string]string{"a": "A|644", "b": "B|644", "bin": "\x00\x01\x02|644"},
		},
		{
			name: "defaultMode",
			src:  &api.ConfigMapVolumeSource{Name: "app", DefaultMode: ptr(0o400)},
			want: map[string]string{"a": "A|400", "b": "B|400", "bin": "\x00\x01\x02|400"},
		},
		{
			name: "items with paths and modes",
			src: &api.ConfigMapVolumeSource{Name: "app", DefaultMode: ptr(0o440), Items: []*api.KeyToPath{
				{Key: "a", Path: "conf/a.txt", Mode: ptr(0o600)},
				{Key: "b", Path: "b.txt"},
			}},
			want: map[string]string{"conf/a.txt": "A|600", "b.txt": "B|440"},
		},
		{
			name:    "missing item key",
			src:     &api.ConfigMapVolumeSource{Name: "app", Items: []*api.KeyToPath{{Key: "zzz", Path: "z"}}},
			wantErr: volume.ErrInvalidSpec,
		},
		{
			name: "missing item key optional",
			src:  &api.ConfigMapVolumeSource{Name: "app", Optional: true, Items: []*api.KeyToPath{{Key: "zzz", Path: "z"}, {Key: "a", Path: "a"}}},
			want: map[string]string{"a": "A|644"},
		},
		{
			name:    "missing configmap",
			src:     &api.ConfigMapVolumeSource{Name: "nope"},
			wantErr: store.ErrNotFound,
		},
		{
			name: "missing configmap optional",
			src:  &api.ConfigMapVolumeSource{Name: "nope", Optional: true},
			want: map[string]string{},
		},
		{
			name:    "escaping path",
			src:     &api.ConfigMapVolumeSource{Name: "app", Items: []*api.KeyToPath{{Key: "a", Path: "../../etc/passwd"}}},
			wantErr: volume.ErrInvalidSpec,
		},
		{
			name:    "bad mode",
			src:     &api.ConfigMapVolumeSource{Name: "app", DefaultMode: ptr(0o1777)},
			wantErr: volume.ErrInvalidSpec,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "v")
			pod := &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}}
			_, err := p.SetUp(t.Context(), volume.MountRequest{Pod: pod, Spec: volume.SpecFromVolume(&api.Volume{Name: "v", ConfigMap: tt.src}), Dir: dir})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("SetUp = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("SetUp: %v", err)
			}
			got := map[string]string{}
			for path := range tt.want {
				full := filepath.Join(dir, path)
				info, err := os.Stat(full)
				if err != nil {
					t.Fatal(err)
				}
				got[path] = fmt.Sprintf("%s|%o", readFile(t, full), info.Mode().Perm())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("files = %q, want %q", got, tt.want)
			}
			// Exactly the projected top-level entries are visible.
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			visible := map[string]bool{}
			for _, e := range entries {
				if e.Name()[0] != '.' {
					visible[e.Name()] = true
				}
			}
			tops := map[string]bool{}
			for path := range tt.want {
				tops[firstElem(path)] = true
			}
			if fmt.Sprint(visible) != fmt.Sprint(tops) {
				t.Fatalf("visible entries %v, want %v", visible, tops)
			}
		})
	}
}

func firstElem(p string) string {
	for i := range len(p) {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return p
}

func ExamplePlugin_Update() {
	objs := volumetest.NewObjects(&api.ConfigMap{
		Metadata: &api.ObjectMeta{Name: "app", Namespace: "default"},
		Data:     map[string]string{"color": "blue"},
	})
	p := configmap.New(objs)
	dir, _ := os.MkdirTemp("", "cm")
	defer os.RemoveAll(dir)
	req := volume.MountRequest{
		Pod:  &api.Pod{Metadata: &api.ObjectMeta{Name: "web", Namespace: "default"}},
		Spec: volume.SpecFromVolume(&api.Volume{Name: "config", ConfigMap: &api.ConfigMapVolumeSource{Name: "app"}}),
		Dir:  filepath.Join(dir, "config"),
	}
	path, _ := p.SetUp(context.Background(), req)
	before, _ := os.ReadFile(filepath.Join(path, "color"))

	// The ConfigMap changes; the agent calls Update; the file flips atomically.
	objs.Set(&api.ConfigMap{Metadata: &api.ObjectMeta{Name: "app", Namespace: "default"}, Data: map[string]string{"color": "green"}})
	_ = p.Update(context.Background(), req)
	after, _ := os.ReadFile(filepath.Join(path, "color"))
	fmt.Println(string(before), "->", string(after))
	// Output: blue -> green
}
