// Package runtimeapi serves the AWS Lambda Runtime API (2018-06-01) to one
// execution environment: the runtime inside the environment long-polls
// invocation/next, then posts the response or error for each invocation it
// was handed. Any program that speaks the Runtime API — aws-lambda-go's
// bootstrap, the Python and Node runtimes in runtimes/, Rust or C++
// runtimes — runs unchanged.
//
// A Server listens on its own loopback port (AWS_LAMBDA_RUNTIME_API is a
// host:port). Submit hands it invocations; several may be outstanding at
// once when the runtime polls next concurrently. A Server is safe for
// concurrent use.
package runtimeapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Version is the Runtime API version prefix.
const Version = "2018-06-01"

// ResponseMax is the largest response a function may return, as Lambda's
// (6 MB and 100 bytes).
const ResponseMax = 6291556

// Headers of the Runtime API.
const (
	HeaderRequestID       = "Lambda-Runtime-Aws-Request-Id"
	HeaderDeadlineMS      = "Lambda-Runtime-Deadline-Ms"
	HeaderFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	HeaderTraceID         = "Lambda-Runtime-Trace-Id"
	HeaderClientContext   = "Lambda-Runtime-Client-Context"
	HeaderCognitoIdentity = "Lambda-Runtime-Cognito-Identity"
	HeaderTenantID        = "Lambda-Runtime-Aws-Tenant-Id"
	HeaderErrorType       = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody      = "Lambda-Runtime-Function-Error-Body"
)

// Invocation is one request handed to the runtime.
type Invocation struct {
	RequestID       string
	Payload         []byte
	Deadline        time.Time
	FunctionARN     string
	TraceID         string
	ClientContext   string // JSON, as the runtime receives it
	CognitoIdentity string // JSON
	TenantID        string

	result chan Result
}

// NewInvocation prepares an invocation for Submit.
func NewInvocation(requestID string, payload []byte, deadline time.Time) *Invocation {
	return &Invocation{RequestID: requestID, Payload: payload, Deadline: deadline, result: make(chan Result, 1)}
}

// Result arrives once the runtime has answered.
func (inv *Invocation) Result() <-chan Result { return inv.result }

// Result is the runtime's answer to one invocation.
type Result struct {
	// Payload is the response body, or the error body when Error is set.
	Payload     []byte
	ContentType string
	// ErrorType is set when the runtime reported an error (the
	// Lambda-Runtime-Function-Error-Type header or the errorType field).
	ErrorType string
	// Error reports that the runtime posted to /error.
	Error bool
}

// InitError is what the runtime posted to init/error.
type InitError struct {
	Type    string
	Payload []byte
}

// Server is one environment's Runtime API endpoint.
type Server struct {
	ln    net.Listener
	srv   *http.Server
	queue chan *Invocation

	mu       sync.Mutex
	inflight map[string]*Invocation
	polled   bool

	ready    chan struct{} // closed at the first invocation/next
	initErr  chan InitError
	closed   chan struct{}
	closeOne sync.Once
}

// queueMin is the least room a Server keeps for submitted invocations
// the runtime has not asked for yet.
const queueMin = 64

// Listen opens a Runtime API endpoint on a random loopback port.
func Listen() (*Server, error) { return ListenQueue(1) }

// ListenQueue opens a Runtime API endpoint for an environment that serves
// up to concurrency invocations at once, so Submit never waits for the
// runtime to ask for one it is allowed to run.
func ListenQueue(concurrency int) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:       ln,
		queue:    make(chan *Invocation, max(concurrency, queueMin)),
		inflight: map[string]*Invocation{},
		ready:    make(chan struct{}),
		initErr:  make(chan InitError, 1),
		closed:   make(chan struct{}),
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /"+Version+"/runtime/invocation/next", s.next)
	mux.HandleFunc("POST /"+Version+"/runtime/invocation/{id}/response", s.response)
	mux.HandleFunc("POST /"+Version+"/runtime/invocation/{id}/error", s.invocationError)
	mux.HandleFunc("POST /"+Version+"/runtime/init/error", s.initError)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready is closed when the runtime first asks for an invocation, which
// ends the INIT phase.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitErrors delivers a runtime's init/error report.
func (s *Server) InitErrors() <-chan InitError { return s.initErr }

// Submit queues an invocation for the runtime. It never blocks for long:
// the queue holds as many invocations as the environment may run at once.
func (s *Server) Submit(inv *Invocation) error {
	select {
	case <-s.closed:
		return errors.New("runtime api closed")
	default:
	}
	s.mu.Lock()
	s.inflight[inv.RequestID] = inv
	s.mu.Unlock()
	select {
	case s.queue <- inv:
		return nil
	case <-s.closed:
		return errors.New("runtime api closed")
	}
}

