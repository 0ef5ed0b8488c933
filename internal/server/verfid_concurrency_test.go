package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestVerfid_ConcurrencyLimitErrorsUntyped checks that the concurrency
// limit errors, like Lambda's recorded answers, carry a message but no
// Type member.
func TestVerfid_ConcurrencyLimitErrorsUntyped(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("limits", nil)
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("limits")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, body, want string
	}{
		{"reserved beyond the account", http.MethodPut, "/2017-10-31/functions/limits/concurrency", `{"ReservedConcurrentExecutions":1000}`,
			"Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."},
		{"provisioned beyond the account", http.MethodPut, "/2019-09-30/functions/limits/provisioned-concurrency?Qualifier=1", `{"ProvisionedConcurrentExecutions":1001}`,
			"Specified ConcurrentExecutions for function is greater than account's unreserved concurrency [1000]."},
		{"provisioned below the minimum", http.MethodPut, "/2019-09-30/functions/limits/provisioned-concurrency?Qualifier=1", `{"ProvisionedConcurrentExecutions":1000}`,
			"Specified ConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [100]."},
	}
	for _, tt := range tests {
		status, body := n.rawCall(tt.method, tt.path, tt.body)
		if status != http.StatusBadRequest || body["message"] != tt.want {
			t.Errorf("%s: got %d %v, want 400 %q", tt.name, status, body, tt.want)
		}
		if typ, ok := body["Type"]; ok {
			t.Errorf("%s: got Type %v, want no Type member", tt.name, typ)
		}
	}

	// Reserved below the provisioned total: also untyped.
	if _, err := n.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("limits"), Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	status, body := n.rawCall(http.MethodPut, "/2017-10-31/functions/limits/concurrency", `{"ReservedConcurrentExecutions":1}`)
	want := " ReservedConcurrentExecutions  1 should not be lower than function's total provisioned concurrency [2]."
	if status != http.StatusBadRequest || body["message"] != want {
		t.Errorf("reserved below provisioned: got %d %v, want 400 %q", status, body, want)
	}
	if typ, ok := body["Type"]; ok {
		t.Errorf("reserved below provisioned: got Type %v, want no Type member", typ)
	}
	// Other errors keep their Type.
	status, body = n.rawCall(http.MethodPut, "/2019-09-30/functions/limits/provisioned-concurrency?Qualifier=$LATEST", `{"ProvisionedConcurrentExecutions":1}`)
	if status != http.StatusBadRequest || body["Type"] != "User" {
		t.Errorf("provisioned on $LATEST: got %d %v, want 400 with Type User", status, body)
	}
}

// TestVerfid_DeleteMissingProvisionedConfig checks that deleting the
// provisioned concurrency config of a version that has none answers 204,
// as Lambda does, while a missing version stays 404.
func TestVerfid_DeleteMissingProvisionedConfig(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("noprov", nil)
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("noprov")}); err != nil {
		t.Fatal(err)
	}
	status, _ := n.rawCall(http.MethodDelete, "/2019-09-30/functions/noprov/provisioned-concurrency?Qualifier=1", "")
	if status != http.StatusNoContent {
		t.Errorf("delete a version's missing config: got %d, want 204", status)
	}
	_, err := n.lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("noprov"), Qualifier: aws.String("10")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:noprov:10")
	_, err = n.lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("noprov"), Qualifier: aws.String("$LATEST")})
	apiErr(t, err, "InvalidParameterValueException", "The function resource provided must be an alias or a published version.")
}
