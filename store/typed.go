package store

import (
	"context"
	"fmt"

	"github.com/coxswain-io/coxswain/api"
)

// Typed is typed access to one kind of a Store: the same operations, with
// results of the kind's Go type. It holds no state beyond the Store and the
// kind name, so it is cheap to create where needed.
type Typed[T api.Object] struct {
	s    Store
	kind string
}

// For returns typed access to the kind of T in s. It panics if T is not
// registered in s's registry: that is a programming error, caught by the
// first test that uses it.
func For[T api.Object](s Store) Typed[T] {
	var zero T
	obj, ok := any(zero).(api.Object)
	if !ok {
		panic("store.For: type is not an api.Object")
	}
	// zero is a typed nil pointer; ProtoReflect on it still yields the descriptor.
	info, err := s.Registry().KindOf(obj)
	if err != nil {
		panic(fmt.Sprintf("store.For: %v", err))
	}
	return Typed[T]{s: s, kind: info.Kind}
}

// Kind returns the kind name.
func (t Typed[T]) Kind() string { return t.kind }

// Store returns the underlying store.
func (t Typed[T]) Store() Store { return t.s }

func cast[T api.Object](obj api.Object, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	v, ok := obj.(T)
	if !ok {
		return zero, Errorf(ErrInvalid, "store returned %T, want %T", obj, zero)
	}
	return v, nil
}

// Create stores a new object.
func (t Typed[T]) Create(ctx context.Context, obj T, opts ...WriteOption) (T, error) {
	return cast[T](t.s.Create(ctx, obj, opts...))
}

// Get returns the named object of T's kind, or an error wrapping
// ErrNotFound.
func (t Typed[T]) Get(ctx context.Context, namespace, name string, opts ...ReadOption) (T, error) {
	return cast[T](t.s.Get(ctx, t.kind, namespace, name, opts...))
}

// Update replaces the object (not its status).
func (t Typed[T]) Update(ctx context.Context, obj T, opts ...WriteOption) (T, error) {
	return cast[T](t.s.Update(ctx, obj, opts...))
}

// UpdateStatus replaces only the object's status.
func (t Typed[T]) UpdateStatus(ctx context.Context, obj T, opts ...WriteOption) (T, error) {
	return cast[T](t.s.UpdateStatus(ctx, obj, opts...))
}

// Delete removes the named object of T's kind (or, when it has
// finalizers, marks it for deletion) and returns its last state; see
// Store.Delete.
func (t Typed[T]) Delete(ctx context.Context, namespace, name string, opts DeleteOptions) (T, error) {
	return cast[T](t.s.Delete(ctx, t.kind, namespace, name, opts))
}

// List returns the matching objects and the revision they were read at.
func (t Typed[T]) List(ctx context.Context, opts ListOptions) ([]T, int64, error) {
	res, err := t.s.List(ctx, t.kind, opts)
	if err != nil {
		return nil, 0, err
	}
	out := make([]T, 0, len(res.Items))
	for _, it := range res.Items {
		v, err := cast[T](it, nil)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	return out, res.Revision, nil
}

// Watch streams the changes to objects of T's kind that match opts; see
// Store.Watch for the delivery guarantees.
func (t Typed[T]) Watch(ctx context.Context, opts WatchOptions) (Watch, error) {
	return t.s.Watch(ctx, t.kind, opts)
}

// Mutate reads the object, applies fn and writes it back with Update,
// retrying on conflict until ctx ends. fn may be called more than once and
// must not keep the object. Returning an error from fn aborts.
func (t Typed[T]) Mutate(ctx context.Context, namespace, name string, fn func(T) error) (T, error) {
	return t.retry(ctx, namespace, name, fn, t.s.Update)
}

// MutateStatus is Mutate for the status.
func (t Typed[T]) MutateStatus(ctx context.Context, namespace, name string, fn func(T) error) (T, error) {
	return t.retry(ctx, namespace, name, fn, t.s.UpdateStatus)
}

func (t Typed[T]) retry(ctx context.Context, namespace, name string, fn func(T) error, write func(context.Context, api.Object, ...WriteOption) (api.Object, error)) (T, error) {
	var zero T
	for {
		cur, err := t.Get(ctx, namespace, name)
		if err != nil {
			return zero, err
		}
		if err := fn(cur); err != nil {
			return zero, err
		}
		// cur is this call's own copy: the store may keep it.
		out, err := cast[T](write(ctx, cur, Consume()))
		if err == nil || !IsConflict(err) {
			return out, err
		}
		if err := ctx.Err(); err != nil {
			return zero, err
		}
	}
}
