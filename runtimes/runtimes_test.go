package runtimes

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// waitMax bounds every wait on a runtime process; a healthy one answers in
// milliseconds.
const waitMax = 10 * time.Second

// language is one runtime client and the interpreter that runs it.
type language struct {
	interpreter string
	file        string
	source      []byte
}

var (
	python = language{interpreter: "python3", file: "bootstrap.py", source: Python}
	node   = language{interpreter: "node", file: "bootstrap.mjs", source: Node}
)

// invocation is one event the test Runtime API hands out on /next.
type invocation struct {
	RequestID       string
	Payload         string
	Deadline        time.Time
	ClientContext   string
	CognitoIdentity string
	TenantID        string
	TraceID         string
}

// result is one POST the runtime made.
type result struct {
	Path      string // "response", "error" or "init/error"
	RequestID string
	ErrorType string // the Lambda-Runtime-Function-Error-Type header
	Body      []byte
}

// runtimeAPI implements the Lambda Runtime API (2018-06-01) for one runtime
// process: /next hands out the invocations sent on events, and every POST
// lands on results.
type runtimeAPI struct {
	srv     *httptest.Server
	events  chan invocation
	results chan result
	stop    chan struct{}
	conns   atomic.Int32 // connections the runtime opened
}

func newRuntimeAPI(t testing.TB) *runtimeAPI {
	a := &runtimeAPI{
		events:  make(chan invocation),
		results: make(chan result, 16),
		stop:    make(chan struct{}),
	}
	mux := http.NewServeMux()
	const prefix = "/2018-06-01/runtime"
	mux.HandleFunc("GET "+prefix+"/invocation/next", a.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", a.post("response"))
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", a.post("error"))
	mux.HandleFunc("POST "+prefix+"/init/error", a.post("init/error"))
	a.srv = httptest.NewUnstartedServer(mux)
	a.srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			a.conns.Add(1)
		}
	}
	a.srv.Start()
	t.Cleanup(func() {
		close(a.stop)
		a.srv.Close()
	})
	return a
}

func (a *runtimeAPI) address() string { return strings.TrimPrefix(a.srv.URL, "http://") }

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	var inv invocation
	select {
	case inv = <-a.events:
	case <-a.stop:
		http.Error(w, "shutting down", http.StatusGone)
		return
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.RequestID)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:greeter")
	for name, v := range map[string]string{
		"Lambda-Runtime-Trace-Id":         inv.TraceID,
		"Lambda-Runtime-Client-Context":   inv.ClientContext,
		"Lambda-Runtime-Cognito-Identity": inv.CognitoIdentity,
		"Lambda-Runtime-Aws-Tenant-Id":    inv.TenantID,
	} {
		if v != "" {
			h.Set(name, v)
		}
	}
	h.Set("Content-Type", "application/json")
	io.WriteString(w, inv.Payload)
}

