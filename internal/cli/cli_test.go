package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/server"
)

func startNode(t *testing.T, keys ...string) string {
	t.Helper()
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), AccessKeys: keys}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop(context.Background()) })
	return "http://" + srv.Addr()
}

// run runs the updraft command line and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestCLI_DeployInvokeListLogs(t *testing.T) {
	ep := startNode(t)
	examples := []struct{ dir, name, runtime, bin string }{
		{"../../examples/hello-go", "hello-go", "provided.al2023", "go"},
		{"../../examples/hello-python", "hello-python", "python3.12", "python3"},
		{"../../examples/hello-node", "hello-node", "nodejs22.x", "node"},
	}
	for _, ex := range examples {
		if _, err := exec.LookPath(ex.bin); err != nil {
			t.Logf("skipping %s: %s is not installed", ex.name, ex.bin)
			continue
		}
		code, stdout, stderr := run(t, "function", "deploy", ex.dir, "--endpoint", ep, "--json")
		if code != 0 {
			t.Fatalf("deploy %s: exit %d: %s", ex.dir, code, stderr)
		}
		var cfg map[string]any
		if err := json.Unmarshal([]byte(stdout), &cfg); err != nil || cfg["FunctionName"] != ex.name || cfg["Runtime"] != ex.runtime {
			t.Errorf("deploy %s printed %s (%v)", ex.dir, stdout, err)
		}
		code, stdout, stderr = run(t, "function", "invoke", ex.name, "--payload", `{"name":"cli"}`, "--endpoint", ep, "--json")
		if code != 0 || !strings.Contains(stdout, "Hello, cli!") && !strings.Contains(stdout, "cli") {
			t.Errorf("invoke %s: exit %d stdout %s stderr %s", ex.name, code, stdout, stderr)
		}
		var res struct {
			StatusCode int
			Payload    map[string]any
		}
		if err := json.Unmarshal([]byte(stdout), &res); err != nil || res.StatusCode != 200 {
			t.Errorf("invoke %s --json printed %s", ex.name, stdout)
		}
	}

	// Deploying again updates the function in place.
	code, _, stderr := run(t, "function", "deploy", "../../examples/hello-python", "--endpoint", ep, "--env", "STAGE=two", "--memory", "256")
	if code != 0 {
		t.Fatalf("redeploy: %s", stderr)
	}

	code, stdout, _ := run(t, "function", "ls", "--endpoint", ep, "--json")
	var fns []map[string]any
	if code != 0 || json.Unmarshal([]byte(stdout), &fns) != nil || len(fns) == 0 {
		t.Fatalf("ls: exit %d %s", code, stdout)
	}
	for _, f := range fns {
		if f["FunctionName"] == "hello-python" && f["MemorySize"] != float64(256) {
			t.Errorf("redeploy did not update memory: %v", f["MemorySize"])
		}
	}
	code, stdout, _ = run(t, "function", "ls", "--endpoint", ep)
	if code != 0 || !strings.HasPrefix(stdout, "NAME") || !strings.Contains(stdout, "hello-python") {
		t.Errorf("ls table: %s", stdout)
	}

	var logs string
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		_, logs, _ = run(t, "function", "logs", "hello-python", "--endpoint", ep)
		if strings.Contains(logs, "REPORT RequestId") {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs, "START RequestId") || !strings.Contains(logs, "REPORT RequestId") {
		t.Errorf("logs printed %s", logs)
	}

	if code, _, stderr := run(t, "function", "invoke", "missing", "--endpoint", ep); code != 1 || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("invoke missing: exit %d stderr %s", code, stderr)
	}
	// --tenant-id reaches the API: this function has no tenant isolation.
	if code, _, stderr := run(t, "function", "invoke", "hello-python", "--tenant-id", "blue", "--endpoint", ep); code != 1 || !strings.Contains(stderr, "InvalidParameterValueException") {
		t.Errorf("invoke --tenant-id on a shared function: exit %d stderr %s", code, stderr)
	}
	if code, _, _ := run(t, "function", "rm", "hello-python", "--endpoint", ep); code != 0 {
		t.Errorf("rm failed")
	}
	if code, _, _ := run(t, "function", "bogus"); code != 2 {
		t.Errorf("unknown command: got exit %d, want 2", code)
	}
	if code, _, _ := run(t, "function", "invoke"); code != 2 {
		t.Errorf("missing argument: got exit %d, want 2", code)
	}
}

