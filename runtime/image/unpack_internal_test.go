package image

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func tarOf(t *testing.T, hdrs ...*tar.Header) *bytes.Reader {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range hdrs {
		if h.Typeflag == tar.TypeReg {
			h.Size = int64(len(h.Linkname))
		}
		data := h.Linkname
		if h.Typeflag == tar.TypeReg {
			h.Linkname = ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(data)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(buf.Bytes())
}

// TestUnpackStaysInside: entries cannot write outside the layer directory,
// through "..", absolute names or symlinked parents.
func TestUnpackStaysInside(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("unpacking sets ownership and needs root")
	}
	outside := t.TempDir()
	for _, tc := range []struct {
		name    string
		hdrs    []*tar.Header
		wantErr bool
	}{
		{"dotdot", []*tar.Header{{Name: "../../" + filepath.Base(outside) + "/escaped", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "x"}}, false},
		{"absolute", []*tar.Header{{Name: filepath.Join(outside, "escaped"), Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "x"}}, false},
		{"symlinked parent", []*tar.Header{
			{Name: "evil", Typeflag: tar.TypeSymlink, Linkname: outside, Mode: 0o777},
			{Name: "evil/escaped", Typeflag: tar.TypeReg, Mode: 0o644, Linkname: "x"},
		}, true},
		{"hardlink out", []*tar.Header{{Name: "link", Typeflag: tar.TypeLink, Linkname: "../../etc/passwd"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			err := unpackLayer(tarOf(t, tc.hdrs...), root)
			if tc.wantErr && err == nil {
				t.Errorf("unpack succeeded")
			}
			if _, err := os.Stat(filepath.Join(outside, "escaped")); err == nil {
				t.Fatalf("an entry escaped the layer directory")
			}
		})
	}
}
