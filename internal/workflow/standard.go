package workflow

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/updraft/updraft/internal/backbone"
	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/states"
)

// StreamExecutions holds the history of every STANDARD execution: one
// subject per execution ("exec.<machine>.<name>"), whose first message
// starts it and whose later messages are the interpreter events, in the
// order they are applied. Timers are message schedules
// ("sched.<machine>.<name>.<id>") that fire into the execution's subject.
const StreamExecutions = "UPDRAFT_EXECUTIONS"

// record is one message of an execution's subject.
type record struct {
	Start *startRecord `json:"start,omitempty"`
	Event *eventRecord `json:"event,omitempty"`
	// Heartbeat is the command ID of a task whose worker sent
	// SendTaskHeartbeat; it reaches the driving node through the stream.
	Heartbeat string `json:"heartbeat,omitempty"`
}

type startRecord struct {
	MachineArn string          `json:"machineArn"`
	Definition string          `json:"definition"`
	RoleArn    string          `json:"roleArn"`
	Name       string          `json:"name"`
	Input      json.RawMessage `json:"input"`
	Time       time.Time       `json:"time"`
	// Parent is "<execution ARN>\n<command ID>" of the task that started
	// this execution, when one did.
	Parent string `json:"parent,omitempty"`
}

type eventRecord struct {
	Kind    states.EventKind `json:"kind"`
	Command string           `json:"command,omitempty"`
	Output  json.RawMessage  `json:"output,omitempty"`
	Err     *states.Error    `json:"err,omitempty"`
	Time    time.Time        `json:"time"`
}

