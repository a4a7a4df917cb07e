package labels

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/coxswain-io/coxswain/api"
)

// Selector decides whether a set of labels is selected.
type Selector interface {
	// Matches reports whether labels satisfy every requirement.
	Matches(labels Labels) bool
	// Empty reports whether the selector has no requirements and so selects
	// everything. The Nothing selector is not empty.
	Empty() bool
	// String returns the canonical form, which Parse reads back to an equal
	// selector. Nothing prints as "" like Everything does, because the text
	// syntax cannot express it: do not round-trip Nothing through text.
	String() string
}

// Operator is the relation a Requirement tests.
type Operator string

// Requirement operators. DoubleEquals is parsed as, and prints as, Equals.
const (
	Equals       Operator = "="
	DoubleEquals Operator = "=="
	NotEquals    Operator = "!="
	In           Operator = "in"
	NotIn        Operator = "notin"
	Exists       Operator = "exists"
	DoesNotExist Operator = "!"
)

// Requirement is one term of a selector: a key, an operator and values.
// Build one with NewRequirement.
type Requirement struct {
	key    string
	op     Operator
	values []string // sorted, deduplicated
}

// NewRequirement checks and builds a requirement. Equals and NotEquals take
// exactly one value, In and NotIn at least one, Exists and DoesNotExist none.
// The key and values must be valid (ValidateKey, ValidateValue).
func NewRequirement(key string, op Operator, values []string) (Requirement, error) {
	if err := ValidateKey(key); err != nil {
		return Requirement{}, err
	}
	switch op {
	case DoubleEquals:
		op = Equals
		fallthrough
	case Equals, NotEquals:
		if len(values) != 1 {
			return Requirement{}, fmt.Errorf("%w: %s %s needs exactly one value", ErrInvalid, key, op)
		}
	case In, NotIn:
		if len(values) == 0 {
			return Requirement{}, fmt.Errorf("%w: %s %s needs at least one value", ErrInvalid, key, op)
		}
	case Exists, DoesNotExist:
		if len(values) != 0 {
			return Requirement{}, fmt.Errorf("%w: %s %s takes no values", ErrInvalid, key, op)
		}
	default:
		return Requirement{}, fmt.Errorf("%w: unknown operator %q", ErrInvalid, op)
	}
	vs := make([]string, 0, len(values))
	for _, v := range values {
		if err := ValidateValue(v); err != nil {
			return Requirement{}, err
		}
		vs = append(vs, v)
	}
	sort.Strings(vs)
	vs = slices.Compact(vs)
	return Requirement{key: key, op: op, values: vs}, nil
}

// Key returns the label key the requirement tests.
func (r Requirement) Key() string { return r.key }

// Operator returns the requirement's operator (never DoubleEquals).
func (r Requirement) Operator() Operator { return r.op }

// Values returns a copy of the values, sorted.
func (r Requirement) Values() []string { return slices.Clone(r.values) }

func (r Requirement) hasValue(v string) bool {
	for _, x := range r.values {
		if x == v {
			return true
		}
	}
	return false
}

// Matches reports whether labels satisfy the requirement. NotEquals and
// NotIn hold when the label is absent.
func (r Requirement) Matches(labels Labels) bool {
	switch r.op {
	case Equals, In:
		return labels.Has(r.key) && r.hasValue(labels.Get(r.key))
	case NotEquals, NotIn:
		return !labels.Has(r.key) || !r.hasValue(labels.Get(r.key))
	case Exists:
		return labels.Has(r.key)
	case DoesNotExist:
		return !labels.Has(r.key)
	}
	return false
}

// String returns the requirement in selector syntax.
func (r Requirement) String() string {
	var b strings.Builder
	r.write(&b)
	return b.String()
}

func (r Requirement) write(b *strings.Builder) {
	switch r.op {
	case Exists:
		b.WriteString(r.key)
	case DoesNotExist:
		b.WriteByte('!')
		b.WriteString(r.key)
	case Equals, NotEquals:
		b.WriteString(r.key)
		b.WriteString(string(r.op))
		b.WriteString(r.values[0])
	case In, NotIn:
		b.WriteString(r.key)
		b.WriteByte(' ')
		b.WriteString(string(r.op))
		b.WriteString(" (")
		b.WriteString(strings.Join(r.values, ","))
		b.WriteByte(')')
	}
}

var opOrder = map[Operator]int{Equals: 0, In: 1, NotEquals: 2, NotIn: 3, Exists: 4, DoesNotExist: 5}

