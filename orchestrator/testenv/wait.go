package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
	"github.com/coxswain-io/coxswain/store/informer"
)

// Until blocks until cond holds for the objects of kind that match opts,
// or ctx ends. It is watch-driven: it lists once, then re-evaluates cond
// after every change the watch delivers (relisting if the watch is
// compacted away), so it neither sleeps nor polls. cond sees the objects
// sorted by namespace and name and must not modify them.
func Until(ctx context.Context, s store.Store, kind string, opts store.ListOptions, cond func([]api.Object) bool) error {
	for {
		err := until(ctx, s, kind, opts, cond)
		if err == nil || ctx.Err() != nil || !isRestartable(err) {
			if err != nil && ctx.Err() != nil {
				return fmt.Errorf("testenv: waiting for %s: %w", kind, ctx.Err())
			}
			return err
		}
	}
}

func isRestartable(err error) bool {
	return errors.Is(err, store.ErrCompacted) || errors.Is(err, store.ErrTooSlow)
}

// isKind reports whether obj is of kind.
func isKind(s store.Store, obj api.Object, kind string) bool {
	ki, err := s.Registry().KindOf(obj)
	return err == nil && ki.Kind == kind
}

// sorted returns the objects ordered by key (namespace, then name).
func sorted(objs map[string]api.Object) []api.Object {
	keys := slices.Sorted(maps.Keys(objs))
	out := make([]api.Object, len(keys))
	for i, k := range keys {
		out[i] = objs[k]
	}
	return out
}

func until(ctx context.Context, s store.Store, kind string, opts store.ListOptions, cond func([]api.Object) bool) error {
	list, err := s.List(ctx, kind, store.ListOptions{Namespace: opts.Namespace, LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector})
	if err != nil {
		return err
	}
	objs := make(map[string]api.Object, len(list.Items))
	for _, o := range list.Items {
		objs[informer.KeyOf(o)] = o
	}
	if cond(list.Items) {
		return nil
	}
	w, err := s.Watch(ctx, kind, store.WatchOptions{
		Namespace: opts.Namespace, Revision: list.Revision,
		LabelSelector: opts.LabelSelector, FieldSelector: opts.FieldSelector,
	})
	if err != nil {
		return err
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events():
			if !ok {
				if err := w.Err(); err != nil {
					return err
				}
				return ctx.Err()
			}
			if ev.Object != nil && !isKind(s, ev.Object, kind) {
				continue // defensive: never hand cond an object of another kind
			}
			switch ev.Type {
			case store.EventAdded, store.EventModified:
				objs[informer.KeyOf(ev.Object)] = ev.Object
			case store.EventDeleted:
				delete(objs, informer.KeyOf(ev.Object))
			default:
				continue
			}
			// Drain what is already buffered before evaluating: cond
			// sees consistent batches and runs less often.
			if len(w.Events()) > 0 {
				continue
			}
			if cond(sorted(objs)) {
				return nil
			}
		}
	}
}

// UntilTyped is Until over typed objects.
func UntilTyped[T api.Object](ctx context.Context, s store.Store, opts store.ListOptions, cond func([]T) bool) error {
	kind := store.For[T](s).Kind()
	return Until(ctx, s, kind, opts, func(objs []api.Object) bool {
		typed := make([]T, len(objs))
		for i, o := range objs {
			typed[i] = o.(T)
		}
		return cond(typed)
	})
}

// UntilObject blocks until the object exists and cond holds for it, and
// returns it. A nil cond only waits for the object to exist.
func UntilObject[T api.Object](ctx context.Context, s store.Store, namespace, name string, cond func(T) bool) (T, error) {
	var got T
	err := UntilTyped(ctx, s, store.ListOptions{Namespace: namespace, FieldSelector: "metadata.name=" + name}, func(objs []T) bool {
		for _, o := range objs {
			if o.GetMetadata().GetName() == name && (cond == nil || cond(o)) {
				got = o
				return true
			}
		}
		return false
	})
	return got, err
}

// UntilGone blocks until the object does not exist.
func UntilGone(ctx context.Context, s store.Store, kind, namespace, name string) error {
	return Until(ctx, s, kind, store.ListOptions{Namespace: namespace, FieldSelector: "metadata.name=" + name}, func(objs []api.Object) bool {
		return len(objs) == 0
	})
}
