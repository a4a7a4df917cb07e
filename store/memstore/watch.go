package memstore

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/fields"
	"github.com/coxswain-io/coxswain/api/labels"
	"github.com/coxswain-io/coxswain/store"
)

// Watch delivery
//
// Writers append events to the history and wake one dispatcher goroutine
// per store (running only while there are watchers). The dispatcher reads
// new events in revision order and hands each to the watchers that may be
// interested: watchers with an exact-match field selector on an indexed
// path are found by that value, watchers of one namespace by namespace, the
// rest are tried one by one. A hand-off never blocks: the event goes into
// the watcher's channel if there is room, otherwise into the watcher's
// backlog, drained into the channel by a goroutine that exists only while
// the backlog is non-empty. An idle watcher is a channel, a small struct and
// index entries: no goroutine. A watcher whose backlog exceeds the limit
// (WithWatchBuffer) is cancelled with store.ErrTooSlow; its consumer relists
// and watches again. Writers and other watchers never wait for a slow one.

const dispatchBatch = 4096

type watchHub struct {
	s          *Store
	mu         sync.Mutex // guards everything below; before Store.mu
	kinds      map[string]*kindWatchers
	count      int
	running    bool
	wake       chan struct{}
	active     atomic.Bool  // dispatcher running; read by writers
	dispatched atomic.Int64 // every event at or before it has been handed out
}

type watcherSet map[*watcher]struct{}

type kindWatchers struct {
	byField map[string]map[string]watcherSet // path -> value -> watchers
	getters map[string]*fields.Getter        // path -> its reader, for byField
	byNS    map[string]watcherSet
	all     watcherSet
}

func (h *watchHub) init(s *Store) {
	h.s = s
	h.kinds = map[string]*kindWatchers{}
	h.wake = make(chan struct{}, 1)
}

func (h *watchHub) notify() {
	if h.active.Load() {
		select {
		case h.wake <- struct{}{}:
		default:
		}
	}
}

// watcher is one Watch. Its filter fields are immutable after registration.
type watcher struct {
	hub       *watchHub
	kind      string
	ns        string
	labelSel  labels.Selector
	fieldSel  fields.Selector
	bookmarks bool
	// after: events at or before it are not delivered.
	after int64
	// index placement
	idxPath, idxValue string

	ch      chan Event
	backlog int
	stopCtx func() bool

	mu       sync.Mutex
	pending  []store.Event
	draining bool
	closed   bool
	err      error
	done     chan struct{}
}

// Event is store.Event; the alias keeps this file short.
type Event = store.Event

var _ store.Watch = (*watcher)(nil)

// Watch streams changes to objects of kind matching opts. See the package
// documentation for the delivery policy.
func (s *Store) Watch(ctx context.Context, kind string, opts store.WatchOptions) (store.Watch, error) {
	if err := s.before(ctx, OpWatch, kind); err != nil {
		return nil, err
	}
	ki, err := s.kind(kind)
	if err != nil {
		return nil, err
	}
	if opts.Revision < 0 {
		return nil, store.Errorf(store.ErrInvalid, "watch from negative revision %d", opts.Revision)
	}
	lsel, fsel, err := parseSelectors(ki, opts.LabelSelector, opts.FieldSelector)
	if err != nil {
		return nil, err
	}
	w := &watcher{
		hub: &s.hub, kind: ki.Kind, ns: opts.Namespace, labelSel: lsel, fieldSel: fsel,
		bookmarks: opts.Bookmarks, ch: make(chan Event, s.cfg.watchBuffer), backlog: s.cfg.watchBacklog,
		done: make(chan struct{}),
	}
	if err := s.hub.register(w, opts.Revision, ki.desc); err != nil {
		return nil, err
	}
	w.stopCtx = context.AfterFunc(ctx, func() { w.stop(nil) })
	return w, nil
}

