package runtimeapi

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitMax bounds every wait on a signal; reaching it fails the test.
const waitMax = 10 * time.Second

func listen(t *testing.T) *Server {
	t.Helper()
	s, err := Listen()
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func submit(t *testing.T, s *Server, inv *Invocation) *Invocation {
	t.Helper()
	if err := s.Submit(inv); err != nil {
		t.Fatalf("Submit(%s): %v", inv.RequestID, err)
	}
	return inv
}

// runtimeClient is a test runtime speaking the Runtime API over HTTP.
type runtimeClient struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newRuntimeClient(t *testing.T, s *Server) *runtimeClient {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &runtimeClient{t: t, base: "http://" + s.Addr() + "/" + Version + "/runtime/", c: &http.Client{Transport: tr}}
}

type reply struct {
	status int
	header http.Header
	body   []byte
	err    error
}

func (rc *runtimeClient) do(req *http.Request) reply {
	resp, err := rc.c.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: body, err: err}
}

func (rc *runtimeClient) next() reply {
	req, err := http.NewRequest(http.MethodGet, rc.base+"invocation/next", nil)
	if err != nil {
		rc.t.Fatal(err)
	}
	return rc.do(req)
}

// mustNext polls next and fails the test unless it gets an invocation.
func (rc *runtimeClient) mustNext() reply {
	rc.t.Helper()
	r := rc.next()
	if r.err != nil || r.status != http.StatusOK {
		rc.t.Fatalf("next: got %d %q, %v, want 200", r.status, r.body, r.err)
	}
	return r
}

func (rc *runtimeClient) post(path string, body []byte, header map[string]string) reply {
	req, err := http.NewRequest(http.MethodPost, rc.base+path, bytes.NewReader(body))
	if err != nil {
		rc.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return rc.do(req)
}

func (rc *runtimeClient) respond(id string, body []byte, header map[string]string) reply {
	return rc.post("invocation/"+id+"/response", body, header)
}

func (rc *runtimeClient) fail(id string, body []byte, header map[string]string) reply {
	return rc.post("invocation/"+id+"/error", body, header)
}

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.err != nil {
		t.Fatalf("%s: %v", what, r.err)
	}
	if r.status != status {
		t.Fatalf("%s: got status %d (%s), want %d", what, r.status, r.body, status)
	}
}

// wantInvalidRequestID checks the runtime was told the request ID is unknown.
func wantInvalidRequestID(t *testing.T, what string, r reply) {
	t.Helper()
	wantStatus(t, what, r, http.StatusBadRequest)
	var e struct{ ErrorType, ErrorMessage string }
	if err := json.Unmarshal(r.body, &e); err != nil || e.ErrorType != "InvalidRequestID" {
		t.Errorf("%s: got body %q, want errorType InvalidRequestID", what, r.body)
	}
}

func result(t *testing.T, inv *Invocation) Result {
	t.Helper()
	select {
	case r := <-inv.Result():
		return r
	case <-time.After(waitMax):
		t.Fatalf("no result for %s", inv.RequestID)
		return Result{}
	}
}

// noResult checks that inv has no result (now or again).
func noResult(t *testing.T, inv *Invocation) {
	t.Helper()
	select {
	case r := <-inv.Result():
		t.Errorf("%s: got result %+v, want none", inv.RequestID, r)
	default:
	}
}

func TestServer_Next(t *testing.T) {
	s := listen(t)
	rc := newRuntimeClient(t, s)
	deadline := time.UnixMilli(1_700_000_000_123)
	inv := NewInvocation("req-1", []byte(`{"hello":"world"}`), deadline)
	inv.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:fn"
	inv.TraceID = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
	inv.ClientContext = `{"custom":{"k":"v"}}`
	inv.CognitoIdentity = `{"cognitoIdentityId":"id","cognitoIdentityPoolId":"pool"}`
	inv.TenantID = "tenant-7"
	submit(t, s, inv)

	r := rc.mustNext()
	wantHeaders := map[string]string{
		HeaderRequestID:       "req-1",
		HeaderDeadlineMS:      "1700000000123",
		HeaderFunctionARN:     inv.FunctionARN,
		HeaderTraceID:         inv.TraceID,
		HeaderClientContext:   inv.ClientContext,
		HeaderCognitoIdentity: inv.CognitoIdentity,
		HeaderTenantID:        "tenant-7",
		"Content-Type":        "application/json",
		"Content-Length":      strconv.Itoa(len(inv.Payload)),
	}
	for k, want := range wantHeaders {
		if got := r.header.Get(k); got != want {
			t.Errorf("header %s: got %q, want %q", k, got, want)
		}
	}
	if string(r.body) != `{"hello":"world"}` {
		t.Errorf("body: got %q, want the payload", r.body)
	}
}

