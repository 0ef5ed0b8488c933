// Package states is a pure Amazon States Language interpreter: it parses
// and validates state machine definitions, and advances executions one
// event at a time, returning the commands (run a task, start a timer,
// finish) that the caller carries out. It does no I/O and reads no clock:
// time, task results and timers arrive as events, so the workflow
// service can persist every transition and replay it.
//
// JSON values are those encoding/json produces with UseNumber: nil, bool,
// json.Number, string, []any and map[string]any. Values passed in are
// never modified.
//
// Everything here is safe for concurrent use except an Execution, which
// belongs to one goroutine at a time.
package states

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Error names of the States runtime, as AWS spells them.
const (
	ErrAll                          = "States.ALL"
	ErrHeartbeatTimeout             = "States.HeartbeatTimeout"
	ErrTimeout                      = "States.Timeout"
	ErrTaskFailed                   = "States.TaskFailed"
	ErrPermissions                  = "States.Permissions"
	ErrResultPathMatchFailure       = "States.ResultPathMatchFailure"
	ErrParameterPathFailure         = "States.ParameterPathFailure"
	ErrQueryEvaluationError         = "States.QueryEvaluationError"
	ErrBranchFailed                 = "States.BranchFailed"
	ErrNoChoiceMatched              = "States.NoChoiceMatched"
	ErrIntrinsicFailure             = "States.IntrinsicFailure"
	ErrExceedToleratedFailureThresh = "States.ExceedToleratedFailureThreshold"
	ErrItemReaderFailed             = "States.ItemReaderFailed"
	ErrResultWriterFailed           = "States.ResultWriterFailed"
	ErrRuntime                      = "States.Runtime"
	// ErrReferencePathConflict is what AWS reports when a reference path
	// (ResultPath, ItemsPath) steps into an array or a scalar; it is not in
	// the documented list but appears in AWS's answers.
	ErrReferencePathConflict = "States.ReferencePathConflict"
	ErrDataLimitExceeded     = "States.DataLimitExceeded"
)

// Error is a States error: the Error and Cause an execution fails with, or
// that a Catch or Retry matches.
type Error struct {
	Name  string `json:"Error"`
	Cause string `json:"Cause"`
	// location is the field of a JSONata expression that failed
	// ("Output/a"): such failures are recorded as EvaluationFailed, as are
	// other evaluation failures (evaluation).
	location   string
	evaluation bool
	// failEvent is recorded (MapStateFailed, ParallelStateFailed) when the
	// error is not retried.
	failEvent string
}

func (e *Error) Error() string {
	if e.Cause == "" {
		return e.Name
	}
	return e.Name + ": " + e.Cause
}

// Errorf returns a States error named name with a formatted cause.
func Errorf(name, format string, args ...any) *Error {
	return &Error{Name: name, Cause: fmt.Sprintf(format, args...)}
}

// Decode parses JSON into a value with json.Number numbers.
func Decode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("unexpected data after the JSON value")
	}
	return v, nil
}

// Encode renders a value as compact JSON, as AWS shows values in causes
// and outputs (no HTML escaping).
func Encode(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
}
