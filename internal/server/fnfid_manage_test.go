package server_test

import (
	"context"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestFnfid_ListFunctionsAllQualifiesLatest: with FunctionVersion=ALL,
// Lambda lists $LATEST with a qualified ARN beside the versions; the
// default listing keeps the unqualified one.
func TestFnfid_ListFunctionsAllQualifiesLatest(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("fn", func(in *lambda.CreateFunctionInput) { in.Publish = true })
	arn := "arn:aws:lambda:us-east-1:000000000000:function:fn"

	all, err := n.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{FunctionVersion: types.FunctionVersionAll})
	if err != nil {
		t.Fatalf("list all: %v", err)
	}
	var got []string
	for _, f := range all.Functions {
		got = append(got, aws.ToString(f.FunctionArn))
	}
	if want := []string{arn + ":$LATEST", arn + ":1"}; !slices.Equal(got, want) {
		t.Errorf("FunctionVersion=ALL: got ARNs %q, want %q", got, want)
	}

	def, err := n.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(def.Functions) != 1 || aws.ToString(def.Functions[0].FunctionArn) != arn {
		t.Errorf("default listing: got %+v, want one function with ARN %s", def.Functions, arn)
	}
}

// TestFnfid_DeleteMissingVersion: Lambda answers 204 to deleting a
// version that does not exist of a function that does, every time; once
// the function is gone it is 404.
func TestFnfid_DeleteMissingVersion(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("fn", nil)
	del := func(qualifier string) error {
		in := &lambda.DeleteFunctionInput{FunctionName: aws.String("fn")}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		_, err := n.lambda.DeleteFunction(ctx, in)
		return err
	}
	for range 2 {
		if err := del("1233"); err != nil {
			t.Fatalf("delete missing version: got %v, want 204", err)
		}
	}
	if err := del(""); err != nil {
		t.Fatalf("delete function: %v", err)
	}
	apiErr(t, del("1233"), "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:000000000000:function:fn")
}

// TestFnfid_ProvidedRuntimeRetired: Lambda answers CreateFunction with
// runtime provided (Amazon Linux 1) with its deprecation message, before
// it looks into the zip, and refuses it as a new runtime.
func TestFnfid_ProvidedRuntimeRetired(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	const want = "The runtime parameter of provided is no longer supported for creating or updating AWS Lambda functions. We recommend you use a supported runtime while creating or updating functions."
	noBootstrap, err := zipFiles(map[string][]byte{"handler.py": []byte("def handler(e, c):\n    return e\n")}, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("old"), Runtime: types.RuntimeProvided, Handler: aws.String("handler.handler"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: noBootstrap},
	})
	apiErr(t, err, "InvalidParameterValueException", want)

	n.create("fn", nil)
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("fn"), Runtime: types.RuntimeProvided})
	apiErr(t, err, "InvalidParameterValueException", want)
}
