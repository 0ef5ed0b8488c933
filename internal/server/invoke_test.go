package server_test

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/server"
)

func TestInvoke_GoFunction(t *testing.T) {
	n := startNode(t, nil)
	fn := n.create("echo", nil)

	out := n.invoke("echo", map[string]string{"action": "echo", "message": "hi"}, func(in *lambda.InvokeInput) {
		in.LogType = types.LogTypeTail
	})
	if out.StatusCode != 200 || out.FunctionError != nil {
		t.Fatalf("got status %d error %v, want 200 and none", out.StatusCode, aws.ToString(out.FunctionError))
	}
	if got := aws.ToString(out.ExecutedVersion); got != "$LATEST" {
		t.Errorf("got executed version %q, want $LATEST", got)
	}
	res := decodeResult(t, out.Payload)
	if res["message"] != "hi" {
		t.Errorf("got message %v, want hi", res["message"])
	}
	if res["functionArn"] != aws.ToString(fn.FunctionArn) {
		t.Errorf("got function ARN %v, want %s", res["functionArn"], aws.ToString(fn.FunctionArn))
	}
	if ms := res["remainingMs"].(float64); ms <= 0 || ms > 3000 {
		t.Errorf("got remaining time %v ms, want within the 3 s timeout", ms)
	}
	logText, err := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if err != nil {
		t.Fatalf("decode log result: %v", err)
	}
	id := res["requestId"].(string)
	for _, want := range []string{"START RequestId: " + id + " Version: $LATEST", "END RequestId: " + id, "REPORT RequestId: " + id, "Duration:", "Billed Duration:", "Memory Size: 128 MB", "Max Memory Used:", "Init Duration:"} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("log tail lacks %q:\n%s", want, logText)
		}
	}

	// A second invocation is warm: same process, no Init Duration.
	out2 := n.invoke("echo", map[string]string{"action": "echo"}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
	res2 := decodeResult(t, out2.Payload)
	if res2["pid"] != res["pid"] || res2["invocations"].(float64) != 2 {
		t.Errorf("got pid %v invocation %v, want warm reuse of pid %v as invocation 2", res2["pid"], res2["invocations"], res["pid"])
	}
	logText2, _ := base64.StdEncoding.DecodeString(aws.ToString(out2.LogResult))
	if strings.Contains(string(logText2), "Init Duration") {
		t.Errorf("warm invocation reports an Init Duration:\n%s", logText2)
	}
}

func TestInvoke_LogTailHoldsFunctionOutput(t *testing.T) {
	n := startNode(t, nil)
	n.create("logger", nil)
	out := n.invoke("logger", map[string]any{"action": "log", "lines": 3, "message": "tail-test"}, func(in *lambda.InvokeInput) {
		in.LogType = types.LogTypeTail
	})
	logText, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	for i := 0; i < 3; i++ {
		if want := "line " + string(rune('0'+i)) + " of tail-test"; !strings.Contains(string(logText), want) {
			t.Errorf("log tail lacks %q:\n%s", want, logText)
		}
	}
	// Lines come before END.
	if strings.Index(string(logText), "line 2 of tail-test") > strings.Index(string(logText), "END RequestId") {
		t.Errorf("function output after END:\n%s", logText)
	}
	// More than 4 KB of output: only the last 4 KB come back.
	out = n.invoke("logger", map[string]any{"action": "log", "lines": 500, "message": "bulk"}, func(in *lambda.InvokeInput) {
		in.LogType = types.LogTypeTail
	})
	logText, _ = base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if len(logText) != 4096 || !strings.Contains(string(logText), "REPORT RequestId") {
		t.Errorf("got %d bytes of tail ending %q, want the last 4096 bytes with REPORT", len(logText), logText[max(0, len(logText)-80):])
	}
}

func TestInvoke_Environment(t *testing.T) {
	n := startNode(t, nil)
	n.create("envfn", func(in *lambda.CreateFunctionInput) {
		in.MemorySize = aws.Int32(256)
		in.Environment = &types.Environment{Variables: map[string]string{"GREETING": "hello"}}
	})
	out := n.invoke("envfn", map[string]string{"action": "env"})
	env := decodeResult(t, out.Payload)["env"].(map[string]any)
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "envfn",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/envfn",
		"AWS_REGION":                      "us-east-1",
		"AWS_DEFAULT_REGION":              "us-east-1",
		"_HANDLER":                        "bootstrap",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"AWS_ENDPOINT_URL":                n.url,
		"GREETING":                        "hello",
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("got %s=%v, want %q", k, env[k], v)
		}
	}
	for _, k := range []string{"AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if env[k] == nil || env[k] == "" {
			t.Errorf("%s is not set", k)
		}
	}
	if _, ok := env["UPDRAFT_DATA_DIR"]; ok {
		t.Errorf("the node's own environment leaks into the function")
	}
}

