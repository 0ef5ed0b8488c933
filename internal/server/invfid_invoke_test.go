package server_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

// createPython makes a python3.12 function from one source file, app.py,
// with handler app.handler; it skips the test without python3.
func (n *node) createPython(name, src string, adjust func(*lambda.CreateFunctionInput)) {
	n.t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		n.t.Skip("python3 is not installed")
	}
	zip, err := zipFiles(map[string][]byte{"app.py": []byte(src)}, 0o644)
	if err != nil {
		n.t.Fatal(err)
	}
	n.create(name, func(in *lambda.CreateFunctionInput) {
		in.Runtime = types.RuntimePython312
		in.Handler = aws.String("app.handler")
		in.Code.ZipFile = zip
		if adjust != nil {
			adjust(in)
		}
	})
}

// An unqualified Invoke of a missing function names $LATEST, as the
// AWS-recorded answer does; a qualified one names its qualifier.
func TestInvfid_InvokeMissingFunction(t *testing.T) {
	n := startNode(t, nil)
	ctx := context.Background()
	const arn = "arn:aws:lambda:us-east-1:000000000000:function:"
	tests := []struct {
		name string
		in   *lambda.InvokeInput
		want string
	}{
		{"unqualified", &lambda.InvokeInput{FunctionName: aws.String("doesnotexist")}, arn + "doesnotexist:$LATEST"},
		{"event", &lambda.InvokeInput{FunctionName: aws.String("doesnotexist"), InvocationType: types.InvocationTypeEvent}, arn + "doesnotexist:$LATEST"},
		{"dry run", &lambda.InvokeInput{FunctionName: aws.String("doesnotexist"), InvocationType: types.InvocationTypeDryRun}, arn + "doesnotexist:$LATEST"},
		{"version", &lambda.InvokeInput{FunctionName: aws.String("doesnotexist"), Qualifier: aws.String("3")}, arn + "doesnotexist:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := n.lambda.Invoke(ctx, tt.in)
			var nf *types.ResourceNotFoundException
			if !errors.As(err, &nf) {
				t.Fatalf("got %v, want ResourceNotFoundException", err)
			}
			if got, want := aws.ToString(nf.Message), "Function not found: "+tt.want; got != want {
				t.Errorf("got message %q, want %q", got, want)
			}
		})
	}
}

// The Python context's memory_limit_in_mb is a string, as the AWS-recorded
// answer of a function returning its context shows ("128").
func TestInvfid_PythonContextMemoryIsString(t *testing.T) {
	n := startNode(t, nil)
	n.createPython("ctx", `def handler(event, context):
    return {"memory_limit_in_mb": context.memory_limit_in_mb, "function_version": context.function_version}
`, nil)
	got := decodeResult(t, n.invoke("ctx", map[string]any{}).Payload)
	if got["memory_limit_in_mb"] != "128" || got["function_version"] != "$LATEST" {
		t.Errorf("got context %v, want memory_limit_in_mb \"128\", function_version $LATEST", got)
	}
}

// An INIT phase that outlasts the init timeout is run again within the
// invocation, bounded by the function's timeout; when that runs out too the
// answer is the AWS-recorded one for a runtime that never starts:
// Sandbox.Timedout "RequestId: … Error: Task timed out after 1.00 seconds".
func TestInvfid_InitTimeoutIsTaskTimeout(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.InitTimeout = 300 * time.Millisecond })
	n.createPython("stuck", `import time
print("initialising", flush=True)
time.sleep(60)
def handler(event, context):
    return "never"
`, func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(1) })
	start := time.Now()
	out := n.invoke("stuck", map[string]any{}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
	took := time.Since(start)
	got := decodeResult(t, out.Payload)
	want := regexp.MustCompile(`^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$`)
	msg, _ := got["errorMessage"].(string)
	if aws.ToString(out.FunctionError) != "Unhandled" || got["errorType"] != "Sandbox.Timedout" || !want.MatchString(msg) || len(got) != 2 {
		t.Errorf("got %s %v, want Unhandled Sandbox.Timedout matching %v", aws.ToString(out.FunctionError), got, want)
	}
	if took < 1300*time.Millisecond {
		t.Errorf("answered after %v, want the init timeout (300ms) and then the function timeout (1s)", took)
	}
	logs, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(logs), "initialising") || !strings.Contains(string(logs), "Status: timeout") {
		t.Errorf("log tail lacks the init output or the timeout status:\n%s", logs)
	}
}

// The environment has the shell variables and library path of the
// AWS-recorded environment of a Python function: PWD is the task root,
// SHLVL 0, and LD_LIBRARY_PATH holds the task root and its lib directory.
func TestInvfid_EnvironmentShellVariables(t *testing.T) {
	n := startNode(t, nil)
	n.createPython("env", `import os
def handler(event, context):
    return {"PWD": os.environ.get("PWD"), "SHLVL": os.environ.get("SHLVL"), "LD_LIBRARY_PATH": os.environ.get("LD_LIBRARY_PATH"),
            "LAMBDA_TASK_ROOT": os.environ.get("LAMBDA_TASK_ROOT"), "cwd": os.getcwd()}
`, nil)
	got := decodeResult(t, n.invoke("env", map[string]any{}).Payload)
	root, _ := got["LAMBDA_TASK_ROOT"].(string)
	if root == "" || got["PWD"] != root || got["cwd"] != root || got["SHLVL"] != "0" {
		t.Errorf("got %v, want PWD and the working directory the task root, SHLVL 0", got)
	}
	if lib, _ := got["LD_LIBRARY_PATH"].(string); !strings.Contains(":"+lib+":", ":"+root+":"+root+"/lib:") {
		t.Errorf("got LD_LIBRARY_PATH %q, want it to hold %s:%s/lib", lib, root, root)
	}
}

// A Python handler's error is logged as one entry whose lines are
// separated by '\n', with the traceback's indentation in no-break
// spaces, as in the AWS-recorded log event; the tail shows it the same.
func TestInvfid_ErrorLogEntryLines(t *testing.T) {
	n := startNode(t, nil)
	n.createPython("errlog", `class CustomException(Exception):
    pass

def handler(event, context):
    raise CustomException("some error occurred")
`, nil)
	out := n.invoke("errlog", map[string]any{}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	want := "[ERROR] CustomException: some error occurred\nTraceback (most recent call last):\n\u00a0\u00a0File \""
	if !strings.Contains(string(tail), want) || strings.Contains(string(tail), "\r") {
		t.Errorf("log tail lacks %q, or holds a carriage return:\n%q", want, tail)
	}
}
