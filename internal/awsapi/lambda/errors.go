package lambda

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/updraft/updraft/internal/fault"
)

// wireError is one row of the error table: the AWS name and status of a
// fault kind.
type wireError struct {
	name   string
	status int
}

// errorTable maps every fault kind to Lambda's error name and status.
var errorTable = map[fault.Kind]wireError{
	fault.Validation:         {"ValidationException", http.StatusBadRequest},
	fault.InvalidParameter:   {"InvalidParameterValueException", http.StatusBadRequest},
	fault.InvalidRequest:     {"InvalidRequestContentException", http.StatusBadRequest},
	fault.NotFound:           {"ResourceNotFoundException", http.StatusNotFound},
	fault.Conflict:           {"ResourceConflictException", http.StatusConflict},
	fault.PreconditionFailed: {"PreconditionFailedException", http.StatusPreconditionFailed},
	fault.TooLarge:           {"RequestTooLargeException", http.StatusRequestEntityTooLarge},
	fault.Throttled:          {"TooManyRequestsException", http.StatusTooManyRequests},
	fault.Unsupported:        {"UnsupportedMediaTypeException", http.StatusUnsupportedMediaType},
	fault.Internal:           {"ServiceException", http.StatusInternalServerError},
	fault.AccessDenied:       {"AccessDeniedException", http.StatusForbidden},
}

// capitalMessage lists the errors whose body names the message "Message",
// as Lambda's model does; every other error says "message".
var capitalMessage = map[string]bool{
	"ResourceNotFoundException": true,
	"ServiceException":          true,
}

// writeError writes err in Lambda's error shape: the x-amzn-ErrorType
// header and a {"Type","message"} body ({"Type","Message"} for the errors
// in capitalMessage; no "Type" for untyped faults). Errors that are not faults are logged and reported
// as ServiceException without their cause.
func writeError(ctx context.Context, log *slog.Logger, w http.ResponseWriter, err error) {
	f := fault.As(err)
	if f == nil {
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			return // the client has gone; nobody reads the answer
		}
		log.ErrorContext(ctx, "lambda api request failed", "err", err)
		f = &fault.Error{Kind: fault.Internal, Message: "An internal error occurred. See the Updraft log for details."}
	}
	row := errorTable[f.Kind]
	name := row.name
	if f.Type != "" {
		name = f.Type
	}
	typ := "User"
	if row.status >= 500 {
		typ = "Service"
	}
	key := "message"
	if capitalMessage[name] {
		key = "Message"
	}
	body := map[string]string{key: f.Message}
	if !f.Untyped {
		body["Type"] = typ
	}
	h := w.Header()
	h.Set("x-amzn-ErrorType", name)
	h.Set("Content-Type", "application/json")
	if f.Kind == fault.Throttled {
		body["Reason"] = f.Reason
		// Lambda suggests no retry delay when a reservation is full (its
		// recorded answers have neither the header nor the member).
		if f.Reason != "ReservedFunctionConcurrentInvocationLimitExceeded" {
			body["retryAfterSeconds"] = "1"
			h.Set("Retry-After", strconv.Itoa(1))
		}
	}
	w.WriteHeader(row.status)
	if f.Kind == fault.AccessDenied {
		// Lambda's recorded answer names no message (AWS SDKs read it
		// as null); the error type is all it says.
		_, _ = w.Write([]byte(`{"Message":null}` + "\n"))
		return
	}
	_ = json.NewEncoder(w).Encode(body)
}
