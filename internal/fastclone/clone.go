// Package fastclone deep-copies generated protobuf messages without the
// reflection proto.Clone uses for every field: a copy plan is compiled once
// per Go type (field offsets and what each field needs), then copies are
// typed assignments, maps.Clone and slices.Clone, with the elements of a
// repeated message field copied into one allocation. Copying stored objects
// is the main cost of a store write, and controllers copy what they read
// from caches before changing it (api.Clone), so this matters.
//
// Plans cover the structs protoc-gen-go generates: scalar, string, bytes,
// enum, message, repeated, map and oneof fields, and proto3 optional
// scalars. The internal state and size cache of the source are not read
// (other goroutines may be updating them); unknown fields are copied.
// Anything else (a type with other unexported fields, or a message that is
// not a generated struct) falls back to proto.Clone.
package fastclone

import (
	"bytes"
	"maps"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"

	"google.golang.org/protobuf/proto"
)

// Clone returns a deep copy of m.
func Clone[T proto.Message](m T) T {
	return Message(m).(T)
}

// Message returns a deep copy of m (nil for nil).
func Message(m proto.Message) proto.Message {
	if m == nil {
		return nil
	}
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.Type().Elem().Kind() != reflect.Struct {
		return proto.Clone(m)
	}
	if v.IsNil() {
		return m
	}
	p := planFor(v.Type().Elem())
	if !p.ok {
		return proto.Clone(m)
	}
	return reflect.NewAt(p.typ, p.copyRoot(v.UnsafePointer(), 0)).Interface().(proto.Message)
}

type opKind uint8

const (
	kString opKind = iota
	kBool
	kInt32
	kInt64
	kUint32
	kUint64
	kFloat32
	kFloat64
	kBytes
	kUnknown // unknown fields: bytes, compared by proto.Equal's rules
	kStrings
	kScalarSlice
	kMsgPtr
	kScalarPtr
	kMsgSlice
	kMapSS
	kMapSB
	kMapOther
	kIface
)

type op struct {
	name string // the Go field name
	off  uintptr
	kind opKind
	typ  reflect.Type
	sub  *plan
}

type plan struct {
	typ reflect.Type
	// arrays[n] caches [n]typ for the common short repeated fields.
	arrays [maxArray + 1]atomic.Value
	ops    []op
	ok     bool
}

const maxArray = 16

var (
	plans   sync.Map // reflect.Type -> *plan
	buildMu sync.Mutex
)

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	building := map[reflect.Type]*plan{}
	p := build(t, building)
	for typ, bp := range building {
		plans.Store(typ, bp)
	}
	return p
}

func build(t reflect.Type, building map[reflect.Type]*plan) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	if p := building[t]; p != nil {
		return p
	}
	p := &plan{typ: t, ok: true}
	building[t] = p
	sub := func(st reflect.Type) *plan { return build(st, building) }
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			switch f.Name {
			case "state", "sizeCache":
				continue // never read: other goroutines may update them
			case "unknownFields":
				if f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8 {
					p.ops = append(p.ops, op{off: f.Offset, kind: kUnknown})
					continue
				}
			}
			p.ok = false
			continue
		}
		o := op{name: f.Name, off: f.Offset, typ: f.Type}
		ft := f.Type
		switch ft.Kind() {
		case reflect.String:
			o.kind = kString
		case reflect.Bool:
			o.kind = kBool
		case reflect.Int32:
			o.kind = kInt32
		case reflect.Int64:
			o.kind = kInt64
		case reflect.Uint32:
			o.kind = kUint32
		case reflect.Uint64:
			o.kind = kUint64
		case reflect.Float32:
			o.kind = kFloat32
		case reflect.Float64:
			o.kind = kFloat64
		case reflect.Slice:
			switch et := ft.Elem(); {
			case et.Kind() == reflect.Uint8:
				o.kind = kBytes
			case et.Kind() == reflect.String:
				o.kind = kStrings
			case et.Kind() == reflect.Pointer && et.Elem().Kind() == reflect.Struct:
				o.kind, o.sub = kMsgSlice, sub(et.Elem())
			case isScalar(et.Kind()):
				o.kind = kScalarSlice
			default:
				p.ok = false
				continue
			}
		case reflect.Pointer:
			switch et := ft.Elem(); {
			case et.Kind() == reflect.Struct:
				o.kind, o.sub = kMsgPtr, sub(et)
			case isScalar(et.Kind()) || et.Kind() == reflect.String:
				o.kind = kScalarPtr
			default:
				p.ok = false
				continue
			}
		case reflect.Map:
			kt, vt := ft.Key(), ft.Elem()
			switch {
			case ft == reflect.TypeFor[map[string]string]():
				o.kind = kMapSS
			case ft == reflect.TypeFor[map[string][]byte]():
				o.kind = kMapSB
			case (isScalar(kt.Kind()) || kt.Kind() == reflect.String) &&
				(isScalar(vt.Kind()) || vt.Kind() == reflect.String ||
					(vt.Kind() == reflect.Pointer && vt.Elem().Kind() == reflect.Struct)):
				o.kind = kMapOther
				if vt.Kind() == reflect.Pointer {
					o.sub = sub(vt.Elem())
				}
			default:
				p.ok = false
				continue
			}
		case reflect.Interface:
			o.kind = kIface // a oneof: a pointer to a wrapper struct
		default:
			p.ok = false
			continue
		}
		p.ops = append(p.ops, o)
	}
	return p
}

