package sigv4_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/updraft/updraft/internal/sigv4"
)

var (
	testCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	otherKey  = sigv4.Credentials{AccessKeyID: "AKIDOTHER", SecretAccessKey: "other-secret"}
	signTime  = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	// verifyTime is when the verifier sees requests signed at signTime.
	verifyTime = signTime.Add(time.Minute)
)

const invokePath = "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Amy-fn/invocations"

func newVerifier(t testing.TB, now time.Time, maxBody int64) *sigv4.Verifier {
	t.Helper()
	v, err := sigv4.NewVerifier(sigv4.Config{
		Credentials: []sigv4.Credentials{
			{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey},
			otherKey,
		},
		MaxBodySize: maxBody,
		Now:         func() time.Time { return now },
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// request describes a request to sign with the SDK's signer.
type request struct {
	method, url string
	header      http.Header
	body        string
	service     string
	region      string
	payloadHash string // "" means the hex SHA-256 of body
	creds       *aws.Credentials
	at          time.Time // zero means signTime
	s3          bool      // sign the path encoded once (DisableURIPathEscaping)
	presign     bool
}

func (rq request) new(t testing.TB) *http.Request {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequest(rq.method, rq.url, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range rq.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return req
}

// sign signs rq with aws-sdk-go-v2's SigV4 signer and returns the client request.
func (rq request) sign(t testing.TB) *http.Request {
	t.Helper()
	req := rq.new(t)
	hash := rq.payloadHash
	if hash == "" {
		sum := sha256.Sum256([]byte(rq.body))
		hash = hex.EncodeToString(sum[:])
	}
	creds := testCreds
	if rq.creds != nil {
		creds = *rq.creds
	}
	at := rq.at
	if at.IsZero() {
		at = signTime
	}
	service, region := rq.service, rq.region
	if service == "" {
		service = "lambda"
	}
	if region == "" {
		region = "us-east-1"
	}
	opt := func(o *v4.SignerOptions) { o.DisableURIPathEscaping = rq.s3 }
	signer := v4.NewSigner()
	if !rq.presign {
		if err := signer.SignHTTP(context.Background(), creds, req, hash, service, region, at, opt); err != nil {
			t.Fatalf("SignHTTP: %v", err)
		}
		return req
	}
	signedURL, signedHeader, err := signer.PresignHTTP(context.Background(), creds, req, hash, service, region, at, opt)
	if err != nil {
		t.Fatalf("PresignHTTP: %v", err)
	}
	pre := rq.new(t)
	pre.URL, err = url.Parse(signedURL)
	if err != nil {
		t.Fatal(err)
	}
	pre.Header = http.Header{}
	for k, vs := range signedHeader {
		if k != "Host" {
			pre.Header[k] = vs
		}
	}
	return pre
}

// onWire writes req as an HTTP/1.1 client would, passes the bytes through
// mutate when it is not nil, and reads them back as the server does.
func onWire(t testing.TB, req *http.Request, mutate func(string) string) *http.Request {
	t.Helper()
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatalf("write request: %v", err)
	}
	raw := b.String()
	if mutate != nil {
		m := mutate(raw)
		if m == raw {
			t.Fatalf("mutation changed nothing in:\n%s", raw)
		}
		raw = m
	}
	got, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("read request: %v\n%s", err, raw)
	}
	return got
}

func replace(old, new string) func(string) string {
	return func(s string) string { return strings.Replace(s, old, new, 1) }
}

func mustVerify(t *testing.T, v *sigv4.Verifier, r *http.Request) {
	t.Helper()
	akid, err := v.Verify(r)
	if err != nil {
		var dump bytes.Buffer
		r.Write(&dump)
		t.Fatalf("Verify: %v\nrequest:\n%s", err, dump.String())
	}
	if akid != testCreds.AccessKeyID {
		t.Errorf("Verify: got access key %q, want %q", akid, testCreds.AccessKeyID)
	}
}

func TestVerifier_Verify_accepts(t *testing.T) {
	session := testCreds
	session.SessionToken = "FwoGZXIvYXdzEJr//////////wEaDOL+session/token=="
	tests := []struct {
		name string
		req  request
		wire func(string) string // applied to the signed request on the wire
	}{
		{name: "lambda invoke ARN path", req: request{
			method: "POST", url: "http://localhost:9001" + invokePath,
			header: http.Header{"Content-Type": {"application/json"}, "X-Amz-Invocation-Type": {"RequestResponse"}},
			body:   `{"key":"value"}`,
		}},
		{name: "lambda get function qualifier", req: request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/my-fn?Qualifier=%24LATEST",
		}},
		{name: "json 1.0 with X-Amz-Target", req: request{
			method: "POST", url: "http://127.0.0.1:8080/", service: "states", region: "eu-west-1",
			header: http.Header{
				"Content-Type": {"application/x-amz-json-1.0"},
				"X-Amz-Target": {"AWSStepFunctions.StartExecution"},
			},
			body: `{"stateMachineArn":"arn:aws:states:eu-west-1:000000000000:stateMachine:m","input":"{}"}`,
		}},
		{name: "json 1.1 events", req: request{
			method: "POST", url: "http://127.0.0.1:8080", service: "events", region: "ap-southeast-2",
			header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"AWSEvents.PutEvents"}},
			body:   `{"Entries":[]}`,
		}},
		{name: "query repeated keys and reserved characters", req: request{
			method: "GET",
			url: "http://localhost:9001/q?b=2&a=z&a=y&k=a%2Fb&k=a-b&c=%2F%3D%26%3F%23&d=hello%20world" +
				"&e=~-._&f=%E2%9C%93&h=a+b&flag&empty=&%24key=1&a-b=1&a%2Fb=2&plus=%2B&star=*&sp=%20",
		}},
		{name: "query reordered on the wire", req: request{
			method: "GET", url: "http://localhost:9001/q?z=1&a=2&m=3&a=1",
		}, wire: replace("?a=1&a=2&m=3&z=1", "?z=1&a=2&m=3&a=1")},
		{name: "query in another client's equivalent encoding", req: request{
			method: "GET", url: "http://localhost:9001/q?d=hello%20world&k=a%2Fb&t=~&u=%C3%A9",
		}, wire: replace("?d=hello%20world&k=a%2Fb&t=~&u=%C3%A9", "?u=%c3%a9&t=%7E&k=a%2fb&d=hello+world")},
		{name: "path with space, unicode, plus and encoded slash", req: request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/a%20b/caf%C3%A9/x+y/p%2Fq/%21%27%28%29%2A:@",
		}},
		{name: "empty path", req: request{method: "GET", url: "http://localhost:9001"}},
		{name: "repeated header and excess spaces", req: request{
			method: "POST", url: "http://localhost:9001/2015-03-31/functions",
			header: http.Header{
				"X-Custom": {"first", "second value"},
				"X-Spaces": {"  a   b  c  "},
				"X-Commas": {"a, b,c"},
			},
			body: `{}`,
		}},
		{name: "session token", req: request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/", creds: &session,
		}},
		{name: "explicit body hash header", req: request{
			method: "PUT", url: "http://localhost:9001/2015-03-31/functions/f/code",
			header: http.Header{"X-Amz-Content-Sha256": {sha256Hex("zip bytes")}},
			body:   "zip bytes",
		}},
		{name: "unsigned payload", req: request{
			method: "PUT", url: "http://localhost:9001/bucket/key", payloadHash: "UNSIGNED-PAYLOAD",
			header: http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}},
			body:   "anything at all",
		}},
		{name: "streaming payload", req: request{
			method: "PUT", url: "http://localhost:9001/bucket/key", service: "s3", s3: true,
			payloadHash: "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
			header: http.Header{
				"X-Amz-Content-Sha256":         {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
				"X-Amz-Decoded-Content-Length": {"5"},
			},
			body: "5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\n\r\n",
		}},
		{name: "s3 path encoded once", req: request{
			method: "GET", url: "http://localhost:9001/bucket/dir/key%20with%3Acolon%2Bplus", service: "s3", s3: true,
			payloadHash: "UNSIGNED-PAYLOAD", header: http.Header{"X-Amz-Content-Sha256": {"UNSIGNED-PAYLOAD"}},
		}},
		{name: "dot segments normalised before signing, as botocore does", req: request{
			method: "GET", url: "http://localhost:9001/a/b/c",
		}, wire: replace("GET /a/b/c ", "GET /a//b/./x/../c ")},
		{name: "default port stripped by the signer", req: request{
			method: "GET", url: "http://localhost:80/2015-03-31/functions/",
		}},
		{name: "presigned lambda GET", req: request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/my-fn?Qualifier=1&X-Amz-Expires=300", presign: true,
		}},
		{name: "presigned with session token and hoisted header", req: request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/my-fn", presign: true, creds: &session,
			header: http.Header{"X-Amz-Client-Context": {"e30="}, "Content-Type": {"application/json"}},
		}},
		{name: "presigned s3 unsigned payload", req: request{
			method: "PUT", url: "http://localhost:9001/bucket/a%20key?X-Amz-Expires=600", presign: true,
			service: "s3", s3: true, payloadHash: "UNSIGNED-PAYLOAD", body: "object body",
		}},
		{name: "unsigned header changed", req: request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/",
		}, wire: replace("User-Agent: Go-http-client/1.1", "User-Agent: aws-cli/2.0")},
	}
	v := newVerifier(t, verifyTime, 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := onWire(t, tt.req.sign(t), tt.wire)
			mustVerify(t, v, r)
			got, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatalf("read body after Verify: %v", err)
			}
			if string(got) != tt.req.body {
				t.Errorf("body after Verify: got %q, want %q", got, tt.req.body)
			}
			if tt.wire == nil {
				// The client's own request, without RequestURI.
				mustVerify(t, v, tt.req.sign(t))
			}
		})
	}
}

