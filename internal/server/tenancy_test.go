package server_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

func perTenant(in *lambda.CreateFunctionInput) {
	in.TenancyConfig = &types.TenancyConfig{TenantIsolationMode: types.TenantIsolationModePerTenant}
}

func tenant(id string) func(*lambda.InvokeInput) {
	return func(in *lambda.InvokeInput) { in.TenantId = aws.String(id) }
}

// remembered is what the "remember" action reports.
type remembered struct {
	envID, tenantID string
	secrets         []string
	pid             float64
}

func (n *node) remember(name, tenantID, secret string) remembered {
	n.t.Helper()
	out := n.invoke(name, map[string]any{"action": "remember", "secret": secret}, tenant(tenantID))
	if out.FunctionError != nil {
		n.t.Fatalf("invoke %s for %s: %s", name, tenantID, out.Payload)
	}
	res := decodeResult(n.t, out.Payload)
	r := remembered{envID: res["envId"].(string), pid: res["pid"].(float64)}
	r.tenantID, _ = res["tenantId"].(string)
	secrets, _ := res["secrets"].([]any)
	for _, s := range secrets {
		r.secrets = append(r.secrets, s.(string))
	}
	return r
}

func TestTenancy_EnvironmentsNeverShared(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("saas", perTenant)

	got, err := n.lambda.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("saas")})
	if err != nil {
		t.Fatal(err)
	}
	if tc := got.Configuration.TenancyConfig; tc == nil || tc.TenantIsolationMode != types.TenantIsolationModePerTenant {
		t.Errorf("GetFunction: got TenancyConfig %+v, want PER_TENANT", tc)
	}
	list, err := n.lambda.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 1 || list.Functions[0].TenancyConfig == nil {
		t.Errorf("ListFunctions: got %+v, %v; want saas with its TenancyConfig", list, err)
	}

	// Tenant A keeps a secret in package-level state.
	a1 := n.remember("saas", "tenant-a", "a-secret")
	if a1.tenantID != "tenant-a" || !slices.Equal(a1.secrets, []string{"a-secret"}) {
		t.Fatalf("tenant A: got tenant %q secrets %v, want tenant-a [a-secret]", a1.tenantID, a1.secrets)
	}
	// Tenant B runs in an environment of its own and never sees it.
	b1 := n.remember("saas", "tenant-b", "b-secret")
	if b1.tenantID != "tenant-b" || b1.envID == a1.envID || b1.pid == a1.pid {
		t.Errorf("tenant B: got tenant %q env %s pid %v, want tenant-b in an environment other than A's %s", b1.tenantID, b1.envID, b1.pid, a1.envID)
	}
	if !slices.Equal(b1.secrets, []string{"b-secret"}) {
		t.Errorf("tenant B sees secrets %v, want only its own [b-secret]", b1.secrets)
	}
	// A again: its warm environment, with its own state only.
	a2 := n.remember("saas", "tenant-a", "")
	if a2.envID != a1.envID || !slices.Equal(a2.secrets, []string{"a-secret"}) {
		t.Errorf("tenant A again: got env %s secrets %v, want warm env %s with [a-secret]", a2.envID, a2.secrets, a1.envID)
	}
	b2 := n.remember("saas", "tenant-b", "")
	if b2.envID != b1.envID || !slices.Equal(b2.secrets, []string{"b-secret"}) {
		t.Errorf("tenant B again: got env %s secrets %v, want warm env %s with [b-secret]", b2.envID, b2.secrets, b1.envID)
	}
	if envs := n.status()["envs"].(float64); envs != 2 {
		t.Errorf("got %v environments, want 2 (one per tenant)", envs)
	}

	// A published version keeps the isolation and gets pools of its own.
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("saas")}); err != nil {
		t.Fatal(err)
	}
	v := n.invoke("saas", map[string]any{"action": "remember"}, tenant("tenant-a"), func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") })
	if res := decodeResult(t, v.Payload); res["envId"] == a1.envID || res["secrets"] != nil {
		t.Errorf("version 1 for tenant A: got env %v secrets %v, want a new environment with no state", res["envId"], res["secrets"])
	}
	_, err = n.tryInvoke("saas", map[string]any{}, func(in *lambda.InvokeInput) { in.Qualifier = aws.String("1") })
	apiErr(t, err, "InvalidParameterValueException", "tenant")
}

