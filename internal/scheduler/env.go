package scheduler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/runtimeapi"
	"github.com/updraft/updraft/internal/sandbox"
)

// Env is one execution environment: a sandboxed runtime process, its
// Runtime API endpoint and its log pipe.
type Env struct {
	ID        string
	Stream    string // log stream name
	Function  string
	Revision  string
	Memory    int
	Started   time.Time
	InitTime  time.Duration
	sb        sandbox.Env
	api       *runtimeapi.Server
	sink      LogSink
	logW      *os.File // parent's copy of the pipe's write end, for sync markers
	logR      *os.File
	readerEnd chan struct{}

	lastUsed time.Time // guarded by the scheduler's lock
	retired  bool      // guarded by the scheduler's lock

	logMu   sync.Mutex
	logCond *sync.Cond
	tail    *bytes.Buffer // log of the current invocation, nil when none
	early   []string      // lines logged before the first invocation
	syncSeq uint64        // last marker written
	synced  uint64        // last marker read
	closing atomic.Bool
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

const markerPrefix = "\x00updraft-sync:"

// readLogs splits the pipe into lines and hands each to the sink and the
// current invocation's tail, until the pipe closes.
func (e *Env) readLogs() {
	defer close(e.readerEnd)
	buf := make([]byte, 32<<10)
	var partial []byte
	for {
		n, err := e.logR.Read(buf)
		if n > 0 {
			partial = append(partial, buf[:n]...)
			partial = e.consume(partial)
		}
		if err != nil {
			if len(partial) > 0 {
				e.emit(string(partial))
			}
			e.logMu.Lock()
			e.synced = ^uint64(0)
			e.logCond.Broadcast()
			e.logMu.Unlock()
			return
		}
	}
}

// consume emits every complete line in data, handles sync markers, and
// returns what is left of an unfinished line.
func (e *Env) consume(data []byte) []byte {
	for {
		if i := bytes.Index(data, []byte(markerPrefix)); i >= 0 {
			end := bytes.IndexByte(data[i:], '\n')
			if end < 0 {
				break // marker not complete yet
			}
			seq, _ := strconv.ParseUint(string(data[i+len(markerPrefix):i+end]), 10, 64)
			data = append(data[:i:i], data[i+end+1:]...)
			e.consumeLines(&data, i)
			e.logMu.Lock()
			if seq > e.synced {
				e.synced = seq
			}
			e.logCond.Broadcast()
			e.logMu.Unlock()
			continue
		}
		break
	}
	e.consumeLines(&data, len(data))
	return data
}

// consumeLines emits complete lines found in the first limit bytes of *data.
func (e *Env) consumeLines(data *[]byte, limit int) {
	d := *data
	start := 0
	for start < limit {
		j := bytes.IndexByte(d[start:limit], '\n')
		if j < 0 {
			break
		}
		e.emit(string(d[start : start+j]))
		start += j + 1
	}
	*data = append(d[:0:0], d[start:]...)
}

func (e *Env) emit(line string) {
	now := time.Now()
	e.logMu.Lock()
	switch {
	case e.tail != nil:
		e.tail.WriteString(line)
		e.tail.WriteByte('\n')
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

// Begin starts collecting the log of an invocation; the lines the
// environment printed while initialising come first.
func (e *Env) Begin(tail *bytes.Buffer) {
	e.logMu.Lock()
	for _, l := range e.early {
		tail.WriteString(l)
		tail.WriteByte('\n')
	}
	e.early = nil
	e.tail = tail
	e.logMu.Unlock()
}

// End stops collecting the invocation's log.
func (e *Env) End() {
	e.logMu.Lock()
	e.tail = nil
	e.logMu.Unlock()
}

// syncLogs waits until everything the environment wrote before now has
// been read from its pipe.
func (e *Env) syncLogs(timeout time.Duration) {
	e.logMu.Lock()
	e.syncSeq++
	seq := e.syncSeq
	e.logMu.Unlock()
	if _, err := e.logW.WriteString(markerPrefix + strconv.FormatUint(seq, 10) + "\n"); err != nil {
		return
	}
	deadline := time.AfterFunc(timeout, func() {
		e.logMu.Lock()
		if e.synced < seq {
			e.synced = seq
		}
		e.logCond.Broadcast()
		e.logMu.Unlock()
	})
	defer deadline.Stop()
	e.logMu.Lock()
	for e.synced < seq {
		e.logCond.Wait()
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
		e.syncLogs(time.Second)
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

// waitLogs waits for the reader to finish after the process is gone.
func (e *Env) waitLogs() {
	e.closeWriter()
	select {
	case <-e.readerEnd:
	case <-time.After(time.Second):
	}
}

func (e *Env) closeWriter() {
	if e.closing.CompareAndSwap(false, true) {
		_ = e.logW.Close()
	}
}

func exitResult(requestID string, sb sandbox.Env) runtimeapi.Result {
	<-sb.Done()
	reason := "exit status 0"
	if err := sb.Err(); err != nil {
		reason = err.Error()
	}
	msg := fmt.Sprintf("RequestId: %s Error: Runtime exited with error: %s", requestID, reason)
	if sb.Err() == nil {
		msg = fmt.Sprintf("RequestId: %s Error: Runtime exited without providing a reason", requestID)
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

// MaxMemoryBytes is the environment's peak memory so far.
func (e *Env) MaxMemoryBytes() int64 { return e.sb.MaxMemoryBytes() }

// MemoryBytes is the environment's current memory.
func (e *Env) MemoryBytes() int64 { return e.sb.MemoryBytes() }

// kill ends the environment and releases its endpoint and pipe.
func (e *Env) kill() {
	_ = e.sb.Kill()
	_ = e.api.Close()
	e.waitLogs()
	_ = e.logR.Close()
}

// InitError is an environment that failed to initialise; Result is what
// the invocation that started it returns.
type InitError struct {
	Result runtimeapi.Result
	// Log is what the environment printed before it failed.
	Log []string
}

func (e *InitError) Error() string { return "init failed: " + e.Result.ErrorType }

// startEnv launches an environment for rec and waits for its INIT phase.
func (s *Scheduler) startEnv(ctx context.Context, rec *function.Record, requestID string) (*Env, error) {
	c := &rec.Config
	codeDir, err := s.cfg.Code.CodeDir(ctx, rec)
	if err != nil {
		return nil, fmt.Errorf("prepare code: %w", err)
	}
	args, err := s.command(c)
	if err != nil {
		return nil, err
	}
	api, err := runtimeapi.Listen()
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
		ID:        id,
		Stream:    now.UTC().Format("2006/01/02") + "/[" + function.Latest + "]" + id,
		Function:  c.FunctionName,
		Revision:  c.RevisionId,
		Memory:    c.MemorySize,
		Started:   now,
		api:       api,
		sink:      s.cfg.Logs,
		logW:      w,
		logR:      r,
		readerEnd: make(chan struct{}),
	}
	e.logCond = sync.NewCond(&e.logMu)
	spec := sandbox.Spec{
		ID:       id,
		CodeDir:  codeDir,
		Args:     args,
		Env:      s.environ(c, codeDir, api.Addr(), e.Stream),
		Stdout:   w,
		Stderr:   w,
		MemoryMB: c.MemorySize,
		TmpMB:    c.EphemeralStorage.Size,
	}
	sb, err := s.cfg.Driver.Start(ctx, spec)
	if err != nil {
		_ = api.Close()
		_ = r.Close()
		_ = w.Close()
		return nil, err
	}
	e.sb = sb
	go e.readLogs()
	if err := e.awaitInit(requestID, s.cfg.InitTimeout); err != nil {
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
	return e, nil
}

func (e *Env) awaitInit(requestID string, timeout time.Duration) error {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
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
		return &InitError{Result: errorResult("Sandbox.Timedout", msg)}
	}
}

func (e *Env) waitAfterExit() {
	_ = e.sb.Kill()
	e.waitLogs()
}

var errStopped = errors.New("scheduler stopped")