func (a *runtimeAPI) post(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a.results <- result{
			Path:      path,
			RequestID: r.PathValue("id"),
			ErrorType: r.Header.Get("Lambda-Runtime-Function-Error-Type"),
			Body:      body,
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"status":"OK"}`)
	}
}

// lines collects a process's output and lets a test wait for a line.
type lines struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced on every write
}

func newLines() *lines { return &lines{changed: make(chan struct{})} }

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// waitFor returns the first complete line matching re.
func (l *lines) waitFor(t testing.TB, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(waitMax)
	for {
		l.mu.Lock()
		text, changed := l.buf.String(), l.changed
		l.mu.Unlock()
		for _, line := range strings.SplitAfter(text, "\n") {
			if strings.HasSuffix(line, "\n") && re.MatchString(strings.TrimSuffix(line, "\n")) {
				return strings.TrimSuffix(line, "\n")
			}
		}
		select {
		case <-changed:
		case <-timeout:
			t.Fatalf("no output line matches %q; output:\n%s", re, text)
		}
	}
}

// proc is a runtime client running as a real child process.
type proc struct {
	api    *runtimeAPI
	stdout *lines
	stderr *lines
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // from cmd.Wait, once exited is closed
}

// start writes lang's client and the given code files to temporary
// directories and runs the client against a fresh test Runtime API, the way
// the platform does: cwd and LAMBDA_TASK_ROOT are the code directory. env
// adds environment variables ("NAME=value").
func start(t testing.TB, lang language, handler string, files map[string]string, env ...string) *proc {
	t.Helper()
	interp, err := exec.LookPath(lang.interpreter)
	if err != nil {
		t.Skipf("%s not on PATH", lang.interpreter)
	}
	api := newRuntimeAPI(t)
	bootstrap := filepath.Join(t.TempDir(), lang.file)
	if err := os.WriteFile(bootstrap, lang.source, 0o644); err != nil {
		t.Fatal(err)
	}
	code := t.TempDir()
	for name, text := range files {
		file := filepath.Join(code, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	p := &proc{api: api, stdout: newLines(), stderr: newLines(), exited: make(chan struct{})}
	p.cmd = exec.Command(interp, bootstrap)
	p.cmd.Dir = code
	p.cmd.Env = append(os.Environ(),
		"AWS_LAMBDA_RUNTIME_API="+api.address(),
		"_HANDLER="+handler,
		"LAMBDA_TASK_ROOT="+code,
		"AWS_LAMBDA_FUNCTION_NAME=greeter",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/greeter",
		"AWS_LAMBDA_LOG_STREAM_NAME=2025/01/01/[$LATEST]0123456789abcdef",
		"PYTHONDONTWRITEBYTECODE=1",
	)
	p.cmd.Env = append(p.cmd.Env, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() { p.terminate(t) })
	return p
}

// terminate sends SIGTERM to a process still running and checks that it
// exits with status 0.
func (p *proc) terminate(t testing.TB) {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil && !t.Failed() {
			t.Errorf("exit on SIGTERM: %v; stderr:\n%s", p.err, p.stderr)
		}
	case <-time.After(waitMax):
		p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("process ignored SIGTERM")
	}
}

// wait returns the next POST the runtime makes.
func (p *proc) wait(t testing.TB) result {
	t.Helper()
	select {
	case r := <-p.api.results:
		return r
	case <-p.exited:
		select {
		case r := <-p.api.results:
			return r
		default:
		}
		t.Fatalf("runtime exited (%v); stdout:\n%s\nstderr:\n%s", p.err, p.stdout, p.stderr)
	case <-time.After(waitMax):
		t.Fatalf("no result from runtime; stdout:\n%s\nstderr:\n%s", p.stdout, p.stderr)
	}
	panic("unreachable")
}

// invoke hands the runtime one invocation and returns what it posted.
func (p *proc) invoke(t testing.TB, inv invocation) result {
	t.Helper()
	if inv.RequestID == "" {
		inv.RequestID = newRequestID()
	}
	if inv.Deadline.IsZero() {
		inv.Deadline = time.Now().Add(time.Minute)
	}
	if inv.Payload == "" {
		inv.Payload = "{}"
	}
	select {
	case p.api.events <- inv:
	case <-p.exited:
		t.Fatalf("runtime exited (%v); stdout:\n%s\nstderr:\n%s", p.err, p.stdout, p.stderr)
	case <-time.After(waitMax):
		t.Fatalf("runtime never asked for an invocation; stderr:\n%s", p.stderr)
	}
	r := p.wait(t)
	if r.Path != "init/error" && r.RequestID != inv.RequestID {
		t.Fatalf("posted for request %q, want %q", r.RequestID, inv.RequestID)
	}
	return r
}

// initError waits for the runtime to report an init error and exit non-zero.
func (p *proc) initError(t testing.TB) result {
	t.Helper()
	r := p.wait(t)
	if r.Path != "init/error" {
		t.Fatalf("posted to %s, want init/error: %s", r.Path, r.Body)
	}
	select {
	case <-p.exited:
		var exit *exec.ExitError
		if !errors.As(p.err, &exit) {
			t.Errorf("exit after init error: %v, want a non-zero status", p.err)
		}
	case <-time.After(waitMax):
		t.Errorf("runtime kept running after its init error")
	}
	return r
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// decode unmarshals a result body, failing the test on a runtime error.
func decode[T any](t testing.TB, r result, path string) T {
	t.Helper()
	if r.Path != path {
		t.Fatalf("posted to %s (%s), want %s: %s", r.Path, r.ErrorType, path, r.Body)
	}
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return v
}

// pythonError and nodeError are the error payloads of AWS's managed
// runtimes; Node's calls its stack "trace".
type pythonError struct {
	ErrorMessage string   `json:"errorMessage"`
	ErrorType    string   `json:"errorType"`
	RequestID    string   `json:"requestId"`
	StackTrace   []string `json:"stackTrace"`
}

type nodeError struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	Trace        []string `json:"trace"`
}

const pythonApp = `import logging
import os

logger = logging.getLogger()
logger.setLevel(logging.INFO)
calls = 0


def handler(event, context):
    global calls
    calls += 1
    print("hello from print", event.get("name", "world"))
    logger.info("hello from logging")
    return {"greeting": "hello " + event.get("name", "world"), "calls": calls, "pid": os.getpid()}


def context_fields(event, context):
    cc = context.client_context
    return {
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "custom": cc.custom,
        "app_title": cc.client.app_title,
        "cognito_identity_id": context.identity.cognito_identity_id,
        "tenant_id": context.tenant_id,
        "trace_id": os.environ.get("_X_AMZN_TRACE_ID"),
    }


def fail(event, context):
    raise ValueError("boom")


def unserialisable(event, context):
    return {"x": object()}
`

func TestPython_Invoke(t *testing.T) {
	t.Parallel()
	p := start(t, python, "app.handler", map[string]string{"app.py": pythonApp})

	type greeting struct {
		Greeting string `json:"greeting"`
		Calls    int    `json:"calls"`
		PID      int    `json:"pid"`
	}
	id := newRequestID()
	first := decode[greeting](t, p.invoke(t, invocation{RequestID: id, Payload: `{"name":"alice"}`}), "response")
	if first.Greeting != "hello alice" || first.Calls != 1 {
		t.Errorf("first invoke = %+v, want greeting %q, calls 1", first, "hello alice")
	}
	p.stdout.waitFor(t, regexp.MustCompile(`^hello from print alice$`))
	p.stdout.waitFor(t, regexp.MustCompile(`^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\t`+id+`\thello from logging$`))

	second := decode[greeting](t, p.invoke(t, invocation{}), "response")
	if second.Greeting != "hello world" || second.Calls != 2 || second.PID != first.PID {
		t.Errorf("second invoke = %+v, want greeting %q, calls 2, pid %d (warm)", second, "hello world", first.PID)
	}
	if n := p.api.conns.Load(); n != 1 {
		t.Errorf("runtime opened %d connections, want 1 kept alive", n)
	}
}

func TestPython_Context(t *testing.T) {
	t.Parallel()
	p := start(t, python, "app.context_fields", map[string]string{"app.py": pythonApp})
	id := newRequestID()
	got := decode[map[string]any](t, p.invoke(t, invocation{
		RequestID:       id,
		ClientContext:   `{"custom":{"k":"v"},"client":{"app_title":"demo"},"env":{}}`,
		CognitoIdentity: `{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"pool"}`,
		TenantID:        "tenant-1",
		TraceID:         "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
	}), "response")

	want := map[string]any{
		"function_name":        "greeter",
		"function_version":     "$LATEST",
		"invoked_function_arn": "arn:aws:lambda:us-east-1:000000000000:function:greeter",
		"memory_limit_in_mb":   "256", // a string in AWS's runtime too
		"aws_request_id":       id,
		"log_group_name":       "/aws/lambda/greeter",
		"log_stream_name":      "2025/01/01/[$LATEST]0123456789abcdef",
		"app_title":            "demo",
		"cognito_identity_id":  "us-east-1:abc",
		"tenant_id":            "tenant-1",
		"trace_id":             "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context %s = %#v, want %#v", k, got[k], v)
		}
	}
	if custom, _ := got["custom"].(map[string]any); custom["k"] != "v" {
		t.Errorf("client_context.custom = %v, want {k: v}", got["custom"])
	}
	if ms, _ := got["remaining_ms"].(float64); ms <= 0 || ms > 60000 {
		t.Errorf("get_remaining_time_in_millis() = %v, want in (0, 60000]", got["remaining_ms"])
	}
}

func TestPython_HandlerError(t *testing.T) {
	t.Parallel()
	p := start(t, python, "app.fail", map[string]string{"app.py": pythonApp})
	id := newRequestID()
	r := p.invoke(t, invocation{RequestID: id})
	got := decode[pythonError](t, r, "error")
	if r.ErrorType != "ValueError" || got.ErrorType != "ValueError" || got.ErrorMessage != "boom" || got.RequestID != id {
		t.Errorf("error = %s %+v, want ValueError, boom, request %s", r.ErrorType, got, id)
	}
	if n := len(got.StackTrace); n == 0 || !regexp.MustCompile(`^  File ".*app\.py", line \d+, in fail\n    raise ValueError\("boom"\)\n$`).MatchString(got.StackTrace[n-1]) {
		t.Errorf("stackTrace = %q, want the user's frames ending in fail", got.StackTrace)
	}
	for _, frame := range got.StackTrace {
		if strings.Contains(frame, "bootstrap.py") {
			t.Errorf("stackTrace has a runtime frame: %q", frame)
		}
	}
	p.stdout.waitFor(t, regexp.MustCompile(`^\[ERROR\] ValueError: boom\rTraceback \(most recent call last\):\r`))

	// The runtime survives a handler error.
	if r := p.invoke(t, invocation{}); r.Path != "error" {
		t.Errorf("second invoke posted to %s, want error", r.Path)
	}
}

func TestPython_MarshalError(t *testing.T) {
	t.Parallel()
	p := start(t, python, "app.unserialisable", map[string]string{"app.py": pythonApp})
	got := decode[pythonError](t, p.invoke(t, invocation{}), "error")
	if got.ErrorType != "Runtime.MarshalError" || !strings.HasPrefix(got.ErrorMessage, "Unable to marshal response: ") {
		t.Errorf("error = %+v, want Runtime.MarshalError", got)
	}
}

func TestPython_NestedModule(t *testing.T) {
	t.Parallel()
	files := map[string]string{
		"pkg/__init__.py": "",
		"pkg/mod.py":      "def fn(event, context):\n    return __name__\n",
	}
	for _, handler := range []string{"pkg/mod.fn", "pkg.mod.fn"} {
		t.Run(handler, func(t *testing.T) {
			t.Parallel()
			p := start(t, python, handler, files)
			if got := decode[string](t, p.invoke(t, invocation{}), "response"); got != "pkg.mod" {
				t.Errorf("module = %q, want pkg.mod", got)
			}
		})
	}
}

func TestPython_InitError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		handler     string
		files       map[string]string
		wantType    string
		wantMessage string // a regexp
	}{
		{"missing module", "nope.handler", nil,
			"Runtime.ImportModuleError", `^Unable to import module 'nope': No module named 'nope'$`},
		{"missing handler", "app.missing", map[string]string{"app.py": pythonApp},
			"Runtime.HandlerNotFound", `^Handler 'missing' missing on module 'app'$`},
		{"syntax error", "bad.handler", map[string]string{"bad.py": "def handler(:\n"},
			"Runtime.UserCodeSyntaxError", `^Syntax error in module 'bad': .*\(bad\.py, line 1\)$`},
		{"import raises", "boom.handler", map[string]string{"boom.py": "raise RuntimeError('at import')\n"},
			"RuntimeError", `^at import$`},
		{"missing dependency", "dep.handler", map[string]string{"dep.py": "import not_installed\n"},
			"Runtime.ImportModuleError", `^Unable to import module 'dep': No module named 'not_installed'$`},
		{"malformed handler", "app", map[string]string{"app.py": pythonApp},
			"Runtime.MalformedHandlerName", `^Bad handler 'app': `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, python, tt.handler, tt.files)
			r := p.initError(t)
			got := decode[pythonError](t, r, "init/error")
			if r.ErrorType != tt.wantType || got.ErrorType != tt.wantType {
				t.Errorf("error type = header %q, body %q, want %q", r.ErrorType, got.ErrorType, tt.wantType)
			}
			if !regexp.MustCompile(tt.wantMessage).MatchString(got.ErrorMessage) {
				t.Errorf("errorMessage = %q, want match for %q", got.ErrorMessage, tt.wantMessage)
			}
			p.stdout.waitFor(t, regexp.MustCompile(`^\[ERROR\] `+regexp.QuoteMeta(tt.wantType)+`: `))
		})
	}
}

const nodeESM = `let calls = 0;

export const handler = async (event, context) => {
  calls++;
  console.log("hello from console", event.name ?? "world");
  console.error("multi\nline");
  return { greeting: "hello " + (event.name ?? "world"), calls, pid: process.pid };
};

export const contextFields = async (event, context) => ({
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  awsRequestId: context.awsRequestId,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remainingMs: context.getRemainingTimeInMillis(),
  clientContext: context.clientContext,
  identity: context.identity,
  tenantId: context.tenantId,
  traceId: process.env._X_AMZN_TRACE_ID,
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  legacy: [typeof context.done, typeof context.succeed, typeof context.fail],
});

export const fail = async () => {
  throw new TypeError("boom");
};

export const bigint = async () => ({ n: 1n });

export const neverSettles = async () => new Promise(() => {});

export const nested = { deeper: { handler: async () => "nested" } };
`

const nodeCJS = `exports.waits = (event, context, callback) => {
  const result = { timerFired: false };
  setTimeout(() => {
    result.timerFired = true;
  }, 10);
  callback(null, result);
};

exports.noWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => {}, 10 * 60 * 1000);
  callback(null, "done early");
};

