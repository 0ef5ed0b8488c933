package server_test

import (
	"context"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

func TestLambda_GetListUpdateDelete(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	created := n.create("managed", func(in *lambda.CreateFunctionInput) {
		in.Description = aws.String("first")
		in.Tags = map[string]string{"team": "core"}
	})

	got, err := n.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("managed")})
	if err != nil {
		t.Fatal(err)
	}
	c := got.Configuration
	if aws.ToString(c.Description) != "first" || aws.ToInt32(c.MemorySize) != 128 || aws.ToInt32(c.Timeout) != 3 ||
		c.State != types.StateActive || c.LastUpdateStatus != types.LastUpdateStatusSuccessful || c.PackageType != types.PackageTypeZip ||
		aws.ToInt64(&c.CodeSize) != int64(len(fnZip)) || aws.ToString(c.CodeSha256) == "" {
		t.Errorf("unexpected configuration %+v", c)
	}
	if got.Tags["team"] != "core" || got.Code == nil || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Errorf("got tags %v code %+v", got.Tags, got.Code)
	}
	// Code.Location serves the package back.
	resp, err := http.Get(aws.ToString(got.Code.Location))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != string(fnZip) {
		t.Errorf("code location returned %d bytes, want the %d-byte package", len(body), len(fnZip))
	}
	// By ARN as well as by name.
	if _, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: created.FunctionArn}); err != nil {
		t.Errorf("get by ARN: %v", err)
	}

	before := decodeResult(t, n.invoke("managed", map[string]string{"action": "env"}).Payload)
	upd, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("managed"),
		MemorySize:   aws.Int32(512),
		Timeout:      aws.Int32(10),
		Description:  aws.String("second"),
		Environment:  &types.Environment{Variables: map[string]string{"STAGE": "two"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(upd.MemorySize) != 512 || aws.ToString(upd.RevisionId) == aws.ToString(created.RevisionId) {
		t.Errorf("update: got memory %d revision %s", aws.ToInt32(upd.MemorySize), aws.ToString(upd.RevisionId))
	}
	after := decodeResult(t, n.invoke("managed", map[string]string{"action": "env"}).Payload)
	env := after["env"].(map[string]any)
	if env["STAGE"] != "two" || env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] != "512" {
		t.Errorf("new configuration not in effect: STAGE=%v memory=%v", env["STAGE"], env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"])
	}
	if after["pid"] == before["pid"] {
		t.Errorf("environment of the old configuration was reused")
	}

	// A stale RevisionId is refused.
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("managed"), RevisionId: created.RevisionId, Timeout: aws.Int32(5),
	})
	apiErr(t, err, "PreconditionFailedException", "Revision Id")

	// New code takes effect.
	script, _ := zipFiles(map[string][]byte{"bootstrap": []byte(shellRuntime(`{"from":"shell"}`))}, 0o755)
	if _, err := n.lambda.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("managed"), ZipFile: script}); err != nil {
		t.Fatal(err)
	}
	out := n.invoke("managed", map[string]string{})
	if string(out.Payload) != `{"from":"shell"}` {
		t.Errorf("after code update got %s", out.Payload)
	}

	if _, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("managed")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("managed")})
	apiErr(t, err, "ResourceNotFoundException", "managed")
	_, err = n.lambda.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("managed")})
	apiErr(t, err, "ResourceNotFoundException", "managed")
}

// shellRuntime is a bootstrap script speaking the Runtime API with curl-less
// shell: it answers every invocation with body.
func shellRuntime(body string) string {
	return `#!/usr/bin/env python3
import http.client, os
host = os.environ["AWS_LAMBDA_RUNTIME_API"]
while True:
    c = http.client.HTTPConnection(host)
    c.request("GET", "/2018-06-01/runtime/invocation/next")
    r = c.getresponse(); r.read()
    rid = r.getheader("Lambda-Runtime-Aws-Request-Id")
    c.request("POST", "/2018-06-01/runtime/invocation/%s/response" % rid, body='` + body + `')
    c.getresponse().read()
`
}

