package informer

import (
	"fmt"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/api/labels"
)

// Lister is typed read access to an informer's cache: the same reads as
// the Informer, with results of the kind's Go type. Like the Informer's,
// the objects it returns are shared and must not be modified.
type Lister[T api.Object] struct{ inf *Informer }

// ListerFor returns typed reads over inf. It panics if T is not the Go type
// of inf's kind: a programming error the first test catches.
func ListerFor[T api.Object](inf *Informer) Lister[T] {
	var zero T
	info, err := inf.s.Registry().KindOf(zero)
	if err != nil || info.Kind != inf.kind {
		panic(fmt.Sprintf("informer.ListerFor: %T is not the type of kind %s", zero, inf.kind))
	}
	return Lister[T]{inf: inf}
}

// Informer returns the underlying informer.
func (l Lister[T]) Informer() *Informer { return l.inf }

// Get returns the cached object.
func (l Lister[T]) Get(namespace, name string) (T, bool) {
	obj, ok := l.inf.Get(namespace, name)
	if !ok {
		var zero T
		return zero, false
	}
	return obj.(T), true
}

// List returns every cached object.
func (l Lister[T]) List() []T { return cast[T](l.inf.List()) }

// ByIndex returns the cached objects with value in index.
func (l Lister[T]) ByIndex(index, value string) ([]T, error) {
	objs, err := l.inf.ByIndex(index, value)
	if err != nil {
		return nil, err
	}
	return cast[T](objs), nil
}

// Select returns the cached objects in namespace whose labels match sel.
func (l Lister[T]) Select(namespace string, sel labels.Selector) []T {
	return cast[T](l.inf.Select(namespace, sel))
}

func cast[T api.Object](objs []api.Object) []T {
	out := make([]T, len(objs))
	for i, o := range objs {
		out[i] = o.(T)
	}
	return out
}
