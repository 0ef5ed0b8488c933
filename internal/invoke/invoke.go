// Package invoke runs function invocations with Lambda's semantics.
// Synchronous invocations run at most once on an environment the
// scheduler leases. Asynchronous invocations are persisted in a backbone
// stream before they are acknowledged, then run at least once by a
// durable consumer per function, with retries, a maximum event age and
// destinations.
//
// Service is safe for concurrent use; Start begins async delivery and Stop
// ends it, waiting for running deliveries.
package invoke

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/runtimeapi"
	"github.com/updraft/updraft/internal/scheduler"
)

// Payload limits, as Lambda's.
const (
	SyncPayloadMax  = 6 * 1024 * 1024
	AsyncPayloadMax = 1024 * 1024
	logTailMax      = 4096
)

// Request is one invocation.
type Request struct {
	Function  string // name or ARN as given
	Qualifier string
	Payload   []byte
	// ClientContext is the base64 X-Amz-Client-Context header.
	ClientContext string
	TraceID       string
	TenantID      string
	LogTail       bool
	// RequestID names the invocation (the wire layer's request ID, or an
	// async event's); empty means a new one is made.
	RequestID string
}

// Response is the outcome of a synchronous invocation.
type Response struct {
	RequestID       string
	Payload         []byte
	ContentType     string
	FunctionError   string // "Unhandled" when the function or runtime failed
	ErrorType       string
	LogResult       string // base64 of the last 4 KB of the log, when asked
	ExecutedVersion string
}

// Config configures the Service.
type Config struct {
	// RetryBase is the delay before the first async retry; each later one
	// doubles it. Default one minute (Lambda: 1 min, then 2 min).
	RetryBase time.Duration
	// ThrottleRetryMax caps the delay between redeliveries of a throttled
	// async event. Default 5 minutes.
	ThrottleRetryMax time.Duration
	// AsyncWorkers bounds concurrent async deliveries per function.
	// Default 100.
	AsyncWorkers int
	// AckWait is how long the backbone waits for a delivery's progress
	// before handing the event out again; a running delivery reports
	// progress every third of it, so this bounds how soon an event whose
	// node crashed is retried. Default 30s.
	AckWait time.Duration
}

// Service invokes functions.
type Service struct {
	cfg   Config
	store *function.Store
	sched *scheduler.Scheduler
	async *asyncQueue
	log   *slog.Logger
}

// New returns a Service. Call Start to deliver async events.
func New(cfg Config, store *function.Store, sched *scheduler.Scheduler, log *slog.Logger) *Service {
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Minute
	}
	if cfg.ThrottleRetryMax == 0 {
		cfg.ThrottleRetryMax = 5 * time.Minute
	}
	if cfg.AsyncWorkers == 0 {
		cfg.AsyncWorkers = 100
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 30 * time.Second
	}
	return &Service{cfg: cfg, store: store, sched: sched, log: log}
}

// resolve finds the function version a request runs (an alias picks one
// of its versions by weight) and the qualifier it was invoked with.
func (s *Service) resolve(name, qualifier string) (*function.Record, string, error) {
	fn, qualifier, err := s.store.Locate(name, qualifier)
	if err != nil {
		return nil, "", err
	}
	// An unqualified invocation runs $LATEST, and Lambda names it so when
	// the function is missing: "Function not found: arn…:fn:$LATEST".
	lookup := qualifier
	if lookup == "" {
		lookup = function.Latest
	}
	rec, err := s.store.Resolve(fn, lookup)
	if err != nil {
		return nil, "", err
	}
	return rec, qualifier, nil
}

// checkPayload rejects a payload Lambda would not accept.
func checkPayload(p []byte, max int, op string) ([]byte, error) {
	if len(p) > max {
		return nil, fault.Typed(fault.TooLarge, "RequestTooLargeException", "Request must be smaller than %d bytes for the %s operation", max, op)
	}
	if len(bytes.TrimSpace(p)) == 0 {
		return []byte("{}"), nil
	}
	if !utf8.Valid(p) || !json.Valid(p) {
		return nil, fault.Typed(fault.InvalidRequest, "InvalidRequestContentException", "Could not parse request body into json: Could not parse payload into json: %s", payloadProblem(p))
	}
	return p, nil
}