func TestServer_Next_optionalHeaders(t *testing.T) {
	s := listen(t)
	rc := newRuntimeClient(t, s)
	deadline := time.Now().Add(3 * time.Second)
	submit(t, s, NewInvocation("req-min", nil, deadline))
	r := rc.mustNext()
	if got := r.header.Get(HeaderRequestID); got != "req-min" {
		t.Errorf("%s: got %q, want req-min", HeaderRequestID, got)
	}
	if got, want := r.header.Get(HeaderDeadlineMS), strconv.FormatInt(deadline.UnixMilli(), 10); got != want {
		t.Errorf("%s: got %q, want %q", HeaderDeadlineMS, got, want)
	}
	for _, k := range []string{HeaderTraceID, HeaderClientContext, HeaderCognitoIdentity, HeaderTenantID} {
		if v, ok := r.header[k]; ok {
			t.Errorf("header %s: got %q, want it absent", k, v)
		}
	}
	if len(r.body) != 0 {
		t.Errorf("body: got %q, want empty", r.body)
	}
}

func TestServer_Response(t *testing.T) {
	tests := []struct {
		name        string
		body        []byte
		contentType string
	}{
		{"json", []byte(`{"ok":true}`), "application/json"},
		{"empty", nil, ""},
		{"binary", []byte{0, 1, 2, 0xff}, "application/octet-stream"},
		{"exactly ResponseMax", bytes.Repeat([]byte("x"), ResponseMax), "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			rc := newRuntimeClient(t, s)
			inv := submit(t, s, NewInvocation("req-"+tt.name, []byte(`{}`), time.Now().Add(time.Minute)))
			rc.mustNext()
			hdr := map[string]string{}
			if tt.contentType != "" {
				hdr["Content-Type"] = tt.contentType
			}
			r := rc.respond(inv.RequestID, tt.body, hdr)
			wantStatus(t, "response", r, http.StatusAccepted)
			if got := strings.TrimSpace(string(r.body)); got != `{"status":"OK"}` {
				t.Errorf("response body: got %q, want {\"status\":\"OK\"}", got)
			}
			got := result(t, inv)
			if got.Error || got.ErrorType != "" {
				t.Errorf("Result: got Error %v, ErrorType %q, want a success", got.Error, got.ErrorType)
			}
			if !bytes.Equal(got.Payload, tt.body) {
				t.Errorf("Result.Payload: got %d bytes %.40q, want %d bytes", len(got.Payload), got.Payload, len(tt.body))
			}
			if got.ContentType != tt.contentType {
				t.Errorf("Result.ContentType: got %q, want %q", got.ContentType, tt.contentType)
			}
			// A second answer for the same invocation is refused.
			wantInvalidRequestID(t, "second response", rc.respond(inv.RequestID, []byte("again"), nil))
			noResult(t, inv)
		})
	}
}

func TestServer_Error(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		body   string
		want   string
	}{
		{"header", map[string]string{HeaderErrorType: "Function.Custom"}, `{"errorMessage":"boom","errorType":"Body.Type"}`, "Function.Custom"},
		{"body", nil, `{"errorMessage":"boom","errorType":"ValueError"}`, "ValueError"},
		{"neither", nil, `{"errorMessage":"boom"}`, "Runtime.Unknown"},
		{"not json", nil, `oops`, "Runtime.Unknown"},
		{"empty", nil, ``, "Runtime.Unknown"},
		{"header only", map[string]string{HeaderErrorType: "Runtime.ExitError"}, ``, "Runtime.ExitError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			rc := newRuntimeClient(t, s)
			inv := submit(t, s, NewInvocation("req-err", nil, time.Now().Add(time.Minute)))
			rc.mustNext()
			wantStatus(t, "error", rc.fail(inv.RequestID, []byte(tt.body), tt.header), http.StatusAccepted)
			got := result(t, inv)
			if !got.Error || got.ErrorType != tt.want || string(got.Payload) != tt.body {
				t.Errorf("Result: got Error %v, ErrorType %q, Payload %q; want true, %q, %q", got.Error, got.ErrorType, got.Payload, tt.want, tt.body)
			}
			wantInvalidRequestID(t, "second error", rc.fail(inv.RequestID, nil, nil))
			wantInvalidRequestID(t, "response after error", rc.respond(inv.RequestID, nil, nil))
			noResult(t, inv)
		})
	}
}