// Executions runs STANDARD executions durably: every event is stored in
// the backbone before it is applied, and a restarted node replays each
// execution's subject and carries on.
type Executions struct {
	machines *Machines
	tasks    *Tasks
	js       jetstream.JetStream
	stream   jetstream.Stream
	log      *slog.Logger

	lease *lease
	// driveMu is held by the follower while it applies a record and by
	// the lease keeper when it starts or stops driving, for the
	// follower-owned state (Run.outstanding, Run.issued, caughtUp).
	driveMu sync.Mutex

	lastSeq      uint64        // stream sequence of the last record the follower routed
	checkpointed atomic.Uint64 // the last checkpoint read or written
	summaries    chan pendingSummary

	caughtUp  bool // the follower has reached the end of the stream once
	startedAt time.Time
	replayed  chan struct{} // closed when caughtUp is set
	defs      definitions

	mu      sync.Mutex
	runs    map[string]*Run     // by execution ARN
	waiters map[string][]waiter // by nested execution ARN

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewExecutions opens the executions stream.
func NewExecutions(ctx context.Context, bb *backbone.Backbone, machines *Machines, tasks *Tasks, cfg ExecutionsConfig, log *slog.Logger) (*Executions, error) {
	st, err := bb.Stream(ctx, jetstream.StreamConfig{
		Name:              StreamExecutions,
		Subjects:          []string{"exec.>", "sched.>", "end.>", subjectCheckpoint},
		AllowMsgSchedules: true,
		MaxAge:            90 * 24 * time.Hour,
	})
	if err != nil {
		return nil, err
	}
	l, err := openLease(ctx, bb, cfg)
	if err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	return &Executions{machines: machines, tasks: tasks, js: bb.JetStream(), stream: st, log: log, lease: l, runs: map[string]*Run{}, replayed: make(chan struct{}), summaries: make(chan pendingSummary, 4096), ctx: cctx, cancel: cancel}, nil
}

// Start follows every execution stored in the backbone with one ordered
// consumer: it replays each history, then applies new events as they are
// stored, in stream order.
func (e *Executions) Start(ctx context.Context) error {
	e.startedAt = time.Now()
	if err := e.loadClosed(ctx); err != nil {
		return err
	}
	if err := e.follow(ctx); err != nil {
		return err
	}
	e.wg.Add(1)
	go e.keepLease()
	return nil
}

// follow starts the follower: one ordered consumer on "exec.>".
func (e *Executions) follow(ctx context.Context) error {
	from := e.readCheckpoint(ctx)
	cons, err := e.js.OrderedConsumer(ctx, StreamExecutions, jetstream.OrderedConsumerConfig{FilterSubjects: []string{"exec.>"},
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: from})
	if err != nil {
		return fmt.Errorf("follow executions: %w", err)
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(replayBatch))
	if err != nil {
		return fmt.Errorf("follow executions: %w", err)
	}
	if info, err := cons.Info(ctx); err == nil && info.NumPending == 0 {
		// Nothing to replay: everything from now on is new.
		e.driveMu.Lock()
		e.catchUp(true)
		e.driveMu.Unlock()
	}
	e.wg.Add(3)
	go e.confirmSummaries()
	go func() {
		defer e.wg.Done()
		<-e.ctx.Done()
		it.Stop()
	}()
	go func() {
		defer e.wg.Done()
		defer it.Stop()
		for {
			msg, err := it.Next()
			if err != nil {
				return
			}
			e.driveMu.Lock()
			e.route(msg)
			e.driveMu.Unlock()
		}
	}()
	return nil
}

// replayBatch is how many records the follower asks for at a time.
const replayBatch = 4096

// route applies one stored record to its execution. Commands are issued
// only once the node has caught up with the stream, so a replay re-runs
// only what is still outstanding.
func (e *Executions) route(msg jetstream.Msg) {
	parts := strings.Split(msg.Subject(), ".")
	if len(parts) != 3 {
		return
	}
	name, ok := nameFromToken(parts[2])
	if !ok {
		return
	}
	arn := e.ExecutionARN(parts[1], name)
	e.mu.Lock()
	r := e.runs[arn]
	e.mu.Unlock()
	meta, _ := msg.Metadata()
	caughtUp := meta == nil || meta.NumPending == 0
	if meta != nil {
		e.lastSeq = meta.Sequence.Stream
	}
	if r == nil {
		r = e.newRun(parts[1], name)
	} else if r.closed() {
		// Ended before this node started (see closed.go); the record may
		// still be the last one of the replay.
		e.catchUp(caughtUp)
		return
	}
	if !e.applyRecord(r, msg.Data(), e.caughtUp) {
		e.catchUp(caughtUp)
		return
	}
	if r.startSeq == 0 && meta != nil {
		r.startSeq = meta.Sequence.Stream // its first record: the start
	}
	r.startedOnce()
	e.catchUp(caughtUp)
	if r.x != nil && !r.ended && r.snapshot().Status != states.Running {
		r.ended = true
		r.stopAll()
		if e.driving() {
			e.storeEnd(r)
			e.finished(r)
		}
	}
}

// catchUp ends the replay when the follower has reached the end of the
// stream: every outstanding command is issued.
func (e *Executions) catchUp(caughtUp bool) {
	if !caughtUp || e.caughtUp {
		return
	}
	e.caughtUp = true
	e.issueAll()
	if e.driving() {
		e.summarizeEnded()
	}
	close(e.replayed)
	e.mu.Lock()
	running, ended := 0, 0
	for _, r := range e.runs {
		if r.ended {
			ended++
		} else {
			running++
		}
	}
	e.mu.Unlock()
	e.log.Info("executions replayed", "running", running, "ended", ended, "took", time.Since(e.startedAt).Round(time.Millisecond))
}

// Replayed is closed once the node has replayed the stored executions
// and issued their outstanding work.
func (e *Executions) Replayed() <-chan struct{} { return e.replayed }

// issueAll issues every outstanding command of every execution, once the
// replay is over.
func (e *Executions) issueAll() {
	e.mu.Lock()
	runs := make([]*Run, 0, len(e.runs))
	for _, r := range e.runs {
		runs = append(runs, r)
	}
	e.mu.Unlock()
	for _, r := range runs {
		e.issueOutstanding(r)
	}
}

func (e *Executions) issueOutstanding(r *Run) {
	if !e.driving() {
		return // the node holding the lease issues them
	}
	for id, c := range r.outstanding {
		if !r.issued[id] {
			r.issued[id] = true
			e.issue(r, c)
		}
	}
}

// Stop ends every execution loop on this node; their histories stay in
// the backbone for the next start.
func (e *Executions) Stop(ctx context.Context) error {
	e.cancel()
	e.lease.release(ctx)
	select {
	case <-e.js.PublishAsyncComplete(): // execution summaries
	case <-ctx.Done():
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ExecutionARN names an execution.
func (e *Executions) ExecutionARN(machine, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", e.machines.region, e.machines.account, machine, name)
}

func (e *Executions) newRun(machine, name string) *Run {
	r := &Run{arn: e.ExecutionARN(machine, name), machine: machine, name: name, subject: "exec." + machine + "." + subjectToken(name),
		outstanding: map[string]states.Command{}, issued: map[string]bool{}, started: make(chan struct{})}
	r.startedOnce = sync.OnceFunc(func() { close(r.started) })
	e.mu.Lock()
	defer e.mu.Unlock()
	if existing := e.runs[r.arn]; existing != nil {
		return existing
	}
	e.runs[r.arn] = r
	return r
}

// StartExecution stores a new execution and starts running it. Starting
// again with the same name and input while it runs returns it, as Step
// Functions does.
func (e *Executions) StartExecution(ctx context.Context, m *Machine, name string, input []byte) (*Run, error) {
	return e.start(ctx, m, name, input, "")
}

func (e *Executions) start(ctx context.Context, m *Machine, name string, input []byte, parent string) (*Run, error) {
	if m.Type != Standard {
		return nil, fault.Typed(fault.InvalidParameter, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	if name == "" {
		name = function.NewUUID()
	}
	if err := CheckExecutionName(name); err != nil {
		return nil, err
	}
	arn := e.ExecutionARN(m.Name, name)
	e.mu.Lock()
	existing := e.runs[arn]
	e.mu.Unlock()
	if existing != nil {
		if st := existing.snapshot(); st.Status == states.Running && sameJSON(existing.rawInput, input) {
			return existing, nil
		}
		return nil, fault.Typed(fault.Conflict, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	rec := record{Start: &startRecord{MachineArn: m.StateMachineArn, Definition: m.Definition, RoleArn: m.RoleArn, Name: name, Input: input, Time: time.Now().UTC(), Parent: parent}}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	msg := nats.NewMsg("exec." + m.Name + "." + subjectToken(name))
	msg.Data = data
	msg.Header.Set(jetstream.ExpectedLastSubjSeqHeader, "0") // the fence: only the first start wins
	if _, err := e.js.PublishMsg(ctx, msg); err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return nil, fault.Typed(fault.Conflict, "ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
		}
		return nil, fmt.Errorf("store execution %s: %w", arn, err)
	}
	e.mu.Lock()
	r := e.runs[arn]
	e.mu.Unlock()
	if r == nil {
		r = e.newRun(m.Name, name)
	}
	select {
	case <-r.started:
	case <-time.After(10 * time.Second):
		// Stored, so it will run; this node is just slow to pick it up.
		e.log.Warn("execution slow to start", "execution", r.arn)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r, nil
}

// Get returns an execution by ARN.
func (e *Executions) Get(arn string) (*Run, error) {
	e.mu.Lock()
	r := e.runs[arn]
	e.mu.Unlock()
	if r == nil {
		// AWS keeps no record of Express executions to describe, list or
		// stop: their ARNs are of the wrong type here.
		if err := checkARN(arn, "execution"); err != nil {
			return nil, err
		}
		return nil, fault.Typed(fault.NotFound, "ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return r, nil
}

// List returns the executions of a machine, newest first.
func (e *Executions) List(machine string) []*Run {
	e.mu.Lock()
	var out []*Run
	for _, r := range e.runs {
		if r.machine == machine {
			out = append(out, r)
		}
	}
	e.mu.Unlock()
	starts := make(map[*Run]time.Time, len(out))
	for _, r := range out {
		r.mu.Lock()
		starts[r] = r.start
		r.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		if a, b := starts[out[i]], starts[out[j]]; !a.Equal(b) {
			return a.After(b)
		}
		return out[i].arn < out[j].arn
	})
	return out
}

// Stop asks an execution to stop (StopExecution).
func (e *Executions) StopExecution(ctx context.Context, arn string, stopErr *states.Error) (*Run, error) {
	r, err := e.Get(arn)
	if err != nil {
		return nil, err
	}
	if r.snapshot().Status != states.Running {
		return r, nil
	}
	return r, e.append(ctx, r, eventRecord{Kind: states.Stop, Err: stopErr, Time: time.Now().UTC()})
}

// append stores one event on the execution's subject.
func (e *Executions) append(ctx context.Context, r *Run, ev eventRecord) error {
	data, err := json.Marshal(record{Event: &ev})
	if err != nil {
		return err
	}
	if _, err := e.js.Publish(ctx, r.subject, data); err != nil {
		return fmt.Errorf("store execution event: %w", err)
	}
	return nil
}

// applyRecord applies one stored record; it reports whether the record
// was understood.
func (e *Executions) applyRecord(r *Run, data []byte, caughtUp bool) bool {
	var rec record
	if err := json.Unmarshal(data, &rec); err != nil {
		e.log.Error("decode execution record", "execution", r.arn, "err", err)
		return false
	}
	var step *states.Step
	switch {
	case rec.Heartbeat != "":
		r.mu.Lock()
		hb, ok := r.heartbeats[rec.Heartbeat]
		r.mu.Unlock()
		if ok {
			hb.timer.Reset(hb.every)
		}
		return true
	case rec.Start != nil && r.x == nil:
		m, err := e.defs.parse(rec.Start.Definition)
		if err != nil {
			e.log.Error("parse stored definition", "execution", r.arn, "err", err)
			return false
		}
		input, err := states.Decode(rec.Start.Input)
		if err != nil {
			return false
		}
		info := states.Info{ExecutionID: r.arn, ExecutionName: r.name, RoleArn: rec.Start.RoleArn, StartTime: rec.Start.Time,
			StateMachineID: rec.Start.MachineArn, StateMachineName: r.machine}
		x, s := m.Start(info, input, rec.Start.Time, states.Env{TaskToken: func(id string) string { return taskToken(r.arn, id) }})
		r.mu.Lock()
		r.x, r.machineArn, r.input, r.rawInput, r.start, r.parent = x, rec.Start.MachineArn, input, rec.Start.Input, rec.Start.Time, rec.Start.Parent
		if x.Status != states.Running {
			r.stop = rec.Start.Time // it ended without waiting for anything
		}
		r.mu.Unlock()
		step = s
	case rec.Event != nil && r.x != nil:
		ev := states.Event{Kind: rec.Event.Kind, Command: rec.Event.Command, Err: rec.Event.Err, Time: rec.Event.Time}
		if len(rec.Event.Output) > 0 {
			out, err := states.Decode(rec.Event.Output)
			if err != nil {
				return false
			}
			ev.Output = out
		}
		if ev.Command != "" {
			if _, pending := r.outstanding[ev.Command]; !pending {
				return true // a late answer to a withdrawn or answered command
			}
			// A TaskSubmitted record notes progress; the task is still
			// outstanding.
			if ev.Kind != states.TaskSubmitted {
				delete(r.outstanding, ev.Command)
				r.setPending(ev.Command, false)
				r.cancel(ev.Command)
			}
		}
		r.mu.Lock()
		s, err := r.x.Apply(ev)
		if r.x.Status != states.Running {
			r.stop = ev.Time
		}
		r.mu.Unlock()
		if err != nil {
			return true
		}
		step = s
	default:
		return false
	}
	r.mu.Lock()
	r.history = append(r.history, step.History...)
	r.mu.Unlock()
	for _, c := range step.Commands {
		if c.Kind == states.Cancel {
			r.cancel(c.ID)
			delete(r.outstanding, c.ID)
			r.setPending(c.ID, false)
			continue
		}
		r.outstanding[c.ID] = c
		r.setPending(c.ID, c.Kind == states.RunTask)
	}
	if caughtUp {
		e.issueOutstanding(r)
	}
	return true
}

// issue carries out a command: a task runs and stores its answer; a
// timer becomes a message schedule that fires into the execution.
func (e *Executions) issue(r *Run, c states.Command) {
	switch {
	case c.Kind == states.RunTask && strings.HasPrefix(c.Resource, startExecutionResource):
		// Not on the follower: starting a child waits for the follower.
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.startChild(r, c)
		}()
		return
	}
	switch c.Kind {
	case states.RunTask:
		ctx, cancel := context.WithCancel(e.ctx)
		stop := cancel
		if c.TimeoutSeconds > 0 {
			t := time.AfterFunc(time.Duration(c.TimeoutSeconds)*time.Second, func() {
				_ = e.append(e.ctx, r, eventRecord{Kind: states.TaskFailed, Command: c.ID, Err: &states.Error{Name: states.ErrTimeout, Cause: "The task timed out."}, Time: time.Now().UTC()})
			})
			stop = func() { t.Stop(); cancel() }
		}
		if c.HeartbeatSeconds > 0 {
			hb := e.heartbeat(r, c)
			prev := stop
			stop = func() { hb.Stop(); prev() }
			r.setHeartbeat(c.ID, hb, time.Duration(c.HeartbeatSeconds)*time.Second)
		}
		r.setCancel(c.ID, stop)
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			out, terr := e.tasks.Run(ctx, c.Resource, c.Input)
			if ctx.Err() != nil {
				return // withdrawn, or the node is stopping: replay will run it again
			}
			if WaitsForToken(c.Resource) && terr == nil {
				// The call went through: recorded as TaskSubmitted, then
				// SendTaskSuccess or SendTaskFailure answers it.
				sub := eventRecord{Kind: states.TaskSubmitted, Command: c.ID, Output: json.RawMessage(states.Encode(out)), Time: time.Now().UTC()}
				if err := e.append(e.ctx, r, sub); err != nil {
					e.log.Warn("store task submission", "execution", r.arn, "err", err)
				}
				return
			}
			ev := eventRecord{Kind: states.TaskSucceeded, Command: c.ID, Time: time.Now().UTC()}
			if terr != nil {
				ev = eventRecord{Kind: states.TaskFailed, Command: c.ID, Err: terr, Time: ev.Time}
			} else {
				ev.Output = json.RawMessage(states.Encode(out))
			}
			if err := e.append(e.ctx, r, ev); err != nil {
				e.log.Warn("store task result", "execution", r.arn, "err", err)
			}
		}()
	case states.StartTimer:
		data, _ := json.Marshal(record{Event: &eventRecord{Kind: states.TimerFired, Command: c.ID, Time: c.At.UTC()}})
		sum := sha256.Sum256([]byte(c.ID))
		msg := nats.NewMsg("sched." + r.machine + "." + subjectToken(r.name) + "." + hex.EncodeToString(sum[:8]))
		msg.Data = data
		if now := time.Now(); !c.At.After(now) {
			// Already due (Wait of zero, a past Timestamp, a retry with no
			// delay): the TimerFired record goes straight to the execution.
			// Re-armed on a replay it is dropped as no longer pending.
			msg.Subject = r.subject
		} else {
			msg.Header.Set("Nats-Schedule", "@at "+c.At.UTC().Format(time.RFC3339Nano))
			msg.Header.Set("Nats-Schedule-Target", r.subject)
		}
		// Not waited for on the follower, which would otherwise stall
		// behind every timer a replay re-arms.
		f, err := e.js.PublishMsgAsync(msg)
		if err != nil {
			e.log.Warn("schedule timer", "execution", r.arn, "err", err)
			return
		}
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			select {
			case <-f.Ok():
			case err := <-f.Err():
				e.log.Warn("schedule timer", "execution", r.arn, "err", err)
			case <-e.ctx.Done():
			}
		}()
	}
}

// Run is one STANDARD execution as this node knows it.
type Run struct {
	arn, machine, name, subject string
	started                     chan struct{}
	startedOnce                 func()
	ended                       bool        // its end has been reported to waiting parents
	summarized                  bool        // this node has written its end summary
	summaryStored               atomic.Bool // the backbone holds its end summary
	startSeq                    uint64      // stream sequence of its start record

	// Owned by the follow goroutine.
	outstanding map[string]states.Command
	issued      map[string]bool

	mu         sync.Mutex
	x          *states.Execution
	machineArn string
	input      any
	rawInput   json.RawMessage
	parent     string
	start      time.Time
	stop       time.Time
	history    []states.History
	// How it ended, for an execution read from its summary (closed.go).
	final        *Snapshot
	finalOutput  json.RawMessage
	finalDecoded bool
	cancels      map[string]func()
	heartbeats   map[string]heartbeat
	pending      map[string]bool // commands awaiting an answer, for task tokens
}

func (r *Run) setPending(id string, on bool) {
	r.mu.Lock()
	if r.pending == nil {
		r.pending = map[string]bool{}
	}
	if on {
		r.pending[id] = true
	} else {
		delete(r.pending, id)
	}
	r.mu.Unlock()
}

// closed reports whether the run was read from its end summary.
func (r *Run) closed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.x == nil && r.final != nil
}

func (r *Run) parentOf() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.parent
}

func (r *Run) isPending(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending[id]
}

// Snapshot is what DescribeExecution shows.
type Snapshot struct {
	ExecutionArn, MachineArn, Name, Status string
	Start, Stop                            time.Time
	Input, Output                          any
	Err                                    *states.Error
}

func (r *Run) snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.x == nil && r.final != nil {
		return r.finalSnapshot()
	}
	s := Snapshot{ExecutionArn: r.arn, MachineArn: r.machineArn, Name: r.name, Start: r.start, Stop: r.stop, Input: r.input, Status: states.Running}
	if r.x != nil {
		s.Status, s.Output, s.Err = r.x.Status, r.x.Output, r.x.Err
	}
	return s
}

// Snapshot is the execution's current state.
func (r *Run) Snapshot() Snapshot { return r.snapshot() }

// History returns the execution's history events so far.
func (r *Run) History() []states.History {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]states.History(nil), r.history...)
}

