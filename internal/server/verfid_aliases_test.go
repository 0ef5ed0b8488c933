package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// rawCall sends body to path with method and returns the status and the
// decoded JSON answer, for members the SDK does not show (such as Type).
func (n *node) rawCall(method, path, body string) (int, map[string]any) {
	n.t.Helper()
	req, err := http.NewRequest(method, n.url+path, bytes.NewBufferString(body))
	if err != nil {
		n.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestVerfid_AliasRoutingErrors checks the alias errors whose AWS-recorded
// answers differ from Updraft's first ones: weights quoted as Java doubles,
// no Type member on the $LATEST routing error, and the version asked for
// in the ARN of a missing function.
func TestVerfid_AliasRoutingErrors(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("routed", nil)
	for range 2 {
		if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("routed")}); err != nil {
			t.Fatal(err)
		}
		if _, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("routed"), Description: aws.String("next")}); err != nil {
			t.Fatal(err)
		}
	}
	weights := func(w float64) error {
		_, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{
			FunctionName: aws.String("routed"), Name: aws.String("a"), FunctionVersion: aws.String("1"),
			RoutingConfig: &types.AliasRoutingConfiguration{AdditionalVersionWeights: map[string]float64{"2": w}},
		})
		return err
	}
	constraint := "' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]"
	apiErr(t, weights(2), "ValidationException", "1 validation error detected: Value '{2=2.0}"+constraint)
	apiErr(t, weights(-1), "ValidationException", "1 validation error detected: Value '{2=-1.0}"+constraint)
	apiErr(t, weights(1.5), "ValidationException", "Value '{2=1.5}"+constraint)

	status, body := n.rawCall(http.MethodPost, "/2015-03-31/functions/routed/aliases",
		`{"Name":"a","FunctionVersion":"$LATEST","RoutingConfig":{"AdditionalVersionWeights":{"1":0.5}}}`)
	want := "$LATEST is not supported for an alias pointing to more than 1 version"
	if status != http.StatusBadRequest || body["message"] != want {
		t.Errorf("$LATEST with routing: got %d %v, want 400 %q", status, body, want)
	}
	if _, ok := body["Type"]; ok {
		t.Errorf("$LATEST with routing: got Type %v, want no Type member (as Lambda)", body["Type"])
	}

	_, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("routed-unknown"), Name: aws.String("a"), FunctionVersion: aws.String("1")})
	apiErr(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:routed-unknown:1")
}
