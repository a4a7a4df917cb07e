package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
)

// unpackLayer extracts the uncompressed layer tar r into the empty
// directory root, converting whiteouts to overlayfs form.
func unpackLayer(r io.Reader, root string) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read layer: %w", err)
		}
		if err := unpackEntry(tr, hdr, root); err != nil {
			return fmt.Errorf("unpack %q: %w", hdr.Name, err)
		}
	}
}

// within returns root joined with the cleaned entry name, and checks that
// no existing directory between root and the entry is a symlink, so a
// layer cannot write outside root.
func within(root, name string) (string, error) {
	rel := strings.TrimPrefix(path.Clean("/"+name), "/")
	if rel == "" {
		return root, nil
	}
	dir := root
	parts := strings.Split(rel, "/")
	for _, p := range parts[:len(parts)-1] {
		dir = filepath.Join(dir, p)
		fi, err := os.Lstat(dir)
		if errors.Is(err, os.ErrNotExist) {
			if err := os.Mkdir(dir, 0o755); err != nil {
				return "", err
			}
			continue
		}
		if err != nil {
			return "", err
		}
		if !fi.IsDir() {
			return "", fmt.Errorf("parent %q is not a directory", dir)
		}
	}
	return filepath.Join(root, rel), nil
}

func unpackEntry(r io.Reader, hdr *tar.Header, root string) error {
	target, err := within(root, hdr.Name)
	if err != nil {
		return err
	}
	if target == root {
		return nil
	}
	base := filepath.Base(target)
	switch {
	case base == whiteoutOpaque:
		return unix.Setxattr(filepath.Dir(target), "trusted.overlay.opaque", []byte("y"), 0)
	case strings.HasPrefix(base, whiteoutPrefix):
		hidden := filepath.Join(filepath.Dir(target), base[len(whiteoutPrefix):])
		if err := os.RemoveAll(hidden); err != nil {
			return err
		}
		return unix.Mknod(hidden, unix.S_IFCHR, 0)
	}

	if fi, err := os.Lstat(target); err == nil && !(fi.IsDir() && hdr.Typeflag == tar.TypeDir) {
		if err := os.RemoveAll(target); err != nil {
			return err
		}
	}
	mode := hdr.FileInfo().Mode()
	switch hdr.Typeflag {
	case tar.TypeDir:
		if err := os.Mkdir(target, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
	case tar.TypeReg:
		f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return err
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	case tar.TypeSymlink:
		if err := os.Symlink(hdr.Linkname, target); err != nil {
			return err
		}
	case tar.TypeLink:
		src, err := within(root, hdr.Linkname)
		if err != nil {
			return err
		}
		if err := os.Link(src, target); err != nil {
			return err
		}
		return nil // a hard link shares the source's metadata
	case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
		kind := map[byte]uint32{tar.TypeChar: unix.S_IFCHR, tar.TypeBlock: unix.S_IFBLK, tar.TypeFifo: unix.S_IFIFO}[hdr.Typeflag]
		dev := unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor))
		if err := unix.Mknod(target, kind|0o600, int(dev)); err != nil {
			return err
		}
	default:
		return nil // other entry types (e.g. GNU sparse headers) carry no file
	}
	if err := os.Lchown(target, hdr.Uid, hdr.Gid); err != nil {
		return err
	}
	for k, v := range hdr.PAXRecords {
		if name, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if err := unix.Lsetxattr(target, name, []byte(v), 0); err != nil && !errors.Is(err, unix.ENOTSUP) {
				return err
			}
		}
	}
	if hdr.Typeflag == tar.TypeSymlink {
		return nil
	}
	// Chmod after Lchown: chown clears setuid and setgid bits.
	if err := os.Chmod(target, mode&(os.ModePerm|os.ModeSetuid|os.ModeSetgid|os.ModeSticky)); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeDir {
		return os.Chtimes(target, hdr.AccessTime, hdr.ModTime)
	}
	return nil
}