// payloadProblem says what is wrong with a payload that is not JSON in the
// words of Lambda's parser for the two mistakes clients make most: bytes
// that are not UTF-8 (such as a base64 payload the aws CLI v2 sent
// decoded) and a first character that cannot start a value.
func payloadProblem(p []byte) string {
	start := len(p) - len(bytes.TrimLeft(p, " \t\r\n"))
	where := func(i int) string {
		line := 1 + bytes.Count(p[:i], []byte("\n"))
		col := i - bytes.LastIndexByte(p[:i], '\n')
		return fmt.Sprintf("\n at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: %d, column: %d]", line, col)
	}
	if c := p[start]; c < 0x20 || 0x7f <= c && c <= 0x9f {
		return fmt.Sprintf("Unexpected character ((CTRL-CHAR, code %d)): expected a valid value (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", c) + where(start)
	}
	for i := 0; i < len(p); {
		r, size := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError && size <= 1 {
			if c := p[i]; c&0xc0 == 0x80 || c >= 0xf8 {
				return fmt.Sprintf("Invalid UTF-8 start byte 0x%02x", c) + where(i+1)
			}
			for j := i + 1; j < len(p) && j < i+4; j++ {
				if p[j]&0xc0 != 0x80 {
					return fmt.Sprintf("Invalid UTF-8 middle byte 0x%02x", p[j]) + where(j+1)
				}
			}
			if i+4 > len(p) {
				return "Unexpected end-of-input in a UTF-8 character" + where(len(p))
			}
			return fmt.Sprintf("Invalid UTF-8 start byte 0x%02x", p[i]) + where(i+1)
		}
		i += size
	}
	return "Unexpected character: was expecting a JSON value"
}

// DryRun checks that the request could be invoked.
func (s *Service) DryRun(req Request) error {
	_, _, err := s.resolveFor(req)
	return err
}

// resolveFor resolves the function version req runs and checks its tenant
// ID: well-formed, present for a tenant-isolated function and absent for
// any other.
func (s *Service) resolveFor(req Request) (*function.Record, string, error) {
	if req.TenantID != "" {
		if err := function.CheckTenantID(req.TenantID); err != nil {
			return nil, "", err
		}
	}
	rec, qualifier, err := s.resolve(req.Function, req.Qualifier)
	if err != nil {
		return nil, "", err
	}
	if err := function.CheckTenant(&rec.Config, req.TenantID); err != nil {
		return nil, "", err
	}
	return rec, qualifier, nil
}

// Invoke runs a synchronous invocation.
func (s *Service) Invoke(ctx context.Context, req Request) (*Response, error) {
	rec, qualifier, err := s.resolveFor(req)
	if err != nil {
		return nil, err
	}
	req.Qualifier = qualifier
	payload, err := checkPayload(req.Payload, SyncPayloadMax, "Invoke")
	if err != nil {
		return nil, err
	}
	req.Payload = payload
	clientContext, err := decodeClientContext(req.ClientContext)
	if err != nil {
		return nil, err
	}
	return s.run(ctx, rec, req, clientContext)
}

