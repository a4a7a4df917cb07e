package hostpath_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/hostpath"
	"github.com/coxswain-io/coxswain/volume/volumetest"
)

func TestConformance(t *testing.T) {
	host := t.TempDir()
	if err := os.WriteFile(filepath.Join(host, "data"), []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	volumetest.Run(t, volumetest.Case{
		Plugin:   hostpath.New(),
		Volume:   &api.Volume{Name: "host", HostPath: &api.HostPathVolumeSource{Path: host, Type: hostpath.TypeDirectory}},
		External: true,
		Check: func(t *testing.T, path string) {
			if path != host {
				t.Fatalf("path = %q, want %q", path, host)
			}
			if b, err := os.ReadFile(filepath.Join(path, "data")); err != nil || string(b) != "kept" {
				t.Fatalf("host data = %q, %v", b, err)
			}
		},
	})
}

func TestTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	// /dev/null is a character device on every Linux machine.
	const char = "/dev/null"
	block := ""
	if os.Geteuid() == 0 {
		block = filepath.Join(dir, "blk")
		if err := unix.Mknod(block, unix.S_IFBLK|0o600, int(unix.Mkdev(7, 200))); err != nil {
			t.Fatalf("mknod block device: %v", err)
		}
	}

	type tc struct {
		name, path, typ string
		ok              bool
		creates         bool
	}
	tests := []tc{
		{"unset missing", filepath.Join(dir, "nope"), hostpath.TypeUnset, true, false},
		{"dir", dir, hostpath.TypeDirectory, true, false},
		{"dir is file", file, hostpath.TypeDirectory, false, false},
		{"dir missing", filepath.Join(dir, "nope"), hostpath.TypeDirectory, false, false},
		{"dir or create", filepath.Join(dir, "new/dir"), hostpath.TypeDirectoryOrCreate, true, true},
		{"dir or create on file", file, hostpath.TypeDirectoryOrCreate, false, false},
		{"file", file, hostpath.TypeFile, true, false},
		{"file is dir", dir, hostpath.TypeFile, false, false},
		{"file or create", filepath.Join(dir, "newfile"), hostpath.TypeFileOrCreate, true, true},
		{"file or create on dir", dir, hostpath.TypeFileOrCreate, false, false},
		{"socket", sock, hostpath.TypeSocket, true, false},
		{"socket is file", file, hostpath.TypeSocket, false, false},
		{"char", char, hostpath.TypeCharDevice, true, false},
		{"char is file", file, hostpath.TypeCharDevice, false, false},
		{"block is char", char, hostpath.TypeBlockDevice, false, false},
		{"unknown type", dir, "Pipe", false, false},
	}
	if block != "" {
		tests = append(tests,
			tc{"block", block, hostpath.TypeBlockDevice, true, false},
			tc{"char is block", block, hostpath.TypeCharDevice, false, false})
	}
	p := hostpath.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := volume.SpecFromVolume(&api.Volume{Name: "h", HostPath: &api.HostPathVolumeSource{Path: tt.path, Type: tt.typ}})
			got, err := p.SetUp(t.Context(), volume.MountRequest{Spec: spec, Dir: filepath.Join(t.TempDir(), "v")})
			if tt.ok {
				if err != nil {
					t.Fatalf("SetUp: %v", err)
				}
				if got != tt.path {
					t.Fatalf("path = %q, want %q", got, tt.path)
				}
			} else if !errors.Is(err, volume.ErrInvalidSpec) {
				t.Fatalf("SetUp = %v, want ErrInvalidSpec", err)
			}
			if tt.creates {
				if _, err := os.Stat(tt.path); err != nil {
					t.Fatalf("not created: %v", err)
				}
			}
		})
	}
}

func TestRelativePath(t *testing.T) {
	spec := volume.SpecFromVolume(&api.Volume{Name: "h", HostPath: &api.HostPathVolumeSource{Path: "etc"}})
	if _, err := hostpath.New().SetUp(t.Context(), volume.MountRequest{Spec: spec, Dir: t.TempDir()}); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("relative path: %v, want ErrInvalidSpec", err)
	}
}