func (r *Run) setCancel(id string, stop func()) {
	r.mu.Lock()
	if r.cancels == nil {
		r.cancels = map[string]func(){}
	}
	r.cancels[id] = stop
	r.mu.Unlock()
}

func (r *Run) cancel(id string) {
	r.mu.Lock()
	stop := r.cancels[id]
	delete(r.cancels, id)
	r.mu.Unlock()
	if stop != nil {
		stop()
	}
}

func (r *Run) stopAll() {
	r.mu.Lock()
	cancels := r.cancels
	r.cancels = nil
	r.mu.Unlock()
	for _, stop := range cancels {
		stop()
	}
}

// sameJSON reports whether two JSON texts are equal once compacted.
func sameJSON(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return bytes.Equal(a, b)
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// heartbeat starts the timer that fails a task whose worker stopped
// sending heartbeats.
func (e *Executions) heartbeat(r *Run, c states.Command) *time.Timer {
	return time.AfterFunc(time.Duration(c.HeartbeatSeconds)*time.Second, func() {
		_ = e.append(e.ctx, r, eventRecord{Kind: states.TaskFailed, Command: c.ID, Err: &states.Error{Name: states.ErrHeartbeatTimeout, Cause: "The task missed its heartbeat."}, Time: time.Now().UTC()})
	})
}

func (r *Run) setHeartbeat(id string, t *time.Timer, every time.Duration) {
	r.mu.Lock()
	if r.heartbeats == nil {
		r.heartbeats = map[string]heartbeat{}
	}
	r.heartbeats[id] = heartbeat{t, every}
	r.mu.Unlock()
}

type heartbeat struct {
	timer *time.Timer
	every time.Duration
}

// taskToken names one task of one execution. It is derived, so replaying
// an execution gives its tasks the same tokens.
func taskToken(executionArn, commandID string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(executionArn + "\n" + commandID))
}