func TestInvoke_ClientContext(t *testing.T) {
	n := startNode(t, nil)
	n.create("ctx", nil)
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"team":"blue"}}`))
	out := n.invoke("ctx", map[string]string{"action": "client"}, func(in *lambda.InvokeInput) { in.ClientContext = aws.String(cc) })
	client := decodeResult(t, out.Payload)["client"].(map[string]any)
	if client["team"] != "blue" {
		t.Errorf("got client context %v, want team=blue", client)
	}
}

func TestInvoke_FunctionError(t *testing.T) {
	n := startNode(t, nil)
	n.create("failing", nil)
	out := n.invoke("failing", map[string]string{"action": "error", "message": "boom"})
	if got := aws.ToString(out.FunctionError); got != "Unhandled" {
		t.Fatalf("got function error %q, want Unhandled", got)
	}
	var body struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(out.Payload, &body); err != nil {
		t.Fatalf("decode error body %q: %v", out.Payload, err)
	}
	if body.ErrorMessage != "boom" || body.ErrorType != "errorString" {
		t.Errorf("got %+v, want errorMessage boom, errorType errorString", body)
	}
	// The environment survives a handled error.
	ok := n.invoke("failing", map[string]string{"action": "echo"})
	if ok.FunctionError != nil {
		t.Errorf("invocation after an error failed: %s", ok.Payload)
	}

	out = n.invoke("failing", map[string]string{"action": "panic", "message": "oh no"})
	if aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), "oh no") || !strings.Contains(string(out.Payload), "stackTrace") {
		t.Errorf("got %s %s, want Unhandled with the panic message and a stack trace", aws.ToString(out.FunctionError), out.Payload)
	}
}

func TestInvoke_Timeout(t *testing.T) {
	n := startNode(t, nil)
	n.create("slow", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(1) })
	first := decodeResult(t, n.invoke("slow", map[string]string{"action": "echo"}).Payload)
	start := time.Now()
	out := n.invoke("slow", map[string]any{"action": "sleep", "sleepMs": 5000}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("timed-out invocation took %v, want about 1 s", took)
	}
	if aws.ToString(out.FunctionError) != "Unhandled" {
		t.Fatalf("got function error %q, want Unhandled", aws.ToString(out.FunctionError))
	}
	body := decodeResult(t, out.Payload)
	if body["errorType"] != "Sandbox.Timedout" || !strings.Contains(body["errorMessage"].(string), "Task timed out after 1.00 seconds") {
		t.Errorf("got %v, want Sandbox.Timedout and 'Task timed out after 1.00 seconds'", body)
	}
	logText, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(logText), "Task timed out after 1.00 seconds") || !strings.Contains(string(logText), "Status: timeout") {
		t.Errorf("log tail lacks the timeout:\n%s", logText)
	}
	// The timed-out environment is gone; the next invocation gets a new one.
	pid := int(first["pid"].(float64))
	if err := syscall.Kill(pid, 0); err == nil {
		t.Errorf("process %d of the timed-out environment still runs", pid)
	}
	next := decodeResult(t, n.invoke("slow", map[string]string{"action": "echo"}).Payload)
	if next["pid"] == first["pid"] {
		t.Errorf("got the timed-out environment back")
	}
}

func TestInvoke_Crash(t *testing.T) {
	n := startNode(t, nil)
	n.create("crash", nil)
	out := n.invoke("crash", map[string]any{"action": "exit", "code": 3})
	body := decodeResult(t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || body["errorType"] != "Runtime.ExitError" ||
		!strings.Contains(body["errorMessage"].(string), "Runtime exited with error: exit status 3") {
		t.Errorf("got %s %v, want Unhandled Runtime.ExitError 'exit status 3'", aws.ToString(out.FunctionError), body)
	}
	if again := n.invoke("crash", map[string]string{"action": "echo"}); again.FunctionError != nil {
		t.Errorf("invocation after a crash failed: %s", again.Payload)
	}
}

func TestInvoke_InitFailure(t *testing.T) {
	n := startNode(t, nil)
	// A bootstrap that exits before it ever asks for work.
	zip, err := zipFiles(map[string][]byte{"bootstrap": []byte("#!/bin/sh\necho init went wrong >&2\nexit 7\n")}, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	n.create("badinit", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = zip })
	out := n.invoke("badinit", map[string]string{}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
	body := decodeResult(t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || body["errorType"] != "Runtime.ExitError" || !strings.Contains(body["errorMessage"].(string), "exit status 7") {
		t.Errorf("got %s %v, want Unhandled Runtime.ExitError with exit status 7", aws.ToString(out.FunctionError), body)
	}
	logText, _ := base64.StdEncoding.DecodeString(aws.ToString(out.LogResult))
	if !strings.Contains(string(logText), "init went wrong") {
		t.Errorf("log tail lacks the init output:\n%s", logText)
	}
}

func TestInvoke_ResponseTooLarge(t *testing.T) {
	n := startNode(t, nil)
	n.create("big", nil)
	out := n.invoke("big", map[string]any{"action": "big", "size": 7 << 20})
	body := decodeResult(t, out.Payload)
	if aws.ToString(out.FunctionError) != "Unhandled" || body["errorType"] != "Function.ResponseSizeTooLarge" {
		t.Errorf("got %s %v, want Unhandled Function.ResponseSizeTooLarge", aws.ToString(out.FunctionError), body)
	}
	ok := n.invoke("big", map[string]any{"action": "big", "size": 1 << 20})
	if ok.FunctionError != nil || len(ok.Payload) < 1<<20 {
		t.Errorf("1 MB response: got error %v and %d bytes", aws.ToString(ok.FunctionError), len(ok.Payload))
	}
}

func TestInvoke_ScaleOutAndToZero(t *testing.T) {
	n := startNode(t, func(c *server.Config) { c.IdleTimeout = 300 * time.Millisecond })
	n.create("scale", nil)
	const parallel = 6
	var wg sync.WaitGroup
	pids := make(chan any, parallel)
	for i := 0; i < parallel; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := n.tryInvoke("scale", map[string]any{"action": "sleep", "sleepMs": 500})
			if err != nil || out.FunctionError != nil {
				t.Errorf("invoke: %v", err)
				return
			}
			var r map[string]any
			_ = json.Unmarshal(out.Payload, &r)
			pids <- r["pid"]
		}()
	}
	wg.Wait()
	close(pids)
	seen := map[any]bool{}
	for p := range pids {
		seen[p] = true
	}
	if len(seen) != parallel {
		t.Errorf("got %d environments for %d concurrent invocations, want %d", len(seen), parallel, parallel)
	}
	eventually(t, 5*time.Second, "environments to scale to zero", func() bool {
		return n.status()["envs"].(float64) == 0
	})
	for p := range seen {
		if err := syscall.Kill(int(p.(float64)), 0); err == nil {
			t.Errorf("process %v of a reaped environment still runs", p)
		}
	}
}

func TestServer_StopLeavesNoProcess(t *testing.T) {
	n := startNode(t, nil)
	n.create("orphan", nil)
	var pids []int
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := n.invoke("orphan", map[string]any{"action": "sleep", "sleepMs": 200})
			mu.Lock()
			pids = append(pids, int(decodeResult(t, out.Payload)["pid"].(float64)))
			mu.Unlock()
		}()
	}
	wg.Wait()
	// One invocation still running when the node stops.
	go func() { _, _ = n.tryInvoke("orphan", map[string]any{"action": "sleep", "sleepMs": 2500}) }()
	eventually(t, 2*time.Second, "a busy environment", func() bool { return n.status()["busyEnvs"].(float64) >= 1 })
	n.stop()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("process %d survived the node", pid)
		}
	}
	if procs := childProcesses(t); len(procs) > 0 {
		t.Errorf("child processes survived the node: %v", procs)
	}
}

// childProcesses lists this test process's children (environments are
// children of the node, which runs in-process).
func childProcesses(t *testing.T) []string {
	t.Helper()
	me := os.Getpid()
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == itoa(me) && fields[0] != "Z" {
			out = append(out, e.Name()+" "+s[:i+1])
		}
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }
