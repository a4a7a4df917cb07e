package encrypt_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store/encrypt"
)

func key(t *testing.T, id string) encrypt.Key {
	t.Helper()
	k, err := encrypt.GenerateKey(id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func transformer(t *testing.T, keys ...encrypt.Key) *encrypt.Transformer {
	t.Helper()
	tr, err := encrypt.New(encrypt.Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestConfigValidate(t *testing.T) {
	good := encrypt.Key{ID: "k1", Secret: make([]byte, 32)}
	tests := []struct {
		name string
		keys []encrypt.Key
		ok   bool
	}{
		{"one key", []encrypt.Key{good}, true},
		{"aes128", []encrypt.Key{{ID: "a", Secret: make([]byte, 16)}}, true},
		{"aes192", []encrypt.Key{{ID: "a", Secret: make([]byte, 24)}}, true},
		{"none", nil, false},
		{"short secret", []encrypt.Key{{ID: "a", Secret: make([]byte, 10)}}, false},
		{"bad id", []encrypt.Key{{ID: "a:b", Secret: make([]byte, 32)}}, false},
		{"empty id", []encrypt.Key{{ID: "", Secret: make([]byte, 32)}}, false},
		{"duplicate", []encrypt.Key{good, good}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encrypt.New(encrypt.Config{Keys: tt.keys})
			if tt.ok && err != nil {
				t.Fatalf("New: %v", err)
			}
			if !tt.ok && !errors.Is(err, encrypt.ErrConfig) {
				t.Fatalf("New = %v, want ErrConfig", err)
			}
		})
	}
}

func TestParseKeys(t *testing.T) {
	k1, k2 := key(t, "k1"), key(t, "k2")
	s := encrypt.FormatKeys([]encrypt.Key{k2, k1})
	keys, err := encrypt.ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != "k2" || !bytes.Equal(keys[1].Secret, k1.Secret) {
		t.Fatalf("ParseKeys round trip = %+v", keys)
	}
	for _, bad := range []string{"", "k1", "k1:!!!", "k1:AAAA"} {
		if _, err := encrypt.ParseKeys(bad); !errors.Is(err, encrypt.ErrConfig) {
			t.Errorf("ParseKeys(%q) = %v, want ErrConfig", bad, err)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	tr := transformer(t, key(t, "k1"))
	plain := []byte("the launch codes")
	ctx := []byte("Secret/default/codes")
	sealed, err := tr.Encrypt(plain, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plaintext")
	}
	if !encrypt.IsEncrypted(sealed) {
		t.Fatal("sealed value has no header")
	}
	again, _ := tr.Encrypt(plain, ctx)
	if bytes.Equal(again, sealed) {
		t.Fatal("two encryptions are identical: nonce reused")
	}
	got, err := tr.Decrypt(sealed, ctx)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Decrypt = %q, %v", got, err)
	}

	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	other := transformer(t, encrypt.Key{ID: "k1", Secret: bytes.Repeat([]byte{7}, 32)})
	tests := []struct {
		name string
		tr   *encrypt.Transformer
		data []byte
		ctx  []byte
		want error
	}{
		{"tampered", tr, tampered, ctx, encrypt.ErrDecrypt},
		{"wrong context", tr, sealed, []byte("Secret/default/other"), encrypt.ErrDecrypt},
		{"wrong key same id", other, sealed, ctx, encrypt.ErrDecrypt},
		{"unknown key", transformer(t, key(t, "k9")), sealed, ctx, encrypt.ErrUnknownKey},
		{"not encrypted", tr, plain, ctx, encrypt.ErrNotEncrypted},
		{"truncated", tr, sealed[:12], ctx, encrypt.ErrDecrypt},
		{"no id", tr, []byte("cxenc1:"), ctx, encrypt.ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.tr.Decrypt(tt.data, tt.ctx); !errors.Is(err, tt.want) {
				t.Fatalf("Decrypt = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRotation(t *testing.T) {
	old, neu := key(t, "2025"), key(t, "2026")
	before := transformer(t, old)
	ctx := []byte("c")
	sealedOld, err := before.Encrypt([]byte("data"), ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The new key first; the old one still listed.
	after := transformer(t, neu, old)
	if got, err := after.Decrypt(sealedOld, ctx); err != nil || string(got) != "data" {
		t.Fatalf("old value with rotated config: %q, %v", got, err)
	}
	fresh, _ := after.Encrypt([]byte("x"), ctx)
	if id, _ := encrypt.KeyID(fresh); id != "2026" {
		t.Fatalf("new writes sealed with %q, want 2026", id)
	}
	re, changed, err := after.Reencrypt(sealedOld, ctx)
	if err != nil || !changed {
		t.Fatalf("Reencrypt = %v, %v", changed, err)
	}
	if id, _ := encrypt.KeyID(re); id != "2026" {
		t.Fatalf("re-encrypted with %q", id)
	}
	if _, changed, _ := after.Reencrypt(re, ctx); changed {
		t.Fatal("Reencrypt of a value sealed with the primary key changed it")
	}
	// With the old key dropped, the re-encrypted value still opens and the
	// old one does not.
	final := transformer(t, neu)
	if got, err := final.Decrypt(re, ctx); err != nil || string(got) != "data" {
		t.Fatalf("after dropping the old key: %q, %v", got, err)
	}
	if _, err := final.Decrypt(sealedOld, ctx); !errors.Is(err, encrypt.ErrUnknownKey) {
		t.Fatalf("old value after dropping its key = %v, want ErrUnknownKey", err)
	}
}

func secret() *api.Secret {
	return &api.Secret{
		Metadata:   &api.ObjectMeta{Name: "db", Namespace: "prod", Labels: map[string]string{"app": "db"}},
		Type:       "Opaque",
		Data:       map[string][]byte{"password": []byte("s3cr3t-PASSWORD-value")},
		StringData: map[string]string{"token": "plain-TOKEN-string"},
	}
}

// TestPersistedBytesHaveNoPlaintext marshals a sealed Secret the way a
// backend persists it (protobuf and JSON) and searches the raw bytes for
// every secret value and key name.
func TestPersistedBytesHaveNoPlaintext(t *testing.T) {
	tr := transformer(t, key(t, "k1"))
	orig := secret()
	sealedObj, err := tr.SealObject(orig)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(orig, secret()) {
		t.Fatal("SealObject modified its argument")
	}
	pb, err := proto.Marshal(sealedObj)
	if err != nil {
		t.Fatal(err)
	}
	js, err := protojson.Marshal(sealedObj)
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{pb, js} {
		for _, needle := range []string{"s3cr3t-PASSWORD-value", "plain-TOKEN-string", "password", "token"} {
			if bytes.Contains(raw, []byte(needle)) {
				t.Fatalf("persisted bytes contain %q", needle)
			}
		}
		// What must stay readable for the store stays readable.
		if !bytes.Contains(raw, []byte("db")) || !bytes.Contains(raw, []byte("prod")) {
			t.Fatal("metadata not readable in persisted bytes")
		}
	}

	// Read back as a backend would: unmarshal, then open.
	var back api.Secret
	if err := proto.Unmarshal(pb, &back); err != nil {
		t.Fatal(err)
	}
	opened, err := tr.OpenObject(&back)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(opened, orig) {
		t.Fatalf("round trip = %v, want %v", opened, orig)
	}
}

func TestSealedSecretBoundToName(t *testing.T) {
	tr := transformer(t, key(t, "k1"))
	s := secret()
	if err := tr.SealSecret(s); err != nil {
		t.Fatal(err)
	}
	if err := tr.SealSecret(s); err != nil { // idempotent
		t.Fatal(err)
	}
	moved := api.Clone(s)
	moved.Metadata.Name = "stolen"
	if err := tr.OpenSecret(moved); !errors.Is(err, encrypt.ErrDecrypt) {
		t.Fatalf("sealed payload opened under another name: %v", err)
	}
	if err := tr.OpenSecret(s); err != nil {
		t.Fatal(err)
	}
	if string(s.Data["password"]) != "s3cr3t-PASSWORD-value" || s.StringData["token"] != "plain-TOKEN-string" {
		t.Fatalf("opened secret = %v", s)
	}
}

func TestResealSecret(t *testing.T) {
	old, neu := key(t, "old"), key(t, "new")
	s := secret()
	if err := transformer(t, old).SealSecret(s); err != nil {
		t.Fatal(err)
	}
	tr := transformer(t, neu, old)
	changed, err := tr.ResealSecret(s)
	if err != nil || !changed {
		t.Fatalf("ResealSecret = %v, %v", changed, err)
	}
	if id, _ := encrypt.KeyID(s.Data[encrypt.SealedKey]); id != "new" {
		t.Fatalf("resealed with %q", id)
	}
	if err := transformer(t, neu).OpenSecret(s); err != nil {
		t.Fatalf("open with only the new key: %v", err)
	}
}

func TestOtherKindsPassThrough(t *testing.T) {
	tr := transformer(t, key(t, "k1"))
	cm := &api.ConfigMap{Metadata: &api.ObjectMeta{Name: "c"}, Data: map[string]string{"k": "v"}}
	got, err := tr.SealObject(cm)
	if err != nil || got != api.Object(cm) {
		t.Fatalf("SealObject(ConfigMap) = %v, %v", got, err)
	}
	// An unsealed Secret (written before encryption was enabled) opens as is.
	plain := secret()
	got, err = tr.OpenObject(plain)
	if err != nil || !proto.Equal(got, secret()) {
		t.Fatalf("OpenObject(unsealed) = %v, %v", got, err)
	}
}

func BenchmarkSealOpenSecret(b *testing.B) {
	k, _ := encrypt.GenerateKey("k1")
	tr, _ := encrypt.New(encrypt.Config{Keys: []encrypt.Key{k}})
	s := secret()
	s.Data["blob"] = []byte(strings.Repeat("x", 1024))
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := tr.SealObject(s)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tr.OpenObject(sealed); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleTransformer_SealObject() {
	keys, _ := encrypt.ParseKeys("2026-11:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	tr, _ := encrypt.New(encrypt.Config{Keys: keys})
	s := &api.Secret{Metadata: &api.ObjectMeta{Name: "db", Namespace: "prod"}, Data: map[string][]byte{"password": []byte("hunter2")}}

	sealed, _ := tr.SealObject(s) // what the backend persists
	raw, _ := proto.Marshal(sealed)
	fmt.Println("plaintext on disk:", bytes.Contains(raw, []byte("hunter2")))

	opened, _ := tr.OpenObject(sealed) // what the backend applies after reading
	fmt.Println("password:", string(opened.(*api.Secret).Data["password"]))
	// Output:
	// plaintext on disk: false
	// password: hunter2
}
