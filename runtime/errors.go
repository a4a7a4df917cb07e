package runtime

import (
	"errors"
	"fmt"
)

// The error classes every runtime returns, wrapped with %w; test them with
// errors.Is.
var (
	// ErrNotFound: the sandbox, container or image does not exist.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a sandbox or container with that name exists.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalid: the request is malformed.
	ErrInvalid = errors.New("invalid argument")
	// ErrFailedPrecondition: the object is not in a state that allows the
	// call (start of a container that is not created, a sandbox that is not
	// ready, exec in a container that is not running).
	ErrFailedPrecondition = errors.New("failed precondition")
	// ErrUnsupported: the runtime does not implement the requested feature.
	ErrUnsupported = errors.New("unsupported")
)

// Errorf wraps class with a message naming what was wrong.
func Errorf(class error, format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), class)
}

// IsNotFound reports whether err is of class ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
