package image

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
)

const unixENOTEMPTY = unix.ENOTEMPTY

func platform() v1.Platform {
	return v1.Platform{OS: "linux", Architecture: goruntime.GOARCH}
}

// Rootfs is a container's copy-on-write root filesystem: an overlay of an
// image's layers under dir.
type Rootfs struct {
	// Dir holds the upper, work and merged directories.
	Dir string
}

// Path returns the merged root the container sees.
func (r Rootfs) Path() string { return filepath.Join(r.Dir, "rootfs") }

// Mount mounts an overlay of the image ref names at dir/rootfs, with
// dir/upper and dir/work as the container's writable layer. It creates
// /proc, /sys, /dev and /tmp in the root when the image lacks them, so the
// runtime never writes into a shared layer.
func (s *Store) Mount(ref, dir string) (Rootfs, error) {
	layers, err := s.LayerDirs(ref)
	if err != nil {
		return Rootfs{}, err
	}
	if len(layers) == 0 {
		return Rootfs{}, fmt.Errorf("image %s has no layers", ref)
	}
	r := Rootfs{Dir: dir}
	for _, d := range []string{"upper", "work", "rootfs"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return Rootfs{}, err
		}
	}
	lower := slices.Clone(layers)
	slices.Reverse(lower) // overlayfs lists the top layer first
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
		strings.Join(lower, ":"), filepath.Join(dir, "upper"), filepath.Join(dir, "work"))
	if err := unix.Mount("overlay", r.Path(), "overlay", 0, opts); err != nil {
		return Rootfs{}, fmt.Errorf("mount overlay at %s: %w", r.Path(), err)
	}
	for _, d := range []string{"proc", "sys", "dev", "tmp"} {
		p := filepath.Join(r.Path(), d)
		if _, err := os.Lstat(p); errors.Is(err, os.ErrNotExist) {
			mode := os.FileMode(0o755)
			if d == "tmp" {
				mode = 0o1777
			}
			if err := os.Mkdir(p, mode); err != nil {
				_ = r.Unmount()
				return Rootfs{}, err
			}
			_ = os.Chmod(p, mode)
		}
	}
	return r, nil
}

// Unmount unmounts the root (if mounted) and removes dir. It succeeds when
// nothing is left to do.
func (r Rootfs) Unmount() error {
	if err := unix.Unmount(r.Path(), unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("unmount %s: %w", r.Path(), err)
	}
	if err := os.RemoveAll(r.Dir); err != nil {
		return fmt.Errorf("remove %s: %w", r.Dir, err)
	}
	return nil
}
