package fields

import (
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
)

// Getter reads one field path from objects of one message type: what
// Value returns, with the path's fields looked up once rather than on
// every call. Stores and watch dispatchers that read the same path of
// many objects (an index on spec.nodeName, a watch's field selector) use
// one. A Getter is immutable and safe for concurrent use.
type Getter struct {
	path string
	desc protoreflect.MessageDescriptor
	// steps are the message fields leading to last.
	steps []protoreflect.FieldDescriptor
	// last is the scalar or map field the path ends in; nil when the path
	// selects nothing in desc (Value then reports "", false).
	last protoreflect.FieldDescriptor
	// key is the map key, when last is a map.
	key protoreflect.MapKey
}

// NewGetter resolves path (as Value takes it) against the message type
// desc describes.
func NewGetter(desc protoreflect.MessageDescriptor, path string) *Getter {
	g := &Getter{path: path, desc: desc}
	d := desc
	for rest := path; ; {
		seg, after, more := strings.Cut(rest, ".")
		fd := fieldByName(d, seg)
		switch {
		case fd == nil:
		case fd.IsMap():
			if more && fd.MapKey().Kind() == protoreflect.StringKind && isScalar(fd.MapValue()) {
				g.last, g.key = fd, protoreflect.ValueOfString(after).MapKey()
			}
		case fd.IsList():
		case fd.Message() != nil:
			if more {
				g.steps = append(g.steps, fd)
				d, rest = fd.Message(), after
				continue
			}
		default:
			if !more {
				g.last = fd
			}
		}
		if g.last == nil {
			g.steps = nil
		}
		return g
	}
}

// Path returns the path g reads.
func (g *Getter) Path() string { return g.path }

// Value returns Value(obj, g.Path()): the field's value as text, and
// whether the path names a field of obj. An object of another type than
// the Getter's is read the slow way, with the same result.
func (g *Getter) Value(obj api.Object) (string, bool) {
	msg := obj.ProtoReflect()
	if msg.Descriptor() != g.desc {
		return valueOf(msg, g.path)
	}
	if g.last == nil {
		return "", false
	}
	for _, fd := range g.steps {
		msg = msg.Get(fd).Message()
	}
	if g.last.IsMap() {
		v := msg.Get(g.last).Map().Get(g.key)
		if !v.IsValid() {
			return "", true
		}
		return scalarText(g.last.MapValue(), v)
	}
	return scalarText(g.last, msg.Get(g.last))
}

// Bind returns sel with every path resolved against desc (see Getter): a
// selector that matches objects of that type faster, and any other object
// as sel does. Its other methods are sel's.
func Bind(sel Selector, desc protoreflect.MessageDescriptor) Selector {
	if b, ok := sel.(*bound); ok {
		sel = b.Selector
	}
	reqs := sel.Requirements()
	if len(reqs) == 0 {
		return sel
	}
	b := &bound{Selector: sel, reqs: reqs, getters: make([]*Getter, len(reqs))}
	for i, r := range reqs {
		b.getters[i] = NewGetter(desc, r.Path)
	}
	return b
}

// bound is a Selector with its paths resolved.
type bound struct {
	Selector
	reqs    []Requirement
	getters []*Getter
}

// Matches reports whether obj satisfies every requirement.
func (b *bound) Matches(obj api.Object) bool {
	for i, r := range b.reqs {
		v, _ := b.getters[i].Value(obj)
		if (v == r.Value) != (r.Operator == Equals) {
			return false
		}
	}
	return true
}
