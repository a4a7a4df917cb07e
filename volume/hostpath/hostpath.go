package hostpath

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/coxswain-io/coxswain/volume"
)

// PluginName is the plugin's name.
const PluginName = "host-path"

// Host path types.
const (
	TypeUnset             = ""
	TypeDirectory         = "Directory"
	TypeDirectoryOrCreate = "DirectoryOrCreate"
	TypeFile              = "File"
	TypeFileOrCreate      = "FileOrCreate"
	TypeSocket            = "Socket"
	TypeCharDevice        = "CharDevice"
	TypeBlockDevice       = "BlockDevice"
)

// Plugin is the hostPath plugin.
type Plugin struct{}

var _ volume.Mounter = (*Plugin)(nil)

// New returns the plugin.
func New() *Plugin { return &Plugin{} }

// Name returns "host-path".
func (*Plugin) Name() string { return PluginName }

// CanSupport reports whether spec is a hostPath pod volume.
func (*Plugin) CanSupport(spec *volume.Spec) bool {
	return spec != nil && spec.Volume.GetHostPath() != nil
}

// SetUp checks the host path against the volume's type (creating it for
// the OrCreate types) and returns it.
func (*Plugin) SetUp(ctx context.Context, req volume.MountRequest) (string, error) {
	src := req.Spec.Volume.GetHostPath()
	if src == nil {
		return "", fmt.Errorf("hostPath %q: %w", req.Spec.Name(), volume.ErrNotSupported)
	}
	path := src.GetPath()
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("hostPath %q: path %q must be absolute: %w", req.Spec.Name(), path, volume.ErrInvalidSpec)
	}
	path = filepath.Clean(path)
	if err := Check(path, src.GetType()); err != nil {
		return "", fmt.Errorf("hostPath %q: %w", req.Spec.Name(), err)
	}
	return path, nil
}

// Check verifies path against a hostPath type, creating it for
// DirectoryOrCreate and FileOrCreate. A mismatch is an ErrInvalidSpec error.
func Check(path, typ string) error {
	info, err := os.Stat(path)
	missing := errors.Is(err, fs.ErrNotExist)
	if err != nil && !missing {
		return fmt.Errorf("stat %s: %w", path, err)
	}
	switch typ {
	case TypeUnset:
		return nil
	case TypeDirectoryOrCreate:
		if missing {
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("create %s: %w", path, err)
			}
			return nil
		}
		typ = TypeDirectory
	case TypeFileOrCreate:
		if missing {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return fmt.Errorf("create %s: %w", path, err)
			}
			return f.Close()
		}
		typ = TypeFile
	case TypeDirectory, TypeFile, TypeSocket, TypeCharDevice, TypeBlockDevice:
	default:
		return fmt.Errorf("unknown hostPath type %q: %w", typ, volume.ErrInvalidSpec)
	}
	if missing {
		return fmt.Errorf("%s does not exist (type %s): %w", path, typ, volume.ErrInvalidSpec)
	}
	m := info.Mode()
	ok := false
	switch typ {
	case TypeDirectory:
		ok = m.IsDir()
	case TypeFile:
		ok = m.IsRegular()
	case TypeSocket:
		ok = m&fs.ModeSocket != 0
	case TypeCharDevice:
		ok = m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0
	case TypeBlockDevice:
		ok = m&fs.ModeDevice != 0 && m&fs.ModeCharDevice == 0
	}
	if !ok {
		return fmt.Errorf("%s is not a %s (mode %s): %w", path, typ, m.Type(), volume.ErrInvalidSpec)
	}
	return nil
}

// TearDown removes the (unused) volume directory; the host path stays.
func (*Plugin) TearDown(ctx context.Context, dir string) error {
	if err := os.RemoveAll(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("hostPath: %w", err)
	}
	return nil
}
