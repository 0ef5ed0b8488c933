package server_test

import (
	"context"
	"encoding/base64"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
)

const capacityProvider = "arn:aws:lambda:us-east-1:000000000000:capacity-provider:local"

// perEnv gives a function Lambda Managed Instances' per-environment
// maximum concurrency.
func perEnv(max int32) func(*lambda.CreateFunctionInput) {
	return func(in *lambda.CreateFunctionInput) {
		in.CapacityProviderConfig = &types.CapacityProviderConfig{
			LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
				CapacityProviderArn:                   aws.String(capacityProvider),
				PerExecutionEnvironmentMaxConcurrency: aws.Int32(max),
			},
		}
	}
}

// sleeper is what one "sleep" invocation reports.
type sleeper struct {
	envID       string
	maxInFlight float64
	requestID   string
	log         string
}

// sleepAll runs k invocations of name at once, each sleeping ms.
func (n *node) sleepAll(name string, k, ms int, adjust ...func(*lambda.InvokeInput)) []sleeper {
	n.t.Helper()
	out := make([]sleeper, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := n.tryInvoke(name, map[string]any{"action": "sleep", "sleepMs": ms}, append(adjust, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })...)
			if err != nil {
				errs[i] = err
				return
			}
			res := decodeResult(n.t, o.Payload)
			log, _ := base64.StdEncoding.DecodeString(aws.ToString(o.LogResult))
			out[i] = sleeper{envID: res["envId"].(string), maxInFlight: res["maxInFlight"].(float64), requestID: res["requestId"].(string), log: string(log)}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			n.t.Fatalf("concurrent invoke: %v", err)
		}
	}
	return out
}

func byEnv(ss []sleeper) map[string]int {
	m := map[string]int{}
	for _, s := range ss {
		m[s.envID]++
	}
	return m
}

func TestMultiConcurrency_OneEnvironmentServesMany(t *testing.T) {
	n := startNode(t, nil)
	n.create("multi", perEnv(8))
	env := decodeResult(t, n.invoke("multi", map[string]string{"action": "env"}).Payload)["env"].(map[string]any)
	if env["AWS_LAMBDA_MAX_CONCURRENCY"] != "8" {
		t.Errorf("got AWS_LAMBDA_MAX_CONCURRENCY=%v, want 8", env["AWS_LAMBDA_MAX_CONCURRENCY"])
	}
	// Five at once on a warm environment of 8 (62% < the 70% target):
	// all in that one environment, running together.
	got := n.sleepAll("multi", 5, 700)
	envs := byEnv(got)
	if len(envs) != 1 {
		t.Fatalf("got invocations spread over environments %v, want all in one", envs)
	}
	most := 0.0
	for _, s := range got {
		most = max(most, s.maxInFlight)
	}
	if most != 5 {
		t.Errorf("the environment ran at most %v handlers at once, want 5", most)
	}
	if st := n.status(); st["envs"].(float64) != 1 {
		t.Errorf("got %v environments, want 1", st["envs"])
	}
	// Each invocation's log tail holds its own START, END and REPORT and
	// no other invocation's.
	for _, s := range got {
		for _, want := range []string{"START RequestId: " + s.requestID, "END RequestId: " + s.requestID, "REPORT RequestId: " + s.requestID} {
			if !strings.Contains(s.log, want) {
				t.Errorf("tail of %s lacks %q:\n%s", s.requestID, want, s.log)
			}
		}
		for _, o := range got {
			if o.requestID != s.requestID && strings.Contains(s.log, o.requestID) {
				t.Errorf("tail of %s holds lines of %s:\n%s", s.requestID, o.requestID, s.log)
			}
		}
	}
}

func TestMultiConcurrency_OverflowAndTarget(t *testing.T) {
	n := startNode(t, nil)
	n.create("multi", perEnv(4))
	first := decodeResult(t, n.invoke("multi", map[string]string{"action": "sleep"}).Payload)["envId"].(string)

	// Three at once fill 75% of the warm environment: above the 70%
	// target one more starts ahead of demand, and all three stay packed
	// in the first.
	envs := byEnv(n.sleepAll("multi", 3, 500))
	if envs[first] != 3 {
		t.Errorf("got %v, want all 3 in the warm environment %s", envs, first)
	}
	eventually(t, 10*time.Second, "a second environment ahead of demand", func() bool {
		return n.status()["envs"].(float64) == 2
	})

	// Six at once: four fill the first environment, the rest overflow.
	got := n.sleepAll("multi", 6, 700)
	envs = byEnv(got)
	if envs[first] != 4 || len(envs) < 2 {
		t.Errorf("got %v, want 4 in %s and the rest elsewhere", envs, first)
	}
	for _, s := range got {
		if s.maxInFlight > 4 {
			t.Errorf("environment %s ran %v at once, over its maximum of 4", s.envID, s.maxInFlight)
		}
	}
}

func TestMultiConcurrency_LimitsCountRequests(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("multi", perEnv(8))
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{
		FunctionName: aws.String("multi"), ReservedConcurrentExecutions: aws.Int32(2),
	}); err != nil {
		t.Fatal(err)
	}
	n.invoke("multi", map[string]string{"action": "echo"}) // warm
	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make(chan error, 3)
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := n.tryInvoke("multi", map[string]any{"action": "sleep", "sleepMs": 800})
			results <- err
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	throttled := 0
	for err := range results {
		if err != nil {
			apiErr(t, err, "TooManyRequestsException", "Rate Exceeded")
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("got %d throttled of 3 with a reservation of 2 in one environment of 8, want 1", throttled)
	}
}