func TestServer_Response_trailerError(t *testing.T) {
	s := listen(t)
	rc := newRuntimeClient(t, s)
	inv := submit(t, s, NewInvocation("req-trailer", nil, time.Now().Add(time.Minute)))
	rc.mustNext()

	errBody := `{"errorMessage":"stream broke","errorType":"errorString"}`
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, rc.base+"invocation/req-trailer/response", pr)
	if err != nil {
		t.Fatal(err)
	}
	// Trailers are sent with a chunked body; their values are read when
	// the body ends.
	req.Trailer = http.Header{HeaderErrorType: nil, trailerErrorBody: nil}
	go func() {
		_, _ = pw.Write([]byte("partial"))
		req.Trailer.Set(HeaderErrorType, "errorString")
		req.Trailer.Set(trailerErrorBody, base64.StdEncoding.EncodeToString([]byte(errBody)))
		_ = pw.Close()
	}()
	wantStatus(t, "streamed response", rc.do(req), http.StatusAccepted)
	got := result(t, inv)
	if !got.Error || got.ErrorType != "errorString" || string(got.Payload) != errBody {
		t.Errorf("Result: got Error %v, ErrorType %q, Payload %q; want true, errorString, %q", got.Error, got.ErrorType, got.Payload, errBody)
	}
}

func TestServer_unknownRequestID(t *testing.T) {
	s := listen(t)
	rc := newRuntimeClient(t, s)
	inv := submit(t, s, NewInvocation("known", nil, time.Now().Add(time.Minute)))
	rc.mustNext()
	wantInvalidRequestID(t, "response", rc.respond("unknown", []byte("x"), nil))
	wantInvalidRequestID(t, "error", rc.fail("unknown", []byte("x"), nil))
	noResult(t, inv)
	// The known invocation is still answerable.
	wantStatus(t, "response", rc.respond("known", []byte("x"), nil), http.StatusAccepted)
	if got := result(t, inv); string(got.Payload) != "x" {
		t.Errorf("Result.Payload: got %q, want x", got.Payload)
	}
}

func TestServer_Response_tooLarge(t *testing.T) {
	for _, extra := range []int{1, 1 << 20} {
		t.Run(strconv.Itoa(extra), func(t *testing.T) {
			s := listen(t)
			rc := newRuntimeClient(t, s)
			inv := submit(t, s, NewInvocation("req-big", nil, time.Now().Add(time.Minute)))
			rc.mustNext()
			r := rc.respond(inv.RequestID, bytes.Repeat([]byte("x"), ResponseMax+extra), nil)
			got := result(t, inv)
			if !got.Error || got.ErrorType != "Function.ResponseSizeTooLarge" {
				t.Errorf("Result: got Error %v, ErrorType %q, want Function.ResponseSizeTooLarge", got.Error, got.ErrorType)
			}
			var e struct{ ErrorType, ErrorMessage string }
			if err := json.Unmarshal(got.Payload, &e); err != nil || e.ErrorType != "Function.ResponseSizeTooLarge" || !strings.Contains(e.ErrorMessage, strconv.Itoa(ResponseMax)) {
				t.Errorf("Result.Payload: got %q, %v, want a Function.ResponseSizeTooLarge error naming %d", got.Payload, err, ResponseMax)
			}
			if extra == 1 || r.err == nil {
				// With more than a little left unread the server may close the
				// connection before the client reads the status.
				wantStatus(t, "response", r, http.StatusRequestEntityTooLarge)
			}
		})
	}
}

func TestServer_InitError(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		body   string
		want   string
	}{
		{"header", map[string]string{HeaderErrorType: "Runtime.ImportModuleError"}, `{"errorMessage":"no module"}`, "Runtime.ImportModuleError"},
		{"body", nil, `{"errorMessage":"bad","errorType":"Runtime.UserCodeSyntaxError"}`, "Runtime.UserCodeSyntaxError"},
		{"neither", nil, `garbage`, "Runtime.Unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := listen(t)
			rc := newRuntimeClient(t, s)
			wantStatus(t, "init/error", rc.post("init/error", []byte(tt.body), tt.header), http.StatusAccepted)
			select {
			case got := <-s.InitErrors():
				if got.Type != tt.want || string(got.Payload) != tt.body {
					t.Errorf("InitError: got %q, %q, want %q, %q", got.Type, got.Payload, tt.want, tt.body)
				}
			case <-time.After(waitMax):
				t.Fatal("no init error")
			}
			// Only the first report is kept while unread; later ones are accepted and dropped.
			wantStatus(t, "second init/error", rc.post("init/error", []byte("x"), nil), http.StatusAccepted)
			wantStatus(t, "third init/error", rc.post("init/error", []byte("y"), nil), http.StatusAccepted)
			if got := <-s.InitErrors(); string(got.Payload) != "x" {
				t.Errorf("second InitError: got %q, want x", got.Payload)
			}
			select {
			case got := <-s.InitErrors():
				t.Errorf("third InitError: got %q, want it dropped", got.Payload)
			default:
			}
		})
	}
}