exports.callbackError = (event, context, callback) => callback("bad thing");

exports.succeed = (event, context) => context.succeed({ legacy: true });

exports.neverCalls = (event, context, callback) => {};
`

func TestNode_Invoke(t *testing.T) {
	t.Parallel()
	p := start(t, node, "index.handler", map[string]string{"index.mjs": nodeESM})

	type greeting struct {
		Greeting string `json:"greeting"`
		Calls    int    `json:"calls"`
		PID      int    `json:"pid"`
	}
	id := newRequestID()
	first := decode[greeting](t, p.invoke(t, invocation{RequestID: id, Payload: `{"name":"alice"}`}), "response")
	if first.Greeting != "hello alice" || first.Calls != 1 {
		t.Errorf("first invoke = %+v, want greeting %q, calls 1", first, "hello alice")
	}
	ts := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	p.stdout.waitFor(t, regexp.MustCompile(`^`+ts+`\t`+id+`\tINFO\thello from console alice$`))
	p.stdout.waitFor(t, regexp.MustCompile(`^`+ts+`\t`+id+`\tERROR\tmulti\rline$`))

	second := decode[greeting](t, p.invoke(t, invocation{}), "response")
	if second.Greeting != "hello world" || second.Calls != 2 || second.PID != first.PID {
		t.Errorf("second invoke = %+v, want greeting %q, calls 2, pid %d (warm)", second, "hello world", first.PID)
	}
	if n := p.api.conns.Load(); n != 1 {
		t.Errorf("runtime opened %d connections, want 1 kept alive", n)
	}
}

func TestNode_Context(t *testing.T) {
	t.Parallel()
	p := start(t, node, "index.contextFields", map[string]string{"index.mjs": nodeESM})
	id := newRequestID()
	got := decode[map[string]any](t, p.invoke(t, invocation{
		RequestID:       id,
		ClientContext:   `{"custom":{"k":"v"},"client":{"app_title":"demo"},"env":{}}`,
		CognitoIdentity: `{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"pool"}`,
		TenantID:        "tenant-1",
		TraceID:         "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
	}), "response")

	want := map[string]any{
		"functionName":                   "greeter",
		"functionVersion":                "$LATEST",
		"invokedFunctionArn":             "arn:aws:lambda:us-east-1:000000000000:function:greeter",
		"memoryLimitInMB":                "256",
		"awsRequestId":                   id,
		"logGroupName":                   "/aws/lambda/greeter",
		"logStreamName":                  "2025/01/01/[$LATEST]0123456789abcdef",
		"tenantId":                       "tenant-1",
		"traceId":                        "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1",
		"callbackWaitsForEmptyEventLoop": true,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("context.%s = %#v, want %#v", k, got[k], v)
		}
	}
	if cc, _ := got["clientContext"].(map[string]any); fmt.Sprint(cc["custom"]) != "map[k:v]" {
		t.Errorf("context.clientContext = %v, want custom {k: v}", got["clientContext"])
	}
	if identity, _ := got["identity"].(map[string]any); identity["cognitoIdentityId"] != "us-east-1:abc" {
		t.Errorf("context.identity = %v, want cognitoIdentityId us-east-1:abc", got["identity"])
	}
	if ms, _ := got["remainingMs"].(float64); ms <= 0 || ms > 60000 {
		t.Errorf("getRemainingTimeInMillis() = %v, want in (0, 60000]", got["remainingMs"])
	}
	if fmt.Sprint(got["legacy"]) != "[function function function]" {
		t.Errorf("context done/succeed/fail = %v, want functions", got["legacy"])
	}
}

func TestNode_Callback(t *testing.T) {
	t.Parallel()
	tests := []struct {
		handler string
		want    string // the response body
	}{
		// The response waits for the event loop to empty, so the timer's
		// change to the result is in it.
		{"index.waits", `{"timerFired":true}`},
		// Without waiting, a ten-minute timer does not hold the response.
		{"index.noWait", `"done early"`},
		{"index.succeed", `{"legacy":true}`},
		// A callback handler that never calls back succeeds with null once
		// the event loop empties.
		{"index.neverCalls", `null`},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			p := start(t, node, tt.handler, map[string]string{"index.js": nodeCJS})
			for range 2 {
				r := p.invoke(t, invocation{})
				if r.Path != "response" || string(r.Body) != tt.want {
					t.Errorf("posted %s %s, want response %s", r.Path, r.Body, tt.want)
				}
			}
		})
	}
}

func TestNode_HandlerError(t *testing.T) {
	t.Parallel()
	p := start(t, node, "index.fail", map[string]string{"index.mjs": nodeESM})
	id := newRequestID()
	r := p.invoke(t, invocation{RequestID: id})
	got := decode[nodeError](t, r, "error")
	if r.ErrorType != "TypeError" || got.ErrorType != "TypeError" || got.ErrorMessage != "boom" {
		t.Errorf("error = %s %+v, want TypeError, boom", r.ErrorType, got)
	}
	if len(got.Trace) < 2 || got.Trace[0] != "TypeError: boom" || !strings.Contains(got.Trace[1], "index.mjs") {
		t.Errorf("trace = %q, want the error's stack lines", got.Trace)
	}
	p.stdout.waitFor(t, regexp.MustCompile(`\t`+id+`\tERROR\tInvoke Error \t\{"errorType":"TypeError","errorMessage":"boom","stack":\["TypeError: boom",`))

	if r := p.invoke(t, invocation{}); r.Path != "error" {
		t.Errorf("second invoke posted to %s, want error", r.Path)
	}
}

func TestNode_Errors(t *testing.T) {
	t.Parallel()
	files := map[string]string{"index.mjs": nodeESM, "cb.js": nodeCJS}
	tests := []struct {
		handler string
		want    nodeError
	}{
		{"cb.callbackError", nodeError{ErrorType: "string", ErrorMessage: "bad thing", Trace: []string{}}},
		{"index.bigint", nodeError{ErrorType: "Runtime.JSONStringifyError", ErrorMessage: "Unable to stringify response body"}},
		{"index.neverSettles", nodeError{ErrorType: "Runtime.NodeJsExit", ErrorMessage: "The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes"}},
	}
	for _, tt := range tests {
		t.Run(tt.handler, func(t *testing.T) {
			t.Parallel()
			p := start(t, node, tt.handler, files)
			r := p.invoke(t, invocation{})
			got := decode[nodeError](t, r, "error")
			if r.ErrorType != tt.want.ErrorType || got.ErrorType != tt.want.ErrorType || got.ErrorMessage != tt.want.ErrorMessage {
				t.Errorf("error = %s %+v, want %+v", r.ErrorType, got, tt.want)
			}
			if tt.want.Trace != nil && len(got.Trace) != 0 {
				t.Errorf("trace = %q, want []", got.Trace)
			}
		})
	}
}

func TestNode_ModuleResolution(t *testing.T) {
	t.Parallel()
	const cjs = "module.exports = { handler: async () => require('path').basename(__filename) };\n"
	const esm = "import path from 'node:path';\nimport { fileURLToPath } from 'node:url';\nexport const handler = async () => path.basename(fileURLToPath(import.meta.url));\n"
	tests := []struct {
		name    string
		handler string
		files   map[string]string
		want    string
	}{
		{"cjs .js", "index.handler", map[string]string{"index.js": cjs}, `"index.js"`},
		{"esm .mjs", "index.handler", map[string]string{"index.mjs": esm}, `"index.mjs"`},
		{".cjs", "index.handler", map[string]string{"index.cjs": cjs}, `"index.cjs"`},
		{"type module .js", "index.handler", map[string]string{"index.js": esm, "package.json": `{"type":"module"}`}, `"index.js"`},
		{"subdirectory", "src/app.handler", map[string]string{"src/app.mjs": esm}, `"app.mjs"`},
		{"nested property", "index.nested.deeper.handler", map[string]string{"index.mjs": nodeESM}, `"nested"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, node, tt.handler, tt.files)
			if r := p.invoke(t, invocation{}); r.Path != "response" || string(r.Body) != tt.want {
				t.Errorf("posted %s %s, want response %s", r.Path, r.Body, tt.want)
			}
		})
	}
}