func parseSelectors(ki *kindInfo, ls, fs string) (labels.Selector, fields.Selector, error) {
	lsel, err := labels.Parse(ls)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	fsel, err := fields.Parse(fs)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	if err := fields.Validate(fsel, ki.desc); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", store.ErrInvalid, err)
	}
	return lsel, fsel, nil
}

// register adds w, of the kind desc describes, and replays history after
// from to it.
func (h *watchHub) register(w *watcher, from int64, desc protoreflect.MessageDescriptor) error {
	s := h.s
	h.mu.Lock()
	defer h.mu.Unlock()
	s.mu.RLock()
	cur, compacted := s.rev, s.compacted
	if from != 0 && from < compacted {
		s.mu.RUnlock()
		return store.Errorf(store.ErrCompacted, "watch from revision %d: compacted at %d", from, compacted)
	}
	if !h.running {
		// Set while writers are excluded, so none trims history the new
		// dispatcher has not handed out.
		h.dispatched.Store(cur)
		h.active.Store(true)
	}
	d := h.dispatched.Load()
	var replay []*event
	switch {
	case from == 0:
		w.after = cur
	default:
		w.after = from
		if from < d {
			replay = s.history.since(from, 0)
			for len(replay) > 0 && replay[len(replay)-1].rev > d {
				replay = replay[:len(replay)-1]
			}
		}
	}
	s.mu.RUnlock()
	for _, ev := range replay {
		w.offer(ev)
	}
	kw := h.kinds[w.kind]
	if kw == nil {
		kw = &kindWatchers{byField: map[string]map[string]watcherSet{}, getters: map[string]*fields.Getter{}, byNS: map[string]watcherSet{}, all: watcherSet{}}
		h.kinds[w.kind] = kw
	}
	for _, path := range s.cfg.fieldIndexes[w.kind] {
		if v, ok := w.fieldSel.RequiresExactMatch(path); ok {
			w.idxPath, w.idxValue = path, v
			break
		}
	}
	if w.idxPath == "" {
		// Index by any exact-match field: the dispatcher computes the value
		// of every path some watcher is indexed on.
		for _, r := range w.fieldSel.Requirements() {
			if r.Operator == fields.Equals {
				w.idxPath, w.idxValue = r.Path, r.Value
				break
			}
		}
	}
	switch {
	case w.idxPath != "":
		byValue := kw.byField[w.idxPath]
		if byValue == nil {
			byValue = map[string]watcherSet{}
			kw.byField[w.idxPath] = byValue
			kw.getters[w.idxPath] = fields.NewGetter(desc, w.idxPath)
		}
		addTo(byValue, w.idxValue, w)
	case w.ns != "":
		addTo(kw.byNS, w.ns, w)
	default:
		kw.all[w] = struct{}{}
	}
	h.count++
	if !h.running {
		h.running = true
		go h.dispatch()
	}
	return nil
}

func addTo(m map[string]watcherSet, k string, w *watcher) {
	set := m[k]
	if set == nil {
		set = watcherSet{}
		m[k] = set
	}
	set[w] = struct{}{}
}

// unregister removes w from the index. Called with h.mu held.
func (h *watchHub) unregisterLocked(w *watcher) {
	kw := h.kinds[w.kind]
	if kw == nil {
		return
	}
	var removed bool
	switch {
	case w.idxPath != "":
		if set := kw.byField[w.idxPath][w.idxValue]; set != nil {
			_, removed = set[w]
			delete(set, w)
			if len(set) == 0 {
				delete(kw.byField[w.idxPath], w.idxValue)
				if len(kw.byField[w.idxPath]) == 0 {
					delete(kw.byField, w.idxPath)
					delete(kw.getters, w.idxPath)
				}
			}
		}
	case w.ns != "":
		if set := kw.byNS[w.ns]; set != nil {
			_, removed = set[w]
			delete(set, w)
			if len(set) == 0 {
				delete(kw.byNS, w.ns)
			}
		}
	default:
		_, removed = kw.all[w]
		delete(kw.all, w)
	}
	if removed {
		h.count--
		if h.count == 0 {
			// Let the dispatcher exit now rather than at its next tick.
			select {
			case h.wake <- struct{}{}:
			default:
			}
		}
	}
}