func TestServer_Ready(t *testing.T) {
	s := listen(t)
	rc := newRuntimeClient(t, s)
	select {
	case <-s.Ready():
		t.Fatal("Ready closed before the runtime polled")
	default:
	}
	done := make(chan reply, 1)
	go func() { done <- rc.next() }()
	select {
	case <-s.Ready():
	case <-time.After(waitMax):
		t.Fatal("Ready not closed after next")
	}
	// A second next does not close it again (which would panic).
	go func() { done <- rc.next() }()
	submit(t, s, NewInvocation("a", nil, time.Now().Add(time.Minute)))
	submit(t, s, NewInvocation("b", nil, time.Now().Add(time.Minute)))
	for range 2 {
		if r := <-done; r.err != nil || r.status != http.StatusOK {
			t.Errorf("next: got %d, %v, want 200", r.status, r.err)
		}
	}
}

func TestServer_Next_concurrent(t *testing.T) {
	const n = 8
	s := listen(t)
	rc := newRuntimeClient(t, s)
	replies := make(chan reply, n)
	for range n {
		go func() { replies <- rc.next() }()
	}
	invs := map[string]*Invocation{}
	for i := range n {
		id := fmt.Sprintf("req-%d", i)
		invs[id] = submit(t, s, NewInvocation(id, []byte(id), time.Now().Add(time.Minute)))
	}
	seen := map[string]bool{}
	for range n {
		var r reply
		select {
		case r = <-replies:
		case <-time.After(waitMax):
			t.Fatalf("only %d of %d next calls returned", len(seen), n)
		}
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("next: got %d, %v, want 200", r.status, r.err)
		}
		id := r.header.Get(HeaderRequestID)
		if seen[id] {
			t.Errorf("next: got %s twice", id)
		}
		seen[id] = true
		if string(r.body) != id {
			t.Errorf("next %s: got payload %q, want %q", id, r.body, id)
		}
	}
	if len(seen) != n {
		t.Fatalf("next: got %d distinct invocations, want %d", len(seen), n)
	}
	// Answer them concurrently; each result reaches its own invocation.
	var wg sync.WaitGroup
	for id := range invs {
		wg.Go(func() {
			if r := rc.respond(id, []byte("answer-"+id), nil); r.err != nil || r.status != http.StatusAccepted {
				t.Errorf("response %s: got %d, %v", id, r.status, r.err)
			}
		})
	}
	wg.Wait()
	for id, inv := range invs {
		if got := result(t, inv); string(got.Payload) != "answer-"+id {
			t.Errorf("Result %s: got %q, want answer-%s", id, got.Payload, id)
		}
	}
}

func TestServer_Close(t *testing.T) {
	s, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	rc := newRuntimeClient(t, s)
	done := make(chan reply, 1)
	go func() { done <- rc.next() }()
	select {
	case <-s.Ready():
	case <-time.After(waitMax):
		t.Fatal("next never arrived")
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case r := <-done:
		if r.err == nil && r.status != http.StatusGone {
			t.Errorf("waiting next: got status %d, want 410 or a closed connection", r.status)
		}
	case <-time.After(waitMax):
		t.Fatal("waiting next did not return after Close")
	}
	if err := s.Submit(NewInvocation("late", nil, time.Now().Add(time.Minute))); err == nil {
		t.Error("Submit after Close: got nil, want an error")
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if r := rc.next(); r.err == nil {
		t.Errorf("next after Close: got status %d, want a connection error", r.status)
	}
}

func TestServer_Forget(t *testing.T) {
	s := listen(t)
	rc := newRuntimeClient(t, s)
	inv := submit(t, s, NewInvocation("req-late", nil, time.Now().Add(time.Minute)))
	rc.mustNext()
	s.Forget(inv.RequestID)
	wantInvalidRequestID(t, "late response", rc.respond(inv.RequestID, []byte("late"), nil))
	wantInvalidRequestID(t, "late error", rc.fail(inv.RequestID, []byte("late"), nil))
	noResult(t, inv)
	s.Forget("never-submitted") // no effect, no panic
}

func TestIsErrorType(t *testing.T) {
	tests := []struct {
		typ  string
		want bool
	}{
		{"Runtime.ExitError", true},
		{"Runtime.Unknown", true},
		{"Sandbox.Timedout", true},
		{"Function.ResponseSizeTooLarge", false},
		{"Unhandled", false},
		{"errorString", false},
		{"", false},
		{"Runtime", false},
		{"runtime.ExitError", false},
	}
	for _, tt := range tests {
		if got := IsErrorType(tt.typ); got != tt.want {
			t.Errorf("IsErrorType(%q): got %v, want %v", tt.typ, got, tt.want)
		}
	}
}

// The echo function (testdata/echo), built once per test binary.
var (
	echoOnce sync.Once
	echoDir  string
	echoPath string
	echoErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if echoDir != "" {
		os.RemoveAll(echoDir)
	}
	os.Exit(code)
}

func echoBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a Go function; skipped in -short mode")
	}
	echoOnce.Do(func() {
		echoDir, echoErr = os.MkdirTemp("", "runtimeapi-echo-")
		if echoErr != nil {
			return
		}
		echoPath = filepath.Join(echoDir, "bootstrap")
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", echoPath, "./testdata/echo")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			echoErr = fmt.Errorf("build testdata/echo: %v\n%s", err, out)
		}
	})
	if echoErr != nil {
		t.Fatal(echoErr)
	}
	return echoPath
}