// byToken finds the execution and pending task a token names.
func (e *Executions) byToken(token string) (*Run, string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	arn, id, ok := strings.Cut(string(raw), "\n")
	if err != nil || !ok || len(token) > 1024 {
		return nil, "", fault.Typed(fault.InvalidParameter, "InvalidToken", "Invalid Token: '%s'", token)
	}
	e.mu.Lock()
	r := e.runs[arn]
	e.mu.Unlock()
	if r == nil || !r.isPending(id) {
		return nil, "", fault.Typed(fault.NotFound, "TaskDoesNotExist", "Task Does Not Exist: the task was not found or has already completed")
	}
	return r, id, nil
}

// SendTaskSuccess answers a .waitForTaskToken task with its output.
func (e *Executions) SendTaskSuccess(ctx context.Context, token string, output []byte) error {
	r, id, err := e.byToken(token)
	if err != nil {
		return err
	}
	if _, err := states.Decode(output); err != nil {
		return fault.Typed(fault.InvalidParameter, "InvalidOutput", "Invalid Output: '%v'", err)
	}
	return e.append(ctx, r, eventRecord{Kind: states.TaskSucceeded, Command: id, Output: output, Time: time.Now().UTC()})
}

// SendTaskFailure fails a .waitForTaskToken task.
func (e *Executions) SendTaskFailure(ctx context.Context, token string, taskErr *states.Error) error {
	r, id, err := e.byToken(token)
	if err != nil {
		return err
	}
	return e.append(ctx, r, eventRecord{Kind: states.TaskFailed, Command: id, Err: taskErr, Time: time.Now().UTC()})
}

