package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestFnfid_EventInvokeConfigNoSettingsFirst: Lambda refuses a
// PutFunctionEventInvokeConfig without settings before it looks for the
// function, so a missing function still gets the 400.
func TestFnfid_EventInvokeConfigNoSettingsFirst(t *testing.T) {
	n := startNode(t, nil)
	_, err := n.lambda.PutFunctionEventInvokeConfig(context.Background(), &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("doesnotexist")})
	apiErr(t, err, "InvalidParameterValueException", "You must specify at least one of error handling or destination setting.")
}