func (h *watchHub) unregister(w *watcher) {
	h.mu.Lock()
	h.unregisterLocked(w)
	h.mu.Unlock()
}

func (h *watchHub) closeAll(err error) { h.closeAllWith(err, nil) }

// closeAllWith cancels every watcher with err; locked, if not nil, runs
// with h.mu held after they are unregistered.
func (h *watchHub) closeAllWith(err error, locked func()) {
	h.mu.Lock()
	var all []*watcher
	for _, kw := range h.kinds {
		for _, byValue := range kw.byField {
			for _, set := range byValue {
				for w := range set {
					all = append(all, w)
				}
			}
		}
		for _, set := range kw.byNS {
			for w := range set {
				all = append(all, w)
			}
		}
		for w := range kw.all {
			all = append(all, w)
		}
	}
	for _, w := range all {
		h.unregisterLocked(w)
	}
	if locked != nil {
		locked()
	}
	h.mu.Unlock()
	for _, w := range all {
		w.close(err)
	}
}

// dispatch hands out history events until no watcher is left.
func (h *watchHub) dispatch() {
	s := h.s
	ticker := time.NewTicker(s.cfg.bookmarkInterval)
	defer ticker.Stop()
	for {
		bookmark := false
		select {
		case <-h.wake:
		case <-ticker.C:
			bookmark = true
		}
		for {
			h.mu.Lock()
			if h.count == 0 {
				h.running = false
				h.active.Store(false)
				h.mu.Unlock()
				return
			}
			s.mu.RLock()
			evs := s.history.since(h.dispatched.Load(), dispatchBatch)
			s.mu.RUnlock()
			for _, ev := range evs {
				h.fanOut(ev)
			}
			if len(evs) > 0 {
				h.dispatched.Store(evs[len(evs)-1].rev)
			}
			if bookmark {
				h.bookmarkAll()
				bookmark = false
			}
			h.mu.Unlock()
			if len(evs) < dispatchBatch {
				break
			}
		}
	}
}

// fanOut offers ev to every watcher that may want it. Called with h.mu held.
func (h *watchHub) fanOut(ev *event) {
	kw := h.kinds[ev.kind]
	if kw == nil {
		return
	}
	for path, byValue := range kw.byField {
		get := kw.getters[path]
		var nv, pv string
		var nok, pok bool
		if ev.obj != nil {
			nv, nok = get.Value(ev.obj)
		}
		if ev.prev != nil {
			pv, pok = get.Value(ev.prev)
		}
		if nok {
			h.offerAll(byValue[nv], ev)
		}
		if pok && (!nok || pv != nv) {
			h.offerAll(byValue[pv], ev)
		}
	}
	h.offerAll(kw.byNS[ev.ns], ev)
	h.offerAll(kw.all, ev)
}

func (h *watchHub) offerAll(set watcherSet, ev *event) {
	for w := range set {
		if !w.offer(ev) {
			h.unregisterLocked(w)
		}
	}
}

func (h *watchHub) bookmarkAll() {
	d := h.dispatched.Load()
	for _, kw := range h.kinds {
		for _, byValue := range kw.byField {
			for _, set := range byValue {
				h.bookmarkSet(set, d)
			}
		}
		for _, set := range kw.byNS {
			h.bookmarkSet(set, d)
		}
		h.bookmarkSet(kw.all, d)
	}
}

func (h *watchHub) bookmarkSet(set watcherSet, d int64) {
	for w := range set {
		if w.bookmarks && !w.send(store.Event{Type: store.EventBookmark, Revision: max(d, w.after)}) {
			h.unregisterLocked(w)
		}
	}
}

