package encrypt

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Error classes, tested with errors.Is.
var (
	// ErrConfig: the key configuration is invalid.
	ErrConfig = errors.New("invalid encryption config")
	// ErrNotEncrypted: the value carries no encryption header.
	ErrNotEncrypted = errors.New("not encrypted")
	// ErrUnknownKey: the value was sealed with a key id not in the config.
	ErrUnknownKey = errors.New("unknown encryption key")
	// ErrDecrypt: authentication failed (wrong key, tampered data or wrong
	// context).
	ErrDecrypt = errors.New("decryption failed")
)

// prefix starts every sealed value.
const prefix = "cxenc1:"

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Key is one named AES key.
type Key struct {
	// ID names the key in sealed values: 1-64 of [A-Za-z0-9._-].
	ID string
	// Secret is 16, 24 or 32 bytes (AES-128, -192, -256).
	Secret []byte
}

// Config lists the keys, newest first: Keys[0] encrypts, all decrypt.
type Config struct {
	Keys []Key
}

// Validate checks there is at least one key, ids are valid and unique and
// secrets have an AES length.
func (c Config) Validate() error {
	if len(c.Keys) == 0 {
		return fmt.Errorf("no keys: %w", ErrConfig)
	}
	seen := map[string]bool{}
	for i, k := range c.Keys {
		if !keyIDPattern.MatchString(k.ID) {
			return fmt.Errorf("keys[%d]: id %q must be 1-64 of [A-Za-z0-9._-]: %w", i, k.ID, ErrConfig)
		}
		if seen[k.ID] {
			return fmt.Errorf("keys[%d]: duplicate id %q: %w", i, k.ID, ErrConfig)
		}
		seen[k.ID] = true
		switch len(k.Secret) {
		case 16, 24, 32:
		default:
			return fmt.Errorf("keys[%d] (%s): secret is %d bytes, want 16, 24 or 32: %w", i, k.ID, len(k.Secret), ErrConfig)
		}
	}
	return nil
}

// GenerateKey returns a new random AES-256 key named id.
func GenerateKey(id string) (Key, error) {
	k := Key{ID: id, Secret: make([]byte, 32)}
	if _, err := rand.Read(k.Secret); err != nil {
		return Key{}, fmt.Errorf("generate key: %w", err)
	}
	return k, nil
}

// ParseKeys parses "id:base64secret,id2:base64secret" (newest first), the
// form an embedding program reads from a flag, a file or the environment.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	for i, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		id, b64, ok := strings.Cut(part, ":")
		if !ok {
			return nil, fmt.Errorf("key %d: want id:base64secret: %w", i, ErrConfig)
		}
		secret, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, fmt.Errorf("key %d (%s): %w: %w", i, id, ErrConfig, err)
		}
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	if err := (Config{Keys: keys}).Validate(); err != nil {
		return nil, err
	}
	return keys, nil
}

// FormatKeys is the inverse of ParseKeys.
func FormatKeys(keys []Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.ID + ":" + base64.StdEncoding.EncodeToString(k.Secret)
	}
	return strings.Join(parts, ",")
}

// Transformer seals and opens values with the configured keys. It is safe
// for concurrent use and holds no mutable state.
type Transformer struct {
	primary string
	aeads   map[string]cipher.AEAD
}

// New returns a Transformer for cfg.
func New(cfg Config) (*Transformer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Transformer{primary: cfg.Keys[0].ID, aeads: make(map[string]cipher.AEAD, len(cfg.Keys))}
	for _, k := range cfg.Keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w: %w", k.ID, ErrConfig, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("key %s: %w: %w", k.ID, ErrConfig, err)
		}
		t.aeads[k.ID] = aead
	}
	return t, nil
}

// PrimaryKeyID returns the id of the key that encrypts.
func (t *Transformer) PrimaryKeyID() string { return t.primary }

// IsEncrypted reports whether data carries the sealed-value header.
func IsEncrypted(data []byte) bool { return bytes.HasPrefix(data, []byte(prefix)) }

// Encrypt seals plaintext with the primary key, binding it to context
// (authenticated, not stored; Decrypt needs the same context).
func (t *Transformer) Encrypt(plaintext, context []byte) ([]byte, error) {
	aead := t.aeads[t.primary]
	head := prefix + t.primary + ":"
	out := make([]byte, len(head)+aead.NonceSize(), len(head)+aead.NonceSize()+len(plaintext)+aead.Overhead())
	copy(out, head)
	nonce := out[len(head):]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("encrypt: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, context), nil
}

// KeyID returns the id of the key that sealed data.
func KeyID(data []byte) (string, error) {
	if !IsEncrypted(data) {
		return "", ErrNotEncrypted
	}
	rest := data[len(prefix):]
	i := bytes.IndexByte(rest, ':')
	if i <= 0 {
		return "", fmt.Errorf("malformed header: %w", ErrDecrypt)
	}
	return string(rest[:i]), nil
}

// Decrypt opens a value sealed by Encrypt with any configured key.
func (t *Transformer) Decrypt(data, context []byte) ([]byte, error) {
	id, err := KeyID(data)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	aead, ok := t.aeads[id]
	if !ok {
		return nil, fmt.Errorf("decrypt: key %q: %w", id, ErrUnknownKey)
	}
	body := data[len(prefix)+len(id)+1:]
	if len(body) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("decrypt: value too short: %w", ErrDecrypt)
	}
	nonce, ct := body[:aead.NonceSize()], body[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, ct, context)
	if err != nil {
		return nil, fmt.Errorf("decrypt with key %q: %w", id, ErrDecrypt)
	}
	return plain, nil
}

// Reencrypt re-seals data with the primary key if another key sealed it,
// and reports whether it did. Data sealed with the primary key is returned
// unchanged.
func (t *Transformer) Reencrypt(data, context []byte) ([]byte, bool, error) {
	id, err := KeyID(data)
	if err != nil {
		return nil, false, fmt.Errorf("reencrypt: %w", err)
	}
	if id == t.primary {
		return data, false, nil
	}
	plain, err := t.Decrypt(data, context)
	if err != nil {
		return nil, false, err
	}
	out, err := t.Encrypt(plain, context)
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}
