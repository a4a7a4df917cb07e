package projection_test

import (
	"errors"
	"io/fs"
	"testing"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/volume"
	"github.com/coxswain-io/coxswain/volume/projection"
)

func ptr(v int32) *int32 { return &v }

func TestMode(t *testing.T) {
	tests := []struct {
		name string
		m    *int32
		want fs.FileMode
		err  bool
	}{
		{"default", nil, 0o644, false},
		{"set", ptr(0o400), 0o400, false},
		{"zero", ptr(0), 0, false},
		{"setuid bits", ptr(0o4755), 0, true},
		{"negative", ptr(-1), 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := projection.Mode(tt.m, projection.DefaultMode)
			if tt.err {
				if !errors.Is(err, volume.ErrInvalidSpec) {
					t.Fatalf("Mode = %v, want ErrInvalidSpec", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Mode = %o, %v; want %o", got, err, tt.want)
			}
		})
	}
}

func TestPayloadDuplicatePath(t *testing.T) {
	data := map[string][]byte{"a": []byte("1"), "b": []byte("2")}
	items := []*api.KeyToPath{{Key: "a", Path: "x"}, {Key: "b", Path: "x"}}
	if _, err := projection.Payload("test", data, items, nil, false); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("Payload = %v, want ErrInvalidSpec", err)
	}
}

func TestPayloadInvalidKeyName(t *testing.T) {
	// Without items every key is a file name: a key that is not a safe
	// file name fails instead of escaping the directory.
	data := map[string][]byte{"..data": []byte("x")}
	if _, err := projection.Payload("test", data, nil, nil, false); !errors.Is(err, volume.ErrInvalidSpec) {
		t.Fatalf("Payload = %v, want ErrInvalidSpec", err)
	}
}
