package fastclone

import (
	"bytes"
	"maps"
	"math"
	"reflect"
	"slices"
	"unsafe"

	"google.golang.org/protobuf/proto"
)

// Equal reports whether a and b are equal by proto.Equal's rules (messages
// of one type whose populated fields are equal, a NaN equal to a NaN, nil
// and empty repeated and map fields equal, a nil message field unequal to
// an empty one), comparing generated structs with the copy plans rather
// than reflection. What a plan cannot compare exactly (oneofs, optional
// scalars, unusual maps, unknown fields that differ as bytes) is left to
// proto.Equal.
func Equal(a, b proto.Message) bool {
	if a == nil || b == nil {
		return proto.Equal(a, b)
	}
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	if av.Type() != bv.Type() || av.Kind() != reflect.Pointer || av.Type().Elem().Kind() != reflect.Struct {
		return proto.Equal(a, b)
	}
	if av.IsNil() || bv.IsNil() {
		return av.IsNil() && bv.IsNil()
	}
	eq, decided := planFor(av.Type().Elem()).equal(av.UnsafePointer(), bv.UnsafePointer())
	if !decided {
		return proto.Equal(a, b)
	}
	return eq
}

// equal compares the structs at a and b; decided is false when the plan
// cannot tell exactly.
func (p *plan) equal(a, b unsafe.Pointer) (eq, decided bool) {
	if !p.ok {
		return false, false
	}
	if a == b {
		return true, true
	}
	for i := range p.ops {
		o := &p.ops[i]
		x, y := unsafe.Add(a, o.off), unsafe.Add(b, o.off)
		same := true
		switch o.kind {
		case kString:
			same = *(*string)(x) == *(*string)(y)
		case kBool:
			same = *(*bool)(x) == *(*bool)(y)
		case kInt32, kUint32:
			same = *(*uint32)(x) == *(*uint32)(y)
		case kInt64, kUint64:
			same = *(*uint64)(x) == *(*uint64)(y)
		case kFloat32:
			same = equalFloat(float64(*(*float32)(x)), float64(*(*float32)(y)))
		case kFloat64:
			same = equalFloat(*(*float64)(x), *(*float64)(y))
		case kBytes:
			same = bytes.Equal(*(*[]byte)(x), *(*[]byte)(y))
		case kUnknown:
			if !bytes.Equal(*(*[]byte)(x), *(*[]byte)(y)) {
				return false, false // may still be equal, reordered
			}
		case kStrings:
			same = slices.Equal(*(*[]string)(x), *(*[]string)(y))
		case kMsgPtr:
			px, py := *(*unsafe.Pointer)(x), *(*unsafe.Pointer)(y)
			if px == nil || py == nil {
				same = px == py
				break
			}
			if eq, decided := o.sub.equal(px, py); !eq || !decided {
				return eq, decided
			}
		case kMsgSlice:
			sx, sy := *(*[]unsafe.Pointer)(x), *(*[]unsafe.Pointer)(y)
			if len(sx) != len(sy) {
				return false, true
			}
			for j := range sx {
				if sx[j] == nil || sy[j] == nil {
					if sx[j] != sy[j] {
						return false, false // an invalid element: proto.Equal decides
					}
					continue
				}
				if eq, decided := o.sub.equal(sx[j], sy[j]); !eq || !decided {
					return eq, decided
				}
			}
		case kMapSS:
			same = maps.Equal(*(*map[string]string)(x), *(*map[string]string)(y))
		case kMapSB:
			same = maps.EqualFunc(*(*map[string][]byte)(x), *(*map[string][]byte)(y), bytes.Equal)
		default:
			return false, false
		}
		if !same {
			return false, true
		}
	}
	return true, true
}

func equalFloat(x, y float64) bool {
	if math.IsNaN(x) || math.IsNaN(y) {
		return math.IsNaN(x) && math.IsNaN(y)
	}
	return x == y
}
