package server_test

import (
	"context"
	"encoding/base64"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

// provisioned reads a config's status and allocation.
func (n *node) provisioned(name, qualifier string) (*lambda.GetProvisionedConcurrencyConfigOutput, error) {
	return n.lambda.GetProvisionedConcurrencyConfig(context.Background(), &lambda.GetProvisionedConcurrencyConfigInput{
		FunctionName: aws.String(name), Qualifier: aws.String(qualifier),
	})
}

// awaitReady waits until the config on qualifier is READY.
func (n *node) awaitReady(name, qualifier string, allocated int32) {
	n.t.Helper()
	eventually(n.t, 20*time.Second, name+":"+qualifier+" READY", func() bool {
		out, err := n.provisioned(name, qualifier)
		return err == nil && out.Status == types.ProvisionedConcurrencyStatusEnumReady && aws.ToInt32(out.AllocatedProvisionedConcurrentExecutions) == allocated
	})
}

func (n *node) provisionedEnvs() int {
	return int(n.status()["provisionedEnvs"].(float64))
}

func TestLambda_ProvisionedConcurrency(t *testing.T) {
	// A short idle timeout shows that provisioned environments are never
	// reaped while on-demand ones are.
	n := startNode(t, func(c *server.Config) { c.IdleTimeout = 300 * time.Millisecond })
	ctx := context.Background()
	n.create("prov", nil)
	put := func(qualifier string, count int32) (*lambda.PutProvisionedConcurrencyConfigOutput, error) {
		return n.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
			FunctionName: aws.String("prov"), Qualifier: aws.String(qualifier), ProvisionedConcurrentExecutions: aws.Int32(count),
		})
	}

	_, err := put("$LATEST", 1)
	apiErr(t, err, "InvalidParameterValueException", "unpublished")
	_, err = put("3", 1)
	apiErr(t, err, "ResourceNotFoundException", "prov:3")
	_, err = n.provisioned("prov", "1")
	apiErr(t, err, "ResourceNotFoundException", "prov:1")
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("prov")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.provisioned("prov", "1")
	apiErr(t, err, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config")
	_, err = put("1", 0)
	apiErr(t, err, "ValidationException", "provisionedConcurrentExecutions")

	out, err := put("1", 2)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.RequestedProvisionedConcurrentExecutions) != 2 || out.LastModified == nil {
		t.Errorf("put: %+v", out)
	}
	n.awaitReady("prov", "1", 2)
	if got := n.provisionedEnvs(); got != 2 {
		t.Errorf("node has %d provisioned environments, want 2", got)
	}

	// The first request finds an initialised environment: no INIT.
	first := n.invoke("prov", map[string]string{"action": "env"}, func(in *lambda.InvokeInput) {
		in.Qualifier = aws.String("1")
		in.LogType = types.LogTypeTail
	})
	env := decodeResult(t, first.Payload)["env"].(map[string]any)
	if env["AWS_LAMBDA_INITIALIZATION_TYPE"] != "provisioned-concurrency" {
		t.Errorf("first invocation ran on a %v environment", env["AWS_LAMBDA_INITIALIZATION_TYPE"])
	}
	if tail, _ := base64.StdEncoding.DecodeString(aws.ToString(first.LogResult)); strings.Contains(string(tail), "Init Duration") {
		t.Errorf("first invocation on a provisioned environment reported an INIT:\n%s", tail)
	}

	// Beyond the provisioned two, invocations spill to on-demand ones.
	var mu sync.Mutex
	pids := map[float64]int{}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := n.tryInvoke("prov", map[string]any{"action": "sleep", "sleepMs": 300}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") })
			if err != nil || out.FunctionError != nil {
				t.Errorf("concurrent invoke: %v", err)
				return
			}
			res := decodeResult(t, out.Payload)
			mu.Lock()
			pids[res["pid"].(float64)]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(pids) != 3 {
		t.Errorf("3 concurrent invocations ran in %d environments, want 3", len(pids))
	}
	// The on-demand environment is reaped; the provisioned ones stay.
	eventually(t, 10*time.Second, "the on-demand environment to be reaped", func() bool {
		st := n.status()
		return st["envs"].(float64) == 2
	})
	time.Sleep(600 * time.Millisecond) // two more idle timeouts
	if got := n.provisionedEnvs(); got != 2 {
		t.Errorf("after idle timeouts the node has %d provisioned environments, want 2", got)
	}

	// A provisioned environment that dies is replaced.
	crash, _ := n.tryInvoke("prov", map[string]any{"action": "exit", "code": 3}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") })
	if crash == nil || crash.FunctionError == nil {
		t.Fatalf("exit action did not fail: %v", crash)
	}
	n.awaitReady("prov", "1", 2)

	// Limits: provisioned concurrency comes out of the reservation.
	_, err = n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("prov"), ReservedConcurrentExecutions: aws.Int32(1)})
	apiErr(t, err, "InvalidParameterValueException", "provisioned concurrency")
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{FunctionName: aws.String("prov"), ReservedConcurrentExecutions: aws.Int32(3)}); err != nil {
		t.Fatal(err)
	}
	// A version and an alias routing to it cannot both be provisioned.
	if _, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("prov"), Name: aws.String("one"), FunctionVersion: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	_, err = put("one", 1)
	apiErr(t, err, "ResourceConflictException", "Alias can't be used for Provisioned Concurrency configuration on an already Provisioned version")
	if _, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("prov"), Description: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("prov")}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.lambda.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: aws.String("prov"), Name: aws.String("live"), FunctionVersion: aws.String("2")}); err != nil {
		t.Fatal(err)
	}
	_, err = put("live", 2)
	apiErr(t, err, "InvalidParameterValueException", "reservedConcurrentExecution")
	if _, err := put("live", 1); err != nil {
		t.Fatal(err)
	}
	n.awaitReady("prov", "live", 1)
	_, err = put("2", 1)
	apiErr(t, err, "ResourceConflictException", "Version is pointed by a Provisioned Concurrency alias")
	if got := n.provisionedEnvs(); got != 3 {
		t.Errorf("version and alias configs: %d provisioned environments, want 3", got)
	}
	list, err := n.lambda.ListProvisionedConcurrencyConfigs(ctx, &lambda.ListProvisionedConcurrencyConfigsInput{FunctionName: aws.String("prov")})
	if err != nil || len(list.ProvisionedConcurrencyConfigs) != 2 || !strings.HasSuffix(aws.ToString(list.ProvisionedConcurrencyConfigs[0].FunctionArn), ":1") {
		t.Errorf("list: %+v %v", list, err)
	}
	settings, err := n.lambda.GetAccountSettings(ctx, &lambda.GetAccountSettingsInput{})
	if err != nil || aws.ToInt32(settings.AccountLimit.UnreservedConcurrentExecutions) != 1000-3 {
		t.Errorf("unreserved concurrency: %v %v", settings.AccountLimit, err)
	}

	// Deleting a config lets its environments go.
	if _, err := n.lambda.DeleteProvisionedConcurrencyConfig(ctx, &lambda.DeleteProvisionedConcurrencyConfigInput{FunctionName: aws.String("prov"), Qualifier: aws.String("1")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "one provisioned environment", func() bool { return n.provisionedEnvs() == 1 })

	// Configs survive a restart and are provisioned again.
	n = n.restart()
	n.awaitReady("prov", "live", 1)
	_, err = n.provisioned("prov", "1")
	apiErr(t, err, "ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config")

	// Deleting the function takes its configs and environments along.
	if _, err := n.lambda.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("prov")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "no environments", func() bool { return n.status()["envs"].(float64) == 0 })
}

func TestLambda_ProvisionedConcurrencyFailedInit(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	// A bootstrap that exits at once never finishes INIT.
	bad, _ := zipFiles(map[string][]byte{"bootstrap": []byte("#!/bin/sh\nexit 3\n")}, 0o755)
	n.create("broken", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{ZipFile: bad}; in.Publish = true })
	if _, err := n.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("broken"), Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(1),
	}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "FAILED", func() bool {
		out, err := n.provisioned("broken", "1")
		return err == nil && out.Status == types.ProvisionedConcurrencyStatusEnumFailed && strings.Contains(aws.ToString(out.StatusReason), "FUNCTION_ERROR_INIT_FAILURE")
	})
}
