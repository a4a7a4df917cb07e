package local_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/local"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func requireExt4(t *testing.T) {
	t.Helper()
	volumetest.RequireRoot(t)
	if _, err := exec.LookPath("mkfs.ext4"); err != nil {
		t.Skip("needs mkfs.ext4 (e2fsprogs) for ext4 volumes")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("needs /dev/loop-control for ext4 volumes")
	}
}

// TestExt4CapacityEnforced provisions an 8 MiB ext4 volume, checks a write
// past its size fails, remounts it after an unmount (a reboot) with the
// data intact, and deletes it.
func TestExt4CapacityEnforced(t *testing.T) {
	requireExt4(t)
	ctx := t.Context()
	base := filepath.Join(t.TempDir(), "pvs")
	t.Cleanup(func() { volumetest.UnmountUnder(t, base) })
	p, err := local.New(local.Config{BaseDir: base, NodeName: "n1", Filesystem: local.FilesystemExt4})
	if err != nil {
		t.Fatal(err)
	}
	pv, err := p.Provision(ctx, volume.ProvisionRequest{Claim: claim("8Mi", "ReadWriteOnce"), Class: class(""), VolumeName: "small"})
	if err != nil {
		t.Fatal(err)
	}
	dir := pv.GetSpec().GetLocal().GetPath()
	if got := pv.GetSpec().GetLocal().GetFsType(); got != "ext4" {
		t.Fatalf("fsType = %q", got)
	}
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.EXT4_SUPER_MAGIC {
		t.Fatalf("volume fs magic %#x, want ext4", st.Type)
	}
	if total := int64(st.Blocks) * st.Bsize; total > 8<<20 || total < 6<<20 {
		t.Fatalf("volume size %d bytes, want about 8 MiB", total)
	}
	if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = os.WriteFile(filepath.Join(dir, "big"), make([]byte, 16<<20), 0o644)
	if !errors.Is(err, unix.ENOSPC) {
		t.Fatalf("writing 16 MiB into an 8 MiB volume = %v, want ENOSPC", err)
	}
	if err := os.Remove(filepath.Join(dir, "big")); err != nil {
		t.Fatal(err)
	}

	// Provisioning again (a retry) changes nothing.
	if _, err := p.Provision(ctx, volume.ProvisionRequest{Claim: claim("8Mi"), Class: class(""), VolumeName: "small"}); err != nil {
		t.Fatal(err)
	}
	// After an unmount (a reboot), MountAll brings the volume back.
	if err := (volume.Linux{}).Unmount(dir); err != nil {
		t.Fatal(err)
	}
	if err := p.MountAll(ctx); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "keep")); err != nil || string(b) != "data" {
		t.Fatalf("after remount: %q, %v", b, err)
	}
	if err := p.Recycle(ctx, pv); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "keep")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("recycled volume still has data: %v", err)
	}

	if err := p.Delete(ctx, pv); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{dir, dir + ".img"} {
		if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s after Delete: %v", path, err)
		}
	}
	if mounted, _ := (volume.Linux{}).IsMountPoint(dir); mounted {
		t.Fatal("still mounted after Delete")
	}
}

func TestExt4ReservedNames(t *testing.T) {
	p, err := local.New(local.Config{BaseDir: t.TempDir(), NodeName: "n1", Filesystem: local.FilesystemExt4})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.img", "a.tmp"} {
		if _, err := p.Provision(t.Context(), volume.ProvisionRequest{Claim: claim("8Mi"), Class: class(""), VolumeName: name}); !errors.Is(err, volume.ErrInvalidSpec) {
			t.Errorf("Provision(%q) = %v, want ErrInvalidSpec", name, err)
		}
	}
	if _, err := local.New(local.Config{BaseDir: t.TempDir(), NodeName: "n1", Filesystem: "zfs"}); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Errorf("unknown filesystem: %v", err)
	}
}
