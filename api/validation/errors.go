package validation

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// ErrInvalid is the class of every validation error: errors.Is(err,
// ErrInvalid) holds for a *FieldError and for an ErrorList.
var ErrInvalid = errors.New("invalid object")

// ErrorType says what is wrong with a field.
type ErrorType string

// The error types, worded as they appear in messages.
const (
	// TypeRequired is a missing value.
	TypeRequired ErrorType = "required value"
	// TypeInvalid is a value that breaks a rule.
	TypeInvalid ErrorType = "invalid value"
	// TypeDuplicate is a value that must be unique and is not.
	TypeDuplicate ErrorType = "duplicate value"
	// TypeNotSupported is a value outside a fixed set.
	TypeNotSupported ErrorType = "unsupported value"
	// TypeForbidden is a field that must not be set here.
	TypeForbidden ErrorType = "forbidden"
)

// FieldError is one problem with one field.
type FieldError struct {
	// Type is what is wrong.
	Type ErrorType
	// Path is the field path, e.g. spec.template.spec.containers[0].image.
	Path string
	// Value is the offending value as text; empty for required and forbidden.
	Value string
	// Detail explains the rule, or lists the supported values.
	Detail string
}

// Error returns "path: type[ value]: detail".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	b.WriteString(": ")
	b.WriteString(string(e.Type))
	if e.Value != "" || e.Type == TypeInvalid || e.Type == TypeDuplicate || e.Type == TypeNotSupported {
		b.WriteString(" ")
		b.WriteString(strconv.Quote(e.Value))
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Is makes every FieldError match ErrInvalid.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// ErrorList is every problem found in one object, in field order.
type ErrorList []*FieldError

// Error returns one line per field error.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is makes an ErrorList match ErrInvalid.
func (l ErrorList) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns the field errors, so errors.As finds a *FieldError.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// errs accumulates field errors under a path.
type errs struct{ list ErrorList }

func (e *errs) add(t ErrorType, p path, value any, format string, args ...any) {
	v := ""
	if value != nil {
		v = fmt.Sprint(value)
	}
	e.list = append(e.list, &FieldError{Type: t, Path: string(p), Value: v, Detail: fmt.Sprintf(format, args...)})
}

func (e *errs) required(p path, detail string) {
	e.list = append(e.list, &FieldError{Type: TypeRequired, Path: string(p), Detail: detail})
}

func (e *errs) invalid(p path, value any, format string, args ...any) {
	e.add(TypeInvalid, p, value, format, args...)
}

func (e *errs) duplicate(p path, value any) {
	e.add(TypeDuplicate, p, value, "")
}

func (e *errs) forbidden(p path, format string, args ...any) {
	e.list = append(e.list, &FieldError{Type: TypeForbidden, Path: string(p), Detail: fmt.Sprintf(format, args...)})
}

// oneOf checks v against the supported values; empty is allowed only when
// allowEmpty.
func (e *errs) oneOf(p path, v string, allowEmpty bool, supported ...string) {
	if v == "" && allowEmpty {
		return
	}
	if v == "" {
		e.required(p, "supported values: "+quoteAll(supported))
		return
	}
	for _, s := range supported {
		if v == s {
			return
		}
	}
	e.add(TypeNotSupported, p, v, "supported values: %s", quoteAll(supported))
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return strings.Join(q, ", ")
}

// path is a field path under construction.
type path string

func (p path) child(names ...string) path {
	for _, name := range names {
		if p == "" {
			p = path(name)
			continue
		}
		p += "." + path(name)
	}
	return p
}

func (p path) index(i int) path { return p + path("["+strconv.Itoa(i)+"]") }

func (p path) key(k string) path { return p + path("["+k+"]") }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
