package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

// TestVerfid_RevisionsChangeWhenDone checks the RevisionId lifecycle of
// AWS-recorded answers: the RevisionId a create or update answers with
// (Pending, InProgress) is not the one the next read shows and no longer
// passes a revision check; a published version keeps its own.
func TestVerfid_RevisionsChangeWhenDone(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	read := func(qualifier string) string {
		t.Helper()
		in := &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("revs")}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		c, err := n.lambda.GetFunctionConfiguration(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(c.RevisionId)
	}

	rev1 := aws.ToString(n.create("revs", nil).RevisionId)
	rev2 := read("")
	if rev1 == "" || rev1 == rev2 {
		t.Errorf("create: answered RevisionId %q, read %q; want two different ids", rev1, rev2)
	}
	if rev2 != read("") {
		t.Errorf("two reads of an unchanged function differ")
	}
	_, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("revs"), Description: aws.String("x"), RevisionId: aws.String(rev1)})
	apiErr(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")

	upd, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("revs"), Description: aws.String("x"), RevisionId: aws.String(rev2)})
	if err != nil {
		t.Fatal(err)
	}
	rev3 := aws.ToString(upd.RevisionId)
	rev4 := read("")
	if rev3 == rev2 || rev3 == rev4 || rev4 == rev2 {
		t.Errorf("update: before %s, answered %s, read %s; want three different ids", rev2, rev3, rev4)
	}
	_, err = n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("revs"), RevisionId: aws.String(rev3)})
	apiErr(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")

	// A version is Active at once and keeps the RevisionId it was published with.
	v, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("revs"), RevisionId: aws.String(rev4)})
	if err != nil {
		t.Fatal(err)
	}
	if v.State != types.StateActive || aws.ToString(v.RevisionId) != read("1") || aws.ToString(v.RevisionId) == rev4 {
		t.Errorf("publish: got %s %s, read %s; want Active with the version's own id", v.State, aws.ToString(v.RevisionId), read("1"))
	}
}

// TestVerfid_PublishChangesLatestRevision checks that publishing a version
// gives $LATEST a new RevisionId, as AWS-recorded answers show, while
// republishing an unchanged $LATEST keeps it.
func TestVerfid_PublishChangesLatestRevision(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("pubrev", nil)
	read := func() string {
		t.Helper()
		c, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("pubrev")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(c.RevisionId)
	}
	before := read()
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("pubrev"), RevisionId: aws.String(before)}); err != nil {
		t.Fatal(err)
	}
	after := read()
	if after == before {
		t.Errorf("$LATEST kept RevisionId %s across a publish; want a new one", before)
	}
	_, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("pubrev"), Description: aws.String("x"), RevisionId: aws.String(before)})
	apiErr(t, err, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id.")
	again, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("pubrev"), RevisionId: aws.String(after)})
	if err != nil || aws.ToString(again.Version) != "1" {
		t.Fatalf("republish: got %v, %v; want version 1", again, err)
	}
	if read() != after {
		t.Errorf("republishing an unchanged $LATEST changed its RevisionId")
	}
	// The new RevisionId is no change of configuration: $LATEST still runs.
	if out := n.invoke("pubrev", map[string]string{"action": "env"}); out.FunctionError != nil {
		t.Errorf("invoke after publish: %s", out.Payload)
	}
}

// TestPublish_KeepsLatestWarm: a publish gives $LATEST a new RevisionId,
// as Lambda does, but what $LATEST runs has not changed, so its warm
// environment keeps serving it; a change of configuration still
// replaces it.
func TestPublish_KeepsLatestWarm(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("keepwarm", nil)
	env := func() (string, int) {
		t.Helper()
		res := decodeResult(t, n.invoke("keepwarm", map[string]any{"action": "echo"}).Payload)
		id, _ := res["envId"].(string)
		inv, _ := res["invocations"].(float64)
		return id, int(inv)
	}
	first, _ := env()
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("keepwarm")}); err != nil {
		t.Fatal(err)
	}
	if id, inv := env(); id != first || inv != 2 {
		t.Errorf("after a publish $LATEST ran in %s (invocation %d), want the warm %s (invocation 2)", id, inv, first)
	}
	if _, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("keepwarm"), Environment: &types.Environment{Variables: map[string]string{"KEY": "v"}},
	}); err != nil {
		t.Fatal(err)
	}
	if id, inv := env(); id == first || inv != 1 {
		t.Errorf("after a configuration change $LATEST ran in %s (invocation %d), want a new environment", id, inv)
	}
}
