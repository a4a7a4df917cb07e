package predicate

import (
	"maps"

	"github.com/coxswain-io/coxswain/api"
)

// Predicate decides whether a change should enqueue a request.
type Predicate interface {
	// Create filters objects new to the cache.
	Create(obj api.Object) bool
	// Update filters changes; old and new are the states before and after.
	Update(old, new api.Object) bool
	// Delete filters removals.
	Delete(obj api.Object) bool
}

// Funcs adapts functions to a Predicate; a nil function admits everything.
type Funcs struct {
	CreateFunc func(obj api.Object) bool
	UpdateFunc func(old, new api.Object) bool
	DeleteFunc func(obj api.Object) bool
}

var _ Predicate = Funcs{}

// Create calls CreateFunc.
func (f Funcs) Create(obj api.Object) bool { return f.CreateFunc == nil || f.CreateFunc(obj) }

// Update calls UpdateFunc.
func (f Funcs) Update(old, new api.Object) bool { return f.UpdateFunc == nil || f.UpdateFunc(old, new) }

// Delete calls DeleteFunc.
func (f Funcs) Delete(obj api.Object) bool { return f.DeleteFunc == nil || f.DeleteFunc(obj) }

// NewFilter returns a predicate admitting the changes whose object (the new
// state for updates) satisfies keep.
func NewFilter(keep func(obj api.Object) bool) Predicate {
	return Funcs{
		CreateFunc: keep,
		UpdateFunc: func(_, new api.Object) bool { return keep(new) },
		DeleteFunc: keep,
	}
}

// GenerationChanged admits creates, deletes, and updates that changed
// metadata.generation (that is, the spec), ignoring status-only writes.
func GenerationChanged() Predicate {
	return Funcs{UpdateFunc: func(old, new api.Object) bool {
		return old.GetMetadata().GetGeneration() != new.GetMetadata().GetGeneration()
	}}
}

// ResourceVersionChanged admits creates, deletes, and updates that are real
// writes (dropping informer resyncs, where old and new are the same state).
func ResourceVersionChanged() Predicate {
	return Funcs{UpdateFunc: func(old, new api.Object) bool {
		return old.GetMetadata().GetResourceVersion() != new.GetMetadata().GetResourceVersion()
	}}
}

// LabelsChanged admits creates, deletes, and updates that changed labels.
func LabelsChanged() Predicate {
	return Funcs{UpdateFunc: func(old, new api.Object) bool {
		return !maps.Equal(old.GetMetadata().GetLabels(), new.GetMetadata().GetLabels())
	}}
}

// AnnotationsChanged admits creates, deletes, and updates that changed
// annotations.
func AnnotationsChanged() Predicate {
	return Funcs{UpdateFunc: func(old, new api.Object) bool {
		return !maps.Equal(old.GetMetadata().GetAnnotations(), new.GetMetadata().GetAnnotations())
	}}
}

// And admits a change only if every predicate does.
func And(ps ...Predicate) Predicate {
	return Funcs{
		CreateFunc: func(obj api.Object) bool {
			for _, p := range ps {
				if !p.Create(obj) {
					return false
				}
			}
			return true
		},
		UpdateFunc: func(old, new api.Object) bool {
			for _, p := range ps {
				if !p.Update(old, new) {
					return false
				}
			}
			return true
		},
		DeleteFunc: func(obj api.Object) bool {
			for _, p := range ps {
				if !p.Delete(obj) {
					return false
				}
			}
			return true
		},
	}
}

// Or admits a change if any predicate does (none given: admits nothing).
func Or(ps ...Predicate) Predicate {
	return Funcs{
		CreateFunc: func(obj api.Object) bool {
			for _, p := range ps {
				if p.Create(obj) {
					return true
				}
			}
			return false
		},
		UpdateFunc: func(old, new api.Object) bool {
			for _, p := range ps {
				if p.Update(old, new) {
					return true
				}
			}
			return false
		},
		DeleteFunc: func(obj api.Object) bool {
			for _, p := range ps {
				if p.Delete(obj) {
					return true
				}
			}
			return false
		},
	}
}