func TestTenancy_TenantIDRequiredOrRefused(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	n.create("saas", perTenant)
	n.create("plain", nil)

	_, err := n.tryInvoke("saas", map[string]any{})
	apiErr(t, err, "InvalidParameterValueException", "tenant ID")
	_, err = n.tryInvoke("plain", map[string]any{}, tenant("blue"))
	apiErr(t, err, "InvalidParameterValueException", "tenant isolation")
	_, err = n.tryInvoke("saas", map[string]any{}, tenant("semi;colon"))
	apiErr(t, err, "ValidationException", "tenantId")
	_, err = n.tryInvoke("saas", map[string]any{}, tenant(strings.Repeat("t", 257)))
	apiErr(t, err, "ValidationException", "tenantId")
	// The same checks hold for async and dry-run invocations.
	for _, it := range []types.InvocationType{types.InvocationTypeEvent, types.InvocationTypeDryRun} {
		_, err = n.tryInvoke("saas", map[string]any{}, func(in *lambda.InvokeInput) { in.InvocationType = it })
		apiErr(t, err, "InvalidParameterValueException", "tenant ID")
		_, err = n.tryInvoke("plain", map[string]any{}, tenant("blue"), func(in *lambda.InvokeInput) { in.InvocationType = it })
		apiErr(t, err, "InvalidParameterValueException", "tenant isolation")
	}
	out, err := n.tryInvoke("saas", map[string]any{}, tenant("blue"), func(in *lambda.InvokeInput) { in.InvocationType = types.InvocationTypeDryRun })
	if err != nil || out.StatusCode != 204 {
		t.Errorf("dry run with a tenant: got %v, %v; want 204", out, err)
	}

	// Only PER_TENANT exists.
	_, err = n.lambda.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("odd"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: fnZip},
		TenancyConfig: &types.TenancyConfig{TenantIsolationMode: "PER_REQUEST"},
	})
	apiErr(t, err, "ValidationException", "PER_TENANT")

	// Provisioned concurrency is not supported with tenant isolation.
	if _, err := n.lambda.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: aws.String("saas")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.lambda.PutProvisionedConcurrencyConfig(ctx, &lambda.PutProvisionedConcurrencyConfigInput{
		FunctionName: aws.String("saas"), Qualifier: aws.String("1"), ProvisionedConcurrentExecutions: aws.Int32(1),
	})
	apiErr(t, err, "InvalidParameterValueException", "not supported")

	// The mode is immutable: an update leaves it.
	if _, err := n.lambda.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("saas"), Timeout: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	got, err := n.lambda.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String("saas")})
	if err != nil || got.TenancyConfig == nil {
		t.Errorf("after update: got %+v, %v; want TenancyConfig kept", got.TenancyConfig, err)
	}
}

func TestTenancy_AsyncCarriesTenant(t *testing.T) {
	n := startNode(t, nil)
	record := filepath.Join(t.TempDir(), "events")
	n.create("saas", func(in *lambda.CreateFunctionInput) {
		perTenant(in)
		in.Environment = &types.Environment{Variables: map[string]string{"RECORD_FILE": record}}
	})
	out, err := n.tryInvoke("saas", map[string]any{"action": "remember", "secret": "async-a"}, tenant("tenant-a"), func(in *lambda.InvokeInput) {
		in.InvocationType = types.InvocationTypeEvent
	})
	if err != nil || out.StatusCode != 202 {
		t.Fatalf("async invoke: got %v, %v; want 202", out, err)
	}
	eventually(t, 10*time.Second, "the async event to run", func() bool {
		b, _ := os.ReadFile(record)
		return strings.Contains(string(b), "async-a")
	})
	// The event ran as tenant A: once it has let go of its environment,
	// A's next invocation runs there and finds the secret; B never does.
	eventually(t, 10*time.Second, "the async invocation to end", func() bool {
		return n.status()["busyEnvs"].(float64) == 0
	})
	if a := n.remember("saas", "tenant-a", ""); !slices.Equal(a.secrets, []string{"async-a"}) {
		t.Errorf("tenant A after the async event: got %v, want [async-a]", a.secrets)
	}
	if b := n.remember("saas", "tenant-b", ""); len(b.secrets) != 0 {
		t.Errorf("tenant B sees %v, want nothing", b.secrets)
	}
}

