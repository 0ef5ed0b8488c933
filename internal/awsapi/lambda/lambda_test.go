package lambda

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/fault"
)

// errorBody is Lambda's error body.
type errorBody struct {
	Type              string
	Message           string `json:"message"`
	Reason            string
	RetryAfterSeconds string `json:"retryAfterSeconds"`
}

func recordError(t *testing.T, ctx context.Context, err error) (*httptest.ResponseRecorder, errorBody, string) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := httptest.NewRecorder()
	writeError(ctx, log, w, err)
	var b errorBody
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &b); err != nil {
			t.Fatalf("error body %q: %v", w.Body, err)
		}
	}
	return w, b, logs.String()
}

func TestWriteError(t *testing.T) {
	// Names and statuses from the Lambda API reference's error lists.
	tests := []struct {
		kind   fault.Kind
		name   string
		status int
		typ    string
		key    string // the body's message member, as Lambda's model spells it
	}{
		{fault.Validation, "ValidationException", 400, "User", "message"},
		{fault.InvalidParameter, "InvalidParameterValueException", 400, "User", "message"},
		{fault.InvalidRequest, "InvalidRequestContentException", 400, "User", "message"},
		{fault.NotFound, "ResourceNotFoundException", 404, "User", "Message"},
		{fault.Conflict, "ResourceConflictException", 409, "User", "message"},
		{fault.PreconditionFailed, "PreconditionFailedException", 412, "User", "message"},
		{fault.TooLarge, "RequestTooLargeException", 413, "User", "message"},
		{fault.Throttled, "TooManyRequestsException", 429, "User", "message"},
		{fault.Unsupported, "UnsupportedMediaTypeException", 415, "User", "message"},
		{fault.Internal, "ServiceException", 500, "Service", "Message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := "message for " + tt.name
			w, b, _ := recordError(t, context.Background(), fault.New(tt.kind, "%s", msg))
			if w.Code != tt.status {
				t.Errorf("status: got %d, want %d", w.Code, tt.status)
			}
			if got := w.Header().Get("x-amzn-ErrorType"); got != tt.name {
				t.Errorf("x-amzn-ErrorType: got %q, want %q", got, tt.name)
			}
			if got := w.Header().Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type: got %q, want application/json", got)
			}
			if b.Type != tt.typ || b.Message != msg {
				t.Errorf("body: got Type %q, message %q, want %q, %q", b.Type, b.Message, tt.typ, msg)
			}
			// encoding/json matches keys without regard to case; botocore
			// does not, so the spelling is checked on the raw body.
			var raw map[string]any
			_ = json.Unmarshal(w.Body.Bytes(), &raw)
			if _, ok := raw[tt.key]; !ok {
				t.Errorf("body: got %s, want the message under %q", w.Body, tt.key)
			}
			if tt.kind != fault.Throttled {
				if got := w.Header().Get("Retry-After"); got != "" {
					t.Errorf("Retry-After: got %q, want none", got)
				}
				if strings.Contains(w.Body.String(), "Reason") {
					t.Errorf("body: got %s, want no Reason", w.Body)
				}
			}
		})
	}
	// An ARN of another account: Lambda's recorded answer has only the type.
	w, _, _ := recordError(t, context.Background(), &fault.Error{Kind: fault.AccessDenied, Untyped: true})
	if w.Code != http.StatusForbidden || w.Header().Get("x-amzn-ErrorType") != "AccessDeniedException" || strings.TrimSpace(w.Body.String()) != `{"Message":null}` {
		t.Errorf("AccessDenied: got %d %q %s, want 403 AccessDeniedException {\"Message\":null}", w.Code, w.Header().Get("x-amzn-ErrorType"), w.Body)
	}
	// Every kind has a row, and no two kinds share a name.
	names := map[string]fault.Kind{}
	for k := fault.Internal; k <= fault.AccessDenied; k++ {
		row, ok := errorTable[k]
		if !ok || row.name == "" || row.status < 400 {
			t.Errorf("errorTable[%d]: got %+v, %v, want a row", k, row, ok)
		}
		if other, dup := names[row.name]; dup {
			t.Errorf("errorTable: kinds %d and %d both map to %s", other, k, row.name)
		}
		names[row.name] = k
	}
}

