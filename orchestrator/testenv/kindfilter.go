package testenv

import (
	"context"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// kindFilter wraps a Store so that a watch of one kind never delivers an
// object of another. It works around a memstore defect seen at the time of
// writing: a watch started from a past revision replays the history of
// every kind (the replay is filtered by namespace, labels and fields but not
// by kind), so informers got, say, a Namespace in their Node cache. The
// filter costs one goroutine and one channel hop per watch; drop it once
// the store filters replays by kind.
type kindFilter struct {
	store.Store
}

// Watch starts the inner watch and forwards only events of kind.
func (k kindFilter) Watch(ctx context.Context, kind string, opts store.WatchOptions) (store.Watch, error) {
	inner, err := k.Store.Watch(ctx, kind, opts)
	if err != nil {
		return nil, err
	}
	ki, err := k.Registry().Lookup(kind)
	if err != nil {
		return inner, nil
	}
	want := ki.MessageName()
	w := &filteredWatch{inner: inner, ch: make(chan store.Event, 64), stop: make(chan struct{})}
	go w.forward(func(obj api.Object) bool { return obj.ProtoReflect().Descriptor().FullName() == want })
	return w, nil
}

type filteredWatch struct {
	inner    store.Watch
	ch       chan store.Event
	stop     chan struct{}
	stopOnce sync.Once
}

func (w *filteredWatch) forward(ok func(api.Object) bool) {
	defer close(w.ch)
	for ev := range w.inner.Events() {
		if ev.Object != nil && !ok(ev.Object) {
			continue
		}
		select {
		case w.ch <- ev:
		case <-w.stop:
			return
		}
	}
}

// Events returns the filtered events; the channel closes when the inner
// watch's does, or after Stop.
func (w *filteredWatch) Events() <-chan store.Event { return w.ch }

// Stop stops the inner watch.
func (w *filteredWatch) Stop() {
	w.stopOnce.Do(func() { close(w.stop) })
	w.inner.Stop()
}

// Err returns the inner watch's error.
func (w *filteredWatch) Err() error { return w.inner.Err() }
