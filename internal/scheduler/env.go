package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/runtimeapi"
	"github.com/updraft/updraft/internal/sandbox"
)

// Env is one execution environment: a sandboxed runtime process, its
// Runtime API endpoint and its log pipe.
type Env struct {
	ID       string
	Stream   string // log stream name
	Function string
	Version  string
	Revision string
	Memory   int
	Started  time.Time
	InitTime time.Duration
	sb       sandbox.Env
	api      *runtimeapi.Server
	sink     LogSink
	logs     *logPipe

	lastUsed    time.Time // guarded by the scheduler's lock
	retired     bool      // guarded by the scheduler's lock
	provisioned bool      // kept initialised for provisioned concurrency
	active      int       // invocations it serves now; guarded by the scheduler's lock
	max         int       // invocations it may serve at once
	tenant      string    // the one tenant it serves, "" when not isolated

	// fz serialises freezing and thawing; frozen is guarded by it.
	fz     sync.Mutex
	frozen bool

	logMu sync.Mutex
	tails []tail   // logs of the invocations running, in start order
	early []string // lines logged before the first invocation

	memPeak atomic.Int64 // last peak memory read
	memAt   atomic.Int64 // when, unix ns
}

// LogSink receives every log line of every environment.
type LogSink interface {
	Log(function, stream string, t time.Time, line string)
}

// Outcome is how an invocation on an environment ended.
type Outcome struct {
	Result runtimeapi.Result
	// Fatal reports that the environment is gone (timeout, crash) and
	// must not be reused.
	Fatal bool
}

// tail collects the log of one running invocation.
type tail struct {
	requestID string
	buf       *bytes.Buffer
}

func (e *Env) emit(line string) {
	now := time.Now()
	// A runtime writing to stdout keeps a multi-line entry (a Python
	// traceback, a Node object) on one line by joining its lines with
	// '\r'; Lambda stores such an entry as one event whose lines are
	// separated by '\n', and so does Updraft, in the tail too.
	if strings.IndexByte(line, '\r') >= 0 {
		line = strings.ReplaceAll(line, "\r", "\n")
	}
	e.logMu.Lock()
	switch {
	case len(e.tails) == 1:
		writeLine(e.tails[0].buf, line)
	case len(e.tails) > 1:
		// Invocations running at once: a line that names one of them
		// (START, END, REPORT, the Node and Python runtimes' log format)
		// is its alone; any other line is in every running one's tail.
		var own *bytes.Buffer
		for _, t := range e.tails {
			if strings.Contains(line, t.requestID) {
				own = t.buf
				break
			}
		}
		if own != nil {
			writeLine(own, line)
			break
		}
		for _, t := range e.tails {
			writeLine(t.buf, line)
		}
	case len(e.early) < 1000:
		e.early = append(e.early, line)
	}
	e.logMu.Unlock()
	if e.sink != nil {
		e.sink.Log(e.Function, e.Stream, now, line)
	}
}

// Log writes a platform line (START, END, REPORT) in order with the
// function's own output.
func (e *Env) Log(line string) { e.emit(line) }

func writeLine(b *bytes.Buffer, line string) {
	b.WriteString(line)
	b.WriteByte('\n')
}

// Begin starts collecting the log of invocation requestID into buf; the
// lines the environment printed while initialising come first.
func (e *Env) Begin(requestID string, buf *bytes.Buffer) {
	e.logMu.Lock()
	for _, l := range e.early {
		writeLine(buf, l)
	}
	e.early = nil
	e.tails = append(e.tails, tail{requestID, buf})
	e.logMu.Unlock()
}

// End stops collecting the log of invocation requestID.
func (e *Env) End(requestID string) {
	e.logMu.Lock()
	for i, t := range e.tails {
		if t.requestID == requestID {
			e.tails = slices.Delete(e.tails, i, i+1)
			break
		}
	}
	e.logMu.Unlock()
}

