package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

func invokeEvent(t *testing.T, n *node, name string, event any) {
	t.Helper()
	out, err := n.tryInvoke(name, event, func(in *lambda.InvokeInput) { in.InvocationType = types.InvocationTypeEvent })
	if err != nil {
		t.Fatalf("async invoke %s: %v", name, err)
	}
	if out.StatusCode != 202 {
		t.Fatalf("async invoke %s: got status %d, want 202", name, out.StatusCode)
	}
}

// lines reads a file's lines; a missing file has none.
func lines(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func countPrefix(ls []string, prefix string) int {
	n := 0
	for _, l := range ls {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func TestAsync_RunsEvent(t *testing.T) {
	n := startNode(t, nil)
	n.create("worker", nil)
	marks := filepath.Join(t.TempDir(), "marks")
	invokeEvent(t, n, "worker", map[string]any{"action": "mark", "file": marks})
	eventually(t, 10*time.Second, "the event to run", func() bool { return countPrefix(lines(marks), "done ") == 1 })
	// Exactly once when it succeeds: nothing runs again.
	time.Sleep(300 * time.Millisecond)
	if got := countPrefix(lines(marks), "start "); got != 1 {
		t.Errorf("event ran %d times, want 1", got)
	}
}

func TestAsync_RetriesThenFailureDestination(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	records := filepath.Join(t.TempDir(), "records")
	dest := n.create("on-failure", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"RECORD_FILE": records}}
	})
	n.create("flaky", nil)
	_, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:         aws.String("flaky"),
		MaximumRetryAttempts: aws.Int32(1),
		DestinationConfig:    &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: dest.FunctionArn}},
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("flaky")})
	if err != nil || aws.ToInt32(cfg.MaximumRetryAttempts) != 1 || aws.ToString(cfg.DestinationConfig.OnFailure.Destination) != aws.ToString(dest.FunctionArn) {
		t.Fatalf("get event invoke config: %+v %v", cfg, err)
	}

	marks := filepath.Join(t.TempDir(), "marks")
	invokeEvent(t, n, "flaky", map[string]any{"action": "mark", "file": marks, "fail": true})
	eventually(t, 15*time.Second, "the failure record", func() bool { return len(lines(records)) == 1 })
	if got := countPrefix(lines(marks), "done "); got != 2 {
		t.Errorf("got %d attempts, want 2 (1 + 1 retry)", got)
	}
	var rec struct {
		Version        string `json:"version"`
		RequestContext struct {
			RequestID              string `json:"requestId"`
			FunctionArn            string `json:"functionArn"`
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		RequestPayload  map[string]any `json:"requestPayload"`
		ResponseContext struct {
			StatusCode    int    `json:"statusCode"`
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		ResponsePayload map[string]any `json:"responsePayload"`
	}
	if err := json.Unmarshal([]byte(lines(records)[0]), &rec); err != nil {
		t.Fatal(err)
	}
	rc := rec.RequestContext
	if rec.Version != "1.0" || rc.Condition != "RetriesExhausted" || rc.ApproximateInvokeCount != 2 ||
		rc.FunctionArn != "arn:aws:lambda:us-east-1:000000000000:function:flaky:$LATEST" || rc.RequestID == "" {
		t.Errorf("unexpected request context %+v", rc)
	}
	if rec.RequestPayload["file"] != marks || rec.ResponseContext.FunctionError != "Unhandled" || rec.ResponsePayload["errorMessage"] != "failing on purpose" {
		t.Errorf("unexpected record %+v", rec)
	}
	// Both attempts carried the same request ID.
	ids := map[string]bool{}
	for _, l := range lines(marks) {
		ids[strings.Fields(l)[1]] = true
	}
	if len(ids) != 1 || !ids[rc.RequestID] {
		t.Errorf("attempts used request IDs %v, want only %s", ids, rc.RequestID)
	}
}

func TestAsync_EventInvokeConfigValidation(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("cfg", nil)
	_, err := n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg")})
	apiErr(t, err, "ResourceNotFoundException", "EventInvokeConfig")
	_, err = n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg"), MaximumRetryAttempts: aws.Int32(3)})
	apiErr(t, err, "ValidationException", "maximumRetryAttempts")
	_, err = n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg"), MaximumEventAgeInSeconds: aws.Int32(30)})
	apiErr(t, err, "ValidationException", "maximumEventAgeInSeconds")
	_, err = n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("missing"), MaximumRetryAttempts: aws.Int32(1)})
	apiErr(t, err, "ResourceNotFoundException", "The function doesn't exist.")

	if _, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg"), MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	upd, err := n.lambda.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg"), MaximumEventAgeInSeconds: aws.Int32(120)})
	if err != nil || aws.ToInt32(upd.MaximumRetryAttempts) != 0 || aws.ToInt32(upd.MaximumEventAgeInSeconds) != 120 {
		t.Fatalf("update merges: got %+v %v", upd, err)
	}
	list, err := n.lambda.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("cfg")})
	if err != nil || len(list.FunctionEventInvokeConfigs) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := n.lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("cfg")})
	apiErr(t, err, "ResourceNotFoundException", "EventInvokeConfig")
}

