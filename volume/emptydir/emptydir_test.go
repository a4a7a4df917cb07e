package emptydir_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/emptydir"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func TestConformanceDisk(t *testing.T) {
	volumetest.Run(t, volumetest.Case{
		Plugin: emptydir.New(volume.Linux{}),
		Volume: &api.Volume{Name: "scratch", EmptyDir: &api.EmptyDirVolumeSource{}},
		Check: func(t *testing.T, path string) {
			if err := os.WriteFile(filepath.Join(path, "f"), []byte("x"), 0o644); err != nil {
				t.Fatalf("write into emptyDir: %v", err)
			}
			// A disk emptyDir is a plain directory: no mount of its own.
			if got, parent := fsOf(t, path), fsOf(t, filepath.Dir(path)); got != parent {
				t.Fatalf("disk emptyDir on %q, its parent on %q", got, parent)
			}
		},
	})
}

func fsOf(t *testing.T, p string) string {
	t.Helper()
	fs, err := volume.FSType(p)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestConformanceMemory(t *testing.T) {
	volumetest.RequireRoot(t)
	volumetest.Run(t, volumetest.Case{
		Plugin: emptydir.New(volume.Linux{}),
		Volume: &api.Volume{Name: "cache", EmptyDir: &api.EmptyDirVolumeSource{Medium: emptydir.MediumMemory, SizeLimit: "1Mi"}},
		Check: func(t *testing.T, path string) {
			if got := fsOf(t, path); got != volume.FSTmpfs {
				t.Fatalf("Memory emptyDir on %q, want tmpfs", got)
			}
			var st unix.Statfs_t
			if err := unix.Statfs(path, &st); err != nil {
				t.Fatal(err)
			}
			if size := int64(st.Blocks) * st.Bsize; size != 1<<20 {
				t.Fatalf("tmpfs size = %d, want 1Mi", size)
			}
			// The size limit is enforced: 2 MiB do not fit.
			err := os.WriteFile(filepath.Join(path, "big"), make([]byte, 2<<20), 0o644)
			if !errors.Is(err, unix.ENOSPC) {
				t.Fatalf("writing 2Mi into a 1Mi tmpfs = %v, want ENOSPC", err)
			}
			_ = os.Remove(filepath.Join(path, "big"))
		},
	})
}

func TestInvalid(t *testing.T) {
	p := emptydir.New(volume.Linux{})
	tests := map[string]*api.EmptyDirVolumeSource{
		"medium":    {Medium: "Floppy"},
		"sizeLimit": {Medium: emptydir.MediumMemory, SizeLimit: "lots"},
	}
	for name, src := range tests {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "v")
			_, err := p.SetUp(t.Context(), volume.MountRequest{Spec: volume.SpecFromVolume(&api.Volume{Name: "v", EmptyDir: src}), Dir: dir})
			if !errors.Is(err, volume.ErrInvalidSpec) {
				t.Fatalf("SetUp = %v, want ErrInvalidSpec", err)
			}
		})
	}
}
