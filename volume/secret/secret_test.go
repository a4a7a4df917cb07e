package secret_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/moby/sys/mountinfo"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/secret"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func sec(data map[string][]byte) *api.Secret {
	return &api.Secret{Metadata: &api.ObjectMeta{Name: "db", Namespace: "default"}, Data: data}
}

// assertTmpfs checks the volume is its own tmpfs mount, both by statfs and
// by /proc/self/mountinfo.
func assertTmpfs(t *testing.T, path string) {
	t.Helper()
	fs, err := volume.FSType(path)
	if err != nil {
		t.Fatal(err)
	}
	if fs != volume.FSTmpfs {
		t.Fatalf("secret volume on %q, want tmpfs", fs)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.SingleEntryFilter(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(mounts) != 1 || mounts[0].FSType != "tmpfs" {
		t.Fatalf("mountinfo for %s = %+v, want one tmpfs mount", path, mounts)
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

func TestConformance(t *testing.T) {
	volumetest.RequireRoot(t)
	objs := volumetest.NewObjects()
	volumetest.Run(t, volumetest.Case{
		Plugin: secret.New(objs, volume.Linux{}),
		Volume: &api.Volume{Name: "creds", Secret: &api.SecretVolumeSource{SecretName: "db"}},
		Reset:  func(t *testing.T) { objs.Set(sec(map[string][]byte{"password": []byte("hunter2")})) },
		Check: func(t *testing.T, path string) {
			assertTmpfs(t, path)
			if got := read(t, filepath.Join(path, "password")); got != "hunter2" {
				t.Fatalf("password = %q", got)
			}
		},
		Change: func(t *testing.T) {
			s := sec(map[string][]byte{"password": []byte("old")})
			s.StringData = map[string]string{"password": "correct horse"}
			objs.Set(s)
		},
		CheckUpdated: func(t *testing.T, path string) {
			assertTmpfs(t, path)
			if got := read(t, filepath.Join(path, "password")); got != "correct horse" {
				t.Fatalf("password after update = %q", got)
			}
		},
	})
}

func TestMissingSecretWritesNothing(t *testing.T) {
	p := secret.New(volumetest.NewObjects(), volume.Linux{})
	dir := filepath.Join(t.TempDir(), "v")
	_, err := p.SetUp(t.Context(), volume.MountRequest{
		Pod:  &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}},
		Spec: volume.SpecFromVolume(&api.Volume{Name: "v", Secret: &api.SecretVolumeSource{SecretName: "nope"}}),
		Dir:  dir,
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("SetUp = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("volume dir created for a missing secret: %v", err)
	}
}

// TestRefusesDisk checks Update never writes secret data to a directory
// that is not a tmpfs (e.g. after someone unmounted it).
func TestRefusesDisk(t *testing.T) {
	objs := volumetest.NewObjects(sec(map[string][]byte{"k": []byte("v")}))
	p := secret.New(objs, volume.Linux{})
	dir := t.TempDir()
	if fs, _ := volume.FSType(dir); fs == volume.FSTmpfs {
		t.Skip("the temp dir is itself on tmpfs; cannot test refusal of a disk directory here")
	}
	err := p.Update(t.Context(), volume.MountRequest{
		Pod:  &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}},
		Spec: volume.SpecFromVolume(&api.Volume{Name: "v", Secret: &api.SecretVolumeSource{SecretName: "db"}}),
		Dir:  dir,
	})
	if !errors.Is(err, volume.ErrNotReady) {
		t.Fatalf("Update on disk = %v, want ErrNotReady", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("wrote %d entries to disk", len(entries))
	}
}

func TestOptionalMissing(t *testing.T) {
	volumetest.RequireRoot(t)
	p := secret.New(volumetest.NewObjects(), volume.Linux{})
	podDir := t.TempDir()
	t.Cleanup(func() { volumetest.UnmountUnder(t, podDir) })
	dir := filepath.Join(podDir, "v")
	path, err := p.SetUp(t.Context(), volume.MountRequest{
		Pod:  &api.Pod{Metadata: &api.ObjectMeta{Name: "p", Namespace: "default"}},
		Spec: volume.SpecFromVolume(&api.Volume{Name: "v", Secret: &api.SecretVolumeSource{SecretName: "nope", Optional: true}}),
		Dir:  dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	assertTmpfs(t, path)
	if err := p.TearDown(t.Context(), dir); err != nil {
		t.Fatal(err)
	}
}