func TestTenancy_EnvironmentLimit(t *testing.T) {
	// Lambda allows 2,500 tenant environments per 1,000 of the function's
	// concurrency: a reservation of 1 allows 2. Idle environments count
	// until the reaper retires them.
	n := startNode(t, func(c *server.Config) { c.IdleTimeout = 500 * time.Millisecond })
	ctx := context.Background()
	n.create("saas", perTenant)
	if _, err := n.lambda.PutFunctionConcurrency(ctx, &lambda.PutFunctionConcurrencyInput{
		FunctionName: aws.String("saas"), ReservedConcurrentExecutions: aws.Int32(1),
	}); err != nil {
		t.Fatal(err)
	}
	a := n.remember("saas", "a", "")
	n.remember("saas", "b", "")
	_, err := n.tryInvoke("saas", map[string]any{}, tenant("c"))
	apiErr(t, err, "TooManyRequestsException", "Rate Exceeded")
	// A known tenant still runs in its warm environment.
	if again := n.remember("saas", "a", ""); again.envID != a.envID {
		t.Errorf("tenant a at the limit: got env %s, want its warm %s", again.envID, a.envID)
	}
	eventually(t, 10*time.Second, "idle tenant environments to be reaped", func() bool {
		return n.status()["envs"].(float64) == 0
	})
	if c := n.remember("saas", "c", ""); c.tenantID != "c" {
		t.Errorf("tenant c after the reaper: got %q", c.tenantID)
	}
}

// TestAWSCLI_TenancyAndConcurrency drives both features with the aws CLI
// (--tenancy-config, --capacity-provider-config, --tenant-id).
func TestAWSCLI_TenancyAndConcurrency(t *testing.T) {
	needAWSCLI(t)
	n := startNode(t, nil)
	zipPath := filepath.Join(t.TempDir(), "fn.zip")
	if err := os.WriteFile(zipPath, fnZip, 0o644); err != nil {
		t.Fatal(err)
	}
	created, stderr, err := awsCLI(t, n, "create-function", "--function-name", "cli-saas", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--role", "arn:aws:iam::000000000000:role/test", "--zip-file", "fileb://"+zipPath,
		"--tenancy-config", "TenantIsolationMode=PER_TENANT",
		"--capacity-provider-config", "LambdaManagedInstancesCapacityProviderConfig={CapacityProviderArn="+capacityProvider+",PerExecutionEnvironmentMaxConcurrency=4}")
	if err != nil {
		t.Fatalf("create-function: %v\n%s", err, stderr)
	}
	if tc, _ := created["TenancyConfig"].(map[string]any); tc["TenantIsolationMode"] != "PER_TENANT" {
		t.Errorf("create-function returned TenancyConfig %v", created["TenancyConfig"])
	}
	out := filepath.Join(t.TempDir(), "out.json")
	if _, stderr, err := awsCLI(t, n, "invoke", "--function-name", "cli-saas", "--tenant-id", "blue",
		"--payload", `{"action":"env"}`, out); err != nil {
		t.Fatalf("invoke --tenant-id: %v\n%s", err, stderr)
	}
	b, _ := os.ReadFile(out)
	res := decodeResult(t, b)
	if res["tenantId"] != "blue" || res["env"].(map[string]any)["AWS_LAMBDA_MAX_CONCURRENCY"] != "4" {
		t.Errorf("got tenant %v, AWS_LAMBDA_MAX_CONCURRENCY %v; want blue, 4", res["tenantId"], res["env"].(map[string]any)["AWS_LAMBDA_MAX_CONCURRENCY"])
	}
	_, stderr, err = awsCLI(t, n, "invoke", "--function-name", "cli-saas", out)
	if err == nil || !strings.Contains(stderr, "InvalidParameterValueException") {
		t.Errorf("invoke without --tenant-id: %v %s, want InvalidParameterValueException", err, stderr)
	}
}