func compareRequirements(a, b Requirement) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	if c := opOrder[a.op] - opOrder[b.op]; c != 0 {
		return c
	}
	return slices.Compare(a.values, b.values)
}

// Requirements is a selector made of requirements that must all hold. It
// is the concrete type Parse, SelectorFromSet and FromLabelSelector return
// (apart from Nothing). The zero value selects everything.
type Requirements []Requirement

var _ Selector = Requirements(nil)

// NewSelector returns the selector requiring every one of reqs, in canonical
// order with duplicates removed.
func NewSelector(reqs ...Requirement) Requirements {
	out := slices.Clone(reqs)
	slices.SortFunc(out, compareRequirements)
	return slices.CompactFunc(out, func(a, b Requirement) bool { return compareRequirements(a, b) == 0 })
}

// Matches reports whether labels satisfy every requirement.
func (s Requirements) Matches(labels Labels) bool {
	for i := range s {
		if !s[i].Matches(labels) {
			return false
		}
	}
	return true
}

// Empty reports whether there are no requirements.
func (s Requirements) Empty() bool { return len(s) == 0 }

// String returns the canonical selector text.
func (s Requirements) String() string {
	var b strings.Builder
	for i := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		s[i].write(&b)
	}
	return b.String()
}

// RequiresExactMatch returns the value key must equal for the selector to
// match (an Equals requirement, or In with a single value), so that callers
// can use an index on that label.
func (s Requirements) RequiresExactMatch(key string) (string, bool) {
	for _, r := range s {
		if r.key == key && (r.op == Equals || r.op == In) && len(r.values) == 1 {
			return r.values[0], true
		}
	}
	return "", false
}

type nothing struct{}

func (nothing) Matches(Labels) bool { return false }
func (nothing) Empty() bool         { return false }
func (nothing) String() string      { return "" }

// Everything returns a selector that matches every set of labels.
func Everything() Selector { return Requirements(nil) }

// Nothing returns a selector that matches no set of labels.
func Nothing() Selector { return nothing{} }

// IsNothing reports whether sel is the Nothing selector.
func IsNothing(sel Selector) bool {
	_, ok := sel.(nothing)
	return ok
}

// SelectorFromSet returns the selector requiring every label of set. Keys and
// values are not validated (use ValidatedSelectorFromSet for that); a nil or
// empty set selects everything.
func SelectorFromSet(set Set) Selector {
	reqs := make([]Requirement, 0, len(set))
	for k, v := range set {
		reqs = append(reqs, Requirement{key: k, op: Equals, values: []string{v}})
	}
	return NewSelector(reqs...)
}

// ValidatedSelectorFromSet is SelectorFromSet that checks keys and values.
func ValidatedSelectorFromSet(set Set) (Selector, error) {
	reqs := make([]Requirement, 0, len(set))
	for k, v := range set {
		r, err := NewRequirement(k, Equals, []string{v})
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
	}
	return NewSelector(reqs...), nil
}

// FromLabelSelector converts the structured form kinds carry. A nil selector
// selects nothing; an empty one selects everything. Operators are In, NotIn,
// Exists and DoesNotExist.
func FromLabelSelector(ls *api.LabelSelector) (Selector, error) {
	if ls == nil {
		return Nothing(), nil
	}
	reqs := make([]Requirement, 0, len(ls.GetMatchLabels())+len(ls.GetMatchExpressions()))
	for k, v := range ls.GetMatchLabels() {
		r, err := NewRequirement(k, Equals, []string{v})
		if err != nil {
			return nil, fmt.Errorf("matchLabels: %w", err)
		}
		reqs = append(reqs, r)
	}
	for i, e := range ls.GetMatchExpressions() {
		var op Operator
		switch e.GetOperator() {
		case "In":
			op = In
		case "NotIn":
			op = NotIn
		case "Exists":
			op = Exists
		case "DoesNotExist":
			op = DoesNotExist
		default:
			return nil, fmt.Errorf("matchExpressions[%d]: %w: operator %q (want In, NotIn, Exists or DoesNotExist)", i, ErrInvalid, e.GetOperator())
		}
		r, err := NewRequirement(e.GetKey(), op, e.GetValues())
		if err != nil {
			return nil, fmt.Errorf("matchExpressions[%d]: %w", i, err)
		}
		reqs = append(reqs, r)
	}
	return NewSelector(reqs...), nil
}
