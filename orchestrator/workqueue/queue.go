package workqueue

import (
	"container/heap"
	"context"
	"sync"
	"time"

	"github.com/coxswain-io/coxswain/orchestrator/clock"
)

// Config configures a Queue. The zero value is usable.
type Config[T comparable] struct {
	// RateLimiter paces AddRateLimited; default DefaultRateLimiter.
	RateLimiter RateLimiter[T]
	// Clock times delayed items; default the wall clock.
	Clock clock.Clock
}

// Queue is a deduplicating work queue with delayed and rate-limited adds.
// All methods are safe for concurrent use.
//
// Lock order: Queue.mu, then the clock's (the queue reads the clock and
// registers its timer under Queue.mu; a clock never calls into the queue).
// The rate limiter has its own lock, never taken while holding Queue.mu.
type Queue[T comparable] struct {
	rl    RateLimiter[T]
	clock clock.Clock

	mu         sync.Mutex
	items      []T // ready items in FIFO order, from head
	head       int
	dirty      map[T]struct{} // queued, or re-added while processing
	processing map[T]struct{}
	delayed    delayHeap[T]
	delayedBy  map[T]*delayedItem[T]
	shutting   bool
	drained    chan struct{} // closed once shutting down with nothing queued or processing

	ready     chan struct{} // capacity 1: an item may be ready
	delayWake chan struct{} // capacity 1: the earliest delayed item changed
	done      chan struct{} // closed by ShutDown
}

// New returns a running queue. Call ShutDown when done with it, which also
// stops its delay goroutine.
func New[T comparable](cfg Config[T]) *Queue[T] {
	if cfg.RateLimiter == nil {
		cfg.RateLimiter = DefaultRateLimiter[T]()
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	q := &Queue[T]{
		rl:         cfg.RateLimiter,
		clock:      cfg.Clock,
		dirty:      map[T]struct{}{},
		processing: map[T]struct{}{},
		delayedBy:  map[T]*delayedItem[T]{},
		drained:    make(chan struct{}),
		ready:      make(chan struct{}, 1),
		delayWake:  make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	go q.delayLoop()
	return q
}

// Add queues item unless it is already queued. An item being processed is
// queued again when it is Done. Adds after ShutDown are ignored.
func (q *Queue[T]) Add(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.addLocked(item)
}

func (q *Queue[T]) addLocked(item T) {
	if q.shutting {
		return
	}
	if _, ok := q.dirty[item]; ok {
		return
	}
	q.dirty[item] = struct{}{}
	if _, ok := q.processing[item]; ok {
		return
	}
	q.pushLocked(item)
}

func (q *Queue[T]) pushLocked(item T) {
	q.items = append(q.items, item)
	signal(q.ready)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// AddAfter queues item once d has elapsed, counted from the call. If item
// is already waiting, the earlier of the two times wins. A non-positive d
// is Add.
//
// A caller that computed d from a time it read earlier should call AddAt
// with that deadline instead: the clock may have moved since.
func (q *Queue[T]) AddAfter(item T, d time.Duration) {
	if d <= 0 {
		q.Add(item)
		return
	}
	q.AddAt(item, q.clock.Now().Add(d))
}

// AddAt queues item once the queue's clock reads at or later; a time not
// after the clock's is Add. If item is already waiting, the earlier of the
// two times wins.
func (q *Queue[T]) AddAt(item T, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutting {
		return
	}
	if !at.After(q.clock.Now()) {
		q.addLocked(item)
		return
	}
	if w, ok := q.delayedBy[item]; ok {
		if at.Before(w.at) {
			w.at = at
			heap.Fix(&q.delayed, w.index)
			if w.index == 0 {
				signal(q.delayWake)
			}
		}
		return
	}
	w := &delayedItem[T]{item: item, at: at}
	heap.Push(&q.delayed, w)
	q.delayedBy[item] = w
	if w.index == 0 {
		signal(q.delayWake)
	}
}

// AddRateLimited queues item after the rate limiter's backoff for it.
func (q *Queue[T]) AddRateLimited(item T) {
	q.AddAfter(item, q.rl.When(item))
}

// Forget clears item's backoff history; call it when item succeeded.
func (q *Queue[T]) Forget(item T) { q.rl.Forget(item) }

// NumRequeues returns how many rate-limited retries item has had since the
// last Forget.
func (q *Queue[T]) NumRequeues(item T) int { return q.rl.NumRequeues(item) }

// Get blocks until an item is ready and hands it out; the caller must call
// Done(item) when finished with it. ok is false when the queue is shut down
// and empty, or when ctx ends.
func (q *Queue[T]) Get(ctx context.Context) (item T, ok bool) {
	for {
		q.mu.Lock()
		if q.head < len(q.items) {
			item = q.items[q.head]
			var zero T
			q.items[q.head] = zero
			q.head++
			if q.head == len(q.items) {
				q.items, q.head = q.items[:0], 0
			} else if q.head >= 64 && q.head*2 >= len(q.items) {
				n := copy(q.items, q.items[q.head:])
				clear(q.items[n:])
				q.items, q.head = q.items[:n], 0
			}
			more := q.head < len(q.items)
			q.processing[item] = struct{}{}
			delete(q.dirty, item)
			q.mu.Unlock()
			if more {
				signal(q.ready) // wake the next waiter
			}
			return item, true
		}
		shutting := q.shutting
		q.mu.Unlock()
		if shutting {
			signal(q.ready) // let other waiters see the end too
			return item, false
		}
		select {
		case <-q.ready:
		case <-q.done:
		case <-ctx.Done():
			return item, false
		}
	}
}

// Done marks item as finished. If it was added while being processed, it is
// queued again.
func (q *Queue[T]) Done(item T) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.processing, item)
	if _, ok := q.dirty[item]; ok {
		q.pushLocked(item)
	}
	q.checkDrainedLocked()
}

// Len returns the number of items ready to be handed out (not counting
// delayed or in-process items).
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) - q.head
}