func TestWriteError_typed(t *testing.T) {
	tests := []struct {
		err    error
		name   string
		status int
	}{
		{fault.Typed(fault.TooLarge, "RequestEntityTooLargeException", "too big"), "RequestEntityTooLargeException", 413},
		{fault.Typed(fault.InvalidParameter, "InvalidZipFileException", "bad zip"), "InvalidZipFileException", 400},
		{fault.Typed(fault.Conflict, "", "no override"), "ResourceConflictException", 409},
	}
	for _, tt := range tests {
		w, b, _ := recordError(t, context.Background(), tt.err)
		if got := w.Header().Get("x-amzn-ErrorType"); got != tt.name || w.Code != tt.status {
			t.Errorf("writeError(%v): got %s %d, want %s %d", tt.err, got, w.Code, tt.name, tt.status)
		}
		if b.Type != "User" || b.Message != tt.err.Error() {
			t.Errorf("writeError(%v): got body %+v", tt.err, b)
		}
	}
}

func TestWriteError_throttled(t *testing.T) {
	f := fault.New(fault.Throttled, "Rate Exceeded.")
	f.Reason = "ConcurrentInvocationLimitExceeded"
	w, b, _ := recordError(t, context.Background(), f)
	if w.Code != http.StatusTooManyRequests {
		t.Errorf("status: got %d, want 429", w.Code)
	}
	if got := w.Header().Get("x-amzn-ErrorType"); got != "TooManyRequestsException" {
		t.Errorf("x-amzn-ErrorType: got %q, want TooManyRequestsException", got)
	}
	if got := w.Header().Get("Retry-After"); got != "1" {
		t.Errorf("Retry-After: got %q, want 1", got)
	}
	want := errorBody{Type: "User", Message: "Rate Exceeded.", Reason: f.Reason, RetryAfterSeconds: "1"}
	if b != want {
		t.Errorf("body: got %+v, want %+v", b, want)
	}
}

func TestWriteError_throttledReservation(t *testing.T) {
	// A full reservation: Lambda sends no retry delay.
	f := fault.New(fault.Throttled, "Rate Exceeded.")
	f.Reason = "ReservedFunctionConcurrentInvocationLimitExceeded"
	w, b, _ := recordError(t, context.Background(), f)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "" || strings.Contains(w.Body.String(), "retryAfterSeconds") {
		t.Errorf("got %d, Retry-After %q, body %s; want 429 without a retry delay", w.Code, w.Header().Get("Retry-After"), w.Body)
	}
	if b.Reason != f.Reason || b.Message != "Rate Exceeded." || b.Type != "User" {
		t.Errorf("body: got %+v", b)
	}
}

func TestWriteError_wrapped(t *testing.T) {
	err := fmt.Errorf("get function: %w", fault.New(fault.NotFound, "Function not found: arn:aws:lambda:us-east-1:123456789012:function:f"))
	w, b, logs := recordError(t, context.Background(), err)
	if w.Code != http.StatusNotFound || w.Header().Get("x-amzn-ErrorType") != "ResourceNotFoundException" {
		t.Errorf("got %d %s, want 404 ResourceNotFoundException", w.Code, w.Header().Get("x-amzn-ErrorType"))
	}
	if strings.Contains(b.Message, "get function") {
		t.Errorf("message: got %q, want the fault's message without the wrapping", b.Message)
	}
	if logs != "" {
		t.Errorf("logs: got %q, want nothing for a client fault", logs)
	}
}

func TestWriteError_internal(t *testing.T) {
	cause := errors.New("nats: connection closed to 10.0.0.7:4222 secret-token")
	err := fmt.Errorf("store function f: %w", cause)
	w, b, logs := recordError(t, context.Background(), err)
	if w.Code != http.StatusInternalServerError {
		t.Errorf("status: got %d, want 500", w.Code)
	}
	if got := w.Header().Get("x-amzn-ErrorType"); got != "ServiceException" {
		t.Errorf("x-amzn-ErrorType: got %q, want ServiceException", got)
	}
	if b.Type != "Service" || b.Message == "" {
		t.Errorf("body: got %+v, want Type Service and a message", b)
	}
	for _, leak := range []string{"nats", "10.0.0.7", "secret-token", "store function"} {
		if strings.Contains(w.Body.String(), leak) || strings.Contains(fmt.Sprint(w.Header()), leak) {
			t.Errorf("response leaks %q: %s", leak, w.Body)
		}
	}
	if !strings.Contains(logs, "secret-token") {
		t.Errorf("logs: got %q, want the cause", logs)
	}
}