func TestMultiConcurrency_MaxOneAsBefore(t *testing.T) {
	n := startNode(t, nil)
	n.create("single", perEnv(1))
	got := n.sleepAll("single", 3, 500)
	if envs := byEnv(got); len(envs) != 3 {
		t.Errorf("got %v, want 3 environments of one invocation each", envs)
	}
	for _, s := range got {
		if s.maxInFlight != 1 {
			t.Errorf("environment %s ran %v at once, want 1", s.envID, s.maxInFlight)
		}
	}
}

func TestMultiConcurrency_Configuration(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("multi", perEnv(8))
	cfg, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("multi")})
	if err != nil {
		t.Fatal(err)
	}
	mi := cfg.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig
	if aws.ToString(mi.CapacityProviderArn) != capacityProvider || aws.ToInt32(mi.PerExecutionEnvironmentMaxConcurrency) != 8 {
		t.Errorf("got %+v, want the ARN and 8 back", mi)
	}
	first := decodeResult(t, n.invoke("multi", map[string]string{"action": "echo"}).Payload)["envId"]

	// An update changes the maximum; environments of the old
	// configuration go.
	upd := &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("multi"), CapacityProviderConfig: &types.CapacityProviderConfig{
		LambdaManagedInstancesCapacityProviderConfig: &types.LambdaManagedInstancesCapacityProviderConfig{
			CapacityProviderArn: aws.String(capacityProvider), PerExecutionEnvironmentMaxConcurrency: aws.Int32(3),
		},
	}}
	if _, err := n.lambda.UpdateFunctionConfiguration(ctx, upd); err != nil {
		t.Fatal(err)
	}
	res := decodeResult(t, n.invoke("multi", map[string]string{"action": "env"}).Payload)
	if res["envId"] == first || res["env"].(map[string]any)["AWS_LAMBDA_MAX_CONCURRENCY"] != "3" {
		t.Errorf("after update: got env %v with AWS_LAMBDA_MAX_CONCURRENCY=%v, want a new environment with 3", res["envId"], res["env"].(map[string]any)["AWS_LAMBDA_MAX_CONCURRENCY"])
	}

	for _, tt := range []struct {
		max  int32
		want string
	}{{0, "greater than or equal to 1"}, {1601, "less than or equal to 1600"}} {
		upd.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig.PerExecutionEnvironmentMaxConcurrency = aws.Int32(tt.max)
		_, err := n.lambda.UpdateFunctionConfiguration(ctx, upd)
		apiErr(t, err, "ValidationException", tt.want)
	}
	upd.CapacityProviderConfig.LambdaManagedInstancesCapacityProviderConfig = &types.LambdaManagedInstancesCapacityProviderConfig{CapacityProviderArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:nope")}
	_, err = n.lambda.UpdateFunctionConfiguration(ctx, upd)
	apiErr(t, err, "ValidationException", "capacityProviderArn")
}

// TestRuntimes_TenantAndConcurrency runs the project's Python and Node
// runtime clients as tenant-isolated functions taking several invocations
// at once: each tenant gets its own process, which serves its concurrent
// invocations together, and the handler sees the tenant ID.
func TestRuntimes_TenantAndConcurrency(t *testing.T) {
	pyZip, _ := zipFiles(map[string][]byte{"app.py": []byte(`import os, threading, time
lock = threading.Lock()
running = 0
most = 0
def handler(event, context):
    global running, most
    with lock:
        running += 1
        most = max(most, running)
    time.sleep(0.4)
    with lock:
        running -= 1
    return {"tenant": context.tenant_id, "pid": os.getpid(), "most": most}
`)}, 0o644)
	nodeZip, _ := zipFiles(map[string][]byte{"index.mjs": []byte(`let running = 0, most = 0;
export const handler = async (event, context) => {
  running++;
  most = Math.max(most, running);
  await new Promise((resolve) => setTimeout(resolve, 400));
  running--;
  return { tenant: context.tenantId, pid: process.pid, most };
};
`)}, 0o644)
	n := startNode(t, nil)
	for _, tt := range []struct {
		name, runtime, handler, bin string
		zip                         []byte
	}{
		{"py", "python3.12", "app.handler", "python3", pyZip},
		{"js", "nodejs22.x", "index.handler", "node", nodeZip},
	} {
		t.Run(tt.runtime, func(t *testing.T) {
			if _, err := exec.LookPath(tt.bin); err != nil {
				t.Skipf("%s is not installed", tt.bin)
			}
			n.create(tt.name, func(in *lambda.CreateFunctionInput) {
				in.Runtime = types.Runtime(tt.runtime)
				in.Handler = aws.String(tt.handler)
				in.Code.ZipFile = tt.zip
				perTenant(in)
				perEnv(8)(in)
			})
			pids := map[string]float64{}
			for _, id := range []string{"red", "green"} {
				res := decodeResult(t, n.invoke(tt.name, map[string]any{}, tenant(id)).Payload) // warm
				if res["tenant"] != id {
					t.Errorf("got tenant %v, want %s", res["tenant"], id)
				}
				pids[id] = res["pid"].(float64)
			}
			if pids["red"] == pids["green"] {
				t.Errorf("tenants red and green share process %v", pids["red"])
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			most := 0.0
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					res := decodeResult(t, n.invoke(tt.name, map[string]any{}, tenant("red")).Payload)
					mu.Lock()
					defer mu.Unlock()
					if res["pid"] != pids["red"] || res["tenant"] != "red" {
						t.Errorf("got %v, want red's process %v", res, pids["red"])
					}
					most = max(most, res["most"].(float64))
				}()
			}
			wg.Wait()
			if most != 4 {
				t.Errorf("red's process ran at most %v invocations at once, want 4", most)
			}
		})
	}
}
