package store

import (
	"errors"
	"fmt"
)

// The error classes every backend returns, wrapped with %w so callers test
// them with errors.Is. Transports translate them at the edge only.
var (
	// ErrNotFound: the object (or namespace) does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: Create of an object that exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a resourceVersion (or uid) precondition did not hold.
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the request or the object is malformed.
	ErrInvalid = errors.New("invalid")
	// ErrCompacted: the requested revision is older than the retained history;
	// the caller relists.
	ErrCompacted = errors.New("revision compacted")
	// ErrUnavailable: the store cannot serve the request now (no quorum,
	// closed, injected fault); the caller may retry.
	ErrUnavailable = errors.New("unavailable")
	// ErrTooSlow: a watcher fell so far behind that it was cancelled; the
	// caller relists and watches again.
	ErrTooSlow = errors.New("watcher too slow")
	// ErrForbidden: the caller is not allowed to do this (remote API).
	ErrForbidden = errors.New("forbidden")
)

// Errorf wraps class with a message naming what was wrong.
func Errorf(class error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), class)
}

// IsNotFound reports whether err is of class ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is of class ErrConflict.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsAlreadyExists reports whether err is of class ErrAlreadyExists.
func IsAlreadyExists(err error) bool { return errors.Is(err, ErrAlreadyExists) }