func TestWriteError_clientGone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w, _, logs := recordError(t, ctx, fmt.Errorf("invoke: %w", context.Canceled))
	if w.Body.Len() != 0 || w.Header().Get("x-amzn-ErrorType") != "" {
		t.Errorf("got %d %q, want nothing written for a gone client", w.Code, w.Body)
	}
	if logs != "" {
		t.Errorf("logs: got %q, want nothing", logs)
	}
}

func TestWriteError_canceledInternally(t *testing.T) {
	// The request is live, but a component canceled its own work. writeError
	// keys on the error rather than on the request's context, writes nothing,
	// and net/http then sends an empty 200 that an SDK reads as success.
	w, b, _ := recordError(t, context.Background(), fmt.Errorf("invoke: %w", context.Canceled))
	if w.Code != http.StatusInternalServerError || b.Type != "Service" {
		t.Errorf("got %d %+v, want 500 ServiceException", w.Code, b)
	}
}

func newRequest(body io.Reader) *http.Request {
	return httptest.NewRequest(http.MethodPost, "/2015-03-31/functions", body)
}

func wantFault(t *testing.T, what string, err error, k fault.Kind, parts ...string) {
	t.Helper()
	f := fault.As(err)
	if f == nil {
		t.Errorf("%s: got %v, want a fault of kind %d", what, err, k)
		return
	}
	if f.Kind != k {
		t.Errorf("%s: got kind %d (%q), want %d", what, f.Kind, f.Message, k)
	}
	for _, p := range parts {
		if !strings.Contains(f.Message, p) {
			t.Errorf("%s: got message %q, want it to contain %q", what, f.Message, p)
		}
	}
}

func TestDecode(t *testing.T) {
	for _, body := range []string{"", "   ", "\n\t", "{}", "null"} {
		req := createRequest{FunctionName: "keep"}
		if err := decode(newRequest(strings.NewReader(body)), &req); err != nil {
			t.Errorf("decode(%q): got %v, want nil", body, err)
		}
		if req.FunctionName != "keep" {
			t.Errorf("decode(%q): got FunctionName %q, want it untouched", body, req.FunctionName)
		}
	}
	var req createRequest
	body := `{"FunctionName":"f","Timeout":30,"MemorySize":256,"Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="},"Environment":{"Variables":{"A_B":"1"}},"Architectures":["arm64"],"Unknown":true}`
	if err := decode(newRequest(strings.NewReader(body)), &req); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if req.FunctionName != "f" || req.Timeout != 30 || req.MemorySize != 256 || len(req.Code.ZipFile) != 22 ||
		req.Environment.Variables["A_B"] != "1" || len(req.Architectures) != 1 {
		t.Errorf("decode: got %+v", req)
	}
}