// SendTaskHeartbeat restarts a task's heartbeat timer, on whichever node
// drives the execution.
func (e *Executions) SendTaskHeartbeat(ctx context.Context, token string) error {
	r, id, err := e.byToken(token)
	if err != nil {
		return err
	}
	data, err := json.Marshal(record{Heartbeat: id})
	if err != nil {
		return err
	}
	if _, err := e.js.Publish(ctx, r.subject, data); err != nil {
		return fmt.Errorf("store task heartbeat: %w", err)
	}
	return nil
}

// startExecutionResource starts a nested execution; with ".sync" (output
// as a string) or ".sync:2" (output as JSON) the task waits for it.
const startExecutionResource = "arn:aws:states:::states:startExecution"

// waiter is a parent task waiting for a nested execution to end.
type waiter struct {
	parent  *Run
	command string
	json    bool // .sync:2
}

// startChild starts the nested execution a task asks for. Its name is the
// task's Name parameter or one derived from the parent task, so a replay
// finds the same child instead of starting another.
func (e *Executions) startChild(r *Run, c states.Command) {
	fail := func(name, cause string) {
		_ = e.append(e.ctx, r, eventRecord{Kind: states.TaskFailed, Command: c.ID, Err: &states.Error{Name: name, Cause: cause}, Time: time.Now().UTC()})
	}
	params, _ := c.Input.(map[string]any)
	arn, _ := params["StateMachineArn"].(string)
	m, err := e.machines.Get(arn)
	if err != nil {
		fail("StepFunctions.StateMachineDoesNotExistException", err.Error())
		return
	}
	name, _ := params["Name"].(string)
	if name == "" {
		sum := sha256.Sum256([]byte(r.arn + "\n" + c.ID))
		name = hex.EncodeToString(sum[:16])
	}
	input := []byte("{}")
	switch in := params["Input"].(type) {
	case nil:
	case string:
		input = []byte(in)
	default:
		input = []byte(states.Encode(in))
	}
	parent := r.arn + "\n" + c.ID
	child, err := e.start(e.ctx, m, name, input, parent)
	if fault.Is(err, fault.Conflict) {
		// Started by this very task before a crash: carry on with it.
		if existing, gerr := e.Get(e.ExecutionARN(m.Name, name)); gerr == nil && existing.parentOf() == parent {
			child, err = existing, nil
		}
	}
	if err != nil {
		name := "StepFunctions.ExecutionAlreadyExistsException"
		if !fault.Is(err, fault.Conflict) {
			name = "States.Runtime"
		}
		fail(name, err.Error())
		return
	}
	snap := child.snapshot()
	suffix := strings.TrimPrefix(c.Resource, startExecutionResource)
	if suffix != "" {
		// A .sync task records the started child, then waits for it.
		out := map[string]any{"ExecutionArn": snap.ExecutionArn, "StartDate": snap.Start.Format("Jan 2, 2006, 3:04:05 PM")}
		_ = e.append(e.ctx, r, eventRecord{Kind: states.TaskSubmitted, Command: c.ID, Output: json.RawMessage(states.Encode(out)), Time: time.Now().UTC()})
	}
	if suffix == "" {
		out := map[string]any{"ExecutionArn": snap.ExecutionArn, "StartDate": snap.Start.Format("Jan 2, 2006, 3:04:05 PM")}
		_ = e.append(e.ctx, r, eventRecord{Kind: states.TaskSucceeded, Command: c.ID, Output: json.RawMessage(states.Encode(out)), Time: time.Now().UTC()})
		return
	}
	w := waiter{parent: r, command: c.ID, json: suffix == ".sync:2"}
	e.mu.Lock()
	if e.waiters == nil {
		e.waiters = map[string][]waiter{}
	}
	e.waiters[snap.ExecutionArn] = append(e.waiters[snap.ExecutionArn], w)
	e.mu.Unlock()
	// Checked after registering, so an end in between is not missed; a
	// second answer is dropped as no longer pending.
	if child.snapshot().Status != states.Running {
		e.finished(child)
	}
}

