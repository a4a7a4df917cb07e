package fastclone

import (
	"encoding/binary"
	"maps"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Slab copies
//
// Copied piece by piece, a message tree costs one allocation per nested
// struct and per repeated field: about twenty for a pod. A copy instead
// first measures its source: the blocks it needs (each nested struct, the
// elements of each repeated message field, the backing arrays of repeated
// message and string fields), in the order a depth-first copy visits them.
// That sequence is the tree's shape. For each shape, a struct type with
// one field per block is made once (reflect.StructOf), so the garbage
// collector knows exactly where its pointers are, and the copy goes into a
// single allocation of that type. Maps, bytes, oneofs and optional scalars
// are still allocated on their own. A slab lives as long as any part of the
// copy is referenced (interior pointers keep it alive), which for a copy
// that is used whole, as the store's are, is the same lifetime.
//
// Shapes are cached for the life of the process (types made by
// reflect.StructOf are never freed), so their number is bounded: a tree
// whose shape is new once shapeLimit exist, or that needs more than
// maxBlocks blocks or maxSlabBytes bytes, is copied piece by piece.

const (
	maxBlocks    = 128
	maxSlabBytes = 64 << 10
)

// shapeLimit is the most shapes cached (a variable for tests; guarded by
// shapes.mu).
var shapeLimit = 4096

type blockKind uint64

const (
	blockStruct  blockKind = iota // n structs of one plan's type
	blockPtrs                     // n pointers: a repeated message field's backing array
	blockStrings                  // n strings: a repeated string field's backing array
)

var (
	ptrSize    = unsafe.Sizeof(unsafe.Pointer(nil))
	stringSize = unsafe.Sizeof("")
	ptrType    = reflect.TypeFor[unsafe.Pointer]()
	stringType = reflect.TypeFor[string]()
)

// shape is the layout of a slab: its type and the offset of each block,
// in the order the copy takes them.
type shape struct {
	typ  reflect.Type
	offs []uintptr
}

// cursor hands out a slab's blocks in order.
type cursor struct {
	base unsafe.Pointer
	offs []uintptr
}

func (c *cursor) next() unsafe.Pointer {
	p := unsafe.Add(c.base, c.offs[0])
	c.offs = c.offs[1:]
	return p
}

// measurer builds a tree's shape signature: per block, its kind and plan
// id, then its length, as uvarints. It lives on the stack: a signature
// that does not fit sig is over the bounds anyway.
type measurer struct {
	sig    [4 * binary.MaxVarintLen32 * maxBlocks]byte
	len    int
	blocks int
	size   uintptr
	over   bool
}

func (m *measurer) add(kind blockKind, id, n int, elem uintptr) {
	m.blocks++
	m.size += uintptr(n) * elem
	if m.blocks > maxBlocks || m.size > maxSlabBytes || uint64(id) >= 1<<28 || uint64(n) >= 1<<32 {
		m.over = true
		return
	}
	m.len += binary.PutUvarint(m.sig[m.len:], uint64(id)<<2|uint64(kind))
	m.len += binary.PutUvarint(m.sig[m.len:], uint64(n))
}

// walk measures the fields of p's struct at src, as copyOps with a
// cursor will copy them.
func (m *measurer) walk(p *plan, src unsafe.Pointer, skip uint64) {
	for _, i := range p.nested {
		if m.over {
			return
		}
		if skip != 0 && i < 64 && skip&(1<<i) != 0 {
			continue
		}
		o := &p.ops[i]
		s := unsafe.Add(src, o.off)
		switch o.kind {
		case kStrings:
			if v := *(*[]string)(s); len(v) > 0 {
				m.add(blockStrings, 0, len(v), stringSize)
			}
		case kMsgPtr:
			if v := *(*unsafe.Pointer)(s); v != nil && o.sub.ok {
				m.add(blockStruct, o.sub.id, 1, o.sub.typ.Size())
				m.walk(o.sub, v, 0)
			}
		case kMsgSlice:
			v := *(*[]unsafe.Pointer)(s)
			if len(v) == 0 || !o.sub.ok {
				continue
			}
			m.add(blockPtrs, 0, len(v), ptrSize)
			n := 0
			for _, e := range v {
				if e != nil {
					n++
				}
			}
			if n == 0 {
				continue
			}
			m.add(blockStruct, o.sub.id, n, o.sub.typ.Size())
			for _, e := range v {
				if e != nil {
					m.walk(o.sub, e, 0)
				}
			}
		}
	}
}

// shapeOf returns the slab shape for copying the struct at src (without
// the root fields in skip), or nil to copy piece by piece.
func (p *plan) shapeOf(src unsafe.Pointer, skip uint64) *shape {
	var m measurer
	m.add(blockStruct, p.id, 1, p.typ.Size())
	m.walk(p, src, skip)
	if m.over {
		return nil
	}
	sig := m.sig[:m.len]
	if cur := shapes.m.Load(); cur != nil {
		if sh, ok := (*cur)[string(sig)]; ok {
			return sh
		}
	}
	return shapes.add(sig)
}

// shapeCache holds slab shapes by signature. Readers load the map without
// a lock; adding copies it (shapes are few and added rarely).
type shapeCache struct {
	mu sync.Mutex // guards adding; taken before buildMu
	m  atomic.Pointer[map[string]*shape]
}

var shapes shapeCache

// add makes and caches the shape for sig; nil once the cache is full.
func (c *shapeCache) add(sig []byte) *shape {
	c.mu.Lock()
	defer c.mu.Unlock()
	var cur map[string]*shape
	if p := c.m.Load(); p != nil {
		cur = *p
	}
	if sh, ok := cur[string(sig)]; ok {
		return sh
	}
	if len(cur) >= shapeLimit {
		return nil
	}
	sh := newShape(sig)
	next := maps.Clone(cur)
	if next == nil {
		next = map[string]*shape{}
	}
	next[string(sig)] = sh
	c.m.Store(&next)
	return sh
}

// newShape makes the slab type a signature describes.
func newShape(sig []byte) *shape {
	var fields []reflect.StructField
	buildMu.Lock()
	for len(sig) > 0 {
		kid, k := binary.Uvarint(sig)
		n, l := binary.Uvarint(sig[k:])
		sig = sig[k+l:]
		var t reflect.Type
		switch blockKind(kid & 3) {
		case blockStruct:
			t = plansByID[kid>>2].typ
		case blockPtrs:
			t = ptrType
		case blockStrings:
			t = stringType
		}
		if n != 1 {
			t = reflect.ArrayOf(int(n), t)
		}
		fields = append(fields, reflect.StructField{Name: "F" + strconv.Itoa(len(fields)), Type: t})
	}
	buildMu.Unlock()
	st := reflect.StructOf(fields)
	sh := &shape{typ: st, offs: make([]uintptr, len(fields))}
	for i := range fields {
		sh.offs[i] = st.Field(i).Offset
	}
	return sh
}
