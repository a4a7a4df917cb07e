package encrypt_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store/encrypt"
	"github.com/coxswain-io/coxswain/store/memstore"
)

func seal(t *testing.T, tr *encrypt.Transformer, plain, ctx []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := tr.NewWriter(&buf, ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Write in odd-sized pieces to cross chunk boundaries.
	for p := plain; len(p) > 0; {
		n := min(len(p), 12345)
		if _, err := w.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestStreamRoundTrip(t *testing.T) {
	tr := transformer(t, key(t, "k1"))
	ctx := []byte("snapshot")
	for _, size := range []int{0, 1, 64 << 10, 64<<10 + 1, 300_000} {
		plain := make([]byte, size)
		if _, err := rand.Read(plain); err != nil {
			t.Fatal(err)
		}
		sealed := seal(t, tr, plain, ctx)
		if !encrypt.IsEncryptedStream(sealed) {
			t.Fatal("no stream header")
		}
		got, err := io.ReadAll(tr.NewReader(bytes.NewReader(sealed), ctx))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip differs", size)
		}
	}
}

func TestStreamTampering(t *testing.T) {
	tr := transformer(t, key(t, "k1"))
	ctx := []byte("snapshot")
	plain := bytes.Repeat([]byte("secret data "), 20_000) // ~240 KB: 4 chunks
	sealed := seal(t, tr, plain, ctx)
	header := len("cxencs1:k1:") + 16
	chunk := 4 + 12 + 64<<10 + 16

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 1
	lastBitCleared := bytes.Clone(sealed)
	// Mark the first chunk as the last one.
	lastBitCleared[header] |= 0x80
	swapped := append(append(append([]byte(nil), sealed[:header]...), sealed[header+chunk:header+2*chunk]...), sealed[header:header+chunk]...)
	swapped = append(swapped, sealed[header+2*chunk:]...)

	tests := []struct {
		name string
		data []byte
		ctx  []byte
		tr   *encrypt.Transformer
		want error
	}{
		{"bit flip", flipped, ctx, tr, encrypt.ErrDecrypt},
		{"truncated at a chunk boundary", sealed[:header+2*chunk], ctx, tr, encrypt.ErrDecrypt},
		{"truncated mid-chunk", sealed[:len(sealed)-5], ctx, tr, encrypt.ErrDecrypt},
		{"chunks swapped", swapped, ctx, tr, encrypt.ErrDecrypt},
		{"early last flag", lastBitCleared, ctx, tr, encrypt.ErrDecrypt},
		{"trailing garbage", append(bytes.Clone(sealed), 'x'), ctx, tr, encrypt.ErrDecrypt},
		{"wrong context", sealed, []byte("other"), tr, encrypt.ErrDecrypt},
		{"unknown key", sealed, ctx, transformer(t, key(t, "k2")), encrypt.ErrUnknownKey},
		{"plaintext", plain, ctx, tr, encrypt.ErrNotEncrypted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := io.ReadAll(tt.tr.NewReader(bytes.NewReader(tt.data), tt.ctx))
			if !errors.Is(err, tt.want) {
				t.Fatalf("ReadAll = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestMemstoreSnapshotAtRest persists a memstore snapshot through a sealed
// stream, checks the raw bytes hold no Secret plaintext (while an unsealed
// snapshot does, so the check means something), and restores it into a new
// store after a key rotation.
func TestMemstoreSnapshotAtRest(t *testing.T) {
	ctx := t.Context()
	const password = "correct-horse-battery-staple"
	src := memstore.New()
	t.Cleanup(func() { src.Close() })
	for _, o := range []api.Object{
		&api.Namespace{Metadata: &api.ObjectMeta{Name: "prod"}},
		&api.Secret{Metadata: &api.ObjectMeta{Name: "db", Namespace: "prod"}, Data: map[string][]byte{"password": []byte(password)}},
	} {
		if _, err := src.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	var plainSnap bytes.Buffer
	if _, err := src.Snapshot(&plainSnap); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(plainSnap.Bytes(), []byte(password)) {
		t.Fatal("an unsealed snapshot does not contain the password: the check below would prove nothing")
	}

	old := key(t, "old")
	var disk bytes.Buffer
	w, err := transformer(t, old).NewWriter(&disk, []byte("memstore-snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := src.Snapshot(w); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(disk.Bytes(), []byte(password)) || bytes.Contains(disk.Bytes(), []byte("password")) {
		t.Fatal("persisted snapshot contains Secret plaintext")
	}

	// Rotated config: a new primary key, the old one still listed.
	tr := transformer(t, key(t, "new"), old)
	dst := memstore.New()
	t.Cleanup(func() { dst.Close() })
	if err := dst.Restore(tr.NewReader(&disk, []byte("memstore-snapshot"))); err != nil {
		t.Fatal(err)
	}
	got, err := dst.Get(ctx, api.KindSecret, "prod", "db")
	if err != nil {
		t.Fatal(err)
	}
	want, err := src.Get(ctx, api.KindSecret, "prod", "db")
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("restored secret = %v, want %v", got, want)
	}
}