// Forget drops an invocation that ended without an answer (timeout, crash),
// so a late answer is refused.
func (s *Server) Forget(requestID string) {
	s.mu.Lock()
	delete(s.inflight, requestID)
	s.mu.Unlock()
}

// Close stops serving. Waiting next calls return.
func (s *Server) Close() error {
	s.closeOne.Do(func() { close(s.closed) })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		return s.srv.Close()
	}
	return nil
}

func (s *Server) next(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if !s.polled {
		s.polled = true
		close(s.ready)
	}
	s.mu.Unlock()
	var inv *Invocation
	select {
	case inv = <-s.queue:
	case <-s.closed:
		http.Error(w, "shutting down", http.StatusGone)
		return
	case <-r.Context().Done():
		return
	}
	h := w.Header()
	h["Lambda-Runtime-Aws-Request-Id"] = []string{inv.RequestID}
	h["Lambda-Runtime-Deadline-Ms"] = []string{strconv.FormatInt(inv.Deadline.UnixMilli(), 10)}
	h["Lambda-Runtime-Invoked-Function-Arn"] = []string{inv.FunctionARN}
	if inv.TraceID != "" {
		h["Lambda-Runtime-Trace-Id"] = []string{inv.TraceID}
	}
	if inv.ClientContext != "" {
		h["Lambda-Runtime-Client-Context"] = []string{inv.ClientContext}
	}
	if inv.CognitoIdentity != "" {
		h["Lambda-Runtime-Cognito-Identity"] = []string{inv.CognitoIdentity}
	}
	if inv.TenantID != "" {
		h["Lambda-Runtime-Aws-Tenant-Id"] = []string{inv.TenantID}
	}
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(inv.Payload))}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.Payload)
}

func (s *Server) take(id string) *Invocation {
	s.mu.Lock()
	inv := s.inflight[id]
	delete(s.inflight, id)
	s.mu.Unlock()
	return inv
}

var accepted = []byte(`{"status":"OK"}` + "\n")

func writeStatus(w http.ResponseWriter, code int, errType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if code == http.StatusAccepted {
		_, _ = w.Write(accepted)
		return
	}
	b, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": msg})
	_, _ = w.Write(b)
}

func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	inv := s.take(r.PathValue("id"))
	if inv == nil {
		writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, ResponseMax+1))
	if err != nil {
		inv.result <- errorResult("Runtime.Unknown", "reading response from runtime: "+err.Error())
		writeStatus(w, http.StatusBadRequest, "InvalidRequest", err.Error())
		return
	}
	if len(body) > ResponseMax {
		inv.result <- errorResult("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size ("+strconv.Itoa(ResponseMax)+" bytes).")
		writeStatus(w, http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Exceeded maximum allowed payload size ("+strconv.Itoa(ResponseMax)+" bytes).")
		return
	}
	if t := r.Trailer.Get(HeaderErrorType); t != "" {
		// The runtime failed while streaming its response body.
		payload, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		inv.result <- Result{Payload: payload, ErrorType: t, Error: true}
		writeStatus(w, http.StatusAccepted, "", "")
		return
	}
	inv.result <- Result{Payload: body, ContentType: r.Header.Get("Content-Type")}
	writeStatus(w, http.StatusAccepted, "", "")
}

func (s *Server) invocationError(w http.ResponseWriter, r *http.Request) {
	inv := s.take(r.PathValue("id"))
	if inv == nil {
		writeStatus(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, ResponseMax))
	inv.result <- Result{Payload: body, ErrorType: errorType(r.Header, body), Error: true}
	writeStatus(w, http.StatusAccepted, "", "")
}

func (s *Server) initError(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, ResponseMax))
	select {
	case s.initErr <- InitError{Type: errorType(r.Header, body), Payload: body}:
	default:
	}
	writeStatus(w, http.StatusAccepted, "", "")
}

// errorType takes the header, else the body's errorType, else Lambda's
// default for an unnamed runtime error.
func errorType(h http.Header, body []byte) string {
	if t := h.Get(HeaderErrorType); t != "" {
		return t
	}
	var e struct {
		ErrorType string `json:"errorType"`
	}
	if json.Unmarshal(body, &e) == nil && e.ErrorType != "" {
		return e.ErrorType
	}
	return "Runtime.Unknown"
}

func errorResult(typ, msg string) Result {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(map[string]string{"errorMessage": msg, "errorType": typ})
	return Result{Payload: bytes.TrimSpace(b.Bytes()), ErrorType: typ, Error: true}
}

// IsErrorType reports whether a Lambda error type names a runtime failure
// (Runtime.*, Sandbox.*) rather than the function's own error.
func IsErrorType(t string) bool {
	return strings.HasPrefix(t, "Runtime.") || strings.HasPrefix(t, "Sandbox.")
}
