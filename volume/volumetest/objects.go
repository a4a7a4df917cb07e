package volumetest

import (
	"context"
	"fmt"
	"sync"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// Objects is a minimal in-memory volume.ObjectGetter for plugin tests that
// need no watch or revisions: Get returns a copy of the object set for the
// key, or a store.ErrNotFound error. Kinds are resolved with api.Builtin().
type Objects struct {
	mu   sync.Mutex
	objs map[string]api.Object
}

// NewObjects returns an Objects holding objs.
func NewObjects(objs ...api.Object) *Objects {
	o := &Objects{objs: map[string]api.Object{}}
	for _, obj := range objs {
		o.Set(obj)
	}
	return o
}

func key(kind, namespace, name string) string { return kind + "/" + namespace + "/" + name }

// Set stores a copy of obj, replacing any object with the same key. It
// panics if obj's kind is not built in (a bug in the test).
func (o *Objects) Set(obj api.Object) {
	info, err := api.Builtin().KindOf(obj)
	if err != nil {
		panic(fmt.Sprintf("volumetest.Objects: %v", err))
	}
	m := obj.GetMetadata()
	o.mu.Lock()
	defer o.mu.Unlock()
	o.objs[key(info.Kind, m.GetNamespace(), m.GetName())] = api.Clone(obj)
}

// Delete removes an object.
func (o *Objects) Delete(kind, namespace, name string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.objs, key(kind, namespace, name))
}

// Get returns a copy of the object or a store.ErrNotFound error.
func (o *Objects) Get(ctx context.Context, kind, namespace, name string, _ ...store.ReadOption) (api.Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	obj, ok := o.objs[key(kind, namespace, name)]
	if !ok {
		return nil, store.Errorf(store.ErrNotFound, "%s %s/%s", kind, namespace, name)
	}
	return api.Clone(obj), nil
}