// startEcho runs the echo function against s and returns a channel that
// is closed when it exits.
func startEcho(t *testing.T, s *Server) <-chan struct{} {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(echoBinary(t))
	cmd.Env = []string{"AWS_LAMBDA_RUNTIME_API=" + s.Addr(), "PATH=" + os.Getenv("PATH")}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("echo stderr:\n%s", stderr.String())
		}
	})
	return exited
}

func TestServer_awsLambdaGo(t *testing.T) {
	s := listen(t)
	startEcho(t, s)
	select {
	case <-s.Ready():
	case <-time.After(waitMax):
		t.Fatal("runtime never polled next")
	}

	t.Run("echo", func(t *testing.T) {
		deadline := time.Now().Add(time.Minute).Truncate(time.Millisecond)
		inv := NewInvocation("11111111-2222-3333-4444-555555555555", []byte(`{"n":1}`), deadline)
		inv.FunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:echo"
		inv.TraceID = "Root=1-00000000-000000000000000000000000;Sampled=0"
		inv.ClientContext = `{"custom":{"who":"test"}}`
		inv.CognitoIdentity = `{"cognitoIdentityId":"ident","cognitoIdentityPoolId":"pool"}`
		inv.TenantID = "tenant-a"
		submit(t, s, inv)
		got := result(t, inv)
		if got.Error {
			t.Fatalf("Result: got error %s %q", got.ErrorType, got.Payload)
		}
		if got.ContentType != "application/json" {
			t.Errorf("Result.ContentType: got %q, want application/json", got.ContentType)
		}
		var r struct {
			RequestID         string            `json:"requestId"`
			FunctionARN       string            `json:"functionArn"`
			TenantID          string            `json:"tenantId"`
			TraceID           string            `json:"traceId"`
			DeadlineMS        int64             `json:"deadlineMs"`
			ClientCustom      map[string]string `json:"clientCustom"`
			CognitoIdentityID string            `json:"cognitoIdentityId"`
			CognitoPoolID     string            `json:"cognitoPoolId"`
			Payload           json.RawMessage   `json:"payload"`
		}
		if err := json.Unmarshal(got.Payload, &r); err != nil {
			t.Fatalf("Result.Payload %q: %v", got.Payload, err)
		}
		checks := []struct{ name, got, want string }{
			{"request id", r.RequestID, inv.RequestID},
			{"function arn", r.FunctionARN, inv.FunctionARN},
			{"tenant id", r.TenantID, inv.TenantID},
			{"trace id", r.TraceID, inv.TraceID},
			{"deadline", strconv.FormatInt(r.DeadlineMS, 10), strconv.FormatInt(deadline.UnixMilli(), 10)},
			{"client context", r.ClientCustom["who"], "test"},
			{"cognito identity", r.CognitoIdentityID, "ident"},
			{"cognito pool", r.CognitoPoolID, "pool"},
			{"payload", string(r.Payload), `{"n":1}`},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
			}
		}
	})

	t.Run("error", func(t *testing.T) {
		inv := submit(t, s, NewInvocation("req-error", []byte(`{"op":"error","message":"boom"}`), time.Now().Add(time.Minute)))
		got := result(t, inv)
		var e struct{ ErrorType, ErrorMessage string }
		if err := json.Unmarshal(got.Payload, &e); err != nil {
			t.Fatalf("Result.Payload %q: %v", got.Payload, err)
		}
		if !got.Error || got.ErrorType != "echoError" || e.ErrorMessage != "boom" {
			t.Errorf("Result: got Error %v, ErrorType %q, message %q; want true, echoError, boom", got.Error, got.ErrorType, e.ErrorMessage)
		}
	})

	t.Run("stream error", func(t *testing.T) {
		inv := submit(t, s, NewInvocation("req-stream", []byte(`{"op":"stream-error"}`), time.Now().Add(time.Minute)))
		got := result(t, inv)
		var e struct{ ErrorType, ErrorMessage string }
		_ = json.Unmarshal(got.Payload, &e)
		if !got.Error || got.ErrorType != "errorString" || e.ErrorMessage != "stream broke" {
			t.Errorf("Result: got Error %v, ErrorType %q, Payload %q; want the streamed errorString", got.Error, got.ErrorType, got.Payload)
		}
	})

	t.Run("several in turn", func(t *testing.T) {
		for i := range 5 {
			id := fmt.Sprintf("req-seq-%d", i)
			inv := submit(t, s, NewInvocation(id, []byte(`{}`), time.Now().Add(time.Minute)))
			var r struct {
				RequestID string `json:"requestId"`
			}
			if got := result(t, inv); json.Unmarshal(got.Payload, &r) != nil || r.RequestID != id {
				t.Errorf("invocation %s: got %q", id, got.Payload)
			}
		}
	})

	t.Run("too large", func(t *testing.T) {
		// The runtime gets 413 and exits; the caller gets the size error.
		inv := submit(t, s, NewInvocation("req-big", []byte(fmt.Sprintf(`{"op":"big","size":%d}`, ResponseMax)), time.Now().Add(time.Minute)))
		got := result(t, inv)
		if !got.Error || got.ErrorType != "Function.ResponseSizeTooLarge" {
			t.Errorf("Result: got Error %v, ErrorType %q, want Function.ResponseSizeTooLarge", got.Error, got.ErrorType)
		}
	})
}

