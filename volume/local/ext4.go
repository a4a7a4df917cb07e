package local

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/volume"
)

// FilesystemExt4 makes one loop-mounted ext4 filesystem per volume.
const FilesystemExt4 = "ext4"

// minImageSize is the smallest image made; mkfs.ext4 needs a little room.
const minImageSize = 4 << 20

// loFlagsAutoclear detaches a loop device when its last user goes (the
// mount, after unmount).
const loFlagsAutoclear = 4

func imageOf(dir string) string { return dir + ".img" }

// provisionExt4 makes dir an ext4 mount of a new image of size bytes.
// Retried after a crash, it reuses a complete image and mounts it.
func (p *Provisioner) provisionExt4(ctx context.Context, dir string, size int64) error {
	img := imageOf(dir)
	if _, err := os.Stat(img); errors.Is(err, fs.ErrNotExist) {
		size = (size + 1<<20 - 1) &^ (1<<20 - 1)
		size = max(size, minImageSize)
		// Build the image under a temporary name and rename it into place,
		// so a crash never leaves a half-made image under the real name.
		tmp := img + ".tmp"
		_ = os.Remove(tmp)
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
		if err != nil {
			return err
		}
		err = f.Truncate(size)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = mkfs(ctx, tmp)
		}
		if err == nil {
			err = os.Rename(tmp, img)
		}
		if err != nil {
			_ = os.Remove(tmp)
			return err
		}
	} else if err != nil {
		return err
	}
	return p.mountImage(img, dir)
}

func mkfs(ctx context.Context, img string) error {
	// -m 0: no blocks reserved for root; the claim's size is all usable.
	out, err := exec.CommandContext(ctx, "mkfs.ext4", "-q", "-F", "-m", "0", img).CombinedOutput()
	if err != nil {
		return fmt.Errorf("mkfs.ext4 %s: %v: %s", img, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// mountImage mounts img at dir through a fresh loop device, unless dir is
// already a mount point.
func (p *Provisioner) mountImage(img, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	mounted, err := p.cfg.Mounter.IsMountPoint(dir)
	if err != nil || mounted {
		return err
	}
	loop, err := attachLoop(img)
	if err != nil {
		return err
	}
	// Closing our handle is safe once mounted (the mount holds the device);
	// if the mount fails, it detaches the device (autoclear).
	defer loop.Close()
	if err := p.cfg.Mounter.Mount(loop.Name(), dir, FilesystemExt4, 0, ""); err != nil {
		return err
	}
	return nil
}

// attachLoop binds img to a free loop device with autoclear and returns the
// open device.
func attachLoop(img string) (*os.File, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("loop device: %w", err)
	}
	defer ctl.Close()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	for range 32 {
		n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
		if err != nil {
			return nil, fmt.Errorf("loop device: get free: %w", err)
		}
		dev, err := os.OpenFile(fmt.Sprintf("/dev/loop%d", n), os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("loop device: %w", err)
		}
		if err := unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_SET_FD, int(f.Fd())); err != nil {
			dev.Close()
			if errors.Is(err, unix.EBUSY) {
				continue // another process took it first
			}
			return nil, fmt.Errorf("loop device: set fd: %w", err)
		}
		info := &unix.LoopInfo64{Flags: loFlagsAutoclear}
		copy(info.File_name[:len(info.File_name)-1], img)
		if err := unix.IoctlLoopSetStatus64(int(dev.Fd()), info); err != nil {
			_ = unix.IoctlSetInt(int(dev.Fd()), unix.LOOP_CLR_FD, 0)
			dev.Close()
			return nil, fmt.Errorf("loop device: set status: %w", err)
		}
		return dev, nil
	}
	return nil, fmt.Errorf("loop device: no free device after 32 tries: %w", volume.ErrNotReady)
}

// deleteExt4 unmounts dir, removes the mount point and the image.
func (p *Provisioner) deleteExt4(dir string) error {
	if err := volume.UnmountAll(p.cfg.Mounter, dir); err != nil {
		return err
	}
	// Only an empty mount point is removed: never data on the base fs.
	if err := os.Remove(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Remove(imageOf(dir)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// MountAll mounts every volume image under the base directory that is not
// mounted (after a reboot). It does nothing for directory volumes.
func (p *Provisioner) MountAll(ctx context.Context) error {
	if p.cfg.Filesystem != FilesystemExt4 {
		return nil
	}
	imgs, err := filepath.Glob(filepath.Join(p.cfg.BaseDir, "*.img"))
	if err != nil {
		return err
	}
	var errs []error
	for _, img := range imgs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := p.mountImage(img, strings.TrimSuffix(img, ".img")); err != nil {
			errs = append(errs, fmt.Errorf("local provisioner: mount %s: %w", img, err))
		}
	}
	return errors.Join(errs...)
}