func TestDecode_invalid(t *testing.T) {
	tests := []struct {
		body  string
		parts []string
	}{
		{`{`, []string{"Could not parse request body into json"}},
		{`{"FunctionName":}`, []string{"Could not parse request body into json"}},
		{`not json`, []string{"Could not parse request body into json"}},
		{`{"FunctionName":"f"} trailing`, []string{"Could not parse request body into json"}},
		{`{"Timeout":"3"}`, []string{"Could not parse request body into json", "Timeout", "string"}},
		{`{"FunctionName":7}`, []string{"FunctionName", "number"}},
		{`{"Publish":"yes"}`, []string{"Publish", "string"}},
		{`{"Code":{"ZipFile":123}}`, []string{"ZipFile", "number"}},
		{`{"Code":{"ZipFile":"!!not base64!!"}}`, []string{"Could not parse request body into json"}},
		{`{"Environment":{"Variables":{"A":1}}}`, []string{"Variables", "number"}},
		{`{"Tags":[]}`, []string{"Tags", "array"}},
		{`{"Timeout":1e100}`, []string{"Timeout"}},
		{`[]`, []string{"Could not parse request body into json"}},
		{`"string"`, []string{"Could not parse request body into json"}},
	}
	for _, tt := range tests {
		var req createRequest
		err := decode(newRequest(strings.NewReader(tt.body)), &req)
		wantFault(t, fmt.Sprintf("decode(%q)", tt.body), err, fault.InvalidRequest, tt.parts...)
		w, b, _ := recordError(t, context.Background(), err)
		if w.Code != 400 || w.Header().Get("x-amzn-ErrorType") != "InvalidRequestContentException" || b.Type != "User" {
			t.Errorf("decode(%q): wire error %d %s %+v, want 400 InvalidRequestContentException", tt.body, w.Code, w.Header().Get("x-amzn-ErrorType"), b)
		}
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestDecode_readError(t *testing.T) {
	var req createRequest
	err := decode(newRequest(io.MultiReader(strings.NewReader(`{"Func`), failingReader{})), &req)
	wantFault(t, "decode(failing body)", err, fault.InvalidRequest, "Could not read request body")
}

// repeatReader yields n copies of b.
type repeatReader struct {
	b byte
	n int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	p = p[:min(len(p), r.n)]
	for i := range p {
		p[i] = r.b
	}
	r.n -= len(p)
	return len(p), nil
}

func TestDecode_tooLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 70 MB; skipped in -short mode")
	}
	open := `{"Description":"`
	body := io.MultiReader(strings.NewReader(open), &repeatReader{'x', requestBodyMax + 1 - len(open)})
	var req createRequest
	err := decode(newRequest(body), &req)
	wantFault(t, "decode(requestBodyMax+1)", err, fault.TooLarge, strconv.Itoa(requestBodyMax))
	w, _, _ := recordError(t, context.Background(), err)
	if w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("status: got %d, want 413", w.Code)
	}
	if req.Description != "" {
		t.Errorf("decode: got Description of %d bytes, want nothing decoded", len(req.Description))
	}
}

func TestDecode_tooLargeType(t *testing.T) {
	// For CreateFunction and UpdateFunctionCode Lambda answers an oversized
	// request with RequestEntityTooLargeException, naming the operation;
	// RequestTooLargeException is Invoke's.
	if testing.Short() {
		t.Skip("reads 70 MB")
	}
	var req createRequest
	r := newRequest(&repeatReader{' ', requestBodyMax + 1})
	r.Pattern = "POST /2015-03-31/functions"
	err := decode(r, &req)
	want := "Request must be smaller than 70167211 bytes for the CreateFunction operation"
	if f := fault.As(err); f == nil || f.Type != "RequestEntityTooLargeException" || f.Message != want {
		t.Errorf("decode(requestBodyMax+1): got %#v, want RequestEntityTooLargeException %q", err, want)
	}
}

func pathRequest(name, qualifier string) *http.Request {
	target := "/2015-03-31/functions/x"
	if qualifier != "" {
		target += "?Qualifier=" + url.QueryEscape(qualifier)
	}
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.SetPathValue("name", name)
	return r
}

func TestPathName(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:fn"
	tests := []struct {
		name, query         string
		wantName, wantQuali string
	}{
		{"fn", "", "fn", ""},
		{"fn", "$LATEST", "fn", "$LATEST"},
		{"fn", "prod", "fn", "prod"},
		{"fn:prod", "", "fn", "prod"},
		{"fn:prod", "prod", "fn", "prod"},
		{"fn:$LATEST", "$LATEST", "fn", "$LATEST"},
		{arn, "", "fn", ""},
		{arn, "7", "fn", "7"},
		{arn + ":7", "", "fn", "7"},
		{arn + ":7", "7", "fn", "7"},
		{"123456789012:function:fn:live", "live", "fn", "live"},
		// Too long for a name, yet within the pattern: it is only not found.
		{strings.Repeat("f", 65), "", strings.Repeat("f", 65), ""},
	}
	for _, tt := range tests {
		name, qualifier, err := locate(pathRequest(tt.name, tt.query), "us-east-1", "123456789012")
		if err != nil || name != tt.wantName || qualifier != tt.wantQuali {
			t.Errorf("pathName(%q, Qualifier=%q): got %q, %q, %v, want %q, %q", tt.name, tt.query, name, qualifier, err, tt.wantName, tt.wantQuali)
		}
	}
}