func TestNode_InitError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		handler     string
		files       map[string]string
		wantType    string
		wantMessage string // a regexp
	}{
		{"missing module", "nope.handler", nil,
			"Runtime.ImportModuleError", `^Error: Cannot find module 'nope'\nRequire stack:\n`},
		{"missing handler", "index.missing", map[string]string{"index.mjs": nodeESM},
			"Runtime.HandlerNotFound", `^index\.missing is undefined or not exported$`},
		{"not a function", "index.nested", map[string]string{"index.mjs": nodeESM},
			"Runtime.HandlerNotFound", `^index\.nested is not a function$`},
		{"syntax error", "index.handler", map[string]string{"index.mjs": "export const handler = (;\n"},
			"Runtime.UserCodeSyntaxError", `^SyntaxError: `},
		{"import throws", "index.handler", map[string]string{"index.js": "throw new RangeError('at import');\n"},
			"RangeError", `^at import$`},
		{"missing dependency", "index.handler", map[string]string{"index.js": "require('not-installed');\n"},
			"Runtime.ImportModuleError", `^Error: Cannot find module 'not-installed'`},
		{"malformed handler", "index", map[string]string{"index.mjs": nodeESM},
			"Runtime.MalformedHandlerName", `^Bad handler$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, node, tt.handler, tt.files)
			r := p.initError(t)
			got := decode[nodeError](t, r, "init/error")
			if r.ErrorType != tt.wantType || got.ErrorType != tt.wantType {
				t.Errorf("error type = header %q, body %q, want %q", r.ErrorType, got.ErrorType, tt.wantType)
			}
			if !regexp.MustCompile(tt.wantMessage).MatchString(got.ErrorMessage) {
				t.Errorf("errorMessage = %q, want match for %q", got.ErrorMessage, tt.wantMessage)
			}
			p.stdout.waitFor(t, regexp.MustCompile(`\tundefined\tERROR\tUncaught Exception \t\{"errorType":"`+regexp.QuoteMeta(tt.wantType)+`"`))
		})
	}
}

func TestNode_UnhandledRejection(t *testing.T) {
	t.Parallel()
	code := "export const handler = async () => {\n  Promise.reject(new Error('lost'));\n  return new Promise(() => {});\n};\n"
	p := start(t, node, "index.handler", map[string]string{"index.mjs": code})
	got := decode[nodeError](t, p.invoke(t, invocation{}), "error")
	if got.ErrorType != "Runtime.UnhandledPromiseRejection" || got.ErrorMessage != "Error: lost" {
		t.Errorf("error = %+v, want Runtime.UnhandledPromiseRejection, Error: lost", got)
	}
	select {
	case <-p.exited:
		if exit, ok := p.err.(*exec.ExitError); !ok || exit.ExitCode() != 128 {
			t.Errorf("exit = %v, want status 128", p.err)
		}
	case <-time.After(waitMax):
		t.Errorf("runtime kept running after an unhandled rejection")
	}
}

func TestExamples(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lang    language
		dir     string
		handler string
		file    string
	}{
		{python, "hello-python", "app.handler", "app.py"},
		{node, "hello-node", "index.handler", "index.mjs"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(filepath.Join("..", "examples", tt.dir, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			p := start(t, tt.lang, tt.handler, map[string]string{tt.file: string(src)})
			for payload, want := range map[string]string{
				`{"name":"Alice"}`: `{"message": "Hello, Alice!"}`,
				`{}`:               `{"message": "Hello, world!"}`,
			} {
				r := p.invoke(t, invocation{Payload: payload})
				if r.Path != "response" || compactJSON(t, r.Body) != compactJSON(t, []byte(want)) {
					t.Errorf("invoke %s posted %s %s, want response %s", payload, r.Path, r.Body, want)
				}
			}
			p.stdout.waitFor(t, regexp.MustCompile(`greeting Alice in request [0-9a-f-]{36}$`))
		})
	}
}

func compactJSON(t testing.TB, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("compact %s: %v", b, err)
	}
	return buf.String()
}

// BenchmarkWarmInvoke measures one warm invocation through each runtime
// client: /next, the handler, the response POST.
func BenchmarkWarmInvoke(b *testing.B) {
	for _, tt := range []struct {
		name    string
		lang    language
		handler string
		file    string
		code    string
	}{
		{"python", python, "app.handler", "app.py", "def handler(event, context):\n    return event\n"},
		{"node", node, "index.handler", "index.mjs", "export const handler = async (event) => event;\n"},
	} {
		b.Run(tt.name, func(b *testing.B) {
			p := start(b, tt.lang, tt.handler, map[string]string{tt.file: tt.code})
			p.invoke(b, invocation{})
			b.ReportAllocs()
			for b.Loop() {
				if r := p.invoke(b, invocation{Payload: `{"name":"alice"}`}); r.Path != "response" {
					b.Fatalf("posted to %s: %s", r.Path, r.Body)
				}
			}
		})
	}
}
