package imagetest

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// BusyboxPath is where the static busybox binary is expected on the host.
const BusyboxPath = "/bin/busybox"

// Files the image's second layer deletes with whiteouts, and the file it
// adds; tests check the container sees the merged result.
const (
	// RemovedFile exists in the first layer and is whited out by the second.
	RemovedFile = "/etc/removed"
	// OpaqueDir holds "old" in the first layer; the second layer makes the
	// directory opaque and adds "new", so only "new" is visible.
	OpaqueDir = "/opaque"
)

// UID and GID of the image's unprivileged "app" user in /etc/passwd.
const (
	AppUID = 1000
	AppGID = 1000
)

var (
	once    sync.Once
	busybox v1.Image
	errBB   error
)

// Busybox returns the test image (built once per process): a first layer
// with /bin/busybox, a symlink per applet, /etc/passwd with root, app
// (1000) and nobody (65534); a second layer that whites out RemovedFile and
// makes OpaqueDir opaque. Its config runs "sh" with a standard PATH.
func Busybox() (v1.Image, error) {
	once.Do(func() { busybox, errBB = build() })
	return busybox, errBB
}

type entry struct {
	name     string
	typ      byte
	mode     int64
	data     string
	linkname string
}

func layer(entries []entry) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mtime := time.Unix(1700000000, 0)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Size: int64(len(e.data)), Linkname: e.linkname, ModTime: mtime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := io.WriteString(tw, e.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
}

func build() (v1.Image, error) {
	bin, err := os.ReadFile(BusyboxPath)
	if err != nil {
		return nil, fmt.Errorf("imagetest: %w (install Debian's busybox-static)", err)
	}
	out, err := exec.Command(BusyboxPath, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("imagetest: busybox --list: %w", err)
	}
	base := []entry{
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "bin/busybox", typ: tar.TypeReg, mode: 0o755, data: string(bin)},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, data: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n"},
		{name: "etc/group", typ: tar.TypeReg, mode: 0o644, data: "root:x:0:\napp:x:1000:\nnogroup:x:65534:\n"},
		{name: "etc/removed", typ: tar.TypeReg, mode: 0o644, data: "gone\n"},
		{name: "opaque/", typ: tar.TypeDir, mode: 0o755},
		{name: "opaque/old", typ: tar.TypeReg, mode: 0o644, data: "old\n"},
		{name: "root/", typ: tar.TypeDir, mode: 0o700},
		{name: "home/", typ: tar.TypeDir, mode: 0o755},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
		{name: "usr/", typ: tar.TypeDir, mode: 0o755},
		{name: "usr/bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "sbin/", typ: tar.TypeDir, mode: 0o755},
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" {
			continue
		}
		base = append(base, entry{name: "bin/" + applet, typ: tar.TypeSymlink, mode: 0o777, linkname: "busybox"})
	}
	l1, err := layer(base)
	if err != nil {
		return nil, err
	}
	l2, err := layer([]entry{
		{name: "etc/.wh.removed", typ: tar.TypeReg, mode: 0o644},
		{name: "opaque/", typ: tar.TypeDir, mode: 0o755},
		{name: "opaque/.wh..wh..opq", typ: tar.TypeReg, mode: 0o644},
		{name: "opaque/new", typ: tar.TypeReg, mode: 0o644, data: "new\n"},
		{name: "home/app/", typ: tar.TypeDir, mode: 0o755},
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, l1, l2)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goarch()
	cf.Config.Cmd = []string{"sh"}
	cf.Config.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	return mutate.ConfigFile(img, cf)
}

// Registry starts an in-process registry on 127.0.0.1 for the life of the
// test and returns its host:port.
func Registry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

// Push writes img to ref (for example Registry(t)+"/busybox:latest").
func Push(t testing.TB, ref string, img v1.Image) {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatalf("imagetest: %v", err)
	}
	if err := remote.Write(r, img); err != nil {
		t.Fatalf("imagetest: push %s: %v", ref, err)
	}
}

// BusyboxRef starts a registry, pushes the busybox image to it and returns
// its reference. It skips the test when /bin/busybox is missing.
func BusyboxRef(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(BusyboxPath); err != nil {
		t.Skipf("imagetest: %s missing (install busybox-static, `make setup` does)", BusyboxPath)
	}
	img, err := Busybox()
	if err != nil {
		t.Fatalf("imagetest: %v", err)
	}
	ref := Registry(t) + "/busybox:latest"
	Push(t, ref, img)
	return ref
}
