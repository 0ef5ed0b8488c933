// Command echo is a Lambda function built with aws-lambda-go for the
// runtimeapi tests. It answers each invocation according to its "op":
//
//	"" (echo)       the invocation's context and payload as JSON
//	"error"         an *echoError carrying "message"
//	"panic"         a panic with "message" (the process then exits)
//	"big"           a JSON string of "size" bytes
//	"stream-error"  a streamed body that fails after a few bytes
package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Op      string `json:"op"`
	Message string `json:"message"`
	Size    int    `json:"size"`
}

type reply struct {
	RequestID         string            `json:"requestId"`
	FunctionARN       string            `json:"functionArn"`
	TenantID          string            `json:"tenantId"`
	TraceID           string            `json:"traceId"`
	DeadlineMS        int64             `json:"deadlineMs"`
	ClientCustom      map[string]string `json:"clientCustom"`
	CognitoIdentityID string            `json:"cognitoIdentityId"`
	CognitoPoolID     string            `json:"cognitoPoolId"`
	Payload           json.RawMessage   `json:"payload"`
}

type echoError struct{ msg string }

func (e *echoError) Error() string { return e.msg }

// failingReader yields a few bytes, then fails.
type failingReader struct{ done bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.done {
		r.done = true
		return copy(p, "partial"), nil
	}
	return 0, errors.New("stream broke")
}

func handle(ctx context.Context, payload json.RawMessage) (any, error) {
	var req request
	_ = json.Unmarshal(payload, &req)
	switch req.Op {
	case "error":
		return nil, &echoError{req.Message}
	case "panic":
		panic(req.Message)
	case "big":
		return strings.Repeat("x", req.Size), nil
	case "stream-error":
		return &failingReader{}, nil
	}
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	traceID, _ := ctx.Value("x-amzn-trace-id").(string)
	return reply{
		RequestID:         lc.AwsRequestID,
		FunctionARN:       lc.InvokedFunctionArn,
		TenantID:          lc.TenantID,
		TraceID:           traceID,
		DeadlineMS:        deadline.UnixMilli(),
		ClientCustom:      lc.ClientContext.Custom,
		CognitoIdentityID: lc.Identity.CognitoIdentityID,
		CognitoPoolID:     lc.Identity.CognitoIdentityPoolID,
		Payload:           payload,
	}, nil
}

func main() { lambda.Start(handle) }
