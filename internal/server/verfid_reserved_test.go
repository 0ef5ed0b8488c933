package server_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestVerfid_ReservationAllProvisionedBlocksLatest checks, as AWS-recorded
// answers show, that when a function's provisioned concurrency takes its
// whole reservation, $LATEST (which has none) is throttled while the
// provisioned version still runs.
func TestVerfid_ReservationAllProvisionedBlocksLatest(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("blocked", nil)
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("blocked")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("blocked"), ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	latest := func() error {
		_, err := n.tryInvoke("blocked", map[string]string{"action": "env"}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("$LATEST") })
		return err
	}
	if err := latest(); err != nil {
		t.Fatalf("$LATEST before provisioning: %v", err)
	}
	if _, err := n.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{FunctionName: aws.String("blocked"), Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	n.awaitReady("blocked", "1", 1)

	wantThrottled := func(what string) {
		t.Helper()
		err := latest()
		var tm *types.TooManyRequestsException
		if !errors.As(err, &tm) || tm.Reason != types.ThrottleReasonReservedFunctionConcurrentInvocationLimitExceeded || aws.ToString(tm.Message) != "Rate Exceeded." {
			t.Errorf("%s: got %v, want TooManyRequestsException ReservedFunctionConcurrentInvocationLimitExceeded", what, err)
		}
	}
	wantThrottled("$LATEST with the reservation all provisioned")
	out, err := n.tryInvoke("blocked", map[string]string{"action": "env"}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") })
	if err != nil || out.FunctionError != nil {
		t.Fatalf("version 1 (provisioned): %v", err)
	}
	if env := decodeResult(t, out.Payload)["env"].(map[string]any); env["AWS_LAMBDA_INITIALIZATION_TYPE"] != "provisioned-concurrency" {
		t.Errorf("version 1 ran in a %v environment, want provisioned-concurrency", env["AWS_LAMBDA_INITIALIZATION_TYPE"])
	}
	wantThrottled("$LATEST again")

	// A larger reservation leaves room for $LATEST again.
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("blocked"), ReservedConcurrentExecutions: aws.Int32(2)}); err != nil {
		t.Fatal(err)
	}
	if err := latest(); err != nil {
		t.Errorf("$LATEST with one unprovisioned reserved slot: %v", err)
	}
}
