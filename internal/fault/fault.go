// Package fault classifies the errors services return to their callers.
//
// A service that rejects a request returns a *Error whose Kind says what
// went wrong and whose Message is safe to show a client. Each wire adapter
// (internal/awsapi/...) maps a Kind to its protocol's error name and status
// in one table; any other error is an internal failure whose cause is
// logged and never shown.
package fault

import (
	"errors"
	"fmt"
)

// Kind is the class of a rejected request.
type Kind int

// Kinds of rejection. Their AWS names are chosen by the wire adapters.
const (
	Internal           Kind = iota // the service failed; not the caller's fault
	Validation                     // a field breaks its constraint (AWS ValidationException)
	InvalidParameter               // a value is well-formed but not acceptable
	InvalidRequest                 // the request as a whole is malformed (bad JSON)
	NotFound                       // the named resource does not exist
	Conflict                       // the resource exists or is being changed
	PreconditionFailed             // a revision check failed
	TooLarge                       // a payload exceeds its limit
	Throttled                      // a concurrency or rate limit was reached
	Unsupported                    // the media type or operation is not supported
	AccessDenied                   // the resource belongs to another account
)

// Error is a request rejection with a client-safe message.
type Error struct {
	Kind    Kind
	Message string
	// Reason refines Throttled errors (for example
	// "ReservedFunctionConcurrentInvocationLimitExceeded").
	Reason string
	// Type overrides the wire adapter's name for Kind when set (for example
	// "InvalidZipFileException" or "RequestTooLargeException").
	Type string
	// Untyped leaves the "Type" member out of the wire answer, as some of
	// Lambda's errors do.
	Untyped bool
}

func (e *Error) Error() string { return e.Message }

// New returns an Error of kind k with a formatted message.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// NewUntyped returns an Error of kind k with a formatted message whose wire
// answer has no "Type" member.
func NewUntyped(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...), Untyped: true}
}

// Typed returns an Error of kind k that the wire names typ.
func Typed(k Kind, typ, format string, args ...any) *Error {
	return &Error{Kind: k, Type: typ, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Is reports whether err carries a fault of kind k.
func Is(err error, k Kind) bool {
	e := As(err)
	return e != nil && e.Kind == k
}
