package wire

import (
	"context"
	"errors"
	"net/http"

	"github.com/coxswain-io/coxswain/api"
	"github.com/coxswain-io/coxswain/store"
)

// Status reasons the API returns, as in Kubernetes.
const (
	ReasonNotFound              = "NotFound"
	ReasonAlreadyExists         = "AlreadyExists"
	ReasonConflict              = "Conflict"
	ReasonInvalid               = "Invalid"
	ReasonBadRequest            = "BadRequest"
	ReasonExpired               = "Expired"
	ReasonServiceUnavailable    = "ServiceUnavailable"
	ReasonTooManyRequests       = "TooManyRequests"
	ReasonForbidden             = "Forbidden"
	ReasonUnauthorized          = "Unauthorized"
	ReasonMethodNotAllowed      = "MethodNotAllowed"
	ReasonUnsupportedMediaType  = "UnsupportedMediaType"
	ReasonRequestEntityTooLarge = "RequestEntityTooLarge"
	ReasonTimeout               = "Timeout"
	ReasonInternalError         = "InternalError"
)

// StatusError is an error the API answered with. It unwraps to the store's
// error class (store.ErrNotFound, store.ErrConflict, ...) so callers test it
// with errors.Is whether the store is local or remote.
type StatusError struct {
	// Status is the structured status the server sent.
	Status *api.Status
	class  error
}

// Error returns the server's message.
func (e *StatusError) Error() string {
	if e.Status.GetMessage() != "" {
		return e.Status.GetMessage()
	}
	return e.Status.GetReason()
}

// Unwrap returns the store error class of the status.
func (e *StatusError) Unwrap() error { return e.class }

// BadRequest marks input the server could not accept; it maps to 400 and,
// on the client, to store.ErrInvalid.
type BadRequest struct {
	// Code is the HTTP status.
	Code int
	// Reason is the Status reason.
	Reason string
	// Err is the cause.
	Err error
	// Allow lists the methods a 405 answer names in its Allow header.
	Allow []string
}

// Error returns the cause's message.
func (e *BadRequest) Error() string { return e.Err.Error() }

// Unwrap returns the cause.
func (e *BadRequest) Unwrap() error { return e.Err }

// NewBadRequest returns a 400 BadRequest for err.
func NewBadRequest(err error) error {
	return &BadRequest{Code: http.StatusBadRequest, Reason: ReasonBadRequest, Err: err}
}

// NewRequestError returns a BadRequest with its own code and reason.
func NewRequestError(code int, reason string, err error) error {
	return &BadRequest{Code: code, Reason: reason, Err: err}
}

// StatusFor maps an error to its HTTP status: the store's classes to 404,
// 409, 422, 410, 503, 429 and 403; malformed requests to 4xx; anything else
// to 500.
func StatusFor(err error) *api.Status {
	code, reason := http.StatusInternalServerError, ReasonInternalError
	var br *BadRequest
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &br):
		code, reason = br.Code, br.Reason
	case errors.As(err, &mbe):
		code, reason = http.StatusRequestEntityTooLarge, ReasonRequestEntityTooLarge
	case errors.Is(err, store.ErrNotFound), errors.Is(err, api.ErrUnknownKind):
		code, reason = http.StatusNotFound, ReasonNotFound
	case errors.Is(err, store.ErrAlreadyExists):
		code, reason = http.StatusConflict, ReasonAlreadyExists
	case errors.Is(err, store.ErrConflict):
		code, reason = http.StatusConflict, ReasonConflict
	case errors.Is(err, store.ErrInvalid):
		code, reason = http.StatusUnprocessableEntity, ReasonInvalid
	case errors.Is(err, store.ErrCompacted):
		code, reason = http.StatusGone, ReasonExpired
	case errors.Is(err, store.ErrUnavailable):
		code, reason = http.StatusServiceUnavailable, ReasonServiceUnavailable
	case errors.Is(err, store.ErrTooSlow):
		code, reason = http.StatusTooManyRequests, ReasonTooManyRequests
	case errors.Is(err, store.ErrForbidden):
		code, reason = http.StatusForbidden, ReasonForbidden
	case errors.Is(err, ErrUnauthorized):
		code, reason = http.StatusUnauthorized, ReasonUnauthorized
	case errors.Is(err, context.DeadlineExceeded):
		code, reason = http.StatusGatewayTimeout, ReasonTimeout
	case errors.Is(err, context.Canceled):
		code, reason = http.StatusServiceUnavailable, ReasonServiceUnavailable
	}
	return &api.Status{Status: "Failure", Message: err.Error(), Reason: reason, Code: int32(code)}
}

// ErrorFromStatus turns a Status back into an error of the store's classes.
func ErrorFromStatus(st *api.Status) error {
	var class error
	switch st.GetReason() {
	case ReasonNotFound:
		class = store.ErrNotFound
	case ReasonAlreadyExists:
		class = store.ErrAlreadyExists
	case ReasonConflict:
		class = store.ErrConflict
	case ReasonInvalid, ReasonBadRequest, ReasonMethodNotAllowed, ReasonUnsupportedMediaType, ReasonRequestEntityTooLarge:
		class = store.ErrInvalid
	case ReasonExpired:
		class = store.ErrCompacted
	case ReasonServiceUnavailable, ReasonTimeout:
		class = store.ErrUnavailable
	case ReasonTooManyRequests:
		class = store.ErrTooSlow
	case ReasonForbidden, ReasonUnauthorized:
		class = store.ErrForbidden
	default:
		switch code := int(st.GetCode()); {
		case code == http.StatusNotFound:
			class = store.ErrNotFound
		case code == http.StatusGone:
			class = store.ErrCompacted
		case code == http.StatusForbidden || code == http.StatusUnauthorized:
			class = store.ErrForbidden
		case code == http.StatusServiceUnavailable || code == http.StatusBadGateway || code == http.StatusGatewayTimeout:
			class = store.ErrUnavailable
		case code >= 400 && code < 500:
			class = store.ErrInvalid
		default:
			class = ErrInternal
		}
	}
	return &StatusError{Status: st, class: class}
}

// ErrInternal is the class of a server error outside the store's classes.
var ErrInternal = errors.New("internal server error")

// ErrUnauthorized is a request without valid credentials.
var ErrUnauthorized = errors.New("unauthorized")
