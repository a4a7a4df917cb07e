package volume

import "errors"

// Error classes of this package, wrapped with %w. Errors from the store
// (store.ErrNotFound for a missing ConfigMap, ...) are wrapped unchanged, so
// errors.Is works on both.
var (
	// ErrNoPlugin: no registered plugin supports the volume.
	ErrNoPlugin = errors.New("no volume plugin")
	// ErrNotSupported: the plugin lacks the facet asked for, or the volume
	// source is of a type the plugin cannot handle.
	ErrNotSupported = errors.New("not supported")
	// ErrDuplicate: a plugin with the same name is already registered.
	ErrDuplicate = errors.New("duplicate plugin")
	// ErrInvalidSpec: the volume's spec is malformed or does not match what
	// is on the node (a hostPath of the wrong type, an unsafe item path).
	ErrInvalidSpec = errors.New("invalid volume spec")
	// ErrNotReady: the volume cannot be set up yet (a claim not bound);
	// the caller retries later.
	ErrNotReady = errors.New("volume not ready")
)
