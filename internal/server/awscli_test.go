package server_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLI runs `aws lambda …` against the node and decodes its JSON output.
func awsCLI(t *testing.T, n *node, args ...string) (map[string]any, string, error) {
	t.Helper()
	return awsService(t, n, "lambda", args...)
}

// awsService runs `aws SERVICE …` against the node.
func awsService(t *testing.T, n *node, service string, args ...string) (map[string]any, string, error) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", n.url, "--region", "us-east-1", "--output", "json", service}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var m map[string]any
	if len(out) > 0 {
		if jerr := json.Unmarshal(out, &m); jerr != nil {
			t.Fatalf("aws %v: output %q: %v", args, out, jerr)
		}
	}
	return m, stderr.String(), err
}

func needAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the aws CLI is not installed; make deps installs it")
		}
		t.Skip("the aws CLI is not installed (make deps)")
	}
}

func TestAWSCLI_StepFunctions(t *testing.T) {
	needAWSCLI(t)
	n := startNode(t, nil)
	created, stderr, err := awsService(t, n, "stepfunctions", "create-state-machine", "--name", "cli-machine",
		"--definition", passMachine, "--role-arn", "arn:aws:iam::000000000000:role/sfn")
	if err != nil || created["stateMachineArn"] != "arn:aws:states:us-east-1:000000000000:stateMachine:cli-machine" {
		t.Fatalf("create-state-machine: %v %v %s", created, err, stderr)
	}
	desc, stderr, err := awsService(t, n, "stepfunctions", "describe-state-machine", "--state-machine-arn", created["stateMachineArn"].(string))
	if err != nil || desc["definition"] != passMachine {
		t.Errorf("describe-state-machine: %v %v %s", desc, err, stderr)
	}
	_, stderr, err = awsService(t, n, "stepfunctions", "create-state-machine", "--name", "bad",
		"--definition", `{"StartAt":"X","States":{}}`, "--role-arn", "arn:aws:iam::000000000000:role/sfn")
	if err == nil || !strings.Contains(stderr, "InvalidDefinition") {
		t.Errorf("invalid definition: %v %s", err, stderr)
	}
}

