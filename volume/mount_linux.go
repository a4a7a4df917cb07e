package volume

import (
	"errors"
	"fmt"
	"os"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
)

// Linux is the OSMounter of the running kernel (mount(2), umount(2) and
// /proc/self/mountinfo). Mounting needs CAP_SYS_ADMIN.
type Linux struct{}

var _ OSMounter = Linux{}

// Mount mounts source on target.
func (Linux) Mount(source, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(source, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s (%s): %w", source, target, fstype, err)
	}
	return nil
}

// Unmount unmounts target; a target that is not mounted is not an error.
func (Linux) Unmount(target string) error {
	err := unix.Unmount(target, 0)
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil
	}
	return fmt.Errorf("unmount %s: %w", target, err)
}

// IsMountPoint reports whether path is a mount point. A missing path is not.
func (Linux) IsMountPoint(path string) (bool, error) {
	ok, err := mountinfo.Mounted(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("is mount point %s: %w", path, err)
	}
	return ok, nil
}

// Filesystem types reported by FSType.
const (
	FSTmpfs = "tmpfs"
	FSOther = "other"
)

// FSType returns "tmpfs" if path is on a tmpfs and "other" otherwise.
func FSType(path string) (string, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return "", fmt.Errorf("statfs %s: %w", path, err)
	}
	if st.Type == unix.TMPFS_MAGIC {
		return FSTmpfs, nil
	}
	return FSOther, nil
}

// UnmountAll unmounts path until it is no longer a mount point (stacked
// mounts from repeated set-ups are undone too).
func UnmountAll(m OSMounter, path string) error {
	for range 16 {
		mounted, err := m.IsMountPoint(path)
		if err != nil || !mounted {
			return err
		}
		if err := m.Unmount(path); err != nil {
			return err
		}
	}
	return fmt.Errorf("unmount %s: still mounted after 16 tries", path)
}

// EnsureTmpfs creates dir and mounts a tmpfs there with data (mount options
// such as "mode=0755,size=1048576") unless dir is already a mount point.
func EnsureTmpfs(m OSMounter, dir, data string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("tmpfs at %s: %w", dir, err)
	}
	mounted, err := m.IsMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	return m.Mount("tmpfs", dir, "tmpfs", 0, data)
}