func TestLambda_ListPaging(t *testing.T) {
	n := startNode(t, nil)
	names := []string{"a1", "b2", "c3", "d4", "e5"}
	for _, name := range names {
		n.create(name, nil)
	}
	var got []string
	p := lambda.NewListFunctionsPaginator(n.lambda, &lambda.ListFunctionsInput{MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, f := range page.Functions {
			got = append(got, aws.ToString(f.FunctionName))
		}
	}
	sort.Strings(got)
	if strings.Join(got, ",") != strings.Join(names, ",") || pages != 3 {
		t.Errorf("got %v in %d pages, want %v in 3", got, pages, names)
	}
}

func TestLambda_ConcurrencyAndAccountSettings(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("reserved", nil)

	put, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("reserved"), ReservedConcurrentExecutions: aws.Int32(1)})
	if err != nil || aws.ToInt32(put.ReservedConcurrentExecutions) != 1 {
		t.Fatalf("put concurrency: %v %v", put, err)
	}
	get, err := n.lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("reserved")})
	if err != nil || aws.ToInt32(get.ReservedConcurrentExecutions) != 1 {
		t.Fatalf("get concurrency: %v %v", get, err)
	}
	settings, err := n.lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if settings.AccountLimit.ConcurrentExecutions != 1000 || aws.ToInt32(settings.AccountLimit.UnreservedConcurrentExecutions) != 999 || settings.AccountUsage.FunctionCount != 1 {
		t.Errorf("got account settings %+v %+v", settings.AccountLimit, settings.AccountUsage)
	}
	_, err = n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("reserved"), ReservedConcurrentExecutions: aws.Int32(950)})
	apiErr(t, err, "InvalidParameterValueException", "UnreservedConcurrentExecution below its minimum value of [100]")

	// Two at once with a reservation of one: one is throttled.
	errs := concurrentInvokes(n, "reserved", 2, 500)
	assertThrottled(t, errs, 1, "ReservedFunctionConcurrentInvocationLimitExceeded")

	// Zero stops the function.
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("reserved"), ReservedConcurrentExecutions: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	_, err = n.tryInvoke("reserved", map[string]string{})
	apiErr(t, err, "TooManyRequestsException", "Rate Exceeded")

	if _, err := n.lambda.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("reserved")}); err != nil {
		t.Fatal(err)
	}
	get, err = n.lambda.GetFunctionConcurrency(ctx, &lambda.GetFunctionConcurrencyInput{FunctionName: aws.String("reserved")})
	if err != nil || get.ReservedConcurrentExecutions != nil {
		t.Errorf("after delete got %v %v, want no reservation", get.ReservedConcurrentExecutions, err)
	}
	if out := n.invoke("reserved", map[string]string{}); out.FunctionError != nil {
		t.Errorf("invoke after removing the reservation: %s", out.Payload)
	}
}

func TestLambda_ReservationLeavesSharedPoolAtOnce(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.AccountConcurrency = 101 })
	ctx := context.Background()
	n.create("shared", nil)
	n.create("holder", nil)
	// holder has never run, yet its reservation is taken out of the pool.
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("holder"), ReservedConcurrentExecutions: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	errs := concurrentInvokes(n, "shared", 101, 1500)
	assertThrottled(t, errs, 1, "ConcurrentInvocationLimitExceeded")

	// Changing concurrency settings keeps warm environments (no new RevisionId).
	cfg, _ := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("holder")})
	n.invoke("holder", map[string]string{"action": "echo"})
	warm := decodeResult(t, n.invoke("holder", map[string]string{"action": "echo"}).Payload)
	if _, err := n.lambda.DeleteFunctionConcurrency(ctx, &lambda.DeleteFunctionConcurrencyInput{FunctionName: aws.String("holder")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.PutFunctionEventInvokeConfig(ctx, &lambda.PutFunctionEventInvokeConfigInput{FunctionName: aws.String("holder"), MaximumRetryAttempts: aws.Int32(0)}); err != nil {
		t.Fatal(err)
	}
	after, _ := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("holder")})
	if aws.ToString(after.RevisionId) != aws.ToString(cfg.RevisionId) {
		t.Errorf("concurrency and event-invoke settings changed the RevisionId")
	}
	if again := decodeResult(t, n.invoke("holder", map[string]string{"action": "echo"}).Payload); again["pid"] != warm["pid"] {
		t.Errorf("concurrency and event-invoke settings replaced the warm environment")
	}
	// The reservation is back in the shared pool: 101 at once all run.
	errs = concurrentInvokes(n, "shared", 101, 1500)
	assertThrottled(t, errs, 0, "")
}