// Invoke hands inv to the runtime and waits for its answer, the timeout,
// or the environment's end.
func (e *Env) Invoke(inv *runtimeapi.Invocation, timeout time.Duration) Outcome {
	if err := e.api.Submit(inv); err != nil {
		return Outcome{Result: exitResult(inv.RequestID, e.sb), Fatal: true}
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case res := <-inv.Result():
		e.logs.Sync()
		// A runtime whose response was refused may not recover; Lambda
		// starts afresh too.
		return Outcome{Result: res, Fatal: res.ErrorType == "Function.ResponseSizeTooLarge"}
	case <-timer.C:
		e.api.Forget(inv.RequestID)
		_ = e.sb.Kill()
		e.waitLogs()
		msg := fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", inv.RequestID, timeout.Seconds())
		e.Log(fmt.Sprintf("%s %s Task timed out after %.2f seconds", time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), inv.RequestID, timeout.Seconds()))
		return Outcome{Result: errorResult("Sandbox.Timedout", msg), Fatal: true}
	case <-e.sb.Done():
		e.api.Forget(inv.RequestID)
		// An answer posted just before the exit still counts.
		select {
		case res := <-inv.Result():
			e.waitLogs()
			return Outcome{Result: res, Fatal: true}
		default:
		}
		e.waitLogs()
		return Outcome{Result: exitResult(inv.RequestID, e.sb), Fatal: true}
	}
}

// waitLogs waits for the output of a process that is gone.
func (e *Env) waitLogs() { e.logs.Wait(time.Second) }

func exitResult(requestID string, sb sandbox.Env) runtimeapi.Result {
	<-sb.Done()
	err := sb.Err()
	if err == nil {
		return errorResult("Runtime.ExitError", fmt.Sprintf("RequestId: %s Error: Runtime exited without providing a reason", requestID))
	}
	msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, err)
	var oom *sandbox.OutOfMemoryError
	if errors.As(err, &oom) {
		return errorResult("Runtime.OutOfMemory", msg)
	}
	return errorResult("Runtime.ExitError", msg)
}

func errorResult(typ, msg string) runtimeapi.Result {
	b := []byte(`{"errorType":` + strconv.Quote(typ) + `,"errorMessage":` + strconv.Quote(msg) + `}`)
	return runtimeapi.Result{Payload: b, ErrorType: typ, Error: true}
}

// exited reports whether the environment's process has ended.
func (e *Env) exited() bool {
	select {
	case <-e.sb.Done():
		return true
	default:
		return false
	}
}

// memSample is how stale a REPORT's peak memory may be: reading it costs
// a /proc read, too much for every warm invocation.
const memSample = 250 * time.Millisecond

// MaxMemoryBytes is the environment's peak memory, read at most every
// memSample.
func (e *Env) MaxMemoryBytes() int64 {
	now := time.Now().UnixNano()
	if peak := e.memPeak.Load(); peak > 0 && now-e.memAt.Load() < int64(memSample) {
		return peak
	}
	peak := e.sb.MaxMemoryBytes()
	e.memPeak.Store(peak)
	e.memAt.Store(now)
	return peak
}

// MemoryBytes is the environment's current memory.
func (e *Env) MemoryBytes() int64 { return e.sb.MemoryBytes() }

// freeze suspends an environment that is still idle, when its driver can.
// leased reads the scheduler's view of it under the scheduler's lock.
func (e *Env) freeze(leased func() bool) error {
	f, ok := e.sb.(sandbox.Freezer)
	if !ok {
		return nil
	}
	e.fz.Lock()
	defer e.fz.Unlock()
	if e.frozen || leased() {
		return nil
	}
	if err := f.Freeze(); err != nil {
		return fmt.Errorf("freeze env %s: %w", e.ID, err)
	}
	e.frozen = true
	return nil
}

// thaw resumes a frozen environment before it is given work; it waits
// for a freeze in progress.
func (e *Env) thaw() error {
	e.fz.Lock()
	defer e.fz.Unlock()
	if !e.frozen {
		return nil
	}
	if err := e.sb.(sandbox.Freezer).Thaw(); err != nil {
		return fmt.Errorf("thaw env %s: %w", e.ID, err)
	}
	e.frozen = false
	return nil
}