func TestServer_awsLambdaGo_panic(t *testing.T) {
	s := listen(t)
	exited := startEcho(t, s)
	inv := submit(t, s, NewInvocation("req-panic", []byte(`{"op":"panic","message":"kaboom"}`), time.Now().Add(time.Minute)))
	got := result(t, inv)
	var e struct{ ErrorType, ErrorMessage string }
	_ = json.Unmarshal(got.Payload, &e)
	if !got.Error || got.ErrorType != "string" || e.ErrorMessage != "kaboom" {
		t.Errorf("Result: got Error %v, ErrorType %q, Payload %.80q; want the panic", got.Error, got.ErrorType, got.Payload)
	}
	select {
	case <-exited:
	case <-time.After(waitMax):
		t.Error("runtime did not exit after the panic")
	}
}

// FuzzServer_Response posts arbitrary answers to a real server over HTTP:
// it never fails and every invocation gets exactly one Result.
func FuzzServer_Response(f *testing.F) {
	f.Add([]byte(`{"ok":true}`), "application/json", "", "", "", false)
	f.Add([]byte(`{"errorType":"X","errorMessage":"m"}`), "", "", "", "", true)
	f.Add([]byte(`oops`), "", "Function.Custom", "", "", true)
	f.Add([]byte(`partial`), "", "", "errorString", base64.StdEncoding.EncodeToString([]byte(`{"errorType":"errorString"}`)), false)
	f.Add([]byte(``), "", "", "T", "!!not base64", false)
	s, err := Listen()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	var n int
	f.Fuzz(func(t *testing.T, body []byte, contentType, errType, trailerType, trailerBody string, toError bool) {
		rc := newRuntimeClient(t, s)
		n++
		id := "fuzz-" + strconv.Itoa(n)
		inv := NewInvocation(id, []byte(`{}`), time.Now().Add(time.Minute))
		if err := s.Submit(inv); err != nil {
			t.Fatal(err)
		}
		if r := rc.mustNext(); r.header.Get(HeaderRequestID) != id {
			t.Fatalf("next: got %q, want %s", r.header.Get(HeaderRequestID), id)
		}
		path := "invocation/" + id + "/response"
		if toError {
			path = "invocation/" + id + "/error"
		}
		post := func() reply {
			// A chunked body carries the trailers.
			req, err := http.NewRequest(http.MethodPost, rc.base+path, io.MultiReader(bytes.NewReader(body)))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range map[string]string{"Content-Type": contentType, HeaderErrorType: errType} {
				if v != "" && !strings.ContainsAny(v, "\r\n\x00\x7f") {
					req.Header.Set(k, v)
				}
			}
			req.Trailer = http.Header{}
			for k, v := range map[string]string{HeaderErrorType: trailerType, trailerErrorBody: trailerBody} {
				if v != "" && !strings.ContainsAny(v, "\r\n\x00\x7f") {
					req.Trailer.Set(k, v)
				}
			}
			return rc.do(req)
		}
		if r := post(); r.err != nil || r.status != http.StatusAccepted {
			t.Fatalf("post: got %d %q %v, want 202", r.status, r.body, r.err)
		}
		select {
		case r := <-inv.Result():
			if toError && (!r.Error || r.ErrorType == "") {
				t.Fatalf("error: got Result %+v, want an error with a type", r)
			}
			if r.Error && r.ErrorType == "" {
				t.Fatalf("got Result %+v: an error without a type", r)
			}
		default:
			t.Fatal("no Result after the post")
		}
		if r := post(); r.status != http.StatusBadRequest {
			t.Fatalf("second post: got %d %v, want 400", r.status, r.err)
		}
		select {
		case r := <-inv.Result():
			t.Fatalf("second Result %+v", r)
		default:
		}
	})
}