func TestVerifier_Verify_concurrent(t *testing.T) {
	v := newVerifier(t, verifyTime, 0)
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-south-1"}
	var wg sync.WaitGroup
	for i := range 8 {
		r := onWire(t, request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/?X-Amz-Expires=60",
			region: regions[i%len(regions)], presign: true,
		}.sign(t), nil)
		wg.Go(func() {
			for range 50 {
				if _, err := v.Verify(r); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestVerifier_Verify_rejects(t *testing.T) {
	invoke := request{
		method: "POST", url: "http://localhost:9001" + invokePath + "?Qualifier=prod",
		header: http.Header{"Content-Type": {"application/json"}, "X-Amz-Invocation-Type": {"RequestResponse"}},
		body:   `{"key":"value"}`,
	}
	with := func(f func(*request)) request {
		rq := invoke
		f(&rq)
		return rq
	}
	wrong := testCreds
	wrong.SecretAccessKey = "not-the-secret"
	unknown := testCreds
	unknown.AccessKeyID = "AKIDUNKNOWN"
	presigned := request{method: "GET", url: "http://localhost:9001/2015-03-31/functions/my-fn?X-Amz-Expires=300", presign: true}

	tests := []struct {
		name     string
		req      request
		wire     func(string) string
		maxBody  int64
		wantCode string
		wantMsg  string // prefix
	}{
		{"body", invoke, replace(`"value"`, `"valuE"`), 0, sigv4.CodeInvalidSignature, "The request signature we calculated"},
		{"signed header", invoke, replace("RequestResponse", "Event"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"content type", invoke, replace("application/json", "application/jsox"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"path", invoke, replace("my-fn", "my-fX"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"path encoding", invoke, replace("%3Afunction", ":function"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"query value", invoke, replace("Qualifier=prod", "Qualifier=dev"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"query added", invoke, replace("Qualifier=prod", "Qualifier=prod&x=1"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"query removed", invoke, replace("?Qualifier=prod", ""), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"query invalid encoding", invoke, replace("Qualifier=prod", "Qualifier=%zz"), 0, sigv4.CodeIncompleteSignature, "Query string"},
		{"method", invoke, replace("POST ", "PUT "), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"host", invoke, replace("Host: localhost:9001", "Host: localhost:9002"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"signature", invoke, flipAfter("Signature="), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"signature length", invoke, replace("Signature=", "Signature=0"), 0, sigv4.CodeIncompleteSignature, "Signature must be"},
		{"secret", with(func(r *request) { r.creds = &wrong }), nil, 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"access key", with(func(r *request) { r.creds = &unknown }), nil, 0, sigv4.CodeUnrecognizedClient, "The security token included in the request is invalid."},
		{"signed by another configured key", invoke, replace("Credential=AKIDEXAMPLE/", "Credential=AKIDOTHER/"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"date past skew", with(func(r *request) { r.at = verifyTime.Add(-16 * time.Minute) }), nil, 0, sigv4.CodeInvalidSignature, "Signature expired: 20250314T145426Z is now earlier than 20250314T145526Z (20250314T151026Z - 15 min.)"},
		{"date ahead of skew", with(func(r *request) { r.at = verifyTime.Add(16 * time.Minute) }), nil, 0, sigv4.CodeInvalidSignature, "Signature not yet current:"},
		{"date changed", invoke, replace("X-Amz-Date: 20250314T150926Z", "X-Amz-Date: 20250314T150927Z"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"scope date", invoke, replace("/20250314/", "/20250313/"), 0, sigv4.CodeInvalidSignature, "Date in Credential scope does not match"},
		{"region", invoke, replace("/us-east-1/lambda/", "/us-west-2/lambda/"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"empty authorization", invoke, func(s string) string {
			i := strings.Index(s, "Authorization:") + len("Authorization:")
			return s[:i] + s[i+strings.Index(s[i:], "\r\n"):]
		}, 0, sigv4.CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"two authorization headers", invoke, replace("Host:", "Authorization: AWS4-HMAC-SHA256 x\r\nHost:"), 0, sigv4.CodeIncompleteSignature, "Authorization header must appear once"},
		{"no authorization", invoke, func(s string) string {
			i := strings.Index(s, "Authorization:")
			return s[:i] + s[i+strings.Index(s[i:], "\r\n")+2:]
		}, 0, sigv4.CodeMissingAuthenticationToken, "Missing Authentication Token"},
		{"malformed authorization", invoke, replace("Credential=", "Credentail="), 0, sigv4.CodeIncompleteSignature, "Unknown parameter"},
		{"algorithm", invoke, replace("AWS4-HMAC-SHA256 ", "AWS4-ECDSA-P256-SHA256 "), 0, sigv4.CodeIncompleteSignature, "Unsupported AWS 'algorithm'"},
		{"host not signed", invoke, replace("SignedHeaders=content-length;content-type;host;", "SignedHeaders=content-length;content-type;"), 0, sigv4.CodeIncompleteSignature, "'Host' must be"},
		{"unsigned security token", invoke, replace("Host:", "X-Amz-Security-Token: stolen\r\nHost:"), 0, sigv4.CodeIncompleteSignature, "'X-Amz-Security-Token' must be"},
		{"body hash header mismatch", with(func(r *request) {
			r.header = http.Header{"X-Amz-Content-Sha256": {sha256Hex(r.body)}}
		}), replace(`"value"`, `"valuE"`), 0, sigv4.CodeInvalidSignature, "The provided 'x-amz-content-sha256' header does not match"},
		{"body hash made unsigned", invoke, replace("Host:", "X-Amz-Content-Sha256: UNSIGNED-PAYLOAD\r\nHost:"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"body too large", invoke, nil, 8, sigv4.CodeRequestEntityTooLarge, "Request must be smaller than 8 bytes"},
		{"presigned signature", presigned, flipAfter("X-Amz-Signature="), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"presigned signature length", presigned, replace("X-Amz-Signature=", "X-Amz-Signature=0"), 0, sigv4.CodeIncompleteSignature, "Signature must be"},
		{"presigned path", presigned, replace("my-fn", "my-fX"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"presigned expires", presigned, replace("X-Amz-Expires=300", "X-Amz-Expires=900"), 0, sigv4.CodeInvalidSignature, "The request signature"},
		{"presigned expired", with(func(r *request) {
			*r = presigned
			r.at = verifyTime.Add(-6 * time.Minute)
		}), nil, 0, sigv4.CodeInvalidSignature, "Signature expired: 20250314T150926Z is now earlier than 20250314T151026Z (20250314T150426Z + 300 sec.)"},
		{"presigned and header", presigned, replace("Host:", "Authorization: AWS4-HMAC-SHA256 Credential=x\r\nHost:"), 0, sigv4.CodeIncompleteSignature, "Only one auth mechanism allowed"},
		{"presigned missing credential", presigned, replace("X-Amz-Credential=", "X-Amz-Credentials="), 0, sigv4.CodeIncompleteSignature, "AWS query-string parameters must include 'X-Amz-Credential'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVerifier(t, verifyTime, tt.maxBody)
			r := onWire(t, tt.req.sign(t), tt.wire)
			akid, err := v.Verify(r)
			var e *sigv4.Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify: got (%q, %v), want *sigv4.Error %s", akid, err, tt.wantCode)
			}
			if akid != "" {
				t.Errorf("Verify: got access key %q with error", akid)
			}
			if e.Code != tt.wantCode || !strings.HasPrefix(e.Message, tt.wantMsg) {
				t.Errorf("Verify: got %s %q, want %s %q...", e.Code, e.Message, tt.wantCode, tt.wantMsg)
			}
			if want := map[string]int{
				sigv4.CodeInvalidSignature:           http.StatusForbidden,
				sigv4.CodeUnrecognizedClient:         http.StatusForbidden,
				sigv4.CodeMissingAuthenticationToken: http.StatusForbidden,
				sigv4.CodeIncompleteSignature:        http.StatusBadRequest,
				sigv4.CodeRequestEntityTooLarge:      http.StatusRequestEntityTooLarge,
			}[e.Code]; e.Status != want {
				t.Errorf("Verify: %s got status %d, want %d", e.Code, e.Status, want)
			}
		})
	}
}

// TestVerifier_Verify_dateHeader covers the Date header form, which the Go
// SDK never produces: the canonical request is built here from the AWS
// documentation.
func TestVerifier_Verify_dateHeader(t *testing.T) {
	date := signTime.Format(http.TimeFormat)
	canonical := "GET\n/2015-03-31/functions/\n\n" +
		"date:" + date + "\nhost:localhost:9001\n\n" +
		"date;host\n" + sha256Hex("")
	scope := "20250314/us-east-1/lambda/aws4_request"
	sts := "AWS4-HMAC-SHA256\n20250314T150926Z\n" + scope + "\n" + sha256Hex(canonical)
	key := hmacSHA256([]byte("AWS4"+testCreds.SecretAccessKey), "20250314")
	for _, s := range []string{"us-east-1", "lambda", "aws4_request"} {
		key = hmacSHA256(key, s)
	}
	sig := hex.EncodeToString(hmacSHA256(key, sts))

	r := httptestRequest(t, "GET /2015-03-31/functions/ HTTP/1.1\r\nHost: localhost:9001\r\nDate: "+date+
		"\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+scope+", SignedHeaders=date;host, Signature="+sig+"\r\n\r\n")
	mustVerify(t, newVerifier(t, verifyTime, 0), r)

	r = httptestRequest(t, "GET /2015-03-31/functions/ HTTP/1.1\r\nHost: localhost:9001\r\nDate: "+
		signTime.Add(time.Second).Format(http.TimeFormat)+
		"\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"+scope+", SignedHeaders=date;host, Signature="+sig+"\r\n\r\n")
	if _, err := newVerifier(t, verifyTime, 0).Verify(r); !hasCode(err, sigv4.CodeInvalidSignature) {
		t.Errorf("Verify with changed Date: got %v, want %s", err, sigv4.CodeInvalidSignature)
	}
}

func TestVerifier_Verify_cachedKeyAcrossDays(t *testing.T) {
	v := newVerifier(t, verifyTime, 0)
	rq := request{method: "GET", url: "http://localhost:9001/2015-03-31/functions/"}
	for range 3 { // the second and third use the cached key
		mustVerify(t, v, onWire(t, rq.sign(t), nil))
	}
	next := signTime.Add(24 * time.Hour)
	v = newVerifier(t, next, 0)
	rq.at = next
	mustVerify(t, v, onWire(t, rq.sign(t), nil))
	rq.creds = &aws.Credentials{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: "wrong"}
	if _, err := v.Verify(onWire(t, rq.sign(t), nil)); !hasCode(err, sigv4.CodeInvalidSignature) {
		t.Errorf("Verify with wrong secret after a cached success: got %v, want %s", err, sigv4.CodeInvalidSignature)
	}
}

func TestConfig_Validate(t *testing.T) {
	good := sigv4.Credentials{AccessKeyID: "AKID", SecretAccessKey: "secret"}
	tests := []struct {
		name string
		cfg  sigv4.Config
		want string // substring of the error; "" for valid
	}{
		{"valid", sigv4.Config{Credentials: []sigv4.Credentials{good}}, ""},
		{"no credentials", sigv4.Config{}, "Credentials: none"},
		{"empty key", sigv4.Config{Credentials: []sigv4.Credentials{good, {SecretAccessKey: "s"}}}, "Credentials[1].AccessKeyID"},
		{"slash in key", sigv4.Config{Credentials: []sigv4.Credentials{{AccessKeyID: "A/B", SecretAccessKey: "s"}}}, "Credentials[0].AccessKeyID"},
		{"empty secret", sigv4.Config{Credentials: []sigv4.Credentials{{AccessKeyID: "A"}}}, "Credentials[0].SecretAccessKey"},
		{"duplicate", sigv4.Config{Credentials: []sigv4.Credentials{good, good}}, "Credentials[1].AccessKeyID: duplicate"},
		{"negative skew", sigv4.Config{Credentials: []sigv4.Credentials{good}, MaxSkew: -1}, "MaxSkew"},
		{"negative body", sigv4.Config{Credentials: []sigv4.Credentials{good}, MaxBodySize: -1}, "MaxBodySize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate: got %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("Validate: got %v, want error containing %q", err, tt.want)
			}
		})
	}
}

func BenchmarkVerifier_Verify(b *testing.B) {
	v := newVerifier(b, verifyTime, 0)
	b.Run("header", func(b *testing.B) {
		body := `{"key":"value","list":[1,2,3],"nested":{"a":"b"}}`
		r := onWire(b, request{
			method: "POST", url: "http://localhost:9001" + invokePath + "?Qualifier=prod",
			header: http.Header{"Content-Type": {"application/json"}, "X-Amz-Invocation-Type": {"RequestResponse"}},
			body:   body,
		}.sign(b), nil)
		b.ReportAllocs()
		for b.Loop() {
			r.Body = io.NopCloser(strings.NewReader(body))
			if _, err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("presigned", func(b *testing.B) {
		r := onWire(b, request{
			method: "GET", url: "http://localhost:9001/2015-03-31/functions/my-fn?X-Amz-Expires=300", presign: true,
		}.sign(b), nil)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// flipAfter changes the hex digit that follows marker.
func flipAfter(marker string) func(string) string {
	return func(s string) string {
		i := strings.Index(s, marker) + len(marker)
		c := byte('0')
		if s[i] == '0' {
			c = '1'
		}
		return s[:i] + string(c) + s[i+1:]
	}
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func hasCode(err error, code string) bool {
	var e *sigv4.Error
	return errors.As(err, &e) && e.Code == code
}

func httptestRequest(t *testing.T, raw string) *http.Request {
	t.Helper()
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return r
}
