package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestVerfid_PublishUnchangedIgnoresDescription checks, as AWS-recorded
// answers show, that publishing an unchanged $LATEST returns the last
// version as it is, even when another description is given.
func TestVerfid_PublishUnchangedIgnoresDescription(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("same", nil)
	v1, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("same")})
	if err != nil {
		t.Fatal(err)
	}
	again, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("same"), Description: aws.String("Repeated version description")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(again.Version); got != "1" {
		t.Errorf("republish with a description: got version %s, want 1", got)
	}
	if got := aws.ToString(again.Description); got != "" {
		t.Errorf("republish with a description: got description %q, want the version's own \"\"", got)
	}
	if aws.ToString(again.RevisionId) != aws.ToString(v1.RevisionId) {
		t.Errorf("republish: got RevisionId %s, want version 1's %s", aws.ToString(again.RevisionId), aws.ToString(v1.RevisionId))
	}
	list, err := n.lambda.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("same")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Versions) != 2 {
		t.Errorf("list: got %d versions, want $LATEST and 1", len(list.Versions))
	}
}

// TestVerfid_ListVersionsQualifiesLatest checks that ListVersionsByFunction
// names $LATEST by its qualified ARN, as Lambda does, while ListFunctions
// keeps the unqualified one.
func TestVerfid_ListVersionsQualifiesLatest(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	fn := n.create("listed", func(in *lambda.CreateFunctionInput) { in.Publish = true })
	arn := aws.ToString(fn.FunctionArn)
	list, err := n.lambda.ListVersionsByFunction(ctx, &lambda.ListVersionsByFunctionInput{FunctionName: aws.String("listed")})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range list.Versions {
		got = append(got, aws.ToString(v.FunctionArn))
	}
	want := []string{arn[:len(arn)-len(":1")] + ":$LATEST", arn}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ListVersionsByFunction ARNs: got %v, want %v", got, want)
	}
	fns, err := n.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fns.Functions) != 1 || aws.ToString(fns.Functions[0].FunctionArn) != want[0][:len(want[0])-len(":$LATEST")] {
		t.Errorf("ListFunctions: got %v, want the unqualified ARN", fns.Functions)
	}
}
