package raftstore

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store/encrypt"
)

func transformer(t *testing.T, ids ...string) (*encrypt.Transformer, []encrypt.Key) {
	t.Helper()
	var keys []encrypt.Key
	for _, id := range ids {
		k, err := encrypt.GenerateKey(id)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	tr, err := encrypt.New(encrypt.Config{Keys: keys})
	if err != nil {
		t.Fatal(err)
	}
	return tr, keys
}

// filesContain reports which files under dir contain needle.
func filesContain(t *testing.T, dir string, needle []byte) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(b, needle) {
			hits = append(hits, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

func secret(name, value string) *api.Secret {
	return &api.Secret{
		Metadata:   &api.ObjectMeta{Namespace: "ns", Name: name},
		Data:       map[string][]byte{"password": []byte(value)},
		StringData: map[string]string{"token": value + "-token"},
	}
}

func TestSecretsEncryptedAtRest(t *testing.T) {
	const inSnapshot, inLog = "plaintext-in-snapshot-3f9c1e", "plaintext-in-log-only-8a2d47"
	for _, encrypted := range []bool{true, false} {
		name := map[bool]string{true: "encrypted", false: "control-without-keys"}[encrypted]
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t, time.Minute)
			cfg := testConfig(t, "solo")
			var keys []encrypt.Key
			if encrypted {
				cfg.Encryption, keys = transformer(t, "k1")
			}
			s, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Create(ctx, secret("a", inSnapshot)); err != nil {
				t.Fatal(err)
			}
			if err := s.Snapshot(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Create(ctx, secret("b", inLog)); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{inSnapshot, inLog, inLog + "-token"} {
				hits := filesContain(t, cfg.Dir, []byte(v))
				if encrypted && len(hits) > 0 {
					t.Errorf("secret value %q found in plaintext in %v", v, hits)
				}
				if !encrypted && v != inSnapshot && len(hits) == 0 {
					t.Errorf("control: secret value %q not found on disk; the check would not notice plaintext", v)
				}
			}
			if !encrypted {
				return
			}
			// Rotation: a new key first, the old one still listed.
			k2, err := encrypt.GenerateKey("k2")
			if err != nil {
				t.Fatal(err)
			}
			cfg.Encryption, err = encrypt.New(encrypt.Config{Keys: []encrypt.Key{k2, keys[0]}})
			if err != nil {
				t.Fatal(err)
			}
			s, err = Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			for n, want := range map[string]string{"a": inSnapshot, "b": inLog} {
				obj, err := s.Get(ctx, api.KindSecret, "ns", n)
				if err != nil {
					t.Fatal(err)
				}
				sec := obj.(*api.Secret)
				if string(sec.Data["password"]) != want || string(sec.Data["token"]) != want+"-token" {
					t.Fatalf("secret %s after restart = %v", n, sec.Data)
				}
			}
		})
	}
}

func TestOpenWithoutKeysFailsOnEncryptedState(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	cfg := testConfig(t, "solo")
	cfg.Encryption, _ = transformer(t, "k1")
	s, err := Open(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, secret("a", "v")); err != nil {
		t.Fatal(err)
	}
	if err := s.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Encryption = nil
	if s, err := Open(ctx, cfg); err == nil {
		_ = s.Close()
		t.Fatal("Open of an encrypted snapshot without keys succeeded")
	}
}
