// Package encrypt keeps Secret data encrypted at rest: an AES-GCM transformer
// with named keys, so keys can be rotated, and helpers that seal an
// api.Secret (or any bytes) before a store backend persists it.
//
// # Keys and rotation
//
// The embedding program configures a list of keys, newest first
// ([Config]). The first key encrypts; every listed key decrypts. Each sealed
// value records the id of the key that sealed it. To rotate: put the new key
// first and keep the old ones listed; new writes use the new key at once, and
// [Transformer.Reencrypt] / [Transformer.ResealSecret] (or simply writing a
// fresh snapshot, which seals everything with the newest key) move old data
// over. When nothing sealed with an old key is left ([Transformer.KeyID]
// reports which key sealed a value), drop the old key from the list.
//
// # Format
//
// A sealed value is
//
//	"cxenc1:" <key id> ":" <12-byte random nonce> <AES-GCM ciphertext and tag>
//
// with additional authenticated data binding it to its place (for Secrets
// "Secret/<namespace>/<name>"), so a sealed value copied onto another object
// does not decrypt.
//
// # How a store backend uses it
//
// The in-memory state stays plaintext (controllers and the node agent read
// Secrets through the Store as usual); only what is written to disk or sent
// to a replica's log is sealed. At the persistence boundary a backend calls
//
//	sealed, err := t.SealObject(obj)   // before marshaling a log entry or a snapshot record
//	obj, err := t.OpenObject(sealed)   // after unmarshaling, before applying
//
// or, for a snapshot written as one stream, wraps the file in a sealed
// stream (everything in it is encrypted, Secrets and all):
//
//	w, err := t.NewWriter(file, []byte("memstore-snapshot"))
//	_, err = st.Snapshot(w); err = w.Close()
//	err = st.Restore(t.NewReader(file, []byte("memstore-snapshot")))
//
// SealObject returns a sealed copy of a Secret (its data and stringData
// replaced by one sealed entry under [SealedKey]) and every other kind
// unchanged, so the backend's encoding stays the same. Backends that persist
// opaque bytes can use [Transformer.Encrypt] and [Transformer.Decrypt]
// directly with the object's key as context. A backend reading state written
// before encryption was enabled sees unsealed Secrets: OpenObject passes them
// through, and the next snapshot seals them. Likewise a snapshot file from
// before encryption has no stream header ([IsEncryptedStream] on its first
// bytes tells; NewReader fails with ErrNotEncrypted): read it as is once.
package encrypt