func isScalar(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int32, reflect.Int64, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// newCopy allocates a copy of the struct at src, piece by piece.
func (p *plan) newCopy(src unsafe.Pointer) unsafe.Pointer {
	if !p.ok {
		if m, ok := reflect.NewAt(p.typ, src).Interface().(proto.Message); ok {
			return reflect.ValueOf(proto.Clone(m)).UnsafePointer()
		}
		// Not a message (an unusual oneof wrapper): a shallow copy.
		n := reflect.New(p.typ)
		n.Elem().Set(reflect.NewAt(p.typ, src).Elem())
		return n.UnsafePointer()
	}
	dst := reflect.New(p.typ).UnsafePointer()
	copyOps(p.ops, dst, src, 0)
	return dst
}

// copyRoot copies the struct at src (p.ok), leaving out the fields whose
// op index is set in skip.
func (p *plan) copyRoot(src unsafe.Pointer, skip uint64) unsafe.Pointer {
	dst := reflect.New(p.typ).UnsafePointer()
	copyOps(p.ops, dst, src, skip)
	return dst
}

// CloneWithout returns a deep copy of m with the field whose Go name is
// field left unset (a store update replaces the status it was given with
// the stored one, so copying it would be waste). A field that m's type does
// not have is ignored.
func CloneWithout[T proto.Message](m T, field string) T {
	return cloneMasked(m, func(name string) bool { return name != field })
}

// CloneOnly returns a copy of m with only the fields whose Go names are
// given (deep copies of them); the others, unknown fields included, are
// left unset (a status update reads only metadata and status).
func CloneOnly[T proto.Message](m T, fields ...string) T {
	return cloneMasked(m, func(name string) bool { return name != "" && slices.Contains(fields, name) })
}

// cloneMasked copies the fields of m's top-level struct for which keep
// says true (given the Go field name, "" for unknown fields), deeply.
func cloneMasked[T proto.Message](m T, keep func(name string) bool) T {
	v := reflect.ValueOf(m)
	if v.Kind() != reflect.Pointer || v.Type().Elem().Kind() != reflect.Struct || v.IsNil() {
		return Clone(m)
	}
	p := planFor(v.Type().Elem())
	var skip uint64
	if p.ok && len(p.ops) <= 64 {
		for i := range p.ops {
			if !keep(p.ops[i].name) {
				skip |= 1 << i
			}
		}
		return reflect.NewAt(p.typ, p.copyRoot(v.UnsafePointer(), skip)).Interface().(T)
	}
	// No plan (or too many fields for a mask): copy it all, then clear.
	c := Clone(m)
	cv := reflect.ValueOf(c).Elem()
	for i := 0; i < cv.NumField(); i++ {
		f := cv.Type().Field(i)
		if f.IsExported() && !keep(f.Name) {
			cv.Field(i).SetZero()
		}
	}
	return c
}

// copySlice copies a repeated message field. The copies of a field's
// elements share one allocation (a []T), so a field of n messages costs two
// allocations rather than n+1.
func (p *plan) copySlice(v []unsafe.Pointer) []unsafe.Pointer {
	n := make([]unsafe.Pointer, len(v))
	if len(v) < 2 || len(v) > maxArray || !p.ok {
		for j, e := range v {
			if e != nil {
				n[j] = p.newCopy(e)
			}
		}
		return n
	}
	slab := reflect.New(p.arrayOf(len(v))).UnsafePointer()
	size := p.typ.Size()
	for j, e := range v {
		if e != nil {
			d := unsafe.Add(slab, uintptr(j)*size)
			copyOps(p.ops, d, e, 0)
			n[j] = d
		}
	}
	return n
}

// arrayOf returns the type [n]T for the plan's T (n <= maxArray).
func (p *plan) arrayOf(n int) reflect.Type {
	if t, ok := p.arrays[n].Load().(reflect.Type); ok {
		return t
	}
	t := reflect.ArrayOf(n, p.typ)
	p.arrays[n].Store(t)
	return t
}

// copyOps deep-copies the fields ops describe from src into the zero
// struct at dst, leaving out those whose index is set in skip.
func copyOps(ops []op, dst, src unsafe.Pointer, skip uint64) {
	for i := range ops {
		if skip != 0 && i < 64 && skip&(1<<i) != 0 {
			continue
		}
		o := &ops[i]
		s, d := unsafe.Add(src, o.off), unsafe.Add(dst, o.off)
		switch o.kind {
		case kString:
			*(*string)(d) = *(*string)(s)
		case kBool:
			*(*bool)(d) = *(*bool)(s)
		case kInt32, kFloat32, kUint32:
			*(*uint32)(d) = *(*uint32)(s)
		case kInt64, kFloat64, kUint64:
			*(*uint64)(d) = *(*uint64)(s)
		case kBytes, kUnknown:
			if b := *(*[]byte)(s); b != nil {
				*(*[]byte)(d) = bytes.Clone(b)
			}
		case kStrings:
			v := *(*[]string)(s)
			switch {
			case v == nil:
			case len(v) == 0:
				*(*[]string)(d) = []string{}
			default:
				*(*[]string)(d) = slices.Clone(v)
			}
		case kMsgPtr:
			if v := *(*unsafe.Pointer)(s); v != nil {
				*(*unsafe.Pointer)(d) = o.sub.newCopy(v)
			}
		case kMsgSlice:
			v := *(*[]unsafe.Pointer)(s)
			switch {
			case v == nil:
			case len(v) == 0:
				*(*[]unsafe.Pointer)(d) = []unsafe.Pointer{}
			default:
				*(*[]unsafe.Pointer)(d) = o.sub.copySlice(v)
			}
		case kMapSS:
			if v := *(*map[string]string)(s); v != nil {
				*(*map[string]string)(d) = maps.Clone(v)
			}
		case kMapSB:
			if v := *(*map[string][]byte)(s); v != nil {
				n := make(map[string][]byte, len(v))
				for k, b := range v {
					n[k] = bytes.Clone(b)
				}
				*(*map[string][]byte)(d) = n
			}
		default:
			o.copySlow(d, s)
		}
	}
}

// copySlow handles the rare field kinds with reflect.
func (o *op) copySlow(d, s unsafe.Pointer) {
	sv := reflect.NewAt(o.typ, s).Elem()
	if sv.IsNil() {
		return
	}
	dv := reflect.NewAt(o.typ, d).Elem()
	switch o.kind {
	case kScalarSlice:
		n := reflect.MakeSlice(o.typ, sv.Len(), sv.Len())
		reflect.Copy(n, sv)
		dv.Set(n)
	case kScalarPtr:
		n := reflect.New(o.typ.Elem())
		n.Elem().Set(sv.Elem())
		dv.Set(n)
	case kMapOther:
		n := reflect.MakeMapWithSize(o.typ, sv.Len())
		it := sv.MapRange()
		for it.Next() {
			val := it.Value()
			if o.sub != nil && !val.IsNil() {
				val = reflect.NewAt(o.sub.typ, o.sub.newCopy(val.UnsafePointer()))
			}
			n.SetMapIndex(it.Key(), val)
		}
		dv.Set(n)
	case kIface:
		dyn := sv.Elem() // *Wrapper
		if dyn.Kind() != reflect.Pointer || dyn.Type().Elem().Kind() != reflect.Struct || dyn.IsNil() {
			dv.Set(sv) // not a generated oneof wrapper: share (immutable values only)
			return
		}
		wp := planFor(dyn.Type().Elem())
		dv.Set(reflect.NewAt(wp.typ, wp.newCopy(dyn.UnsafePointer())))
	}
}

func reflectType(m proto.Message) reflect.Type { return reflect.TypeOf(m).Elem() }