func (w *watcher) matches(obj api.Object) bool {
	if obj == nil {
		return false
	}
	m := obj.GetMetadata()
	if w.ns != "" && m.GetNamespace() != w.ns {
		return false
	}
	if !w.labelSel.Empty() && !w.labelSel.Matches(labels.Set(m.GetLabels())) {
		return false
	}
	return w.fieldSel.Empty() || w.fieldSel.Matches(obj)
}

// offer filters ev for w and queues the resulting event, if any. It
// returns false when w is closed (or just got cancelled for being slow).
// Called with the hub's mu held (which also guards ev.left).
func (w *watcher) offer(ev *event) bool {
	// The history replayed at registration holds every kind's events.
	if ev.rev <= w.after || ev.kind != w.kind {
		return true
	}
	// Event objects are the stored, immutable states, shared by every
	// watcher that receives the event (see store.Event): no copy per
	// delivery.
	var out store.Event
	switch ev.typ {
	case store.EventAdded:
		if !w.matches(ev.obj) {
			return true
		}
		out = store.Event{Type: store.EventAdded, Object: ev.obj}
	case store.EventDeleted:
		if !w.matches(ev.prev) {
			return true
		}
		out = store.Event{Type: store.EventDeleted, Object: ev.obj, PrevObject: ev.prev}
	default:
		was, is := w.matches(ev.prev), w.matches(ev.obj)
		switch {
		case was && is:
			out = store.Event{Type: store.EventModified, Object: ev.obj, PrevObject: ev.prev}
		case is:
			out = store.Event{Type: store.EventAdded, Object: ev.obj}
		case was:
			// Leaving the filter: the last state that matched, at this
			// revision. Made once per event, shared by every watcher it
			// leaves.
			if ev.left == nil {
				ki, err := w.hub.s.kind(ev.kind)
				if err != nil {
					return true // the kind was resolved when the event was written
				}
				ev.left = shallowWithMeta(ki, ev.prev, ev.rev)
			}
			out = store.Event{Type: store.EventDeleted, Object: ev.left, PrevObject: ev.prev}
		default:
			return true
		}
	}
	out.Revision = ev.rev
	return w.send(out)
}

// send queues ev without blocking; false when w is closed.
func (w *watcher) send(ev store.Event) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	if !w.draining {
		select {
		case w.ch <- ev:
			return true
		default:
		}
	}
	if len(w.pending) >= w.backlog {
		w.closeLocked(store.Errorf(store.ErrTooSlow, "watch %s: more than %d events queued", w.kind, w.backlog))
		return false
	}
	w.pending = append(w.pending, ev)
	if !w.draining {
		w.draining = true
		go w.drain()
	}
	return true
}

// drain moves the backlog into the channel, then exits.
func (w *watcher) drain() {
	for {
		w.mu.Lock()
		if w.closed || len(w.pending) == 0 {
			w.draining = false
			w.pending = nil
			if w.closed {
				close(w.ch)
			}
			w.mu.Unlock()
			return
		}
		ev := w.pending[0]
		w.pending[0] = store.Event{}
		w.pending = w.pending[1:]
		w.mu.Unlock()
		select {
		case w.ch <- ev:
		case <-w.done:
		}
	}
}

func (w *watcher) closeLocked(err error) {
	if w.closed {
		return
	}
	w.closed = true
	w.err = err
	close(w.done)
	if !w.draining {
		close(w.ch)
	}
}

func (w *watcher) close(err error) {
	w.mu.Lock()
	w.closeLocked(err)
	w.mu.Unlock()
}

func (w *watcher) stop(err error) {
	w.close(err)
	w.hub.unregister(w)
}

// Events returns the event channel; see store.Watch for when it closes.
func (w *watcher) Events() <-chan Event { return w.ch }

// Stop ends the watch and closes the channel. Events already queued are
// discarded.
func (w *watcher) Stop() {
	if w.stopCtx != nil {
		w.stopCtx()
	}
	w.stop(nil)
}

// Err says why the channel closed: nil after Stop or the end of the
// context, store.ErrTooSlow for a watcher that fell behind,
// store.ErrUnavailable when the store closed.
func (w *watcher) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}
