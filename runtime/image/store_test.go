package image_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/coxswain-io/coxswain/runtime"
	"github.com/coxswain-io/coxswain/runtime/image"
	"github.com/coxswain-io/coxswain/runtime/imagetest"
)

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("unpacking layers and mounting overlays needs root")
	}
}

func newStore(t *testing.T) *image.Store {
	t.Helper()
	s, err := image.NewStore(filepath.Join(t.TempDir(), "images"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestPullAndMount(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	ref := imagetest.BusyboxRef(t)
	s := newStore(t)
	img, err := s.Pull(ctx, ref, nil)
	if err != nil {
		t.Fatalf("Pull: %v", err)
	}
	if !slices.Equal(img.Config.Cmd, []string{"sh"}) || len(img.Config.Env) == 0 || img.Size == 0 {
		t.Fatalf("image = %+v", img)
	}
	again, err := s.Pull(ctx, ref, nil)
	if err != nil || again.ID != img.ID {
		t.Fatalf("second Pull = %+v, %v", again, err)
	}
	for _, q := range []string{ref, img.ID} {
		if got, err := s.Get(q); err != nil || got.ID != img.ID {
			t.Fatalf("Get(%q) = %+v, %v", q, got, err)
		}
	}

	rootfs, err := s.Mount(ref, filepath.Join(t.TempDir(), "c1"))
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	t.Cleanup(func() { _ = rootfs.Unmount() })
	root := rootfs.Path()
	if fi, err := os.Stat(filepath.Join(root, "bin/sh")); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("bin/sh in rootfs: %v, %v", fi, err)
	}
	if _, err := os.Lstat(filepath.Join(root, imagetest.RemovedFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("whited-out file visible: %v", err)
	}
	entries, err := os.ReadDir(filepath.Join(root, imagetest.OpaqueDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "new" {
		t.Errorf("opaque dir lists %v, want only new", entries)
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp"} {
		if fi, err := os.Stat(filepath.Join(root, d)); err != nil || !fi.IsDir() {
			t.Errorf("%s missing in rootfs: %v", d, err)
		}
	}
	// Writes go to the container's upper dir, never to the shared layers.
	if err := os.WriteFile(filepath.Join(root, "bin/written"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	layers, err := s.LayerDirs(ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		if _, err := os.Stat(filepath.Join(l, "bin/written")); err == nil {
			t.Fatalf("write reached layer %s", l)
		}
	}
	other, err := s.Mount(ref, filepath.Join(t.TempDir(), "c2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(other.Path(), "bin/written")); err == nil {
		t.Fatal("one container's write is visible in another's root")
	}
	if err := other.Unmount(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(other.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Unmount left %s", other.Dir)
	}
	if err := rootfs.Unmount(); err != nil {
		t.Fatal(err)
	}
}

func TestPullMissing(t *testing.T) {
	host := imagetest.Registry(t)
	s := newStore(t)
	_, err := s.Pull(context.Background(), host+"/nothing:here", nil)
	if !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Pull of a missing image: %v, want ErrNotFound", err)
	}
	if _, err := s.Pull(context.Background(), "UPPER/case:bad", nil); !errors.Is(err, runtime.ErrInvalid) {
		t.Fatalf("Pull of a malformed reference: %v, want ErrInvalid", err)
	}
}

func TestLoadTarballAndLayout(t *testing.T) {
	requireRoot(t)
	if _, err := os.Stat(imagetest.BusyboxPath); err != nil {
		t.Skip("busybox-static missing")
	}
	ctx := context.Background()
	img, err := imagetest.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	tag, _ := name.NewTag("example.test/busybox:tar")
	tarPath := filepath.Join(dir, "image.tar")
	if err := tarball.WriteToFile(tarPath, tag, img); err != nil {
		t.Fatal(err)
	}
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": "example.test/busybox:oci"})); err != nil {
		t.Fatal(err)
	}

	s := newStore(t)
	fromTar, err := s.LoadTarball(ctx, tarPath, "example.test/busybox:tar")
	if err != nil {
		t.Fatalf("LoadTarball: %v", err)
	}
	fromLayout, err := s.LoadLayout(ctx, filepath.Join(dir, "layout"))
	if err != nil || len(fromLayout) != 1 {
		t.Fatalf("LoadLayout = %v, %v", fromLayout, err)
	}
	if fromTar.ID != fromLayout[0].ID {
		t.Fatalf("same image, different IDs: %s, %s", fromTar.ID, fromLayout[0].ID)
	}
	got, err := s.Get("example.test/busybox:oci")
	if err != nil || !slices.Contains(got.RepoTags, "example.test/busybox:tar") {
		t.Fatalf("Get = %+v, %v; want both names on one image", got, err)
	}
	list, err := s.List()
	if err != nil || len(list) != 1 {
		t.Fatalf("List = %v, %v", list, err)
	}

	// Remove one name, then the other: the record goes; Prune frees layers.
	if err := s.Remove("example.test/busybox:tar"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("example.test/busybox:oci"); err != nil {
		t.Fatalf("image gone after removing one of two names: %v", err)
	}
	if n, err := s.Prune(nil); err != nil || n != 0 {
		t.Fatalf("Prune with the image present = %d, %v", n, err)
	}
	if err := s.Remove("example.test/busybox:oci"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(fromTar.ID); !errors.Is(err, runtime.ErrNotFound) {
		t.Fatalf("Get after removal: %v", err)
	}
	if n, err := s.Prune(nil); err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2 layers", n, err)
	}
	if err := s.Remove("example.test/busybox:oci"); err != nil {
		t.Fatalf("second Remove: %v", err)
	}
}
