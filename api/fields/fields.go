package fields

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/coxswain-io/coxswain/api"
)

// ErrInvalid is the class of every parse and validation error of this
// package; test for it with errors.Is.
var ErrInvalid = errors.New("invalid field selector")

// Operator is the relation a Requirement tests.
type Operator string

// Field selector operators. DoubleEquals is parsed as, and prints as, Equals.
const (
	Equals       Operator = "="
	DoubleEquals Operator = "=="
	NotEquals    Operator = "!="
)

// Requirement is one term: the field at Path compared with Value.
type Requirement struct {
	// Path is the dotted JSON path, e.g. "spec.nodeName".
	Path string
	// Operator is Equals or NotEquals.
	Operator Operator
	// Value is the unescaped value.
	Value string
}

// Matches reports whether obj satisfies the requirement.
func (r Requirement) Matches(obj api.Object) bool {
	v, _ := Value(obj, r.Path)
	if r.Operator == NotEquals {
		return v != r.Value
	}
	return v == r.Value
}

// String returns the requirement in selector syntax, value escaped.
func (r Requirement) String() string {
	return r.Path + string(r.Operator) + EscapeValue(r.Value)
}

// Selector decides whether an object is selected by its fields.
type Selector interface {
	// Matches reports whether obj satisfies every requirement.
	Matches(obj api.Object) bool
	// Empty reports whether the selector has no requirements.
	Empty() bool
	// String returns the canonical form (terms sorted), which Parse reads
	// back to an equal selector.
	String() string
	// Requirements returns the terms, sorted by path.
	Requirements() []Requirement
	// RequiresExactMatch returns the value the field at path must equal for
	// the selector to match, if the selector has such an Equals term.
	RequiresExactMatch(path string) (value string, ok bool)
}

type selector []Requirement

// Everything returns the selector that matches every object.
func Everything() Selector { return selector(nil) }

// OneTermEqual returns the selector "path=value". It does not validate path.
func OneTermEqual(path, value string) Selector {
	return selector{{Path: path, Operator: Equals, Value: value}}
}

// NewSelector returns the selector requiring every one of reqs, which must
// have valid paths and Equals, DoubleEquals or NotEquals operators.
func NewSelector(reqs ...Requirement) (Selector, error) {
	out := make(selector, 0, len(reqs))
	for _, r := range reqs {
		if err := validatePath(r.Path); err != nil {
			return nil, err
		}
		switch r.Operator {
		case DoubleEquals:
			r.Operator = Equals
		case Equals, NotEquals:
		default:
			return nil, fmt.Errorf("%w: unknown operator %q", ErrInvalid, r.Operator)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Requirement) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(string(a.Operator), string(b.Operator)); c != 0 {
			return c
		}
		return strings.Compare(a.Value, b.Value)
	})
	return slices.Compact(out), nil
}

func (s selector) Matches(obj api.Object) bool {
	for _, r := range s {
		if !r.Matches(obj) {
			return false
		}
	}
	return true
}

func (s selector) Empty() bool { return len(s) == 0 }

func (s selector) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (s selector) Requirements() []Requirement { return slices.Clone(s) }

func (s selector) RequiresExactMatch(path string) (string, bool) {
	for _, r := range s {
		if r.Path == path && r.Operator == Equals {
			return r.Value, true
		}
	}
	return "", false
}

func validatePath(path string) error {
	if path == "" {
		return fmt.Errorf("%w: empty field path", ErrInvalid)
	}
	for seg := range strings.SplitSeq(path, ".") {
		if seg == "" {
			return fmt.Errorf("%w: field path %q has an empty segment", ErrInvalid, path)
		}
	}
	return nil
}

