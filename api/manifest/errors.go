package manifest

import (
	"errors"
	"fmt"
	"strings"
)

// Error classes; every *Error wraps one of them (or api.ErrUnknownKind).
var (
	// ErrSyntax is a document that is not well-formed YAML or JSON.
	ErrSyntax = errors.New("syntax error")
	// ErrUnknownField is a field the kind's message does not have.
	ErrUnknownField = errors.New("unknown field")
	// ErrInvalidValue is a value of the wrong type or out of range.
	ErrInvalidValue = errors.New("invalid value")
	// ErrDuplicateField is a key given twice in one mapping.
	ErrDuplicateField = errors.New("duplicate field")
	// ErrMissingField is a document without apiVersion or kind.
	ErrMissingField = errors.New("required field missing")
	// ErrTooComplex is a document whose aliases expand beyond the decoder's budget.
	ErrTooComplex = errors.New("document too complex")
)

// Error is one problem in one document of a manifest stream.
type Error struct {
	// Document is the 0-based index of the document in the stream.
	Document int
	// Line is the 1-based line of the offending value, 0 when unknown.
	Line int
	// Path is the field path, e.g. spec.template.spec.containers[0].image;
	// empty for a problem with the whole document.
	Path string
	// Err is the error class (ErrUnknownField, ...) with details.
	Err error
}

// Error returns "document N, line L: path: message".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "document %d", e.Document)
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the error class.
func (e *Error) Unwrap() error { return e.Err }
