package informer

import (
	"fmt"
	"log/slog"
	"sync"

	"github.com/coxswain-io/coxswain/api"
)

// Handler receives an informer's changes. Objects are shared with the cache
// and must not be modified. Calls for one registration are sequential.
type Handler interface {
	// OnAdd is called for an object new to the cache.
	OnAdd(obj api.Object)
	// OnUpdate is called when an object changed (or, with a resync period,
	// periodically with old == new).
	OnUpdate(old, new api.Object)
	// OnDelete is called with the last known state of a removed object.
	OnDelete(obj api.Object)
}

// HandlerFuncs adapts functions to a Handler; nil functions are skipped.
type HandlerFuncs struct {
	AddFunc    func(obj api.Object)
	UpdateFunc func(old, new api.Object)
	DeleteFunc func(obj api.Object)
}

var _ Handler = HandlerFuncs{}

// OnAdd calls AddFunc.
func (h HandlerFuncs) OnAdd(obj api.Object) {
	if h.AddFunc != nil {
		h.AddFunc(obj)
	}
}

// OnUpdate calls UpdateFunc.
func (h HandlerFuncs) OnUpdate(old, new api.Object) {
	if h.UpdateFunc != nil {
		h.UpdateFunc(old, new)
	}
}

// OnDelete calls DeleteFunc.
func (h HandlerFuncs) OnDelete(obj api.Object) {
	if h.DeleteFunc != nil {
		h.DeleteFunc(obj)
	}
}

type opType uint8

const (
	opAdd opType = iota + 1
	opUpdate
	opDelete
	opSynced // marker: every object of the first list was delivered before it
)

// maxSpare caps the capacity of the buffer a registration keeps for reuse.
const maxSpare = 4096

type notification struct {
	typ      opType
	old, obj api.Object
}

// Registration is one handler's place on an informer: its FIFO of pending
// notifications and the goroutine that delivers them.
type Registration struct {
	h   Handler
	log *slog.Logger

	mu      sync.Mutex
	buf     []notification
	spare   []notification
	pending int // pushed and not yet delivered, including the batch in hand
	synced  bool
	started bool
	stopped bool
	wake    chan struct{} // capacity 1
	quit    chan struct{}
	done    chan struct{}
}

func newRegistration(h Handler, log *slog.Logger) *Registration {
	return &Registration{
		h:    h,
		log:  log,
		wake: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// HasSynced reports whether the handler has been given every object of the
// informer's first list (or, for a late handler, every cached object).
func (r *Registration) HasSynced() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.synced
}

// Pending returns the number of notifications not yet delivered.
func (r *Registration) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}

func (r *Registration) push(n notification) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.buf = append(r.buf, n)
	r.pending++
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// start launches the delivery goroutine once; called with Informer.mu held.
func (r *Registration) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.stopped {
		return
	}
	r.started = true
	go r.run()
}

// stop ends delivery and waits for an in-progress call to return.
func (r *Registration) stop() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	started := r.started
	r.buf = nil
	r.pending = 0
	r.mu.Unlock()
	close(r.quit)
	if started {
		<-r.done
	}
}

func (r *Registration) run() {
	defer close(r.done)
	for {
		r.mu.Lock()
		batch := r.buf
		r.buf, r.spare = r.spare, nil
		r.mu.Unlock()
		for idx, n := range batch {
			select {
			case <-r.quit:
				return
			default:
			}
			r.deliver(n)
			batch[idx] = notification{}
			r.mu.Lock()
			r.pending--
			r.mu.Unlock()
		}
		r.mu.Lock()
		if cap(batch) <= maxSpare {
			r.spare = batch[:0] // no longer shared with r.buf
		}
		empty := len(r.buf) == 0
		r.mu.Unlock()
		if !empty {
			continue
		}
		select {
		case <-r.wake:
		case <-r.quit:
			return
		}
	}
}

func (r *Registration) deliver(n notification) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("informer handler panicked", "panic", fmt.Sprint(p))
		}
	}()
	switch n.typ {
	case opAdd:
		r.h.OnAdd(n.obj)
	case opUpdate:
		r.h.OnUpdate(n.old, n.obj)
	case opDelete:
		r.h.OnDelete(n.obj)
	case opSynced:
		r.mu.Lock()
		r.synced = true
		r.mu.Unlock()
	}
}