func TestCLI_SignsRequests(t *testing.T) {
	ep := startNode(t, "AKIDCLI:clisecret")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDCLI")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "clisecret")
	if code, _, stderr := run(t, "function", "deploy", "../../examples/hello-python", "--endpoint", ep); code != 0 {
		t.Fatalf("deploy with keys: %s", stderr)
	}
	if code, _, stderr := run(t, "function", "logs", "hello-python", "--endpoint", ep); code != 0 {
		t.Errorf("logs with keys: exit %d %s", code, stderr)
	}
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	if code, _, stderr := run(t, "function", "logs", "hello-python", "--endpoint", ep); code != 1 || !strings.Contains(stderr, "InvalidSignatureException") {
		t.Errorf("logs with a wrong secret: exit %d %s", code, stderr)
	}
}

func TestCLI_Workflow(t *testing.T) {
	ep := startNode(t)
	def := t.TempDir() + "/greet.json"
	if err := os.WriteFile(def, []byte(`{"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "Parameters": {"msg.$": "States.Format('hi {}', $.who)"}, "End": true}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "workflow", "create", def, "--endpoint", ep)
	if code != 0 || strings.TrimSpace(stdout) != "arn:aws:states:us-east-1:000000000000:stateMachine:greet" {
		t.Fatalf("create: exit %d %s %s", code, stdout, stderr)
	}
	// Creating again updates it in place.
	if code, _, stderr := run(t, "workflow", "create", def, "--endpoint", ep); code != 0 {
		t.Fatalf("re-create: %s", stderr)
	}
	code, stdout, stderr = run(t, "workflow", "start", "greet", "--input", `{"who": "cli"}`, "--wait", "--json", "--endpoint", ep)
	var res struct {
		ExecutionArn, Status, Output string
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "SUCCEEDED" || res.Output != `{"msg":"hi cli"}` {
		t.Fatalf("start --wait: exit %d %s %s", code, stdout, stderr)
	}
	code, stdout, _ = run(t, "workflow", "history", res.ExecutionArn, "--endpoint", ep)
	if code != 0 || !strings.Contains(stdout, "ExecutionSucceeded") || !strings.Contains(stdout, "PassStateEntered") {
		t.Errorf("history: %s", stdout)
	}
	code, stdout, _ = run(t, "workflow", "describe", res.ExecutionArn, "--endpoint", ep)
	if code != 0 || !strings.Contains(stdout, "SUCCEEDED") {
		t.Errorf("describe: %s", stdout)
	}
	code, stdout, _ = run(t, "workflow", "ls", "--endpoint", ep)
	if code != 0 || !strings.Contains(stdout, "greet") || !strings.Contains(stdout, "STANDARD") {
		t.Errorf("ls: %s", stdout)
	}
	if code, _, stderr := run(t, "workflow", "start", "missing", "--endpoint", ep); code != 1 || !strings.Contains(stderr, "StateMachineDoesNotExist") {
		t.Errorf("start missing: exit %d %s", code, stderr)
	}

	// EXPRESS: --wait runs it synchronously; without it, it starts async.
	xdef := t.TempDir() + "/xgreet.json"
	if err := os.WriteFile(xdef, []byte(`{"StartAt": "Hi", "States": {"Hi": {"Type": "Pass", "Parameters": {"msg.$": "States.Format('hey {}', $.who)"}, "End": true}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "workflow", "create", xdef, "--type", "EXPRESS", "--endpoint", ep); code != 0 {
		t.Fatalf("create express: %s", stderr)
	}
	code, stdout, stderr = run(t, "workflow", "start", "xgreet", "--input", `{"who": "x"}`, "--wait", "--json", "--endpoint", ep)
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "SUCCEEDED" || res.Output != `{"msg":"hey x"}` || !strings.Contains(res.ExecutionArn, ":express:xgreet:") {
		t.Errorf("start --wait of an EXPRESS machine: exit %d %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "workflow", "start", "xgreet", "--endpoint", ep)
	if code != 0 || !strings.Contains(stdout, ":express:xgreet:") {
		t.Errorf("async start of an EXPRESS machine: exit %d %s %s", code, stdout, stderr)
	}
}

func TestCLI_PublishAliasProvision(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not installed")
	}
	ep := startNode(t)
	if code, _, stderr := run(t, "function", "deploy", "../../examples/hello-go", "--endpoint", ep); code != 0 {
		t.Fatalf("deploy: exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, "function", "publish", "hello-go", "--endpoint", ep)
	if code != 0 || strings.TrimSpace(stdout) != "1" {
		t.Fatalf("publish: exit %d, %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "function", "alias", "hello-go", "live", "1", "--endpoint", ep)
	if code != 0 || !strings.Contains(stdout, "function:hello-go:live → 1") {
		t.Fatalf("alias: exit %d, %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "function", "provision", "hello-go:live", "1", "--wait", "--endpoint", ep)
	if code != 0 || !strings.HasPrefix(stdout, "READY 1/1") {
		t.Fatalf("provision: exit %d, %q %s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "function", "invoke", "hello-go:live", "--payload", `{"name":"alias"}`, "--endpoint", ep)
	if code != 0 || !strings.Contains(stdout, "alias") {
		t.Errorf("invoke alias: exit %d, %q %s", code, stdout, stderr)
	}
	if code, _, stderr = run(t, "function", "rm", "hello-go:1", "--endpoint", ep); code != 1 || !strings.Contains(stderr, "live") {
		t.Errorf("rm of a version an alias uses: exit %d, %s", code, stderr)
	}
	if code, _, stderr = run(t, "function", "provision", "hello-go:live", "0", "--endpoint", ep); code != 0 {
		t.Errorf("provision 0: exit %d, %s", code, stderr)
	}
	if code, _, stderr = run(t, "function", "alias", "hello-go", "live", "--delete", "--endpoint", ep); code != 0 {
		t.Errorf("alias --delete: exit %d, %s", code, stderr)
	}
	if code, _, stderr = run(t, "function", "rm", "hello-go:1", "--endpoint", ep); code != 0 {
		t.Errorf("rm version: exit %d, %s", code, stderr)
	}
}

// TestCLI_ExampleWorkflow runs examples/workflows/greet.json, which
// `make up` deploys, against the hello-go example, as the tour says.
func TestCLI_ExampleWorkflow(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go is not installed")
	}
	ep := startNode(t)
	if code, _, stderr := run(t, "function", "deploy", "../../examples/hello-go", "--endpoint", ep); code != 0 {
		t.Fatalf("deploy hello-go: %s", stderr)
	}
	name, err := deployWorkflow(context.Background(), ep, "../../examples/workflows/greet.json", nil)
	if err != nil || name != "greet" {
		t.Fatalf("deployWorkflow: %q %v", name, err)
	}
	code, stdout, stderr := run(t, "workflow", "start", "greet", "--input", `{"names":["Ada","Grace","Linus"]}`, "--wait", "--json", "--endpoint", ep)
	var res struct{ Status, Output string }
	if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil || res.Status != "SUCCEEDED" ||
		res.Output != `{"count":3,"greetings":["Hello, Ada!","Hello, Grace!","Hello, Linus!"]}` {
		t.Fatalf("start --wait: exit %d %s %s", code, stdout, stderr)
	}
}
