// Package kindwatch is the list+watch loop the network components share: it
// lists a kind, hands the items over, then follows the watch from the list's
// revision, relisting when the watch ends with a compacted or too-slow error.
package kindwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// Handler receives a kind's state: Replace with every object and the
// revision they were read at after each (re)list, then Apply for every later
// change. Calls come from one goroutine, in order.
type Handler interface {
	Replace(objs []api.Object, revision int64)
	Apply(ev store.Event)
}

// Run lists and watches kind in s until ctx ends, feeding h. Errors other
// than the end of ctx are logged and retried after a short backoff; Run
// returns nil when ctx ends.
func Run(ctx context.Context, s store.Store, kind string, opts store.ListOptions, h Handler) error {
	backoff := 50 * time.Millisecond
	for {
		err := runOnce(ctx, s, kind, opts, h)
		if ctx.Err() != nil {
			return nil
		}
		slog.WarnContext(ctx, "watch ended, relisting", "kind", kind, "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if errors.Is(err, store.ErrCompacted) || errors.Is(err, store.ErrTooSlow) {
			backoff = 50 * time.Millisecond
		} else if backoff < 5*time.Second {
			backoff *= 2
		}
	}
}

func runOnce(ctx context.Context, s store.Store, kind string, opts store.ListOptions, h Handler) error {
	res, err := s.List(ctx, kind, opts)
	if err != nil {
		return fmt.Errorf("list %s: %w", kind, err)
	}
	items, rev := res.Items, res.Revision
	for res.Continue != "" {
		o := opts
		o.Continue = res.Continue
		if res, err = s.List(ctx, kind, o); err != nil {
			return fmt.Errorf("list %s: %w", kind, err)
		}
		items = append(items, res.Items...)
	}
	h.Replace(items, rev)
	w, err := s.Watch(ctx, kind, store.WatchOptions{
		Namespace: opts.Namespace, Revision: rev,
		LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector,
	})
	if err != nil {
		return fmt.Errorf("watch %s: %w", kind, err)
	}
	defer w.Stop()
	for ev := range w.Events() {
		if ev.Type == store.EventBookmark {
			continue
		}
		h.Apply(ev)
	}
	if err := w.Err(); err != nil {
		return err
	}
	return fmt.Errorf("watch %s closed: %w", kind, store.ErrUnavailable)
}

// Key returns "namespace/name" of obj.
func Key(obj api.Object) string {
	m := obj.GetMetadata()
	return m.GetNamespace() + "/" + m.GetName()
}
