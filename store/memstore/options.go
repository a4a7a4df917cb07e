package memstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coxswain-io/coxswain/api"
)

// Option configures a Store.
type Option func(*config)

type config struct {
	registry         *api.Registry
	clock            func() time.Time
	historySize      int
	historyAge       time.Duration
	watchBuffer      int
	watchBacklog     int
	bookmarkInterval time.Duration
	fieldIndexes     map[string][]string
}

func defaultConfig() config {
	return config{
		clock:            time.Now,
		historySize:      100_000,
		watchBuffer:      8,
		watchBacklog:     100_000,
		bookmarkInterval: time.Second,
		fieldIndexes:     map[string][]string{api.KindPod: {"spec.nodeName"}},
	}
}

// WithRegistry sets the kinds the store serves (default: api.NewBuiltinRegistry()).
func WithRegistry(reg *api.Registry) Option { return func(c *config) { c.registry = reg } }

// WithClock sets the clock Prepare reads "now" from (creation and deletion
// timestamps, history age). Default time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithHistory bounds the watch history: at most size events (default
// 100,000) and, if maxAge > 0, none older than maxAge (measured in command
// time). Events that fall out are compacted: watching or continuing a paged
// list from before them fails with store.ErrCompacted. Trimming happens as
// commands apply, so it is deterministic across replicas.
func WithHistory(size int, maxAge time.Duration) Option {
	return func(c *config) {
		if size > 0 {
			c.historySize = size
		}
		c.historyAge = maxAge
	}
}

// WithWatchBuffer sets a watcher's channel capacity (default 8) and the
// most events it may have queued beyond that before it is cancelled with
// store.ErrTooSlow (default 100,000).
func WithWatchBuffer(channel, backlog int) Option {
	return func(c *config) {
		if channel > 0 {
			c.watchBuffer = channel
		}
		if backlog > 0 {
			c.watchBacklog = backlog
		}
	}
}

// WithBookmarkInterval sets how often watchers that asked for bookmarks get
// one (default 1s).
func WithBookmarkInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.bookmarkInterval = d
		}
	}
}

// WithFieldIndex indexes kind by the exact value of a field path, so that
// lists and watches with an exact-match field selector on it ("path=value")
// touch only the matching objects and watchers. Pods are indexed by
// spec.nodeName by default.
func WithFieldIndex(kind, path string) Option {
	return func(c *config) { c.fieldIndexes[kind] = append(c.fieldIndexes[kind], path) }
}

// Operation names a store operation, for hooks.
type Operation string

// Operations hooks can act on.
const (
	OpCreate       Operation = "create"
	OpGet          Operation = "get"
	OpList         Operation = "list"
	OpUpdate       Operation = "update"
	OpUpdateStatus Operation = "updateStatus"
	OpDelete       Operation = "delete"
	OpTxn          Operation = "txn"
	OpWatch        Operation = "watch"
	OpCompact      Operation = "compact"
)

// Hook runs before every operation, outside the store's locks, with the
// operation and kind ("" for Txn and Compact). A non-nil error fails the
// operation with that error; a hook may also block (honouring ctx) to add
// latency. Hooks are for tests of error paths.
type Hook func(ctx context.Context, op Operation, kind string) error

// Fault is a declarative hook: on matching operations it waits Delay, then
// fails with Err (if set). Empty Op or Kind match any; Count > 0 limits how
// many operations it fires on.
type Fault struct {
	Op    Operation
	Kind  string
	Err   error
	Delay time.Duration
	Count int
}

type hookEntry struct {
	id int64
	fn Hook
}

type hooks struct {
	mu     sync.Mutex
	nextID int64
	list   atomic.Pointer[[]hookEntry]
}

// AddHook installs h and returns a function that removes it.
func (s *Store) AddHook(h Hook) (remove func()) {
	s.hooks.mu.Lock()
	defer s.hooks.mu.Unlock()
	s.hooks.nextID++
	id := s.hooks.nextID
	var cur []hookEntry
	if p := s.hooks.list.Load(); p != nil {
		cur = *p
	}
	next := append(append([]hookEntry(nil), cur...), hookEntry{id: id, fn: h})
	s.hooks.list.Store(&next)
	return func() {
		s.hooks.mu.Lock()
		defer s.hooks.mu.Unlock()
		var out []hookEntry
		for _, e := range *s.hooks.list.Load() {
			if e.id != id {
				out = append(out, e)
			}
		}
		s.hooks.list.Store(&out)
	}
}

// InjectFault installs f and returns a function that removes it.
func (s *Store) InjectFault(f Fault) (remove func()) {
	var fired atomic.Int64
	return s.AddHook(func(ctx context.Context, op Operation, kind string) error {
		if (f.Op != "" && f.Op != op) || (f.Kind != "" && f.Kind != kind) {
			return nil
		}
		if f.Count > 0 && fired.Add(1) > int64(f.Count) {
			return nil
		}
		if f.Delay > 0 {
			t := time.NewTimer(f.Delay)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return f.Err
	})
}

// before runs the hooks and checks ctx.
func (s *Store) before(ctx context.Context, op Operation, kind string) error {
	if p := s.hooks.list.Load(); p != nil {
		for _, e := range *p {
			if err := e.fn(ctx, op, kind); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
}