func TestAsync_SurvivesRestart(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("later", nil)
	// No concurrency: the event is accepted but cannot run yet.
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("later"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	marks := filepath.Join(t.TempDir(), "marks")
	invokeEvent(t, n, "later", map[string]any{"action": "mark", "file": marks})
	n = n.restart()
	if _, err := n.lambda.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("later")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the event to run after the restart", func() bool { return countPrefix(lines(marks), "done ") == 1 })
	// Functions and their settings survived too.
	if out := n.invoke("later", map[string]string{"action": "echo"}); out.FunctionError != nil {
		t.Errorf("invoke after restart: %s", out.Payload)
	}
}

// TestAsync_QualifierEventInvokeConfig checks that each qualifier has its
// own event-invoke config, as on Lambda: an alias's on-failure destination
// receives the failures of invocations through the alias only, and
// $LATEST's config does not apply to them.
func TestAsync_QualifierEventInvokeConfig(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	records := filepath.Join(t.TempDir(), "records")
	dest := n.create("alias-failures", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"RECORD_FILE": records}}
	})
	n.create("qualified", nil)
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("qualified")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("qualified"), Name: aws.String("prod"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	// $LATEST retries once and has no destination; the alias retries
	// never and reports to the destination.
	if _, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("qualified"), MaximumRetryAttempts: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	put, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:         aws.String("qualified:prod"),
		MaximumRetryAttempts: aws.Int32(0),
		DestinationConfig:    &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: dest.FunctionArn}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.FunctionArn) != "arn:aws:lambda:us-east-1:000000000000:function:qualified:prod" || put.DestinationConfig.OnSuccess == nil {
		t.Errorf("put on alias: got FunctionArn %s, OnSuccess %v; want the alias ARN and an empty OnSuccess", aws.ToString(put.FunctionArn), put.DestinationConfig.OnSuccess)
	}
	list, err := n.lambda.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("qualified")})
	if err != nil || len(list.FunctionEventInvokeConfigs) != 2 {
		t.Fatalf("list: got %+v, %v; want the $LATEST and alias configs", list, err)
	}
	_, err = n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("qualified"), Qualifier: aws.String("1")})
	apiErr(t, err, "ResourceNotFoundException", "The function arn:aws:lambda:us-east-1:000000000000:function:qualified:1 doesn't have an EventInvokeConfig")

	marks := filepath.Join(t.TempDir(), "marks")
	out, err := n.tryInvoke("qualified", map[string]any{"action": "mark", "file": marks, "fail": true}, func(in *lambda.InvokeInput) {
		in.InvocationType = types.InvocationTypeEvent
		in.Qualifier = aws.String("prod")
	})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("async invoke of the alias: %v", err)
	}
	eventually(t, 15*time.Second, "the alias's failure record", func() bool { return len(lines(records)) == 1 })
	if got := countPrefix(lines(marks), "done "); got != 1 {
		t.Errorf("got %d attempts through the alias, want 1 (its config allows no retry)", got)
	}
	if !strings.Contains(lines(records)[0], `"functionArn":"arn:aws:lambda:us-east-1:000000000000:function:qualified:prod"`) {
		t.Errorf("failure record %s, want the alias's ARN", lines(records)[0])
	}

	// Deleting the alias deletes its config: a new alias of the name has none.
	if _, err := n.lambda.DeleteAlias(ctx, &lambda.DeleteAliasInput{FunctionName: aws.String("qualified"), Name: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("qualified"), Name: aws.String("prod"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("qualified"), Qualifier: aws.String("prod")})
	apiErr(t, err, "ResourceNotFoundException", "function:qualified:prod doesn't have an EventInvokeConfig")
}