// kill ends the environment and releases its endpoint and pipe.
func (e *Env) kill() {
	_ = e.sb.Kill()
	_ = e.api.Close()
	e.waitLogs()
	_ = e.logs.Close()
}

// InitError is an environment that failed to initialise; Result is what
// the invocation that started it returns.
type InitError struct {
	Result runtimeapi.Result
	// Log is what the environment printed before it failed.
	Log []string
	// TimedOut is set when INIT ran out of time.
	TimedOut bool
}

func (e *InitError) Error() string { return "init failed: " + e.Result.ErrorType }

// startEnv launches an environment for rec and waits for its INIT phase,
// for at most the scheduler's InitTimeout.
func (s *Scheduler) startEnv(ctx context.Context, rec *function.Record, requestID string, provisioned bool) (*Env, error) {
	return s.startEnvWithin(ctx, rec, requestID, provisioned, s.cfg.InitTimeout)
}

// startForInvoke starts an environment for the invocation requestID. As on
// Lambda, an INIT phase that outlasts InitTimeout is run again in a new
// environment as part of the invocation, bounded by the function's timeout;
// if that runs out too, the invocation timed out ("Task timed out after
// 30.00 seconds" in AWS-recorded answers, not "INIT phase timed out").
func (s *Scheduler) startForInvoke(ctx context.Context, rec *function.Record, requestID string) (*Env, error) {
	e, err := s.startEnv(ctx, rec, requestID, false)
	var ie *InitError
	if !errors.As(err, &ie) || !ie.TimedOut {
		return e, err
	}
	timeout := time.Duration(rec.Config.Timeout) * time.Second
	e, err = s.startEnvWithin(ctx, rec, requestID, false, timeout)
	if errors.As(err, &ie) && ie.TimedOut {
		msg := fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, timeout.Seconds())
		ie.Result = errorResult("Sandbox.Timedout", msg)
	}
	return e, err
}