func decodeClientContext(b64 string) (string, error) {
	if b64 == "" {
		return "", nil
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || !json.Valid(raw) {
		return "", fault.New(fault.InvalidRequest, "Client context must be a valid Base64-encoded JSON object.")
	}
	if len(b64) > 3583 {
		return "", fault.New(fault.InvalidParameter, "Client context must be less than 3583 bytes.")
	}
	return string(raw), nil
}

// run leases an environment and runs one invocation on it.
func (s *Service) run(ctx context.Context, rec *function.Record, req Request, clientContext string) (*Response, error) {
	c := &rec.Config
	requestID := req.RequestID
	if requestID == "" {
		requestID = function.NewUUID()
	}
	resp := &Response{RequestID: requestID, ExecutedVersion: c.Version}
	// An async event may outlive the function it was accepted for.
	if err := function.CheckTenant(c, req.TenantID); err != nil {
		return nil, err
	}
	var tail bytes.Buffer
	start := time.Now()
	lease, err := s.sched.Acquire(ctx, rec, req.TenantID, requestID)
	if err != nil {
		var ie *scheduler.InitError
		if !errors.As(err, &ie) {
			return nil, err
		}
		for _, l := range ie.Log {
			tail.WriteString(l)
			tail.WriteByte('\n')
		}
		for _, l := range []string{
			fmt.Sprintf("START RequestId: %s Version: %s", requestID, c.Version),
			fmt.Sprintf("END RequestId: %s", requestID),
			report(requestID, time.Since(start), c.MemorySize, 0, 0, initStatus(ie), ie.Result.ErrorType),
		} {
			tail.WriteString(l)
			tail.WriteByte('\n')
			s.logPlatform(c.FunctionName, l)
		}
		s.finish(resp, ie.Result, &tail, req.LogTail)
		return resp, nil
	}
	env := lease.Env
	env.Begin(requestID, &tail)
	env.Log(fmt.Sprintf("START RequestId: %s Version: %s", requestID, c.Version))
	timeout := time.Duration(c.Timeout) * time.Second
	invStart := time.Now()
	inv := runtimeapi.NewInvocation(requestID, req.Payload, invStart.Add(timeout))
	inv.FunctionARN = s.store.ARN(c.FunctionName)
	if req.Qualifier != "" {
		inv.FunctionARN += ":" + req.Qualifier
	}
	inv.TraceID = traceID(req.TraceID)
	inv.ClientContext = clientContext
	inv.TenantID = req.TenantID
	out := env.Invoke(inv, timeout)
	dur := time.Since(invStart)
	var initDur time.Duration
	if lease.Cold {
		initDur = env.InitTime
	}
	status := ""
	if out.Fatal && out.Result.ErrorType == "Sandbox.Timedout" {
		status = "timeout"
	} else if out.Fatal {
		status = "error"
	}
	env.Log(fmt.Sprintf("END RequestId: %s", requestID))
	env.Log(report(requestID, dur, c.MemorySize, env.MaxMemoryBytes(), initDur, status, out.Result.ErrorType))
	env.End(requestID)
	s.sched.Release(lease, !out.Fatal)
	s.finish(resp, out.Result, &tail, req.LogTail)
	return resp, nil
}

// initStatus is the REPORT status of an invocation whose INIT failed.
func initStatus(ie *scheduler.InitError) string {
	if ie.TimedOut {
		return "timeout"
	}
	return "error"
}

func (s *Service) logPlatform(fn, line string) {
	if sink, ok := s.sched.LogSink(); ok {
		sink.Log(fn, "platform", time.Now(), line)
	}
}

func (s *Service) finish(resp *Response, res runtimeapi.Result, tail *bytes.Buffer, logTail bool) {
	resp.Payload = res.Payload
	resp.ContentType = res.ContentType
	if res.Error {
		resp.FunctionError = "Unhandled"
		resp.ErrorType = res.ErrorType
		resp.ContentType = "application/json"
	}
	if logTail {
		b := tail.Bytes()
		if len(b) > logTailMax {
			b = b[len(b)-logTailMax:]
		}
		resp.LogResult = base64.StdEncoding.EncodeToString(b)
	}
}

// report formats Lambda's REPORT line.
func report(requestID string, dur time.Duration, memMB int, maxMem int64, initDur time.Duration, status, errType string) string {
	ms := float64(dur.Microseconds()) / 1000
	var b strings.Builder
	fmt.Fprintf(&b, "REPORT RequestId: %s\tDuration: %.2f ms\tBilled Duration: %d ms\tMemory Size: %d MB\tMax Memory Used: %d MB\t",
		requestID, ms, int64(math.Ceil(ms)), memMB, (maxMem+(1<<20)-1)>>20)
	if initDur > 0 {
		fmt.Fprintf(&b, "Init Duration: %.2f ms\t", float64(initDur.Microseconds())/1000)
	}
	if status != "" {
		fmt.Fprintf(&b, "Status: %s\t", status)
		if errType != "" && status == "error" {
			fmt.Fprintf(&b, "Error Type: %s\t", errType)
		}
	}
	return b.String()
}

// traceID returns the caller's X-Ray trace header, or a new root.
func traceID(h string) string {
	if h != "" {
		return h
	}
	var b [48]byte
	buf := append(b[:0], "Root=1-"...)
	buf = strconv.AppendUint(buf, uint64(time.Now().Unix()), 16)
	buf = append(buf, '-')
	buf = appendHex(buf, rand.Uint64(), 16)
	buf = appendHex(buf, rand.Uint64(), 8)
	return string(buf) + ";Sampled=0"
}

// appendHex appends the low n hex digits of v, zero-padded.
func appendHex(dst []byte, v uint64, n int) []byte {
	const digits = "0123456789abcdef"
	for i := n - 1; i >= 0; i-- {
		dst = append(dst, digits[(v>>(4*uint(i)))&0xf])
	}
	return dst
}