// TestAsync_EventInvokeConfigErrors checks the errors Lambda gives for
// event-invoke configs, word for word.
func TestAsync_EventInvokeConfigErrors(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	arn := "arn:aws:lambda:us-east-1:000000000000:function:"
	n.create("eic", nil)
	n.create("eic-target", nil)
	put := func(fn, qualifier string, adjust func(*lambda.PutFunctionEventInvokeConfigInput)) error {
		in := &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String(fn), MaximumRetryAttempts: aws.Int32(1)}
		if qualifier != "" {
			in.Qualifier = aws.String(qualifier)
		}
		if adjust != nil {
			adjust(in)
		}
		_, err := n.lambda.PutFunctionEventInvokeConfig(ctx, in)
		return err
	}
	onSuccess := func(dst string) func(*lambda.PutFunctionEventInvokeConfigInput) {
		return func(in *lambda.PutFunctionEventInvokeConfigInput) {
			in.DestinationConfig = &types.DestinationConfig{OnSuccess: &types.OnSuccess{Destination: aws.String(dst)}}
		}
	}
	tests := []struct {
		name string
		err  error
		code string
		want string
	}{
		{"put, no function", put("nope", "", nil), "ResourceNotFoundException", "The function doesn't exist."},
		{"put, no function by ARN", put(arn+"nope", "", nil), "ResourceNotFoundException", "The function doesn't exist."},
		{"put, no alias", put("eic", "ghost", nil), "ResourceNotFoundException", "The function doesn't exist."},
		{"put, nothing to set", put("eic", "", func(in *lambda.PutFunctionEventInvokeConfigInput) { in.MaximumRetryAttempts = nil }),
			"InvalidParameterValueException", "You must specify at least one of error handling or destination setting."},
		{"put, missing destination", put("eic", "", onSuccess(arn+"nowhere")), "InvalidParameterValueException", "The destination ARN " + arn + "nowhere is invalid."},
		{"put, itself as destination", put("eic", "", onSuccess(arn+"eic")), "InvalidParameterValueException", "You can't specify the function as a destination for itself."},
		{"put, not a destination service", put("eic", "", onSuccess("arn:aws:iam:us-east-1:000000000000:role/x")), "InvalidParameterValueException",
			"The provided destination config DestinationConfig(onSuccess=OnSuccess(destination=arn:aws:iam:us-east-1:000000000000:role/x), onFailure=null) is invalid."},
		{"put, malformed destination", put("eic", "", onSuccess("arn:aws:!:x")), "ValidationException",
			"1 validation error detected: Value 'arn:aws:!:x' at 'destinationConfig.onSuccess.destination' failed to satisfy constraint: Member must satisfy regular expression pattern: "},
		{"put, qualifier mismatch", put(arn+"eic:1", "2", nil), "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { apiErr(t, tt.err, tt.code, tt.want) })
	}
	if err := put("eic", "", onSuccess(arn+"eic-target")); err != nil {
		t.Errorf("put with an existing destination: %v", err)
	}

	_, err := n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arn+"nope:$LATEST doesn't have an EventInvokeConfig")
	_, err = n.lambda.GetFunctionEventInvokeConfig(ctx, &lambda.GetFunctionEventInvokeConfigInput{FunctionName: aws.String("eic"), Qualifier: aws.String("9")})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arn+"eic:9 doesn't have an EventInvokeConfig")
	_, err = n.lambda.DeleteFunctionEventInvokeConfig(ctx, &lambda.DeleteFunctionEventInvokeConfigInput{FunctionName: aws.String("eic-target")})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arn+"eic-target:$LATEST doesn't have an EventInvokeConfig")
	_, err = n.lambda.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("eic-target"), MaximumRetryAttempts: aws.Int32(0)})
	apiErr(t, err, "ResourceNotFoundException", "The function "+arn+"eic-target:$LATEST doesn't have an EventInvokeConfig")
	_, err = n.lambda.UpdateFunctionEventInvokeConfig(ctx, &lambda.UpdateFunctionEventInvokeConfigInput{FunctionName: aws.String("nope"), MaximumRetryAttempts: aws.Int32(0)})
	apiErr(t, err, "ResourceNotFoundException", "The function doesn't exist.")
	_, err = n.lambda.ListFunctionEventInvokeConfigs(ctx, &lambda.ListFunctionEventInvokeConfigsInput{FunctionName: aws.String("nope")})
	apiErr(t, err, "ResourceNotFoundException", "The function doesn't exist.")
}