func (s *Server) connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// FuzzServer_conn sends arbitrary bytes on a runtime connection: the
// server answers or closes it, and goes on serving other connections.
func FuzzServer_conn(f *testing.F) {
	f.Add([]byte("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n"))
	f.Add([]byte("POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"))
	f.Add([]byte("POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"))
	f.Add([]byte("POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n{}"))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"))
	f.Add([]byte("\x00\xff garbage\r\n\r\n"))
	s, err := Listen()
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = s.Close() })
	var n int
	f.Fuzz(func(t *testing.T, raw []byte) {
		nc, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = nc.Write(raw)
		_ = nc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, _ = io.Copy(io.Discard, nc)
		_ = nc.Close()
		// An invocation handed to a connection the server has not yet
		// seen closed is lost with it, as it would be with a runtime that
		// hung up; wait until the server let go of it.
		for start := time.Now(); s.connections() > 0; time.Sleep(time.Millisecond) {
			if time.Since(start) > waitMax {
				t.Fatal("the server kept the connection after it closed")
			}
		}
		// The server still serves a runtime.
		n++
		rc := newRuntimeClient(t, s)
		inv := submit(t, s, NewInvocation("conn-"+strconv.Itoa(n), []byte(`{}`), time.Now().Add(time.Minute)))
		if r := rc.mustNext(); r.header.Get(HeaderRequestID) != inv.RequestID {
			t.Fatalf("next: got %q, want %s", r.header.Get(HeaderRequestID), inv.RequestID)
		}
		wantStatus(t, "response", rc.respond(inv.RequestID, []byte("ok"), nil), http.StatusAccepted)
		if got := result(t, inv); string(got.Payload) != "ok" {
			t.Fatalf("Result: got %q, want ok", got.Payload)
		}
	})
}

