package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and waits. Real is the wall clock; Fake is stepped by
// tests. Implementations are safe for concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After returns a channel that receives the time once d has elapsed.
	After(d time.Duration) <-chan time.Time
	// At returns a channel that receives the time once the clock reads t
	// or later (at once if it already does). Wait for a deadline with At,
	// not with After(t.Sub(Now())): the clock may move between the two
	// calls, and the wait would then end that much after t.
	At(t time.Time) <-chan time.Time
	// Since returns the time elapsed since t.
	Since(t time.Time) time.Duration
}

// Real is the wall clock.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After is time.After.
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// At waits on the wall clock until t.
func (Real) At(t time.Time) <-chan time.Time { return time.After(time.Until(t)) }

// Since is time.Since.
func (Real) Since(t time.Time) time.Duration { return time.Since(t) }

// Fake is a clock that only moves when Step or Set is called. Waiters whose
// deadline is reached are fired in deadline order.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

var _ Clock = (*Fake)(nil)

// NewFake returns a fake clock set to now.
func NewFake(now time.Time) *Fake { return &Fake{now: now} }

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// Since returns the fake time elapsed since t.
func (f *Fake) Since(t time.Time) time.Duration { return f.Now().Sub(t) }

// After returns a channel that receives the fake time once the clock has
// been stepped by at least d. A non-positive d fires at once.
func (f *Fake) After(d time.Duration) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.atLocked(f.now.Add(d))
}

// At returns a channel that receives the fake time once the clock has been
// stepped to t or later; if it reads t or later already, it fires at once.
func (f *Fake) At(t time.Time) <-chan time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.atLocked(t)
}

func (f *Fake) atLocked(t time.Time) <-chan time.Time {
	ch := make(chan time.Time, 1)
	if !t.After(f.now) {
		ch <- f.now
		return ch
	}
	f.waiters = append(f.waiters, fakeWaiter{at: t, ch: ch})
	return ch
}

// Waiters returns how many After and At channels have not fired yet, so a
// test can wait for a component to start waiting before it steps the clock.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// Step moves the clock forward by d and fires every waiter that is due.
func (f *Fake) Step(d time.Duration) {
	f.mu.Lock()
	f.setLocked(f.now.Add(d))
	f.mu.Unlock()
}

// Set moves the clock to t (which may not be before the current fake time)
// and fires every waiter that is due.
func (f *Fake) Set(t time.Time) {
	f.mu.Lock()
	if t.After(f.now) {
		f.setLocked(t)
	}
	f.mu.Unlock()
}

func (f *Fake) setLocked(t time.Time) {
	f.now = t
	sort.SliceStable(f.waiters, func(i, j int) bool { return f.waiters[i].at.Before(f.waiters[j].at) })
	keep := f.waiters[:0]
	for _, w := range f.waiters {
		if !w.at.After(t) {
			w.ch <- t // buffered, never blocks
			continue
		}
		keep = append(keep, w)
	}
	f.waiters = keep
}
