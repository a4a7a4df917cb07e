package fastclone

import (
	"reflect"
	"testing"
	"unsafe"

	"google.golang.org/protobuf/proto"
)

// What the external tests (package fastclone_test, which may import the
// api package that imports this one) need of the internals.

const (
	MaxArray     = maxArray
	MaxBlocks    = maxBlocks
	MaxSlabBytes = maxSlabBytes
)

// HasPlan reports whether m's type is copied with a plan (not proto.Clone).
func HasPlan(m proto.Message) bool { return planFor(reflectType(m)).ok }

// CopyInPieces copies m the way a full shape cache would: a struct at a
// time.
func CopyInPieces(m proto.Message) unsafe.Pointer {
	return planFor(reflectType(m)).newCopy(reflect.ValueOf(m).UnsafePointer())
}

// WithShapeLimit runs fn with the shape cache emptied and bounded to n,
// restoring it afterwards.
func WithShapeLimit(t *testing.T, n int, fn func()) {
	t.Helper()
	shapes.mu.Lock()
	saved, savedMax := shapes.m.Load(), shapeLimit
	shapes.m.Store(nil)
	shapeLimit = n
	shapes.mu.Unlock()
	defer func() {
		shapes.mu.Lock()
		shapes.m.Store(saved)
		shapeLimit = savedMax
		shapes.mu.Unlock()
	}()
	fn()
}

// CachedShapes returns how many slab shapes are cached.
func CachedShapes() int {
	if m := shapes.m.Load(); m != nil {
		return len(*m)
	}
	return 0
}
