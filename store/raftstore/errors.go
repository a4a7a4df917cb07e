package raftstore

import (
	"context"
	"errors"

	"github.com/coxswain-io/coxswain/store"
)

// Error codes on the wire between members.
const (
	codeOK int32 = iota
	codeNotFound
	codeAlreadyExists
	codeConflict
	codeInvalid
	codeCompacted
	codeUnavailable
	codeTooSlow
	codeForbidden
	codeCanceled
	codeDeadline
	codeUnknown
	// codeNotLeader: the receiver is not the leader and did nothing; the
	// sender may retry elsewhere.
	codeNotLeader
)

var classes = []struct {
	code  int32
	class error
}{
	{codeNotFound, store.ErrNotFound},
	{codeAlreadyExists, store.ErrAlreadyExists},
	{codeConflict, store.ErrConflict},
	{codeInvalid, store.ErrInvalid},
	{codeCompacted, store.ErrCompacted},
	{codeUnavailable, store.ErrUnavailable},
	{codeTooSlow, store.ErrTooSlow},
	{codeForbidden, store.ErrForbidden},
	{codeCanceled, context.Canceled},
	{codeDeadline, context.DeadlineExceeded},
	{codeNotLeader, errNotLeader},
}

// errNotLeader: this member is not the leader and did nothing.
var errNotLeader = errors.New("not the leader")

func errCode(err error) int32 {
	if err == nil {
		return codeOK
	}
	for _, c := range classes {
		if errors.Is(err, c.class) {
			return c.code
		}
	}
	return codeUnknown
}

// remoteError is an error that happened on another member: its message as
// it was, and its class for errors.Is.
type remoteError struct {
	msg   string
	class error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.class }

func codeError(code int32, msg string) error {
	if code == codeOK {
		return nil
	}
	for _, c := range classes {
		if c.code == code {
			return &remoteError{msg: msg, class: c.class}
		}
	}
	return &remoteError{msg: msg}
}
