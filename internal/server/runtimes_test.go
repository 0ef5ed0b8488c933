package server_test

import (
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

func TestInvoke_PythonAndNode(t *testing.T) {
	for _, sb := range []string{server.SandboxProcess, server.SandboxLinux} {
		t.Run(sb, func(t *testing.T) {
			if sb == server.SandboxLinux {
				skipWithoutLinuxSandbox(t)
			}
			testPythonAndNode(t, startNode(t, func(c *server.Config) { c.Sandbox = sb }))
		})
	}
}

func testPythonAndNode(t *testing.T, n *node) {
	pyZip, _ := zipFiles(map[string][]byte{"app.py": []byte(`import os
calls = 0
def handler(event, context):
    global calls
    calls += 1
    print("python saw", event["name"])
    if event.get("fail"):
        raise ValueError("bad input")
    return {"hello": event["name"], "fn": context.function_name, "calls": calls,
            "endpoint": os.environ["AWS_ENDPOINT_URL"], "remaining": context.get_remaining_time_in_millis() > 0}
`)}, 0o644)
	nodeZip, _ := zipFiles(map[string][]byte{"index.mjs": []byte(`let calls = 0;
export const handler = async (event, context) => {
  calls++;
  console.log("node saw", event.name);
  if (event.fail) throw new TypeError("bad input");
  return { hello: event.name, fn: context.functionName, calls, endpoint: process.env.AWS_ENDPOINT_URL, remaining: context.getRemainingTimeInMillis() > 0 };
};
`)}, 0o644)
	tests := []struct {
		name, runtime, handler, bin, errType string
		zip                                  []byte
	}{
		{"py", "python3.12", "app.handler", "python3", "ValueError", pyZip},
		{"js", "nodejs22.x", "index.handler", "node", "TypeError", nodeZip},
	}
	for _, tt := range tests {
		t.Run(tt.runtime, func(t *testing.T) {
			if _, err := exec.LookPath(tt.bin); err != nil {
				t.Skipf("%s is not installed", tt.bin)
			}
			n.create(tt.name, func(in *lambda.CreateFunctionInput) {
				in.Runtime = types.Runtime(tt.runtime)
				in.Handler = aws.String(tt.handler)
				in.Code.ZipFile = tt.zip
			})
			out := n.invoke(tt.name, map[string]string{"name": "updraft"}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
			res := decodeResult(t, out.Payload)
			if out.FunctionError != nil || res["hello"] != "updraft" || res["fn"] != tt.name || res["endpoint"] != n.url || res["remaining"] != true {
				t.Errorf("got %s %v", aws.ToString(out.FunctionError), res)
			}
			logText, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
			if !strings.Contains(string(logText), "saw updraft") {
				t.Errorf("log tail lacks the function's output:\n%s", logText)
			}
			again := decodeResult(t, n.invoke(tt.name, map[string]string{"name": "again"}).Payload)
			if again["calls"] != float64(2) {
				t.Errorf("got calls %v, want 2 (warm)", again["calls"])
			}
			failed := n.invoke(tt.name, map[string]any{"name": "x", "fail": true})
			body := decodeResult(t, failed.Payload)
			if aws.ToString(failed.FunctionError) != "Unhandled" || body["errorType"] != tt.errType || body["errorMessage"] != "bad input" {
				t.Errorf("got %s %v, want Unhandled %s 'bad input'", aws.ToString(failed.FunctionError), body, tt.errType)
			}
		})
	}
	// A Python function whose module is missing fails at init with AWS's error.
	if _, err := exec.LookPath("python3"); err == nil {
		n.create("py-missing", func(in *lambda.CreateFunctionInput) {
			in.Runtime = types.RuntimePython312
			in.Handler = aws.String("nothere.handler")
			in.Code.ZipFile = pyZip
		})
		out := n.invoke("py-missing", map[string]string{})
		body := decodeResult(t, out.Payload)
		if body["errorType"] != "Runtime.ImportModuleError" || !strings.Contains(body["errorMessage"].(string), "Unable to import module 'nothere'") {
			t.Errorf("got %v, want Runtime.ImportModuleError", body)
		}
	}
}