func TestAWSCLI_Lambda(t *testing.T) {
	needAWSCLI(t)
	n := startNode(t, nil)
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "fn.zip")
	if err := os.WriteFile(zipPath, fnZip, 0o644); err != nil {
		t.Fatal(err)
	}
	must := func(args ...string) map[string]any {
		t.Helper()
		m, stderr, err := awsCLI(t, n, args...)
		if err != nil {
			t.Fatalf("aws lambda %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return m
	}

	created := must("create-function", "--function-name", "hello", "--runtime", "provided.al2023", "--handler", "bootstrap",
		"--zip-file", "fileb://"+zipPath, "--role", "arn:aws:iam::000000000000:role/x")
	// Lambda reports a function it has just created as Pending.
	if created["FunctionArn"] != "arn:aws:lambda:us-east-1:000000000000:function:hello" || created["State"] != "Pending" {
		t.Errorf("create-function returned %v", created)
	}

	event := filepath.Join(dir, "event.json")
	os.WriteFile(event, []byte(`{"action":"log","lines":1,"message":"from-cli"}`), 0o644)
	outFile := filepath.Join(dir, "out.json")
	inv := must("invoke", "--function-name", "hello", "--payload", "fileb://"+event, "--log-type", "Tail", outFile)
	logText, _ := base64.StdEncoding.DecodeString(inv["LogResult"].(string))
	if inv["StatusCode"] != float64(200) || inv["ExecutedVersion"] != "$LATEST" || !strings.Contains(string(logText), "line 0 of from-cli") {
		t.Errorf("invoke returned %v with log %s", inv, logText)
	}
	if b, _ := os.ReadFile(outFile); !strings.Contains(string(b), `"action":"log"`) {
		t.Errorf("invoke wrote %s", b)
	}

	os.WriteFile(event, []byte(`{"action":"error","message":"nope"}`), 0o644)
	inv = must("invoke", "--function-name", "hello", "--payload", "fileb://"+event, outFile)
	if inv["FunctionError"] != "Unhandled" {
		t.Errorf("failing invoke returned %v", inv)
	}
	if inv := must("invoke", "--function-name", "hello", "--invocation-type", "Event", "--payload", "fileb://"+event, outFile); inv["StatusCode"] != float64(202) {
		t.Errorf("event invoke returned %v", inv)
	}
	if inv := must("invoke", "--function-name", "hello", "--invocation-type", "DryRun", outFile); inv["StatusCode"] != float64(204) {
		t.Errorf("dry run returned %v", inv)
	}

	upd := must("update-function-configuration", "--function-name", "hello", "--memory-size", "256", "--timeout", "9",
		"--environment", "Variables={STAGE=cli}", "--handler", "bootstrap", "--runtime", "provided.al2")
	if upd["MemorySize"] != float64(256) || upd["Timeout"] != float64(9) || upd["Runtime"] != "provided.al2" {
		t.Errorf("update-function-configuration returned %v", upd)
	}
	must("update-function-code", "--function-name", "hello", "--zip-file", "fileb://"+zipPath)
	got := must("get-function", "--function-name", "hello")
	if got["Configuration"].(map[string]any)["Environment"].(map[string]any)["Variables"].(map[string]any)["STAGE"] != "cli" {
		t.Errorf("get-function returned %v", got)
	}
	if list := must("list-functions"); len(list["Functions"].([]any)) != 1 {
		t.Errorf("list-functions returned %v", list)
	}
	must("put-function-concurrency", "--function-name", "hello", "--reserved-concurrent-executions", "5")
	if c := must("get-function-concurrency", "--function-name", "hello"); c["ReservedConcurrentExecutions"] != float64(5) {
		t.Errorf("get-function-concurrency returned %v", c)
	}
	must("delete-function-concurrency", "--function-name", "hello")
	must("put-function-event-invoke-config", "--function-name", "hello", "--maximum-retry-attempts", "0")
	if c := must("get-function-event-invoke-config", "--function-name", "hello"); c["MaximumRetryAttempts"] != float64(0) {
		t.Errorf("get-function-event-invoke-config returned %v", c)
	}
	must("delete-function-event-invoke-config", "--function-name", "hello")
	if s := must("get-account-settings"); s["AccountLimit"].(map[string]any)["ConcurrentExecutions"] != float64(1000) {
		t.Errorf("get-account-settings returned %v", s)
	}
	must("delete-function", "--function-name", "hello")

	_, stderr, err := awsCLI(t, n, "get-function", "--function-name", "hello")
	if err == nil || !strings.Contains(stderr, "ResourceNotFoundException") {
		t.Errorf("get-function of a deleted function: err %v, stderr %s", err, stderr)
	}
	// (The CLI refuses a corrupt zip itself; a zip without bootstrap reaches the node.)
	corrupt := filepath.Join(dir, "nobootstrap.zip")
	noBootstrap, _ := zipFiles(map[string][]byte{"main": []byte("x")}, 0o755)
	os.WriteFile(corrupt, noBootstrap, 0o644)
	_, stderr, err = awsCLI(t, n, "create-function", "--function-name", "bad", "--runtime", "provided.al2023", "--handler", "bootstrap",
		"--zip-file", "fileb://"+corrupt, "--role", "arn:aws:iam::000000000000:role/x")
	if err == nil || !strings.Contains(stderr, "InvalidParameterValueException") || !strings.Contains(stderr, "bootstrap") {
		t.Errorf("create-function without bootstrap: err %v, stderr %s", err, stderr)
	}
}

func TestAWSCLI_VersionsAliasesLayers(t *testing.T) {
	needAWSCLI(t)
	n := startNode(t, nil)
	dir := t.TempDir()
	zipPath, layerPath := filepath.Join(dir, "fn.zip"), filepath.Join(dir, "layer.zip")
	layerZip, _ := zipFiles(map[string][]byte{"bin/tool": []byte("#!/bin/sh\n")}, 0o755)
	os.WriteFile(zipPath, fnZip, 0o644)
	os.WriteFile(layerPath, layerZip, 0o644)
	must := func(args ...string) map[string]any {
		t.Helper()
		m, stderr, err := awsCLI(t, n, args...)
		if err != nil {
			t.Fatalf("aws lambda %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return m
	}
	layer := must("publish-layer-version", "--layer-name", "tools", "--zip-file", "fileb://"+layerPath, "--compatible-runtimes", "provided.al2023")
	if layer["Version"] != float64(1) {
		t.Errorf("publish-layer-version returned %v", layer)
	}
	if l := must("list-layers"); len(l["Layers"].([]any)) != 1 {
		t.Errorf("list-layers returned %v", l)
	}
	must("create-function", "--function-name", "cli", "--runtime", "provided.al2023", "--handler", "bootstrap",
		"--zip-file", "fileb://"+zipPath, "--role", "arn:aws:iam::000000000000:role/x", "--layers", layer["LayerVersionArn"].(string))
	if v := must("publish-version", "--function-name", "cli", "--description", "one"); v["Version"] != "1" {
		t.Errorf("publish-version returned %v", v)
	}
	if l := must("list-versions-by-function", "--function-name", "cli"); len(l["Versions"].([]any)) != 2 {
		t.Errorf("list-versions-by-function returned %v", l)
	}
	if a := must("create-alias", "--function-name", "cli", "--name", "live", "--function-version", "1"); a["AliasArn"] != "arn:aws:lambda:us-east-1:000000000000:function:cli:live" {
		t.Errorf("create-alias returned %v", a)
	}
	outFile := filepath.Join(dir, "out.json")
	if inv := must("invoke", "--function-name", "cli", "--qualifier", "live", outFile); inv["ExecutedVersion"] != "1" {
		t.Errorf("invoke --qualifier live returned %v", inv)
	}
	must("put-provisioned-concurrency-config", "--function-name", "cli", "--qualifier", "live", "--provisioned-concurrent-executions", "1")
	eventually(t, 20*time.Second, "provisioned concurrency READY", func() bool {
		c, _, err := awsCLI(t, n, "get-provisioned-concurrency-config", "--function-name", "cli", "--qualifier", "live")
		return err == nil && c["Status"] == "READY"
	})
	if l := must("list-aliases", "--function-name", "cli"); len(l["Aliases"].([]any)) != 1 {
		t.Errorf("list-aliases returned %v", l)
	}
	_, stderr, err := awsCLI(t, n, "update-alias", "--function-name", "cli", "--name", "live", "--routing-config", "AdditionalVersionWeights={1=0.5}")
	if err == nil || !strings.Contains(stderr, "InvalidParameterValueException") {
		t.Errorf("update-alias routing to its own version: err %v, stderr %s", err, stderr)
	}
	must("delete-provisioned-concurrency-config", "--function-name", "cli", "--qualifier", "live")
	must("delete-alias", "--function-name", "cli", "--name", "live")
	must("delete-function", "--function-name", "cli", "--qualifier", "1")
	must("delete-layer-version", "--layer-name", "tools", "--version-number", "1")
}
