package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Request names the object to reconcile. Namespace is empty for
// cluster-scoped kinds.
type Request struct {
	Namespace string
	Name      string
}

// String returns "namespace/name", or "name" when Namespace is empty.
func (r Request) String() string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}

// Result tells the controller what to do with the key after a successful
// reconcile.
type Result struct {
	// Requeue retries the key with rate-limited backoff.
	Requeue bool
	// RequeueAfter, if positive, reconciles the key again after this delay
	// (and resets its backoff). It takes precedence over Requeue. The delay
	// counts from when the controller began this reconcile, so a deadline
	// minus a time read (from the controller's clock) during the reconcile
	// brings the key back no later than that deadline, however long the
	// reconcile took.
	RequeueAfter time.Duration
}

// IsZero reports whether r is "done".
func (r Result) IsZero() bool { return r == Result{} }

// Reconciler drives one object towards its desired state.
//
// Reconcile is called from several workers at once, but never for the same
// Request concurrently. It should read current state rather than rely on the
// event that woke it (it is level-triggered), and must honour ctx.
type Reconciler interface {
	Reconcile(ctx context.Context, req Request) (Result, error)
}

// Func adapts a function to a Reconciler.
type Func func(ctx context.Context, req Request) (Result, error)

var _ Reconciler = Func(nil)

// Reconcile calls f.
func (f Func) Reconcile(ctx context.Context, req Request) (Result, error) { return f(ctx, req) }

// terminalError marks an error that retrying cannot fix.
type terminalError struct{ err error }

func (e *terminalError) Error() string { return "terminal error: " + e.err.Error() }
func (e *terminalError) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrTerminal) hold for any terminal error.
func (e *terminalError) Is(target error) bool { return target == ErrTerminal }

// ErrTerminal matches (with errors.Is) every error wrapped by Terminal.
var ErrTerminal = errors.New("terminal error")

// Terminal marks err as not worth retrying: the controller logs it, counts
// it, and forgets the key until the next change wakes it. Terminal(nil) is
// nil. The wrapped error stays reachable with errors.Is and errors.As.
func Terminal(err error) error {
	if err == nil {
		return nil
	}
	return &terminalError{err: err}
}

// IsTerminal reports whether err (or an error it wraps) was made by Terminal.
func IsTerminal(err error) bool { return errors.Is(err, ErrTerminal) }

type loggerKey struct{}

// WithLogger returns ctx carrying logger. The controller gives each
// Reconcile a ctx whose logger has the controller name and key attached.
func WithLogger(ctx context.Context, logger *slog.Logger) context.Context {
	return context.WithValue(ctx, loggerKey{}, logger)
}

// Logger returns the logger carried by ctx, or slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}
