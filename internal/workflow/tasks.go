package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/invoke"
	"github.com/updraft/updraft/internal/states"
)

// Invoker runs Lambda functions for Task states.
type Invoker interface {
	Invoke(ctx context.Context, req invoke.Request) (*invoke.Response, error)
	InvokeAsync(ctx context.Context, req invoke.Request) (string, error)
}

// WaitsForToken reports whether a resource's result comes from
// SendTaskSuccess/Failure rather than from the call itself.
func WaitsForToken(resource string) bool { return strings.HasSuffix(resource, ".waitForTaskToken") }

// Tasks runs the task resources Updraft integrates with.
type Tasks struct {
	Lambda Invoker
	// Region and Account name the ARNs TestState makes up.
	Region, Account string
}

// Run runs one task and returns its result, or the States error the Task
// state sees.
func (t *Tasks) Run(ctx context.Context, resource string, input any) (any, *states.Error) {
	switch {
	case strings.HasPrefix(resource, "arn:aws:lambda:"):
		out, _, err := t.invoke(ctx, resource, resource, "", input)
		return out, err
	case resource == "arn:aws:states:::lambda:invoke":
		return t.lambdaInvoke(ctx, input)
	case resource == "arn:aws:states:::lambda:invoke.waitForTaskToken":
		// The function gets the token in its payload and answers later.
		params, _ := input.(map[string]any)
		name, _ := params["FunctionName"].(string)
		qualifier, _ := params["Qualifier"].(string)
		body := []byte(states.Encode(params["Payload"]))
		if _, err := t.Lambda.InvokeAsync(ctx, invoke.Request{Function: name, Qualifier: qualifier, Payload: body}); err != nil {
			return nil, lambdaError(err)
		}
		return nil, nil
	}
	return nil, &states.Error{Name: states.ErrRuntime, Cause: fmt.Sprintf("Updraft does not support the task resource %s yet.", resource)}
}

// lambdaInvoke is the optimized Lambda integration: Parameters name the
// function and payload; the result wraps the payload as AWS does.
func (t *Tasks) lambdaInvoke(ctx context.Context, input any) (any, *states.Error) {
	params, _ := input.(map[string]any)
	name, _ := params["FunctionName"].(string)
	if name == "" {
		return nil, &states.Error{Name: states.ErrRuntime, Cause: "The field 'FunctionName' is required by arn:aws:states:::lambda:invoke."}
	}
	qualifier, _ := params["Qualifier"].(string)
	payload, resp, err := t.invoke(ctx, "arn:aws:states:::lambda:invoke", name, qualifier, params["Payload"])
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"ExecutedVersion": resp.ExecutedVersion,
		"Payload":         payload,
		"SdkHttpMetadata": map[string]any{
			"HttpHeaders":    map[string]any{"Content-Type": "application/json", "X-Amz-Executed-Version": resp.ExecutedVersion, "x-amzn-RequestId": resp.RequestID},
			"HttpStatusCode": json.Number("200"),
		},
		"SdkResponseMetadata": map[string]any{"RequestId": resp.RequestID},
		"StatusCode":          json.Number("200"),
	}, nil
}

// invoke calls a function for the Task resource resource. A result
// larger than PayloadMax is States.DataLimitExceeded.
func (t *Tasks) invoke(ctx context.Context, resource, function, qualifier string, payload any) (any, *invoke.Response, *states.Error) {
	body := []byte("{}")
	if payload != nil {
		body = []byte(states.Encode(payload))
	}
	resp, err := t.Lambda.Invoke(ctx, invoke.Request{Function: function, Qualifier: qualifier, Payload: body})
	if err != nil {
		return nil, nil, lambdaError(err)
	}
	if len(resp.Payload) > PayloadMax {
		return nil, resp, dataLimit(resource)
	}
	if resp.FunctionError != "" {
		name := resp.ErrorType
		var e struct {
			ErrorType string `json:"errorType"`
		}
		if json.Unmarshal(resp.Payload, &e) == nil && e.ErrorType != "" {
			name = e.ErrorType
		}
		if name == "" {
			name = "Lambda.Unknown"
		}
		return nil, resp, &states.Error{Name: name, Cause: string(resp.Payload)}
	}
	out, derr := states.Decode(resp.Payload)
	if derr != nil {
		out = string(resp.Payload) // a non-JSON result is a string
	}
	return out, resp, nil
}

// lambdaError names a failed invocation as Step Functions does.
func lambdaError(err error) *states.Error {
	f := fault.As(err)
	if f == nil {
		return &states.Error{Name: "Lambda.ServiceException", Cause: "An internal error occurred."}
	}
	name := map[fault.Kind]string{
		fault.NotFound:         "Lambda.ResourceNotFoundException",
		fault.Throttled:        "Lambda.TooManyRequestsException",
		fault.TooLarge:         "Lambda.RequestTooLargeException",
		fault.InvalidRequest:   "Lambda.InvalidRequestContentException",
		fault.InvalidParameter: "Lambda.InvalidParameterValueException",
		fault.Validation:       "Lambda.ValidationException",
	}[f.Kind]
	if f.Kind == fault.AccessDenied {
		// A function of another account: Step Functions names the denial
		// by the SDK exception, the Lambda error in its cause.
		return &states.Error{Name: "Lambda.AWSLambdaException", Cause: "(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException)"}
	}
	if name == "" {
		name = "Lambda.ServiceException"
	}
	return &states.Error{Name: name, Cause: f.Message}
}