// finished answers the parent tasks waiting for execution r.
func (e *Executions) finished(r *Run) {
	e.mu.Lock()
	ws := e.waiters[r.arn]
	delete(e.waiters, r.arn)
	e.mu.Unlock()
	snap := r.snapshot()
	for _, w := range ws {
		ev := eventRecord{Command: w.command, Time: time.Now().UTC()}
		if snap.Status == states.Succeeded {
			out := map[string]any{"ExecutionArn": snap.ExecutionArn, "StateMachineArn": snap.MachineArn, "Name": snap.Name, "Status": snap.Status,
				"StartDate": snap.Start.UnixMilli(), "StopDate": snap.Stop.UnixMilli(), "Input": states.Encode(snap.Input), "Output": states.Encode(snap.Output)}
			if w.json {
				out["Input"], out["Output"] = snap.Input, snap.Output
			}
			ev.Kind, ev.Output = states.TaskSucceeded, json.RawMessage(states.Encode(out))
		} else {
			// The cause describes the child, as DescribeExecution would.
			d := map[string]any{"ExecutionArn": snap.ExecutionArn, "StateMachineArn": snap.MachineArn, "Name": snap.Name, "Status": snap.Status,
				"StartDate": snap.Start.UnixMilli(), "StopDate": snap.Stop.UnixMilli(), "Input": states.Encode(snap.Input)}
			if snap.Err != nil {
				d["Error"], d["Cause"] = snap.Err.Name, snap.Err.Cause
			}
			ev.Kind, ev.Err = states.TaskFailed, &states.Error{Name: "States.TaskFailed", Cause: states.Encode(d)}
		}
		if err := e.append(e.ctx, w.parent, ev); err != nil {
			e.log.Warn("answer parent execution", "execution", w.parent.arn, "err", err)
		}
	}
}