func TestPathName_invalid(t *testing.T) {
	arn := "arn:aws:lambda:us-east-1:123456789012:function:fn"
	tests := []struct {
		name, query string
		kind        fault.Kind
		part        string
	}{
		{"fn:prod", "dev", fault.InvalidParameter, "does not match the specified qualifier"},
		{"fn:$LATEST", "1", fault.InvalidParameter, "does not match"},
		{arn + ":1", "2", fault.InvalidParameter, "does not match"},
		{"bad name", "", fault.Validation, "functionName"},
		{"bad name", "prod", fault.Validation, "functionName"},
		{"", "", fault.Validation, "functionName"},
		// Both parameters wrong: Lambda lists both violations.
		{"bad name", "bad!", fault.Validation, "2 validation errors detected: Value 'bad name' at 'functionName'"},
		// An ARN of another region is not found, as on Lambda.
		{"arn:aws:lambda:eu-west-1:123456789012:function:fn", "", fault.NotFound, "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')"},
		// An ARN of another account is refused, as on Lambda.
		{"arn:aws:lambda:us-east-1:000000000000:function:fn", "", fault.AccessDenied, ""},
		{"000000000000:function:fn:live", "", fault.AccessDenied, ""},
	}
	for _, tt := range tests {
		name, qualifier, err := locate(pathRequest(tt.name, tt.query), "us-east-1", "123456789012")
		if err == nil {
			t.Errorf("pathName(%q, Qualifier=%q): got %q, %q, want an error", tt.name, tt.query, name, qualifier)
			continue
		}
		wantFault(t, fmt.Sprintf("pathName(%.30q, Qualifier=%q)", tt.name, tt.query), err, tt.kind, tt.part)
	}
}

func TestPathName_qualifierPattern(t *testing.T) {
	// Lambda's Qualifier is 1-128 of [a-zA-Z0-9$_-]; anything else is a
	// ValidationException before the function is looked up.
	for _, q := range []string{"bad qualifier!", "v.1", strings.Repeat("q", 129)} {
		_, _, err := locate(pathRequest("fn", q), "us-east-1", "123456789012")
		wantFault(t, fmt.Sprintf("pathName(fn, Qualifier=%.20q)", q), err, fault.Validation, "qualifier")
	}
}

func TestCodeInput_zip(t *testing.T) {
	zip := []byte("PK")
	if got, err := (codeInput{ZipFile: zip}).zip(); err != nil || !bytes.Equal(got, zip) {
		t.Errorf("zip(ZipFile): got %q, %v, want %q", got, err, zip)
	}
	if got, err := (codeInput{}).zip(); err != nil || got != nil {
		t.Errorf("zip(empty): got %q, %v, want nil, nil", got, err)
	}
	for _, c := range []codeInput{
		{S3Bucket: "b", S3Key: "k"},
		{S3Key: "k"},
		{ZipFile: zip, S3Bucket: "b"},
		{ImageUri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/img:1"},
	} {
		_, err := c.zip()
		wantFault(t, fmt.Sprintf("zip(%+v)", c), err, fault.InvalidParameter, "not supported")
	}
}

func FuzzDecodeCreateRequest(f *testing.F) {
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"FunctionName":"f","Runtime":"python3.12","Code":{"ZipFile":"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}}`,
		`{"Timeout":"3"}`, `{"Environment":{"Variables":{"A":"b"}}}`, `{"Tags":{"a":1}}`, `{"Layers":[1]}`,
		`{"EphemeralStorage":{"Size":1e400}}`, `{"Code":{"ZipFile":"%%%"}}`, "\xff\xfe", `{"a":` + strings.Repeat("[", 100),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req createRequest
		err := decode(newRequest(bytes.NewReader(body)), &req)
		if err == nil {
			if len(bytes.TrimSpace(body)) > 0 && !json.Valid(body) {
				t.Fatalf("decode(%q): accepted invalid JSON", body)
			}
			return
		}
		fe := fault.As(err)
		if fe == nil || fe.Kind != fault.InvalidRequest || fe.Message == "" {
			t.Fatalf("decode(%q): got %#v, want an InvalidRequest fault", body, err)
		}
		w := httptest.NewRecorder()
		writeError(context.Background(), slog.New(slog.DiscardHandler), w, err)
		if w.Code != http.StatusBadRequest || !json.Valid(w.Body.Bytes()) {
			t.Fatalf("decode(%q): wire error %d %q", body, w.Code, w.Body)
		}
	})
}