// Validate checks that every path of sel names a selectable field of the
// message desc describes: a scalar (string, bool, number, enum) or a key of
// a map with string values.
func Validate(sel Selector, desc protoreflect.MessageDescriptor) error {
	var errs []error
	for _, r := range sel.Requirements() {
		if err := checkPath(desc, r.Path); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func checkPath(desc protoreflect.MessageDescriptor, path string) error {
	segs := strings.Split(path, ".")
	for i := 0; i < len(segs); i++ {
		fd := fieldByName(desc, segs[i])
		if fd == nil {
			return fmt.Errorf("%w: %s: no field %q in %s", ErrInvalid, path, segs[i], desc.FullName())
		}
		last := i == len(segs)-1
		switch {
		case fd.IsMap():
			// The rest of the path is the key, dots included.
			if last || fd.MapKey().Kind() != protoreflect.StringKind || !isScalar(fd.MapValue()) {
				return fmt.Errorf("%w: %s: map field %q must be followed by a key and hold scalars", ErrInvalid, path, segs[i])
			}
			return nil
		case fd.IsList():
			return fmt.Errorf("%w: %s: list field %q cannot be selected on", ErrInvalid, path, segs[i])
		case fd.Message() != nil:
			if last {
				return fmt.Errorf("%w: %s: %q is a message, not a scalar field", ErrInvalid, path, segs[i])
			}
			desc = fd.Message()
		default:
			if !isScalar(fd) {
				return fmt.Errorf("%w: %s: field %q of kind %s cannot be selected on", ErrInvalid, path, segs[i], fd.Kind())
			}
			if !last {
				return fmt.Errorf("%w: %s: %q is a scalar, it has no field %q", ErrInvalid, path, segs[i], segs[i+1])
			}
		}
	}
	return nil
}

func fieldByName(desc protoreflect.MessageDescriptor, name string) protoreflect.FieldDescriptor {
	fields := desc.Fields()
	if fd := fields.ByJSONName(name); fd != nil {
		return fd
	}
	return fields.ByName(protoreflect.Name(name))
}

func isScalar(fd protoreflect.FieldDescriptor) bool {
	switch fd.Kind() {
	case protoreflect.MessageKind, protoreflect.GroupKind, protoreflect.BytesKind:
		return false
	}
	return true
}

// Value returns the text of the field at the dotted JSON path in obj, and
// whether the path resolves to a selectable field. Unset fields give their
// zero value ("", "0", "false", or the enum's zero name).
func Value(obj api.Object, path string) (string, bool) {
	return valueOf(obj.ProtoReflect(), path)
}

func valueOf(msg protoreflect.Message, path string) (string, bool) {
	for {
		seg, rest, more := strings.Cut(path, ".")
		fd := fieldByName(msg.Descriptor(), seg)
		if fd == nil {
			return "", false
		}
		switch {
		case fd.IsMap():
			if !more || fd.MapKey().Kind() != protoreflect.StringKind || !isScalar(fd.MapValue()) {
				return "", false
			}
			v := msg.Get(fd).Map().Get(protoreflect.ValueOfString(rest).MapKey())
			if !v.IsValid() {
				return "", true
			}
			return scalarText(fd.MapValue(), v)
		case fd.IsList():
			return "", false
		case fd.Message() != nil:
			if !more {
				return "", false
			}
			msg = msg.Get(fd).Message()
			path = rest
		default:
			if more {
				return "", false
			}
			return scalarText(fd, msg.Get(fd))
		}
	}
}

func scalarText(fd protoreflect.FieldDescriptor, v protoreflect.Value) (string, bool) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		return v.String(), true
	case protoreflect.BoolKind:
		return strconv.FormatBool(v.Bool()), true
	case protoreflect.EnumKind:
		if ev := fd.Enum().Values().ByNumber(v.Enum()); ev != nil {
			return string(ev.Name()), true
		}
		return strconv.Itoa(int(v.Enum())), true
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return strconv.FormatInt(v.Int(), 10), true
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return strconv.FormatUint(v.Uint(), 10), true
	case protoreflect.FloatKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 32), true
	case protoreflect.DoubleKind:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64), true
	}
	return "", false
}
