package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/updraft/updraft/internal/server"
)

func TestServer_RefusesOpenListenerWithoutKeys(t *testing.T) {
	_, err := server.New(server.Config{Addr: "0.0.0.0:0", DataDir: t.TempDir()}, nil)
	if err == nil || !strings.Contains(err.Error(), "access keys") {
		t.Fatalf("got %v, want a refusal naming access keys", err)
	}
	if _, err := server.New(server.Config{Addr: "0.0.0.0:0", DataDir: t.TempDir(), AccessKeys: []string{"AKID:secret"}}, nil); err != nil {
		t.Fatalf("with keys: %v", err)
	}
}

func TestServer_VerifiesSignatures(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.AccessKeys = []string{"AKIDUPDRAFT:s3cret"} })
	ctx := context.Background()

	good := lambdaClient(n.url, "AKIDUPDRAFT", "s3cret")
	n.lambda = good
	n.create("signed", nil)
	if out := n.invoke("signed", map[string]string{"action": "echo"}); out.FunctionError != nil {
		t.Fatalf("signed invoke: %s", out.Payload)
	}
	// The function gets a key of its own, not the operator's, and code
	// inside it can call Updraft with an AWS SDK.
	env := decodeResult(t, n.invoke("signed", map[string]string{"action": "env"}).Payload)["env"].(map[string]any)
	fnID, fnSecret := env["AWS_ACCESS_KEY_ID"].(string), env["AWS_SECRET_ACCESS_KEY"].(string)
	if fnID == "AKIDUPDRAFT" || fnSecret == "s3cret" || !strings.HasPrefix(fnID, "UPDRAFTFN") {
		t.Errorf("function credentials: got %s", fnID)
	}
	if _, err := lambdaClient(n.url, fnID, fnSecret).ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
		t.Errorf("call with the function's credentials: %v", err)
	}
	_, err := lambdaClient(n.url, fnID, "guessed").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	apiErr(t, err, "InvalidSignatureException", "signature")

	_, err = lambdaClient(n.url, "AKIDUPDRAFT", "wrong").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	apiErr(t, err, "InvalidSignatureException", "signature")
	_, err = lambdaClient(n.url, "AKIDOTHER", "s3cret").Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("signed")})
	apiErr(t, err, "UnrecognizedClientException", "security token")

	// Code.Location downloads without credentials, like a presigned URL,
	// and only with the token the node issued.
	fn, err := good.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("signed")})
	if err != nil {
		t.Fatal(err)
	}
	loc := aws.ToString(fn.Code.Location)
	if resp, err := http.Get(loc); err != nil || resp.StatusCode != 200 {
		t.Errorf("download from Code.Location: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := http.Get(strings.Replace(loc, "token=", "token=00", 1)); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("download with a forged token: got %v %v, want 403", resp, err)
	} else {
		resp.Body.Close()
	}

	resp, err := http.Get(n.url + "/2015-03-31/functions/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: got %d %s, want 403 MissingAuthenticationTokenException", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}

func TestServer_FunctionKeyRevokedWithFunction(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.AccessKeys = []string{"AKIDUPDRAFT:s3cret"} })
	n.lambda = lambdaClient(n.url, "AKIDUPDRAFT", "s3cret")
	n.create("short-lived", nil)
	env := decodeResult(t, n.invoke("short-lived", map[string]string{"action": "env"}).Payload)["env"].(map[string]any)
	fn := lambdaClient(n.url, env["AWS_ACCESS_KEY_ID"].(string), env["AWS_SECRET_ACCESS_KEY"].(string))
	ctx := context.Background()
	if _, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("short-lived")}); err != nil {
		t.Fatal(err)
	}
	_, err := fn.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	apiErr(t, err, "UnrecognizedClientException", "security token")
}

// TestServer_SignedStepFunctions calls the Step Functions API, which
// answers on "/" by X-Amz-Target, on a node that verifies signatures.
func TestServer_SignedStepFunctions(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.AccessKeys = []string{"AKIDUPDRAFT:s3cret"} })
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.url), Credentials: credentials.NewStaticCredentialsProvider("AKIDUPDRAFT", "s3cret", ""), RetryMaxAttempts: 1})
	if _, err := c.ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{}); err != nil {
		t.Errorf("signed ListStateMachines: %v", err)
	}
	bad := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(n.url), Credentials: credentials.NewStaticCredentialsProvider("AKIDUPDRAFT", "wrong", ""), RetryMaxAttempts: 1})
	_, err := bad.ListStateMachines(context.Background(), &sfn.ListStateMachinesInput{})
	apiErr(t, err, "InvalidSignatureException", "signature")
}