// startEnvWithin launches an environment for rec and waits initTimeout at
// most for its INIT phase.
func (s *Scheduler) startEnvWithin(ctx context.Context, rec *function.Record, requestID string, provisioned bool, initTimeout time.Duration) (*Env, error) {
	c := &rec.Config
	codeDir, err := s.cfg.Code.CodeDir(ctx, rec)
	if err != nil {
		return nil, fmt.Errorf("prepare code: %w", err)
	}
	optDir, err := s.cfg.Code.OptDir(ctx, rec)
	if err != nil {
		return nil, fmt.Errorf("prepare layers: %w", err)
	}
	initType := "on-demand"
	if provisioned {
		initType = "provisioned-concurrency"
	}
	args, err := s.command(c)
	if err != nil {
		return nil, err
	}
	api, err := runtimeapi.ListenQueue(c.MaxConcurrency())
	if err != nil {
		return nil, fmt.Errorf("listen runtime api: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		_ = api.Close()
		return nil, fmt.Errorf("log pipe: %w", err)
	}
	id := newEnvID()
	now := time.Now()
	e := &Env{
		ID:       id,
		Stream:   now.UTC().Format("2006/01/02") + "/[" + c.Version + "]" + id,
		Function: c.FunctionName,
		Version:  c.Version,
		Revision: rec.EnvRevision(),
		Memory:   c.MemorySize,
		Started:  now,
		api:      api,
		sink:     s.cfg.Logs,
	}
	if e.sink != nil && c.Runtime != "" {
		// Lambda opens every environment's log stream with this line; it
		// is not part of any invocation's log tail.
		e.sink.Log(e.Function, e.Stream, now, "INIT_START Runtime Version: "+function.RuntimeVersion(c.Runtime)+
			"\tRuntime Version ARN: "+function.RuntimeVersionARN(s.cfg.Region, c.Runtime))
	}
	e.logs, err = newLogPipe(r, e.emit)
	if err != nil {
		_ = api.Close()
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("log pipe: %w", err)
	}
	network, endpoint, err := s.network(c, api.Addr())
	if err != nil {
		_ = api.Close()
		_ = r.Close()
		_ = w.Close()
		return nil, err
	}
	spec := sandbox.Spec{
		ID:       id,
		CodeDir:  codeDir,
		Args:     args,
		Env:      withEndpoint(s.environ(c, sandbox.TaskRoot(s.cfg.Driver, codeDir), api.Addr(), e.Stream, initType, optDir != ""), endpoint),
		Stdout:   w,
		Stderr:   w,
		MemoryMB: c.MemorySize,
		TmpMB:    c.EphemeralStorage.Size,
		CPUs:     s.cpus(c),
		OptDir:   optDir,
		ReadOnly: s.runtimePaths(c),
		Network:  network,
	}
	sb, err := s.cfg.Driver.Start(ctx, spec)
	_ = w.Close() // the environment holds the only write end now
	if err != nil {
		_ = api.Close()
		_ = r.Close()
		if errors.Is(err, sandbox.ErrNetworkIsolation) {
			return nil, fault.New(fault.InvalidParameter, "Environment variable %s=%s needs the linux sandbox; this node runs the %s sandbox, which cannot isolate the network.", NetworkVar, NetworkNone, s.cfg.Driver.Name())
		}
		return nil, err
	}
	e.sb = sb
	go e.logs.run()
	if err := e.awaitInit(requestID, initTimeout, s.stop); err != nil {
		e.kill()
		var ie *InitError
		if errors.As(err, &ie) {
			e.logMu.Lock()
			ie.Log = e.early
			e.early = nil
			e.logMu.Unlock()
		}
		return nil, err
	}
	e.InitTime = time.Since(now)
	// INIT ran with the CPU it could get, as on Lambda; invocations get
	// the share that goes with the memory size.
	if ie, ok := sb.(sandbox.InitEnder); ok {
		if err := ie.EndInit(); err != nil {
			e.kill()
			return nil, fmt.Errorf("start env %s: %w", id, err)
		}
	}
	e.provisioned = provisioned
	// Sample memory now, so the first invocation's REPORT does not pay
	// for reading it (what a provisioned environment is for).
	e.MaxMemoryBytes()
	return e, nil
}

// cpus is how many CPUs an environment of c runs on (sandbox.Spec.CPUs).
func (s *Scheduler) cpus(c *function.Config) int {
	if s.cfg.AllCPUs {
		return 0
	}
	return c.VCPUs()
}

// awaitInit waits for the INIT phase to end, for at most timeout, or
// until stop is closed (the scheduler is stopping: errStopped).
func (e *Env) awaitInit(requestID string, timeout time.Duration, stop <-chan struct{}) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-stop:
		return errStopped
	case <-e.api.Ready():
		return nil
	case ie := <-e.api.InitErrors():
		// The runtime reported why it could not start; it exits next.
		select {
		case <-e.sb.Done():
		case <-time.After(100 * time.Millisecond):
		}
		e.waitAfterExit()
		return &InitError{Result: runtimeapi.Result{Payload: ie.Payload, ErrorType: ie.Type, Error: true}}
	case <-e.sb.Done():
		select {
		case ie := <-e.api.InitErrors():
			e.waitAfterExit()
			return &InitError{Result: runtimeapi.Result{Payload: ie.Payload, ErrorType: ie.Type, Error: true}}
		default:
		}
		e.waitAfterExit()
		return &InitError{Result: exitResult(requestID, e.sb)}
	case <-timer.C:
		msg := fmt.Sprintf("RequestId: %s Error: INIT phase timed out after %.2f seconds", requestID, timeout.Seconds())
		return &InitError{Result: errorResult("Sandbox.Timedout", msg), TimedOut: true}
	}
}

func (e *Env) waitAfterExit() {
	_ = e.sb.Kill()
	e.waitLogs()
}

var errStopped = errors.New("scheduler stopped")
