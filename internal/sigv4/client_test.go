package sigv4_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/updraft/updraft/internal/sigv4"
)

// signedServer is an httptest.Server whose handler calls Verify before a
// minimal Lambda REST API, and writes failures as restJson1 errors.
type signedServer struct {
	*httptest.Server
	mu       sync.Mutex
	accepted []string // access key IDs Verify returned
}

func newSignedServer(t *testing.T) *signedServer {
	t.Helper()
	v, err := sigv4.NewVerifier(sigv4.Config{Credentials: []sigv4.Credentials{
		{AccessKeyID: testCreds.AccessKeyID, SecretAccessKey: testCreds.SecretAccessKey},
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := &signedServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		akid, err := v.Verify(r)
		if err != nil {
			var e *sigv4.Error
			if !errors.As(err, &e) {
				e = &sigv4.Error{Code: "ServiceException", Message: "internal error", Status: http.StatusInternalServerError}
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-ErrorType", e.Code)
			w.WriteHeader(e.Status)
			json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
			return
		}
		s.mu.Lock()
		s.accepted = append(s.accepted, akid)
		s.mu.Unlock()
		switch {
		case r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/2015-03-31/functions":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"Functions":[]}`)
		case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/invocations"):
			// Echo the payload: the handler reads the body Verify hashed.
			w.Header().Set("X-Amz-Executed-Version", r.URL.Query().Get("Qualifier"))
			io.Copy(w, r.Body)
		case r.URL.Query().Get("Action") == "GetCallerIdentity":
			w.Header().Set("Content-Type", "text/xml")
			io.WriteString(w, `<GetCallerIdentityResponse><GetCallerIdentityResult><Account>000000000000</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
		default:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"message": "no route for " + r.Method + " " + r.RequestURI})
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *signedServer) acceptedKeys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.accepted...)
}

func (s *signedServer) lambdaClient(secret, token string) *lambda.Client {
	return lambda.New(lambda.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, secret, token),
		HTTPClient:       s.Client(),
		RetryMaxAttempts: 1,
	})
}

func TestVerifier_Verify_lambdaClient(t *testing.T) {
	srv := newSignedServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, token := range []string{"", "session-token"} {
		client := srv.lambdaClient(testCreds.SecretAccessKey, token)
		if _, err := client.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil {
			t.Fatalf("ListFunctions (token %q): %v", token, err)
		}
		payload := `{"hello":"wörld","n":[1,2,3]}`
		for _, in := range []*lambda.InvokeInput{
			{FunctionName: aws.String("arn:aws:lambda:us-east-1:000000000000:function:my-fn"), Payload: []byte(payload)},
			{FunctionName: aws.String("my fn+é"), Qualifier: aws.String("$LATEST"), Payload: []byte(payload)},
		} {
			out, err := client.Invoke(ctx, in)
			if err != nil {
				t.Fatalf("Invoke %s (token %q): %v", *in.FunctionName, token, err)
			}
			if string(out.Payload) != payload {
				t.Errorf("Invoke %s: got payload %q, want %q", *in.FunctionName, out.Payload, payload)
			}
		}
	}
	if got := srv.acceptedKeys(); len(got) != 6 || got[0] != testCreds.AccessKeyID {
		t.Errorf("accepted keys: got %q, want 6 × %q", got, testCreds.AccessKeyID)
	}

	_, err := srv.lambdaClient("wrong-secret", "").ListFunctions(ctx, &lambda.ListFunctionsInput{})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != sigv4.CodeInvalidSignature {
		t.Fatalf("ListFunctions with wrong secret: got %v, want %s", err, sigv4.CodeInvalidSignature)
	}
	if !strings.HasPrefix(apiErr.ErrorMessage(), "The request signature we calculated does not match") {
		t.Errorf("ListFunctions with wrong secret: got message %q", apiErr.ErrorMessage())
	}
	if got := len(srv.acceptedKeys()); got != 6 {
		t.Errorf("accepted requests after wrong secret: got %d, want 6", got)
	}
}

// TestVerifier_Verify_stsPresignClient sends a URL made by the STS presign
// client, as EKS-style token authenticators do.
func TestVerifier_Verify_stsPresignClient(t *testing.T) {
	srv := newSignedServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, "tok"),
	})
	pre, err := sts.NewPresignClient(client).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("PresignGetCallerIdentity: %v", err)
	}
	req, err := http.NewRequestWithContext(ctx, pre.Method, pre.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range pre.SignedHeader {
		if k != "Host" {
			req.Header[k] = vs
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("presigned %s %s: got %s %s", pre.Method, pre.URL, resp.Status, body)
	}
	if got := srv.acceptedKeys(); len(got) != 1 {
		t.Errorf("accepted keys: got %q, want one", got)
	}

	// The same URL with the signature of another request is refused.
	tampered := strings.Replace(pre.URL, "Action=GetCallerIdentity", "Action=GetSessionToken", 1)
	resp, err = srv.Client().Get(tampered)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-Amzn-ErrorType") != sigv4.CodeInvalidSignature {
		t.Errorf("tampered presigned URL: got %s %s", resp.Status, resp.Header.Get("X-Amzn-ErrorType"))
	}
}
