package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestLambdaShapes_FunctionConfiguration checks the FunctionConfiguration
// fields Lambda derives per operation: Pending after CreateFunction,
// InProgress after an update, Active/Successful on reads, no state in
// listings, and SnapStart and RuntimeVersionConfig defaults.
func TestLambdaShapes_FunctionConfiguration(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()

	created, err := n.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("shaped"),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String("arn:aws:iam::000000000000:role/shapes"),
		Code:         &types.FunctionCode{ZipFile: fnZip},
		Environment:  &types.Environment{Variables: map[string]string{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if created.State != types.StatePending || created.StateReasonCode != types.StateReasonCodeCreating ||
		aws.ToString(created.StateReason) != "The function is being created." || created.LastUpdateStatus != "" {
		t.Errorf("create: got State %q (%q, %q) LastUpdateStatus %q, want Pending (Creating) and no update status",
			created.State, created.StateReasonCode, aws.ToString(created.StateReason), created.LastUpdateStatus)
	}
	if created.Environment == nil || created.Environment.Variables == nil || len(created.Environment.Variables) != 0 {
		t.Errorf("create: got Environment %+v, want an empty variable map kept", created.Environment)
	}

	got, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("shaped")})
	if err != nil {
		t.Fatal(err)
	}
	if got.State != types.StateActive || got.LastUpdateStatus != types.LastUpdateStatusSuccessful || got.StateReasonCode != "" {
		t.Errorf("get: got State %q LastUpdateStatus %q reason %q, want Active, Successful, no reason", got.State, got.LastUpdateStatus, got.StateReasonCode)
	}
	if got.SnapStart == nil || got.SnapStart.ApplyOn != types.SnapStartApplyOnNone || got.SnapStart.OptimizationStatus != types.SnapStartOptimizationStatusOff {
		t.Errorf("get: got SnapStart %+v, want ApplyOn None, OptimizationStatus Off", got.SnapStart)
	}
	if got.RuntimeVersionConfig == nil || !strings.HasPrefix(aws.ToString(got.RuntimeVersionConfig.RuntimeVersionArn), "arn:aws:lambda:us-east-1::runtime:") {
		t.Errorf("get: got RuntimeVersionConfig %+v, want a runtime version ARN", got.RuntimeVersionConfig)
	}

	upd, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("shaped"), Description: aws.String("changed")})
	if err != nil {
		t.Fatal(err)
	}
	if upd.State != types.StateActive || upd.LastUpdateStatus != types.LastUpdateStatusInProgress || string(upd.LastUpdateStatusReasonCode) != "Creating" {
		t.Errorf("update configuration: got %q %q %q, want Active InProgress Creating", upd.State, upd.LastUpdateStatus, upd.LastUpdateStatusReasonCode)
	}
	code, err := n.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("shaped"), ZipFile: fnZip})
	if err != nil {
		t.Fatal(err)
	}
	if code.LastUpdateStatus != types.LastUpdateStatusInProgress {
		t.Errorf("update code: got LastUpdateStatus %q, want InProgress", code.LastUpdateStatus)
	}
	pub, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("shaped")})
	if err != nil {
		t.Fatal(err)
	}
	if pub.State != types.StateActive || pub.LastUpdateStatus != types.LastUpdateStatusSuccessful {
		t.Errorf("publish: got %q %q, want Active Successful", pub.State, pub.LastUpdateStatus)
	}
	withPublish, err := n.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("shaped"), ZipFile: fnZip, Publish: true})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(withPublish.Version) == "$LATEST" || withPublish.State != types.StatePending {
		t.Errorf("update code with publish: got version %s state %q, want a published version, Pending", aws.ToString(withPublish.Version), withPublish.State)
	}

	// Listings carry neither state nor runtime version; read the raw
	// body, since the SDK cannot tell an absent field from an empty one.
	for _, path := range []string{"/2015-03-31/functions/", "/2015-03-31/functions/shaped/versions"} {
		resp, err := http.Get(n.url + path)
		if err != nil {
			t.Fatal(err)
		}
		var page map[string][]map[string]any
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		items := append(page["Functions"], page["Versions"]...)
		if len(items) == 0 {
			t.Fatalf("%s: no items", path)
		}
		for _, it := range items {
			for _, absent := range []string{"State", "LastUpdateStatus", "RuntimeVersionConfig"} {
				if _, ok := it[absent]; ok {
					t.Errorf("%s: item %v has %s, want none", path, it["FunctionArn"], absent)
				}
			}
			if it["SnapStart"] == nil {
				t.Errorf("%s: item %v has no SnapStart", path, it["FunctionArn"])
			}
		}
	}
}
