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
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
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
//
// It reads requests with net/http's parser but answers them itself: an
// invocation handed to a runtime already waiting in invocation/next is
// written to that runtime's connection by Submit's goroutine, with no
// hand-off to another, and no request costs a goroutine of its own. On a
// warm invocation that is the difference between one goroutine wake-up in
// the node and several (docs/design.md, "Execution environments").
type Server struct {
	ln net.Listener

	mu       sync.Mutex
	queue    []*Invocation // submitted, not yet asked for
	waiting  []*conn       // connections whose invocation/next waits
	conns    map[*conn]struct{}
	inflight map[string]*Invocation
	polled   bool
	shut     bool

	ready    chan struct{} // closed at the first invocation/next
	initErr  chan InitError
	closeOne sync.Once
	serving  sync.WaitGroup
}

// Listen opens a Runtime API endpoint on a random loopback port.
func Listen() (*Server, error) { return ListenQueue(1) }

// ListenQueue opens a Runtime API endpoint for an environment that serves
// up to concurrency invocations at once. Submit never waits for the
// runtime, whatever the concurrency; it is kept for callers that size the
// environment.
func ListenQueue(concurrency int) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{
		ln:       ln,
		conns:    map[*conn]struct{}{},
		inflight: make(map[string]*Invocation, concurrency),
		ready:    make(chan struct{}),
		initErr:  make(chan InitError, 1),
	}
	s.serving.Add(1)
	go s.accept()
	return s, nil
}

// Addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Ready is closed when the runtime first asks for an invocation, which
// ends the INIT phase.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// InitErrors delivers a runtime's init/error report.
func (s *Server) InitErrors() <-chan InitError { return s.initErr }

var errClosed = errors.New("runtime api closed")

// Submit hands an invocation to the runtime: to a connection waiting in
// invocation/next, written from the caller's goroutine (bounded by the
// invocation's deadline), else to the queue the next poll takes from. It
// never waits for the runtime to ask.
func (s *Server) Submit(inv *Invocation) error {
	s.mu.Lock()
	if s.shut {
		s.mu.Unlock()
		return errClosed
	}
	s.inflight[inv.RequestID] = inv
	for len(s.waiting) > 0 {
		c := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.mu.Unlock()
		if c.answerNext(inv) == nil {
			return nil
		}
		// That runtime is gone; try the next one waiting, else queue.
		s.mu.Lock()
		if s.shut {
			s.mu.Unlock()
			return errClosed
		}
	}
	s.queue = append(s.queue, inv)
	s.mu.Unlock()
	return nil
}

// Forget drops an invocation that ended without an answer (timeout, crash),
// so a late answer is refused.
func (s *Server) Forget(requestID string) {
	s.mu.Lock()
	delete(s.inflight, requestID)
	s.mu.Unlock()
}

// Close stops serving: a waiting invocation/next is answered 410 Gone and
// every connection is closed.
func (s *Server) Close() error {
	s.closeOne.Do(func() {
		_ = s.ln.Close()
		s.mu.Lock()
		s.shut = true
		waiting := s.waiting
		s.waiting = nil
		s.mu.Unlock()
		for _, c := range waiting {
			c.answerGone()
		}
		s.mu.Lock()
		for c := range s.conns {
			_ = c.nc.Close()
		}
		s.mu.Unlock()
		s.serving.Wait()
	})
	return nil
}

func (s *Server) accept() {
	defer s.serving.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		c := newConn(s, nc)
		s.mu.Lock()
		if s.shut {
			s.mu.Unlock()
			_ = nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.serving.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

// next answers an invocation/next on c: with a queued invocation at
// once, else by parking c until Submit writes one to it.
func (s *Server) next(c *conn) {
	s.mu.Lock()
	if !s.polled {
		s.polled = true
		close(s.ready)
	}
	if s.shut {
		s.mu.Unlock()
		c.answerGone()
		return
	}
	if len(s.queue) > 0 {
		inv := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()
		if c.writeNext(inv) != nil {
			s.requeue(inv)
		}
		return
	}
	c.park()
	s.waiting = append(s.waiting, c)
	s.mu.Unlock()
}

// requeue puts back, first in line, an invocation whose runtime
// connection failed before it was written.
func (s *Server) requeue(inv *Invocation) {
	s.mu.Lock()
	if _, ok := s.inflight[inv.RequestID]; ok && !s.shut {
		s.queue = append([]*Invocation{inv}, s.queue...)
	}
	s.mu.Unlock()
}

// unpark takes c off the waiting list; false if Submit already took it.
func (s *Server) unpark(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, w := range s.waiting {
		if w == c {
			s.waiting = slices.Delete(s.waiting, i, i+1)
			return true
		}
	}
	return false
}

func (s *Server) drop(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func (s *Server) take(id string) *Invocation {
	s.mu.Lock()
	inv := s.inflight[id]
	delete(s.inflight, id)
	s.mu.Unlock()
	return inv
}

var accepted = []byte(`{"status":"OK"}` + "\n")

// status answers a post: 202 with Lambda's acknowledgement, else the
// error as the Runtime API reports it.
func (c *conn) status(code int, errType, msg string, keep bool) {
	if code == http.StatusAccepted {
		c.reply(code, accepted, !keep)
		return
	}
	b, _ := json.Marshal(map[string]string{"errorType": errType, "errorMessage": msg})
	c.reply(code, b, !keep)
}

func (s *Server) response(c *conn, r *http.Request, id string, keep bool) {
	inv := s.take(id)
	if inv == nil {
		c.status(http.StatusBadRequest, "InvalidRequestID", "Invalid request ID", keep)
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.body(r), ResponseMax+1))
	if err != nil {
		inv.result <- errorResult("Runtime.Unknown", "reading response from runtime: "+err.Error())
		c.status(http.StatusBadRequest, "InvalidRequest", err.Error(), false)
		return
	}
	if len(body) > ResponseMax {
		inv.result <- errorResult("Function.ResponseSizeTooLarge", "Response payload size exceeded maximum allowed payload size ("+strconv.Itoa(ResponseMax)+" bytes).")
		c.status(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Exceeded maximum allowed payload size ("+strconv.Itoa(ResponseMax)+" bytes).", keep)
		return
	}
	if t := r.Trailer.Get(HeaderErrorType); t != "" {
		// The runtime failed while streaming its response body.
		payload, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		inv.result <- Result{Payload: payload, ErrorType: t, Error: true}
		c.status(http.StatusAccepted, "", "", keep)
		return
	}
	inv.result <- Result{Payload: body, ContentType: r.Header.Get("Content-Type")}
	c.status(http.StatusAccepted, "", "", keep)
}

func (s *Server) invocationError(c *conn, r *http.Request, id string, keep bool) {
	inv := s.take(id)
	if inv == nil {
		c.status(http.StatusBadRequest, "InvalidRequestID", "Invalid request ID", keep)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(c.body(r), ResponseMax))
	inv.result <- Result{Payload: body, ErrorType: errorType(r.Header, body), Error: true}
	c.status(http.StatusAccepted, "", "", keep)
}

func (s *Server) initError(c *conn, r *http.Request, keep bool) {
	body, _ := io.ReadAll(io.LimitReader(c.body(r), ResponseMax))
	select {
	case s.initErr <- InitError{Type: errorType(r.Header, body), Payload: body}:
	default:
	}
	c.status(http.StatusAccepted, "", "", keep)
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