// Delayed returns the number of items waiting for their delay.
func (q *Queue[T]) Delayed() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.delayed)
}

// ShutDown stops accepting items and drops delayed ones. Get keeps handing
// out queued items, then returns ok=false. ShutDown is idempotent.
func (q *Queue[T]) ShutDown() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.shutting {
		return
	}
	q.shutting = true
	q.delayed = nil
	clear(q.delayedBy)
	close(q.done)
	q.checkDrainedLocked()
}

// ShutDownWithDrain shuts the queue down and waits until every queued item
// has been handed out and every handed-out item is Done, or ctx ends.
func (q *Queue[T]) ShutDownWithDrain(ctx context.Context) error {
	q.ShutDown()
	select {
	case <-q.drained:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ShuttingDown reports whether ShutDown has been called.
func (q *Queue[T]) ShuttingDown() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.shutting
}

func (q *Queue[T]) checkDrainedLocked() {
	if !q.shutting || q.head < len(q.items) || len(q.processing) > 0 {
		return
	}
	select {
	case <-q.drained:
	default:
		close(q.drained)
	}
}

func (q *Queue[T]) delayLoop() {
	for {
		q.mu.Lock()
		now := q.clock.Now()
		for len(q.delayed) > 0 && !q.delayed[0].at.After(now) {
			w := heap.Pop(&q.delayed).(*delayedItem[T])
			delete(q.delayedBy, w.item)
			q.addLocked(w.item)
		}
		var timer <-chan time.Time
		if len(q.delayed) > 0 {
			// A deadline, not now's distance to it: the clock may have
			// moved since now was read, and a wait of at-now would then
			// end late (with a fake clock, a step late).
			timer = q.clock.At(q.delayed[0].at)
		}
		q.mu.Unlock()
		select {
		case <-q.delayWake:
		case <-timer:
		case <-q.done:
			return
		}
	}
}

type delayedItem[T comparable] struct {
	item  T
	at    time.Time
	index int
}

type delayHeap[T comparable] []*delayedItem[T]

func (h delayHeap[T]) Len() int           { return len(h) }
func (h delayHeap[T]) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h delayHeap[T]) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *delayHeap[T]) Push(x any) {
	w := x.(*delayedItem[T])
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *delayHeap[T]) Pop() any {
	old := *h
	n := len(old)
	w := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return w
}