func TestLambda_AccountConcurrencyThrottles(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.AccountConcurrency = 2 })
	n.create("busy", nil)
	errs := concurrentInvokes(n, "busy", 3, 600)
	assertThrottled(t, errs, 1, "ConcurrentInvocationLimitExceeded")
}

func TestLambda_BurstLimitThrottles(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.Burst = 2; c.BurstWindow = time.Hour })
	n.create("bursty", nil)
	errs := concurrentInvokes(n, "bursty", 3, 600)
	assertThrottled(t, errs, 1, "FunctionInvocationRateLimitExceeded")
	// Warm environments are still served once they are free.
	if out := n.invoke("bursty", map[string]string{}); out.FunctionError != nil {
		t.Errorf("warm invocation after the burst: %s", out.Payload)
	}
}

// concurrentInvokes runs count invocations that each sleep ms at once.
func concurrentInvokes(n *node, name string, count, ms int) []error {
	var wg sync.WaitGroup
	errs := make([]error, count)
	for i := range count {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = n.tryInvoke(name, map[string]any{"action": "sleep", "sleepMs": ms})
		}()
	}
	wg.Wait()
	return errs
}

func assertThrottled(t *testing.T, errs []error, want int, reason string) {
	t.Helper()
	throttled := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		var tm *types.TooManyRequestsException
		if !asErr(err, &tm) {
			t.Errorf("unexpected error %v", err)
			continue
		}
		if string(tm.Reason) != reason {
			t.Errorf("got reason %q, want %q", tm.Reason, reason)
		}
		throttled++
	}
	if throttled != want {
		t.Errorf("got %d throttled of %d, want %d", throttled, len(errs), want)
	}
}

func TestLambda_Tags(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	fn := n.create("tagged", func(in *lambda.CreateFunctionInput) { in.Tags = map[string]string{"team": "core"} })
	arn := fn.FunctionArn
	warm := decodeResult(t, n.invoke("tagged", map[string]string{"action": "echo"}).Payload)
	if _, err := n.lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: arn, Tags: map[string]string{"stage": "prod", "team": "edge"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.UntagResource(ctx, &lambda.UntagResourceInput{Resource: arn, TagKeys: []string{"stage"}}); err != nil {
		t.Fatal(err)
	}
	got, err := n.lambda.ListTags(ctx, &lambda.ListTagsInput{Resource: arn})
	if err != nil || len(got.Tags) != 1 || got.Tags["team"] != "edge" {
		t.Errorf("tags: got %v %v, want team=edge only", got.Tags, err)
	}
	_, err = n.lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: arn, Tags: map[string]string{"aws:x": "y"}})
	apiErr(t, err, "InvalidParameterValueException", "reserved")
	_, err = n.lambda.TagResource(ctx, &lambda.TagResourceInput{Resource: aws.String("arn:aws:lambda:us-east-1:000000000000:function:ghost"), Tags: map[string]string{"a": "b"}})
	apiErr(t, err, "ResourceNotFoundException", "ghost")
	// Tags are not configuration: the warm environment stays.
	if again := decodeResult(t, n.invoke("tagged", map[string]string{"action": "echo"}).Payload); again["pid"] != warm["pid"] {
		t.Errorf("tagging replaced the warm environment")
	}
}