// TestAsync_EventAgeExceededCarriesResponse checks that an event whose
// retry would come after its maximum age fails at once, and that the
// record carries the response of the attempt that ran, as Lambda's do.
func TestAsync_EventAgeExceededCarriesResponse(t *testing.T) {
	// The first retry would wait two minutes; the event may live one.
	n := startNode(t, func(c *server.Config) { c.AsyncRetryBase = 2 * time.Minute })
	ctx := context.Background()
	records := filepath.Join(t.TempDir(), "records")
	dest := n.create("too-late", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{"RECORD_FILE": records}}
	})
	n.create("short-lived", nil)
	if _, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{
		FunctionName:             aws.String("short-lived"),
		MaximumEventAgeInSeconds: aws.Int32(60),
		DestinationConfig:        &types.DestinationConfig{OnFailure: &types.OnFailure{Destination: dest.FunctionArn}},
	}); err != nil {
		t.Fatal(err)
	}
	marks := filepath.Join(t.TempDir(), "marks")
	invokeEvent(t, n, "short-lived", map[string]any{"action": "mark", "file": marks, "fail": true})
	eventually(t, 15*time.Second, "the failure record", func() bool { return len(lines(records)) == 1 })
	var rec struct {
		RequestContext struct {
			Condition              string `json:"condition"`
			ApproximateInvokeCount int    `json:"approximateInvokeCount"`
		} `json:"requestContext"`
		ResponseContext *struct {
			FunctionError string `json:"functionError"`
		} `json:"responseContext"`
		ResponsePayload map[string]any `json:"responsePayload"`
	}
	if err := json.Unmarshal([]byte(lines(records)[0]), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.RequestContext.Condition != "EventAgeExceeded" || rec.RequestContext.ApproximateInvokeCount != 1 ||
		rec.ResponseContext == nil || rec.ResponseContext.FunctionError != "Unhandled" || rec.ResponsePayload["errorMessage"] != "failing on purpose" {
		t.Errorf("got record %s, want EventAgeExceeded after 1 attempt with its response", lines(records)[0])
	}
	if got := countPrefix(lines(marks), "done "); got != 1 {
		t.Errorf("got %d attempts, want 1", got)
	}
}