// rawConn is a runtime connection driven byte by byte.
type rawConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *rawConn {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(waitMax))
	return &rawConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *rawConn) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawConn) read() *http.Response {
	c.t.Helper()
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.t.Fatalf("read response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

// closed reports whether the server closed the connection.
func (c *rawConn) closed() bool {
	_, err := c.br.ReadByte()
	return err == io.EOF
}

func waitConnections(t *testing.T, s *Server, n int) {
	t.Helper()
	for start := time.Now(); s.connections() != n; time.Sleep(time.Millisecond) {
		if time.Since(start) > waitMax {
			t.Fatalf("server holds %d connections, want %d", s.connections(), n)
		}
	}
}

func TestServer_protocol(t *testing.T) {
	const base = "/" + Version + "/runtime/"
	t.Run("100-continue", func(t *testing.T) {
		s := listen(t)
		c := dialRaw(t, s)
		c.send("POST " + base + "init/error HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
		if r := c.read(); r.StatusCode != http.StatusContinue {
			t.Fatalf("before the body: got %d, want 100", r.StatusCode)
		}
		c.send("{}")
		if r := c.read(); r.StatusCode != http.StatusAccepted {
			t.Fatalf("after the body: got %d, want 202", r.StatusCode)
		}
		if got := <-s.InitErrors(); string(got.Payload) != "{}" {
			t.Errorf("InitError: got %q, want {}", got.Payload)
		}
		// An answer without reading the body closes the connection: the
		// client never sent it.
		c.send("POST " + base + "invocation/nope/response HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
		if r := c.read(); r.StatusCode != http.StatusBadRequest {
			t.Fatalf("unknown id: got %d, want 400", r.StatusCode)
		}
		if !c.closed() {
			t.Error("connection kept after a body that was never sent")
		}
	})
	t.Run("routes", func(t *testing.T) {
		s := listen(t)
		c := dialRaw(t, s)
		for _, tt := range []struct {
			req   string
			code  int
			allow string
		}{
			{"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound, ""},
			{"GET " + base + "invocation/x/other HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusNotFound, ""},
			{"GET " + base + "invocation/x/response HTTP/1.1\r\nHost: x\r\n\r\n", http.StatusMethodNotAllowed, "POST"},
			{"POST " + base + "invocation/next HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", http.StatusMethodNotAllowed, "GET"},
			{"PUT " + base + "init/error HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx", http.StatusMethodNotAllowed, "POST"},
		} {
			c.send(tt.req)
			r := c.read()
			if r.StatusCode != tt.code || r.Header.Get("Allow") != tt.allow {
				t.Errorf("%q: got %d Allow %q, want %d Allow %q", tt.req, r.StatusCode, r.Header.Get("Allow"), tt.code, tt.allow)
			}
		}
	})
	t.Run("bad requests", func(t *testing.T) {
		s := listen(t)
		c := dialRaw(t, s)
		c.send("GARBAGE\r\n\r\n")
		if r := c.read(); r.StatusCode != http.StatusBadRequest || !c.closed() {
			t.Errorf("garbage: got %d, want 400 and the connection closed", r.StatusCode)
		}
		c = dialRaw(t, s)
		c.send("GET " + base + "invocation/next HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2<<20) + "\r\n\r\n")
		if r := c.read(); r.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("huge header: got %d, want 431", r.StatusCode)
		}
		c = dialRaw(t, s)
		c.send("GET " + base + "invocation/next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		submit(t, s, NewInvocation("closing", nil, time.Now().Add(time.Minute)))
		if r := c.read(); r.StatusCode != http.StatusOK || !c.closed() {
			t.Errorf("Connection: close: got %d, want 200 and the connection closed", r.StatusCode)
		}
	})
	t.Run("hang up while waiting", func(t *testing.T) {
		s := listen(t)
		c := dialRaw(t, s)
		c.send("GET " + base + "invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
		<-s.Ready()
		waitParked(t, s, 1)
		_ = c.nc.Close()
		waitConnections(t, s, 0)
		nextGets(t, s, "after-hangup")
	})
	t.Run("request before next answered", func(t *testing.T) {
		s := listen(t)
		c := dialRaw(t, s)
		c.send("GET " + base + "invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
		waitParked(t, s, 1)
		c.send("GET " + base + "invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
		if !c.closed() {
			t.Fatal("connection kept after a request sent while next waited")
		}
		waitParked(t, s, 0)
		nextGets(t, s, "after-pipeline")
	})
	t.Run("line breaks in header values", func(t *testing.T) {
		s := listen(t)
		rc := newRuntimeClient(t, s)
		inv := NewInvocation("req-nl", nil, time.Now().Add(time.Minute))
		inv.ClientContext = "{\"a\":\r\n\"b\"}"
		inv.TraceID = "Root=1\nInjected: yes"
		submit(t, s, inv)
		r := rc.mustNext()
		if got := r.header.Get(HeaderClientContext); got != `{"a": "b"}` {
			t.Errorf("client context: got %q", got)
		}
		if got := r.header.Get(HeaderTraceID); got != "Root=1 Injected: yes" || r.header.Get("Injected") != "" {
			t.Errorf("trace id: got %q, Injected %q", got, r.header.Get("Injected"))
		}
	})
}

// nextGets submits an invocation and checks that a new runtime
// connection's next gets it: nothing was handed to a connection gone.
func nextGets(t *testing.T, s *Server, requestID string) {
	t.Helper()
	inv := submit(t, s, NewInvocation(requestID, nil, time.Now().Add(time.Minute)))
	rc := newRuntimeClient(t, s)
	if r := rc.mustNext(); r.header.Get(HeaderRequestID) != inv.RequestID {
		t.Errorf("next: got %q, want %s", r.header.Get(HeaderRequestID), inv.RequestID)
	}
}

func waitParked(t *testing.T, s *Server, n int) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(time.Millisecond) {
		s.mu.Lock()
		got := len(s.waiting)
		s.mu.Unlock()
		if got == n {
			return
		}
		if time.Since(start) > waitMax {
			t.Fatalf("%d next calls waiting, want %d", got, n)
		}
	}
}
