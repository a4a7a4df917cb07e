package encrypt

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/coxswain-io/coxswain/api"
)

// SealedKey is the data key under which a sealed Secret keeps its sealed
// payload. It contains a '/', so it can never collide with a real Secret
// key (valid keys are [-._a-zA-Z0-9]+).
const SealedKey = "coxswain.io/sealed"

// SecretContext is the authenticated context of a Secret's sealed payload.
func SecretContext(namespace, name string) []byte {
	return []byte("Secret/" + namespace + "/" + name)
}

// IsSealed reports whether s holds a sealed payload.
func IsSealed(s *api.Secret) bool {
	_, ok := s.GetData()[SealedKey]
	return ok && len(s.GetData()) == 1 && len(s.GetStringData()) == 0
}

// SealSecret replaces s's data and stringData, in place, with one sealed
// entry under SealedKey. Metadata and type stay readable (the store indexes
// them). Sealing a sealed Secret is a no-op.
func (t *Transformer) SealSecret(s *api.Secret) error {
	if IsSealed(s) {
		return nil
	}
	payload := &api.Secret{Data: s.GetData(), StringData: s.GetStringData()}
	plain, err := proto.MarshalOptions{Deterministic: true}.Marshal(payload)
	if err != nil {
		return fmt.Errorf("seal secret: %w", err)
	}
	m := s.GetMetadata()
	sealed, err := t.Encrypt(plain, SecretContext(m.GetNamespace(), m.GetName()))
	clear(plain)
	if err != nil {
		return fmt.Errorf("seal secret %s/%s: %w", m.GetNamespace(), m.GetName(), err)
	}
	s.Data = map[string][]byte{SealedKey: sealed}
	s.StringData = nil
	return nil
}

// OpenSecret restores, in place, the data and stringData of a Secret sealed
// by SealSecret. An unsealed Secret is left as it is.
func (t *Transformer) OpenSecret(s *api.Secret) error {
	if !IsSealed(s) {
		return nil
	}
	m := s.GetMetadata()
	plain, err := t.Decrypt(s.GetData()[SealedKey], SecretContext(m.GetNamespace(), m.GetName()))
	if err != nil {
		return fmt.Errorf("open secret %s/%s: %w", m.GetNamespace(), m.GetName(), err)
	}
	var payload api.Secret
	if err := proto.Unmarshal(plain, &payload); err != nil {
		return fmt.Errorf("open secret %s/%s: %w: %w", m.GetNamespace(), m.GetName(), ErrDecrypt, err)
	}
	s.Data = payload.GetData()
	s.StringData = payload.GetStringData()
	return nil
}

// ResealSecret re-seals a sealed Secret with the primary key if another key
// sealed it, and reports whether it did.
func (t *Transformer) ResealSecret(s *api.Secret) (bool, error) {
	if !IsSealed(s) {
		return false, nil
	}
	m := s.GetMetadata()
	out, changed, err := t.Reencrypt(s.GetData()[SealedKey], SecretContext(m.GetNamespace(), m.GetName()))
	if err != nil {
		return false, fmt.Errorf("reseal secret %s/%s: %w", m.GetNamespace(), m.GetName(), err)
	}
	s.Data[SealedKey] = out
	return changed, nil
}

// SealObject returns what a backend should persist for obj: a sealed copy
// of a Secret, and obj itself for every other kind. obj is not modified.
func (t *Transformer) SealObject(obj api.Object) (api.Object, error) {
	s, ok := obj.(*api.Secret)
	if !ok {
		return obj, nil
	}
	c := api.Clone(s)
	if err := t.SealSecret(c); err != nil {
		return nil, err
	}
	return c, nil
}

// OpenObject reverses SealObject: an opened copy of a sealed Secret, and obj
// itself for every other kind (and for unsealed Secrets, written before
// encryption was enabled). obj is not modified.
func (t *Transformer) OpenObject(obj api.Object) (api.Object, error) {
	s, ok := obj.(*api.Secret)
	if !ok || !IsSealed(s) {
		return obj, nil
	}
	c := api.Clone(s)
	if err := t.OpenSecret(c); err != nil {
		return nil, err
	}
	return c, nil
}
