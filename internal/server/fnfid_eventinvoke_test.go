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

// TestFnfid_EventInvokeConfigPaging: ListFunctionEventInvokeConfigs
// honours MaxItems and resumes from NextMarker, as Lambda does.
func TestFnfid_EventInvokeConfigPaging(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("fn", func(in *lambda.CreateFunctionInput) { in.Publish = true })
	for _, q := range []string{"$LATEST", "1"} {
		if _, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
			FunctionName: aws.String("fn"), Qualifier: aws.String(q), MaximumRetryAttempts: aws.Int32(0),
		}); err != nil {
			t.Fatalf("put config of %s: %v", q, err)
		}
	}
	list := func(marker *string, maxItems *int32) *lambda.ListFunctionEventInvokeConfigsOutput {
		t.Helper()
		out, err := n.lambda.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("fn"), Marker: marker, MaxItems: maxItems})
		if err != nil {
			t.Fatalf("list configs: %v", err)
		}
		return out
	}
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:fn:"
	first := list(nil, aws.Int32(1))
	if len(first.FunctionEventInvokeConfigs) != 1 || first.NextMarker == nil {
		t.Fatalf("MaxItems=1: got %d configs and NextMarker %v, want 1 and a marker", len(first.FunctionEventInvokeConfigs), first.NextMarker)
	}
	if got := aws.ToString(first.FunctionEventInvokeConfigs[0].FunctionArn); got != arn+"$LATEST" {
		t.Errorf("first page: got %s, want %s", got, arn+"$LATEST")
	}
	rest := list(first.NextMarker, aws.Int32(1))
	if len(rest.FunctionEventInvokeConfigs) != 1 || rest.NextMarker != nil {
		t.Fatalf("second page: got %d configs and NextMarker %v, want 1 and none", len(rest.FunctionEventInvokeConfigs), aws.ToString(rest.NextMarker))
	}
	if got := aws.ToString(rest.FunctionEventInvokeConfigs[0].FunctionArn); got != arn+"1" {
		t.Errorf("second page: got %s, want %s", got, arn+"1")
	}
	if all := list(nil, nil); len(all.FunctionEventInvokeConfigs) != 2 || all.NextMarker != nil {
		t.Errorf("no MaxItems: got %d configs and NextMarker %v, want 2 and none", len(all.FunctionEventInvokeConfigs), aws.ToString(all.NextMarker))
	}
	_, err := n.lambda.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("fn"), MaxItems: aws.Int32(51)})
	apiErr(t, err, "ValidationException", "Value '51' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 50")
}
