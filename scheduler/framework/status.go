package framework

import (
	"errors"
	"strings"
)

// Code is the outcome of a plugin call.
type Code int

// Status codes.
const (
	// Success: the plugin accepts (the zero value; a nil *Status is Success).
	Success Code = iota
	// Error: an internal error; the pod is retried with backoff.
	Error
	// Unschedulable: the node does not fit now, but preemption or a cluster
	// change might make it fit.
	Unschedulable
	// UnschedulableAndUnresolvable: the node cannot fit whatever happens to
	// other pods; preemption skips such nodes.
	UnschedulableAndUnresolvable
	// Skip: from PreFilter or PreScore, the plugin has nothing to do for this
	// pod and its Filter or Score is skipped; from Bind, the plugin does not
	// bind this pod and the next binder is tried.
	Skip
)

// String returns the code's name.
func (c Code) String() string {
	switch c {
	case Success:
		return "Success"
	case Error:
		return "Error"
	case Unschedulable:
		return "Unschedulable"
	case UnschedulableAndUnresolvable:
		return "UnschedulableAndUnresolvable"
	case Skip:
		return "Skip"
	}
	return "Unknown"
}

// Status is a plugin's result: a code, human reasons and the plugin that
// returned it. A nil *Status means Success; every method accepts nil.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with the code and reasons. Reasons are short
// phrases such as "Insufficient cpu" that are counted across nodes in the
// message a pod gets when it is unschedulable.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an error in a status with code Error; nil gives nil.
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code returns the status code.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// Reasons returns the human reasons.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Plugin returns the name of the plugin that returned the status, if known.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin records the plugin name and returns s.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// IsSuccess reports whether the code is Success.
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether the code is Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports whether the code is Unschedulable or
// UnschedulableAndUnresolvable.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// AsError returns nil for Success and Skip, otherwise an error carrying the
// message. errors.Is(err, ErrUnschedulable) holds for rejections, and the
// wrapped error is kept for Error statuses.
func (s *Status) AsError() error {
	if s.IsSuccess() || s.IsSkip() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	if s.IsRejected() {
		return &statusError{s: s, class: ErrUnschedulable}
	}
	return &statusError{s: s}
}

// ErrUnschedulable is the class of errors from rejecting statuses.
var ErrUnschedulable = errors.New("unschedulable")

type statusError struct {
	s     *Status
	class error
}

func (e *statusError) Error() string {
	msg := e.s.Message()
	if e.s.plugin != "" {
		msg = e.s.plugin + ": " + msg
	}
	return msg
}

func (e *statusError) Unwrap() error { return e.class }
