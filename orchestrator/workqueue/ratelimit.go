package workqueue

import (
	"sync"
	"time"
)

// RateLimiter decides how long an item waits before it is retried.
// Implementations are safe for concurrent use.
type RateLimiter[T comparable] interface {
	// When records a failure of item and returns how long to wait before
	// retrying it.
	When(item T) time.Duration
	// Forget clears item's failure history.
	Forget(item T)
	// NumRequeues returns how many failures of item have been recorded since
	// the last Forget.
	NumRequeues(item T) int
}

// Exponential is a per-item exponential backoff: base, 2*base, 4*base, ...
// capped at max.
type Exponential[T comparable] struct {
	base, max time.Duration

	mu       sync.Mutex
	failures map[T]int
}

var _ RateLimiter[string] = (*Exponential[string])(nil)

// NewExponential returns a per-item exponential backoff from base to max.
func NewExponential[T comparable](base, max time.Duration) *Exponential[T] {
	return &Exponential[T]{base: base, max: max, failures: map[T]int{}}
}

// DefaultRateLimiter returns the backoff controllers use unless configured
// otherwise: 5ms doubling per failure up to 5 minutes.
func DefaultRateLimiter[T comparable]() RateLimiter[T] {
	return NewExponential[T](5*time.Millisecond, 5*time.Minute)
}

// When records a failure and returns base*2^(failures-1), capped at max.
func (e *Exponential[T]) When(item T) time.Duration {
	e.mu.Lock()
	n := e.failures[item]
	e.failures[item] = n + 1
	e.mu.Unlock()
	if n > 62 {
		return e.max
	}
	d := e.base << uint(n)
	if d <= 0 || d > e.max || d>>uint(n) != e.base {
		return e.max
	}
	return d
}

// Forget clears item's failures.
func (e *Exponential[T]) Forget(item T) {
	e.mu.Lock()
	delete(e.failures, item)
	e.mu.Unlock()
}

// NumRequeues returns item's failures since the last Forget.
func (e *Exponential[T]) NumRequeues(item T) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failures[item]
}
