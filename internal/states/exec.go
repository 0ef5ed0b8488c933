package states

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"
)

// Info is what the context object ($$) says about an execution.
type Info struct {
	ExecutionID      string
	ExecutionName    string
	RoleArn          string
	StartTime        time.Time
	StateMachineID   string
	StateMachineName string
	RedriveCount     int
}

// Env supplies what an execution must not make up itself.
type Env struct {
	// TaskToken returns the task token of a task command, for
	// .waitForTaskToken resources and $$.Task.Token. Nil: no tokens.
	TaskToken func(commandID string) string
}

// CommandKind says what the caller must do.
type CommandKind string

// Commands.
const (
	// RunTask runs Resource with Input; answer with TaskSucceeded or
	// TaskFailed naming the command ID. Enforce TimeoutSeconds and
	// HeartbeatSeconds (answer TaskFailed with States.Timeout or
	// States.HeartbeatTimeout).
	RunTask CommandKind = "RunTask"
	// StartTimer asks for TimerFired at At.
	StartTimer CommandKind = "StartTimer"
	// Cancel withdraws an earlier RunTask or StartTimer; no answer is expected.
	Cancel CommandKind = "Cancel"
)

// Command is one thing the interpreter needs done.
type Command struct {
	ID               string
	Kind             CommandKind
	State            string
	Resource         string
	Input            any
	TaskToken        string
	TimeoutSeconds   int
	HeartbeatSeconds int
	At               time.Time
}

// EventKind names an event fed to an execution.
type EventKind string

// Events.
const (
	TaskSucceeded EventKind = "TaskSucceeded"
	// TaskSubmitted reports that a .sync or .waitForTaskToken task's call
	// went through (Output is the service's answer); the task keeps
	// running and is answered later with TaskSucceeded or TaskFailed.
	TaskSubmitted EventKind = "TaskSubmitted"
	TaskFailed    EventKind = "TaskFailed"
	TimerFired    EventKind = "TimerFired"
	Stop          EventKind = "Stop"     // StopExecution: Error and Cause optional
	TimedOut      EventKind = "TimedOut" // the execution's TimeoutSeconds passed
)

// Event is something that happened to an execution.
type Event struct {
	Kind    EventKind
	Time    time.Time
	Command string // the command a task or timer event answers
	Output  any
	Err     *Error
}

// History is one history event, with AWS's type and details.
type History struct {
	Type    string
	Time    time.Time
	Details map[string]any
}

// Status of an execution.
const (
	Running   = "RUNNING"
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
	Aborted   = "ABORTED"
	TimedOutS = "TIMED_OUT"
)

// Step is what applying an event produced.
type Step struct {
	Commands []Command
	History  []History
	// Transitions counts the state transitions made.
	Transitions int
}

// Execution is one run of a machine. It is advanced only by Start and
// Apply; the same events in the same order always produce the same
// commands and history.
type Execution struct {
	m       *Machine
	info    Info
	env     Env
	input   any
	root    *frame
	now     time.Time
	seq     int
	rng     uint64
	pending map[string]*frame
	step    *Step
	queue   []*frame
	events  int // history events emitted so far; the next has ID events+1
	jenv    *jsonataEnv
	// quiet is set while a frame inside a distributed Map's iteration
	// runs: those events belong to the iteration's child execution.
	quiet bool
	// outcome of the last error handled, for TestState.
	lastRetry *retryInfo
	lastCatch *catchInfo
	rec       *stages         // TestState: the first state's data at each step
	submitted map[string]bool // tasks whose TaskSubmitted is recorded

	Status string
	Output any
	Err    *Error
}

// frame runs one machine: the execution itself, a Parallel branch or a
// Map iteration.
type frame struct {
	id           string
	m            *Machine
	parent       *frame
	index        int
	state        string
	input        any // raw input of the current state
	entered      time.Time
	retries      int    // retries of the current state, for $$.State.RetryCount
	attempts     []int  // retries made by each retrier of the current state
	wait         string // command waited on
	retry        bool   // the wait is a retry backoff
	done         bool
	failed       bool
	counted      bool // its end has been reported to its parent
	output       any
	err          *Error
	kidErr       *Error // first error of a failed child
	enteredEvent int    // history event ID of the current state's entry

	// Workflow variables assigned in this frame's scope. A Parallel branch
	// or Map iteration reads its parent's scope too, unless isolated (a
	// distributed Map's iterations). pendingVars waits for a Wait state's
	// end.
	vars        map[string]any
	isolated    bool
	pendingVars map[string]any

	// Parallel and Map bookkeeping for the current state.
	effective                           any
	kids                                []*frame
	results                             []any
	finished                            int
	failures                            int
	items                               []any
	started                             int
	maxConc                             int
	tolCount                            int
	tolPct                              float64
	tolCountSet, tolPctSet, distributed bool
	selector                            func(i int) (any, error)
}

// Start begins an execution of m with input at now.
func (m *Machine) Start(info Info, input any, now time.Time, env Env) (*Execution, *Step) {
	return m.start(info, input, now, env, nil)
}

// start is Start with variables already assigned in the top-level scope.
func (m *Machine) start(info Info, input any, now time.Time, env Env, vars map[string]any) (*Execution, *Step) {
	return m.startRecorded(info, input, now, env, vars, nil)
}

// startRecorded is start recording, in rec, the first state's data at
// each step (TestState's inspection data).
func (m *Machine) startRecorded(info Info, input any, now time.Time, env Env, vars map[string]any, rec *stages) (*Execution, *Step) {
	x := &Execution{m: m, info: info, env: env, input: input, now: now, pending: map[string]*frame{}, Status: Running, rec: rec}
	h := fnv.New64a()
	h.Write([]byte(info.ExecutionID))
	x.rng = h.Sum64() | 1
	x.step = &Step{}
	x.history("ExecutionStarted", map[string]any{"input": Encode(input), "inputDetails": map[string]any{"truncated": false}, "roleArn": info.RoleArn})
	x.root = &frame{id: "", m: m, state: m.StartAt, input: input, vars: vars}
	x.schedule(x.root)
	x.drain()
	return x, x.finishStep()
}

// Apply feeds one event to a running execution.
func (x *Execution) Apply(ev Event) (*Step, error) {
	if x.Status != Running {
		return nil, fmt.Errorf("execution is %s", x.Status)
	}
	if !ev.Time.IsZero() {
		x.now = ev.Time
	}
	x.step = &Step{}
	switch ev.Kind {
	case Stop, TimedOut:
		x.cancelAll(x.root)
		if ev.Kind == Stop {
			x.Status = Aborted
			d := map[string]any{}
			if ev.Err != nil {
				d["error"], d["cause"] = ev.Err.Name, ev.Err.Cause
			}
			x.history("ExecutionAborted", d)
		} else {
			x.Status = TimedOutS
			x.Err = &Error{Name: ErrTimeout, Cause: "The execution has timed out."}
			x.history("ExecutionTimedOut", map[string]any{"error": ErrTimeout, "cause": x.Err.Cause})
		}
		return x.finishStep(), nil
	}
	f := x.pending[ev.Command]
	if f == nil {
		return nil, fmt.Errorf("no command %q is pending", ev.Command)
	}
	if ev.Kind == TaskSubmitted {
		// Recorded once per task, however often a retried call reports it.
		if x.submitted[ev.Command] {
			return &Step{}, nil
		}
		if x.submitted == nil {
			x.submitted = map[string]bool{}
		}
		x.submitted[ev.Command] = true
		x.quiet = x.hidden(f)
		x.taskHistory(f.m.States[f.state], "Submitted", map[string]any{"output": Encode(ev.Output), "outputDetails": map[string]any{"truncated": false}})
		x.quiet = false
		return x.finishStep(), nil
	}
	delete(x.pending, ev.Command)
	f.wait = ""
	x.quiet = x.hidden(f)
	st := f.m.States[f.state]
	switch ev.Kind {
	case TaskSucceeded:
		x.taskHistory(st, "Succeeded", map[string]any{"output": Encode(ev.Output), "outputDetails": map[string]any{"truncated": false}})
		if err := x.finishResult(f, st, ev.Output, true); err != nil {
			x.fail(f, st, x.inState(f, err))
		}
	case TaskFailed:
		e := ev.Err
		if e == nil {
			e = &Error{Name: ErrTaskFailed}
		}
		outcome := "Failed"
		if e.Name == ErrTimeout {
			outcome = "TimedOut"
		}
		x.taskHistory(st, outcome, errorDetails(e))
		x.fail(f, st, e)
	case TimerFired:
		if f.retry {
			// Run the state again; it is not entered anew.
			f.retry = false
			f.retries++
		} else {
			vals := f.pendingVars
			f.pendingVars = nil
			x.exitState(f, st, f.effective, vals)
			x.transition(f, st, f.effective)
		}
	default:
		return nil, fmt.Errorf("unknown event %q", ev.Kind)
	}
	x.quiet = false
	x.schedule(f)
	x.drain()
	return x.finishStep(), nil
}

func (x *Execution) finishStep() *Step {
	s := x.step
	x.step = nil
	return s
}

func (x *Execution) history(typ string, details map[string]any) {
	if x.quiet {
		return // a distributed Map's iteration: its own child execution
	}
	x.events++
	x.step.History = append(x.step.History, History{Type: typ, Time: x.now, Details: details})
}

func (x *Execution) command(c Command) {
	x.step.Commands = append(x.step.Commands, c)
}

func (x *Execution) nextID(f *frame, what string) string {
	x.seq++
	return f.id + "/" + f.state + "/" + what + "#" + strconv.Itoa(x.seq)
}

func (x *Execution) rand() uint64 {
	// xorshift64*: deterministic per execution, so replays agree.
	x.rng ^= x.rng >> 12
	x.rng ^= x.rng << 25
	x.rng ^= x.rng >> 27
	return x.rng * 2685821657736338717
}

func (x *Execution) intrinsics() *IntrinsicEnv { return &IntrinsicEnv{Rand: x.rand} }

// recording reports whether f's current state is the one TestState
// inspects: the first state of the execution.
func (x *Execution) recording(f *frame) bool {
	return x.rec != nil && f == x.root && f.state == x.m.StartAt && f.enteredEvent == 2
}

// ienv is the evaluation environment of frame f: randomness and its
// workflow variables.
func (x *Execution) ienv(f *frame) *IntrinsicEnv {
	return &IntrinsicEnv{Rand: x.rand, Vars: func(name string) (any, bool) { return lookupVar(f, name) }}
}

// lookupVar finds a workflow variable from f's scope outwards.
func lookupVar(f *frame, name string) (any, bool) {
	for g := f; g != nil; g = g.parent {
		if v, ok := g.vars[name]; ok {
			return v, true
		}
		if g.isolated {
			break
		}
	}
	return nil, false
}

// visibleVars is every variable f can read, inner scopes winning.
func visibleVars(f *frame) map[string]any {
	var chain []*frame
	for g := f; g != nil; g = g.parent {
		chain = append(chain, g)
		if g.isolated {
			break
		}
	}
	out := map[string]any{}
	for i := len(chain) - 1; i >= 0; i-- {
		for k, v := range chain[i].vars {
			out[k] = v
		}
	}
	return out
}

// pathValue applies a *Path field (SecondsPath, MaxConcurrencyPath, ...)
// to a state's effective input, or to the context object or a variable.
func (x *Execution) pathValue(f *frame, p *Path, effective any) (any, bool) {
	src, ok := p.Source(effective, x.contextObject(f, ""), x.ienv(f).Vars)
	if !ok {
		return nil, false
	}
	return p.Get(src)
}

// applyPath is ApplyPath on the source p selects from.
func (x *Execution) applyPath(f *frame, field string, p *Path, v any) (any, *Error) {
	if p == nil {
		return v, nil
	}
	src, ok := p.Source(v, x.contextObject(f, ""), x.ienv(f).Vars)
	if !ok {
		return nil, Errorf(ErrRuntime, "Invalid path '%s': The variable '%s' is not defined.", p, p.Variable())
	}
	out, err := ApplyPath(field, p, src)
	return out, asStatesError(err)
}

// jsonPathAssign evaluates a JSONPath state's or catcher's Assign
// template against value ($) and the pre-state variables.
func (x *Execution) jsonPathAssign(f *frame, assign any, has bool, value any) (map[string]any, *Error) {
	if !has {
		return nil, nil
	}
	v, err := EvalTemplate(assign, value, x.contextObject(f, ""), x.ienv(f))
	if err != nil {
		return nil, asStatesError(err)
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// setVars assigns variables in f's own scope.
func setVars(f *frame, vals map[string]any) {
	if len(vals) == 0 {
		return
	}
	if f.vars == nil {
		f.vars = make(map[string]any, len(vals))
	}
	for k, v := range vals {
		f.vars[k] = v
	}
}

// contextObject is $$ for frame f's current state.
func (x *Execution) contextObject(f *frame, token string) map[string]any {
	ctx := map[string]any{
		"Execution": map[string]any{
			"Id": x.info.ExecutionID, "Input": x.input, "Name": x.info.ExecutionName,
			"RoleArn": x.info.RoleArn, "StartTime": formatTime(x.info.StartTime),
			"RedriveCount": json.Number(strconv.Itoa(x.info.RedriveCount)),
		},
		"State":        map[string]any{"EnteredTime": formatTime(f.entered), "Name": f.state},
		"StateMachine": map[string]any{"Id": x.info.StateMachineID, "Name": x.info.StateMachineName},
	}
	if st := f.m.States[f.state]; st != nil && (st.Type == TypeTask || st.Type == TypeMap || st.Type == TypeParallel) {
		// Only states that can retry show RetryCount, as AWS's context
		// object does.
		ctx["State"].(map[string]any)["RetryCount"] = json.Number(strconv.Itoa(f.retries))
	}
	if token != "" {
		ctx["Task"] = map[string]any{"Token": token}
	}
	return ctx
}

// mapContext is $$ while a Map state selects item i.
func (x *Execution) mapContext(f *frame, i int, item any) map[string]any {
	ctx := x.contextObject(f, "")
	ctx["Map"] = map[string]any{"Item": map[string]any{"Index": json.Number(strconv.Itoa(i)), "Value": item}}
	return ctx
}

func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// enter records that f enters its current state.
func (x *Execution) enter(f *frame) {
	f.entered = x.now
	f.enteredEvent = x.events + 1
	f.retries, f.attempts = 0, nil
	st := f.m.States[f.state]
	x.step.Transitions++
	x.history(st.Type+"StateEntered", map[string]any{"name": st.Name, "input": Encode(f.input), "inputDetails": map[string]any{"truncated": false}})
}

func (x *Execution) schedule(f *frame) { x.queue = append(x.queue, f) }

// drain advances scheduled frames until none can move.
func (x *Execution) drain() {
	for len(x.queue) > 0 {
		f := x.queue[0]
		x.queue = x.queue[1:]
		x.advance(f)
	}
}

// advance moves f through states that need nothing from outside, until it
// waits for a command or its children, or ends.
func (x *Execution) advance(f *frame) {
	if x.Status != Running {
		return
	}
	x.quiet = x.hidden(f)
	defer func() { x.quiet = false }()
	if !f.done && f.entered.IsZero() {
		x.enter(f)
	}
	if !f.done && f.kids != nil {
		x.checkChildren(f)
	}
	for !f.done && f.wait == "" && f.kids == nil {
		st := f.m.States[f.state]
		if err := x.execute(f, st); err != nil {
			x.fail(f, st, x.inState(f, err))
		}
	}
	if f.done {
		x.propagate(f)
	}
}

// hidden reports whether f runs inside an iteration of a distributed Map,
// whose events belong to the iteration's own child execution.
func (x *Execution) hidden(f *frame) bool {
	for g := f; g.parent != nil; g = g.parent {
		if g.parent.distributed {
			return true
		}
	}
	return false
}

// propagate reports the end of f to its parent, or ends the execution.
func (x *Execution) propagate(f *frame) {
	if f.counted {
		return
	}
	f.counted = true
	p := f.parent
	if p == nil {
		x.complete(f)
		return
	}
	if p.kids == nil || p.done {
		return // the parent has moved on (failed or stopped)
	}
	if f.failed {
		p.failures++
		if p.kidErr == nil {
			p.kidErr = f.err
		}
		// A branch's state that fails the Parallel is aborted; a Fail
		// state simply ends the branch.
		if pst := p.m.States[p.state]; pst.Type == TypeParallel && !x.hidden(f) {
			if st := f.m.States[f.state]; st != nil && st.Type != TypeFail {
				x.history(st.Type+"StateAborted", nil)
			}
		}
	} else {
		p.results[f.index] = f.output
	}
	p.finished++
	if pst := p.m.States[p.state]; pst.Type == TypeMap && !p.distributed {
		outcome := "MapIterationSucceeded"
		if f.failed {
			outcome = "MapIterationFailed"
		}
		x.history(outcome, map[string]any{"name": pst.Name, "index": f.index})
	}
	x.schedule(p)
}

// execute carries out the current state of f.
func (x *Execution) execute(f *frame, st *State) *Error {
	if st.Lang == JSONata {
		return x.executeJSONata(f, st)
	}
	effective, err := x.inputPath(f, st, f.input)
	if err != nil {
		return err
	}
	if x.recording(f) {
		x.rec.afterInputPath, x.rec.hasInputPath = effective, true
	}
	switch st.Type {
	case TypePass:
		result := effective
		if st.hasResult {
			result = st.Result
		} else if st.hasParameters {
			if result, err = x.template(f, st.Parameters, effective, ""); err != nil {
				return err
			}
		}
		if x.recording(f) && !st.hasResult {
			x.rec.afterParameters, x.rec.hasParameters = result, true
		}
		return x.finishResult(f, st, result, false)
	case TypeSucceed:
		out, err := x.outputPath(f, st, effective)
		if err != nil {
			return err
		}
		x.exitState(f, st, out, nil)
		x.end(f, out)
	case TypeFail:
		return x.failState(f, st)
	case TypeChoice:
		return x.choose(f, st, effective)
	case TypeWait:
		return x.waitState(f, st, effective)
	case TypeTask:
		return x.task(f, st, effective)
	case TypeParallel:
		return x.parallel(f, st, effective)
	case TypeMap:
		return x.mapState(f, st, effective)
	}
	return nil
}

func (x *Execution) inputPath(f *frame, st *State, in any) (any, *Error) {
	switch {
	case !st.InputPath.set:
		return in, nil
	case st.InputPath.null:
		return map[string]any{}, nil
	}
	return x.applyPath(f, "InputPath", st.InputPath.path, in)
}

func (x *Execution) outputPath(f *frame, st *State, v any) (any, *Error) {
	switch {
	case !st.OutputPath.set:
		return v, nil
	case st.OutputPath.null:
		return map[string]any{}, nil
	}
	return x.applyPath(f, "OutputPath", st.OutputPath.path, v)
}

// inState names the state in the cause of an error the interpreter itself
// raised while running it, as AWS does.
func (x *Execution) inState(f *frame, e *Error) *Error {
	if e.Name == ErrNoChoiceMatched {
		return e
	}
	return &Error{Name: e.Name, Cause: fmt.Sprintf("An error occurred while executing the state '%s' (entered at the event id #%d). %s", f.state, f.enteredEvent, e.Cause), location: e.location, evaluation: e.evaluation, failEvent: e.failEvent}
}

// asStatesError turns a helper's error into a States error.
func asStatesError(err error) *Error {
	if err == nil {
		return nil
	}
	if e, ok := err.(*Error); ok {
		return e
	}
	return &Error{Name: ErrRuntime, Cause: err.Error()}
}

func (x *Execution) template(f *frame, tmpl, input any, token string) (any, *Error) {
	v, err := EvalTemplate(tmpl, input, x.contextObject(f, token), x.ienv(f))
	return v, asStatesError(err)
}

// finishResult applies ResultSelector (for tasks, Parallel and Map),
// ResultPath and OutputPath to a state's result and moves on.
func (x *Execution) finishResult(f *frame, st *State, result any, selector bool) *Error {
	if st.Lang == JSONata {
		return x.finishJSONata(f, st, result, true)
	}
	if selector && st.hasResultSelector {
		var err *Error
		if result, err = x.template(f, st.ResultSelector, result, ""); err != nil {
			return err
		}
	}
	vals, err := x.jsonPathAssign(f, st.Assign, st.hasAssign, result)
	if err != nil {
		return err
	}
	out, err := x.resultPath(st.ResultPath, f.input, result)
	if err != nil {
		return err
	}
	if x.recording(f) {
		x.rec.afterResultSelector, x.rec.afterResultPath, x.rec.hasResult = result, out, true
	}
	if out, err = x.outputPath(f, st, out); err != nil {
		return err
	}
	x.exitState(f, st, out, vals)
	x.transition(f, st, out)
	return nil
}

func (x *Execution) resultPath(rp optPath, input, result any) (any, *Error) {
	switch {
	case !rp.set:
		return result, nil
	case rp.null:
		return input, nil
	}
	out, err := rp.path.Set(input, result)
	if err != nil {
		if e, ok := err.(*Error); ok {
			return nil, e
		}
		return nil, &Error{Name: ErrResultPathMatchFailure, Cause: fmt.Sprintf("Unable to apply ResultPath \"%s\" to input \"%s\"", rp.path.String(), Encode(input))}
	}
	return out, nil
}

// exitState records that f leaves st with output out, assigning vals.
func (x *Execution) exitState(f *frame, st *State, out any, vals map[string]any) {
	d := map[string]any{"name": st.Name, "output": Encode(out), "outputDetails": map[string]any{"truncated": false}}
	if len(vals) > 0 {
		setVars(f, vals)
		enc := make(map[string]any, len(vals))
		for k, v := range vals {
			enc[k] = Encode(v)
		}
		d["assignedVariables"] = enc
		d["assignedVariablesDetails"] = map[string]any{"truncated": false}
	}
	x.history(st.Type+"StateExited", d)
}

// transition moves f to the state after st, or ends it.
func (x *Execution) transition(f *frame, st *State, out any) {
	if st.End {
		x.end(f, out)
		return
	}
	x.next(f, st.Next, out)
}

func (x *Execution) next(f *frame, name string, input any) {
	f.state = name
	f.input = input
	f.kids, f.results, f.items, f.selector = nil, nil, nil, nil
	f.distributed = false
	x.enter(f)
}

func (x *Execution) end(f *frame, out any) {
	f.done, f.output = true, out
}

// fail handles an error raised by st: a matching retrier schedules
// another attempt, a matching catcher moves on, anything else ends f.
func (x *Execution) fail(f *frame, st *State, e *Error) {
	f.kids = nil
	if e.location != "" || e.evaluation {
		d := map[string]any{"error": e.Name, "cause": e.Cause, "state": st.Name}
		if e.location != "" {
			d["location"] = e.location
		}
		x.history("EvaluationFailed", d)
	}
	// A Map or Parallel state records its failure unless it will retry.
	if e.failEvent != "" && !x.willRetry(f, st, e) {
		x.history(e.failEvent, nil)
	}
	e = &Error{Name: e.Name, Cause: e.Cause}
	if e.Name != ErrRuntime && e.Name != ErrDataLimitExceeded {
		for i, r := range st.Retry {
			if !matches(r.ErrorEquals, e.Name) {
				continue
			}
			// Each retrier counts its own attempts across every visit.
			if f.attempts == nil {
				f.attempts = make([]int, len(st.Retry))
			}
			n := f.attempts[i]
			if n >= r.MaxAttempts {
				break // this retrier is spent; Catch decides
			}
			f.attempts[i]++
			delay := r.IntervalSeconds * math.Pow(r.BackoffRate, float64(n))
			if r.MaxDelaySeconds > 0 && delay > r.MaxDelaySeconds {
				delay = r.MaxDelaySeconds
			}
			if r.JitterFull {
				delay = delay * float64(x.rand()%1_000_000) / 1_000_000
			}
			x.lastRetry = &retryInfo{err: e, index: i, delay: delay}
			id := x.nextID(f, "retry")
			f.wait, f.retry = id, true
			x.pending[id] = f
			x.command(Command{ID: id, Kind: StartTimer, State: st.Name, At: x.now.Add(time.Duration(delay * float64(time.Second)))})
			return
		}
		for ci, c := range st.Catch {
			if !matches(c.ErrorEquals, e.Name) {
				continue
			}
			out, vals, perr := x.catchOutput(f, st, c, errorOutput(e))
			if perr != nil {
				e = perr
				break
			}
			x.lastCatch = &catchInfo{err: e, index: ci}
			x.exitState(f, st, out, vals)
			x.next(f, c.Next, out)
			return
		}
	}
	f.failed, f.err, f.done = true, e, true
}

// willRetry reports whether a retrier of st takes error e.
func (x *Execution) willRetry(f *frame, st *State, e *Error) bool {
	if e.Name == ErrRuntime || e.Name == ErrDataLimitExceeded {
		return false
	}
	for i, r := range st.Retry {
		if !matches(r.ErrorEquals, e.Name) {
			continue
		}
		return f.attempts == nil || f.attempts[i] < r.MaxAttempts
	}
	return false
}

// errorOutput is what a catcher passes on: {"Error", "Cause"}, null
// where the error has none (a SendTaskFailure without them).
func errorOutput(e *Error) map[string]any {
	out := map[string]any{"Error": nil, "Cause": nil}
	if e.Name != "" {
		out["Error"] = e.Name
	}
	if e.Cause != "" {
		out["Cause"] = e.Cause
	}
	return out
}

// errorDetails are an error's history details; AWS leaves out an empty
// error or cause.
func errorDetails(e *Error) map[string]any {
	d := map[string]any{}
	if e.Name != "" {
		d["error"] = e.Name
	}
	if e.Cause != "" {
		d["cause"] = e.Cause
	}
	return d
}

// matches reports whether a retrier or catcher's ErrorEquals covers name.
func matches(list []string, name string) bool {
	for _, want := range list {
		switch {
		case want == name:
			return true
		case want == ErrAll:
			return true
		case want == ErrTaskFailed && name != ErrTimeout && !strings.HasPrefix(name, "States."):
			return true
		case want == ErrTaskFailed && name == ErrTaskFailed:
			return true
		}
	}
	return false
}

// catchOutput is what a matching catcher makes of the error output: the
// state's output and the variables it assigns.
func (x *Execution) catchOutput(f *frame, st *State, c *Catcher, errOut map[string]any) (any, map[string]any, *Error) {
	if st.Lang == JSONata {
		b := x.jsonataBindings(f, map[string]any{"errorOutput": errOut})
		out := any(errOut)
		if c.hasOutput {
			v, err := jsonataEval(c.Output, "Output", x.jsonataEnv(), b)
			if err != nil {
				return nil, nil, err
			}
			out = v
		}
		vals, err := x.jsonataAssign(c.Assign, c.hasAssign, b)
		return out, vals, err
	}
	vals, err := x.jsonPathAssign(f, c.Assign, c.hasAssign, errOut)
	if err != nil {
		return nil, nil, err
	}
	out, err := x.resultPath(c.ResultPath, f.input, errOut)
	if err != nil {
		return nil, nil, err
	}
	return out, vals, nil
}

func (x *Execution) complete(root *frame) {
	if x.Status != Running {
		return
	}
	if root.failed {
		x.Status, x.Err = Failed, root.err
		x.cancelAll(root)
		x.history("ExecutionFailed", errorDetails(root.err))
		return
	}
	x.Status, x.Output = Succeeded, root.output
	x.history("ExecutionSucceeded", map[string]any{"output": Encode(root.output), "outputDetails": map[string]any{"truncated": false}})
}

// cancelAll withdraws every pending command under f.
func (x *Execution) cancelAll(f *frame) { x.cancel(f, false) }

// abortChildren cancels the children still running when a Parallel or
// Map state fails, recording their states (or Map iterations) as aborted.
func (x *Execution) abortChildren(f *frame) { x.cancel(f, true) }

func (x *Execution) cancel(f *frame, record bool) {
	if f.wait != "" {
		x.command(Command{ID: f.wait, Kind: Cancel, State: f.state})
		delete(x.pending, f.wait)
		f.wait = ""
	}
	st := f.m.States[f.state]
	for _, k := range f.kids {
		if k == nil || k.done {
			continue
		}
		x.cancel(k, record)
		if record && !f.distributed {
			if st.Type == TypeMap {
				x.history("MapIterationAborted", map[string]any{"name": st.Name, "index": k.index})
			} else if kst := k.m.States[k.state]; kst != nil && !k.entered.IsZero() {
				x.history(kst.Type+"StateAborted", nil)
			}
		}
		k.done, k.failed, k.counted = true, true, true
	}
}

func (x *Execution) failState(f *frame, st *State) *Error {
	e := &Error{Name: st.Error, Cause: st.Cause}
	for _, fp := range []struct {
		field string
		path  *Path
		fun   *Intrinsic
		dst   *string
	}{{"ErrorPath", st.ErrorPath, st.ErrorIntrinsic, &e.Name}, {"CausePath", st.CausePath, st.CauseFun, &e.Cause}} {
		var v any
		var err error
		switch {
		case fp.fun != nil:
			v, err = fp.fun.Eval(f.input, x.contextObject(f, ""), x.ienv(f))
		case fp.path != nil:
			var perr *Error
			if v, perr = x.applyPath(f, fp.field, fp.path, f.input); perr != nil {
				err = perr
			}
		default:
			continue
		}
		if err != nil {
			return asStatesError(err)
		}
		s, ok := v.(string)
		if !ok {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The %s '%s' must resolve to a string, but it resolved to %s", fp.field, fp.path, Encode(v))}
		}
		*fp.dst = s
	}
	f.failed, f.err, f.done = true, e, true
	return nil
}

func (x *Execution) choose(f *frame, st *State, effective any) *Error {
	ctx := x.contextObject(f, "")
	next := st.Default
	assign, hasAssign := st.Assign, st.hasAssign
	vars := x.ienv(f).Vars
	for _, rule := range st.Choices {
		ok, err := rule.MatchVars(effective, ctx, vars)
		if err != nil {
			return asStatesError(err)
		}
		if ok {
			next = rule.Next()
			if rule.hasAssign {
				assign, hasAssign = rule.assign, true
			}
			break
		}
	}
	if next == "" {
		return &Error{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Matches for Choice State: %s", st.Name)}
	}
	vals, err := x.jsonPathAssign(f, assign, hasAssign, effective)
	if err != nil {
		return err
	}
	out, err := x.outputPath(f, st, effective)
	if err != nil {
		return err
	}
	x.exitState(f, st, out, vals)
	x.next(f, next, out)
	return nil
}

func (x *Execution) waitState(f *frame, st *State, effective any) *Error {
	var until time.Time
	switch {
	case st.Seconds != nil:
		until = f.entered.Add(time.Duration(*st.Seconds * float64(time.Second)))
	case st.Timestamp != nil:
		until = *st.Timestamp
	case st.SecondsPath != nil:
		v, ok := x.pathValue(f, st.SecondsPath, effective)
		if !ok {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter does not reference an input value: %s", st.SecondsPath)}
		}
		secs, isLong := pathLong(v)
		switch {
		case !isLong:
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter cannot be parsed as a long value: %s == %s", st.SecondsPath, rawText(v))}
		case secs < 0:
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The SecondsPath parameter references a negative value: %s == %s", st.SecondsPath, rawText(v))}
		}
		until = f.entered.Add(time.Duration(secs) * time.Second)
	case st.TimestampPath != nil:
		v, ok := x.pathValue(f, st.TimestampPath, effective)
		s, isStr := v.(string)
		t, err := ParseTimestamp(s)
		if !ok || !isStr || err != nil {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time format string: %s == %s", st.TimestampPath, rawText(v))}
		}
		until = t
	}
	if until.Sub(x.now) > maxWaitDelay {
		return &Error{Name: ErrRuntime, Cause: "Wait state delay is too long."}
	}
	vals, err := x.jsonPathAssign(f, st.Assign, st.hasAssign, effective)
	if err != nil {
		return err
	}
	out, err := x.outputPath(f, st, effective)
	if err != nil {
		return err
	}
	x.startWait(f, st, until, out, vals)
	return nil
}

// maxWaitDelay is the longest wait AWS accepts: 2^31-1 seconds.
const maxWaitDelay = (1<<31 - 1) * time.Second

// pathLong reads a whole number the way AWS reads the *Path fields that
// take one: a JSON integer, or a string holding one.
func pathLong(v any) (int64, bool) {
	var text string
	switch t := v.(type) {
	case json.Number:
		text = string(t)
	case string:
		text = strings.TrimSpace(t)
	default:
		return 0, false
	}
	n, err := strconv.ParseInt(text, 10, 64)
	return n, err == nil
}

// rawText shows a value in a message: strings as they are, anything else
// as JSON.
func rawText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return Encode(v)
}

// startWait parks f in a Wait state until the timer fires; out and vals
// are its output and assignments, applied as it leaves.
func (x *Execution) startWait(f *frame, st *State, until time.Time, out any, vals map[string]any) {
	f.effective = out
	f.pendingVars = vals
	id := x.nextID(f, "wait")
	f.wait = id
	x.pending[id] = f
	x.command(Command{ID: id, Kind: StartTimer, State: st.Name, At: until})
}

// task schedules the state's resource.
func (x *Execution) task(f *frame, st *State, effective any) *Error {
	id := x.nextID(f, "task")
	token := ""
	if x.env.TaskToken != nil && strings.HasSuffix(st.Resource, ".waitForTaskToken") {
		token = x.env.TaskToken(id)
	}
	params := effective
	if st.hasParameters {
		var err *Error
		if params, err = x.template(f, st.Parameters, effective, token); err != nil {
			return err
		}
	}
	timeout, heartbeat := st.TimeoutSeconds, st.HeartbeatSeconds
	for _, tp := range []struct {
		path *Path
		dst  *int
		name string
	}{{st.TimeoutSecondsPath, &timeout, "TimeoutSecondsPath"}, {st.HeartbeatSecondsPath, &heartbeat, "HeartbeatSecondsPath"}} {
		if tp.path == nil {
			continue
		}
		v, ok := x.pathValue(f, tp.path, effective)
		i, isLong := pathLong(v)
		if !ok || !isLong || i < 1 {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The %s parameter does not reference a valid positive integer: %s", tp.name, tp.path)}
		}
		*tp.dst = int(i)
	}
	x.scheduleTask(f, st, id, token, params, timeout, heartbeat)
	return nil
}

// scheduleTask records and commands the run of st's resource.
func (x *Execution) scheduleTask(f *frame, st *State, id, token string, params any, timeout, heartbeat int) {
	f.wait = id
	x.pending[id] = f
	if isLambdaARN(st.Resource) {
		d := map[string]any{"resource": st.Resource, "input": Encode(params), "inputDetails": map[string]any{"truncated": false}}
		if timeout > 0 {
			d["timeoutInSeconds"] = timeout
		}
		x.history("LambdaFunctionScheduled", d)
		x.history("LambdaFunctionStarted", nil)
	} else {
		typ, res := splitResource(st.Resource)
		d := map[string]any{"resourceType": typ, "resource": res, "region": x.region(), "parameters": Encode(params)}
		if timeout > 0 {
			d["timeoutInSeconds"] = timeout
		}
		if heartbeat > 0 {
			d["heartbeatInSeconds"] = heartbeat
		}
		x.history("TaskScheduled", d)
		x.history("TaskStarted", map[string]any{"resourceType": typ, "resource": res})
	}
	x.command(Command{ID: id, Kind: RunTask, State: st.Name, Resource: st.Resource, Input: params, TaskToken: token, TimeoutSeconds: timeout, HeartbeatSeconds: heartbeat})
}

// splitResource splits a service integration's ARN as history events
// show it: arn:aws:states:::lambda:invoke is resource type "lambda",
// resource "invoke".
func splitResource(arn string) (typ, res string) {
	parts := strings.SplitN(arn, ":", 7)
	if len(parts) == 7 && parts[2] == "states" {
		return parts[5], parts[6]
	}
	return "", arn
}

// mapRunARN names a distributed Map state's run, as AWS does:
// arn:aws:states:<region>:<account>:mapRun:<machine>/<label or state>:<id>.
func (x *Execution) mapRunARN(f *frame, st *State) string {
	base := strings.Replace(x.info.StateMachineID, ":stateMachine:", ":mapRun:", 1)
	label := st.Label
	if label == "" {
		label = st.Name
	}
	return base + "/" + label + ":" + uuid4(x.intrinsics())
}

// region is the execution's region, from its ARN.
func (x *Execution) region() string {
	parts := strings.SplitN(x.info.ExecutionID, ":", 5)
	if len(parts) == 5 && parts[0] == "arn" {
		return parts[3]
	}
	return ""
}

func isLambdaARN(resource string) bool {
	return strings.HasPrefix(resource, "arn:aws:lambda:")
}

func (x *Execution) taskHistory(st *State, outcome string, details map[string]any) {
	if st == nil || st.Type != TypeTask {
		return
	}
	if isLambdaARN(st.Resource) {
		x.history("LambdaFunction"+outcome, details)
		return
	}
	details["resourceType"], details["resource"] = splitResource(st.Resource)
	x.history("Task"+outcome, details)
}

func (x *Execution) parallel(f *frame, st *State, effective any) *Error {
	input := effective
	if st.hasParameters {
		var err *Error
		if input, err = x.template(f, st.Parameters, effective, ""); err != nil {
			return err
		}
	}
	x.startBranches(f, st, input)
	return nil
}

// startBranches starts one child frame per branch, each with input.
func (x *Execution) startBranches(f *frame, st *State, input any) {
	x.history("ParallelStateStarted", nil)
	f.kidErr = nil
	f.results = make([]any, len(st.Branches))
	f.kids = make([]*frame, len(st.Branches))
	f.finished, f.failures = 0, 0
	for i, b := range st.Branches {
		kid := &frame{id: fmt.Sprintf("%s/%s[%d]", f.id, st.Name, i), m: b, parent: f, index: i, state: b.StartAt, input: input}
		f.kids[i] = kid
		x.schedule(kid)
	}
}

func (x *Execution) mapState(f *frame, st *State, effective any) *Error {
	items := effective
	if st.ItemsPath.set && !st.ItemsPath.null {
		var perr *Error
		if items, perr = x.applyPath(f, "ItemsPath", st.ItemsPath.path, effective); perr != nil {
			return perr
		}
	}
	list, ok := items.([]any)
	if !ok {
		ref := "$"
		if st.ItemsPath.path != nil {
			ref = st.ItemsPath.path.String()
		}
		return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("Reference path %q must point to array.", ref)}
	}
	// Each iteration's input: the selector applied to the item.
	inputs := make([]any, len(list))
	for i, item := range list {
		inputs[i] = item
		if st.hasItemSelector {
			v, err := EvalTemplate(st.ItemSelector, effective, x.mapContext(f, i, item), x.ienv(f))
			if err != nil {
				return asStatesError(err)
			}
			inputs[i] = v
		}
	}
	if st.hasBatcher {
		batchInput := st.BatchInput
		if batchInput != nil {
			v, err := EvalTemplate(batchInput, effective, x.contextObject(f, ""), x.ienv(f))
			if err != nil {
				return asStatesError(err)
			}
			batchInput = v
		}
		inputs = batch(inputs, st.MaxItemsPerBatch, batchInput)
	}
	// AWS reads MaxConcurrencyPath before the Map starts and the tolerance
	// paths after.
	started := false
	maxConc, tolCount, tolPct := st.MaxConcurrency, st.ToleratedFailureCount, st.ToleratedFailurePercentage
	for _, ip := range []struct {
		path *Path
		dst  *int
		name string
	}{{st.MaxConcurrencyPath, &maxConc, "MaxConcurrencyPath"}, {st.ToleratedFailureCountPath, &tolCount, "ToleratedFailureCountPath"}} {
		if ip.name == "ToleratedFailureCountPath" && !started {
			x.history("MapStateStarted", map[string]any{"length": len(inputs)})
			started = true
		}
		if ip.path == nil {
			continue
		}
		v, ok := x.pathValue(f, ip.path, effective)
		i, isLong := pathLong(v)
		if !ok || !isLong {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The %s field refers to value \"%s\" which is not a valid integer: %s", ip.name, rawText(v), ip.path)}
		}
		if i < 0 {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("%s cannot be negative.", strings.TrimSuffix(ip.name, "Path"))}
		}
		*ip.dst = int(i)
	}
	if !started {
		x.history("MapStateStarted", map[string]any{"length": len(inputs)})
	}
	if st.ToleratedFailurePctPath != nil {
		v, ok := x.pathValue(f, st.ToleratedFailurePctPath, effective)
		var pct float64
		var err error
		switch t := v.(type) {
		case json.Number:
			pct, err = t.Float64()
		case string:
			pct, err = strconv.ParseFloat(strings.TrimSpace(t), 64)
		default:
			err = errors.New("not a number")
		}
		if !ok || err != nil {
			return &Error{Name: ErrRuntime, Cause: fmt.Sprintf("The ToleratedFailurePercentagePath field refers to value \"%s\" which is not a valid float: %s", rawText(v), st.ToleratedFailurePctPath)}
		}
		if pct < 0 || pct > 100 {
			return &Error{Name: ErrRuntime, Cause: "ToleratedFailurePercentage must be between 0 and 100."}
		}
		tolPct = pct
	}
	x.beginMap(f, st, inputs, maxConc, tolCount, tolPct)
	return nil
}

// beginMap starts a Map state's iterations over inputs.
func (x *Execution) beginMap(f *frame, st *State, inputs []any, maxConc, tolCount int, tolPct float64) {
	if st.ProcessorMode == "DISTRIBUTED" {
		x.history("MapRunStarted", map[string]any{"mapRunArn": x.mapRunARN(f, st)})
	}
	f.kidErr = nil
	f.items = inputs
	f.results = make([]any, len(inputs))
	f.kids = make([]*frame, len(inputs))
	f.finished, f.failures, f.started = 0, 0, 0
	f.maxConc, f.tolCount, f.tolPct = maxConc, tolCount, tolPct
	f.tolCountSet, f.tolPctSet, f.distributed = st.hasTolCount, st.hasTolPct, st.ProcessorMode == "DISTRIBUTED"
	x.startIterations(f, st)
	x.schedule(f)
}

// batch groups inputs as ItemBatcher does: {"Items": [...], "BatchInput": ...}.
func batch(inputs []any, size int, batchInput any) []any {
	if size <= 0 {
		size = len(inputs)
		if size == 0 {
			size = 1
		}
	}
	var out []any
	for i := 0; i < len(inputs); i += size {
		end := min(i+size, len(inputs))
		b := map[string]any{"Items": append([]any(nil), inputs[i:end]...)}
		if batchInput != nil {
			b["BatchInput"] = batchInput
		}
		out = append(out, b)
	}
	return out
}

// startIterations starts Map iterations up to MaxConcurrency.
func (x *Execution) startIterations(f *frame, st *State) {
	for f.started < len(f.items) && (f.maxConc == 0 || f.started-f.finished < f.maxConc) {
		i := f.started
		f.started++
		kid := &frame{id: fmt.Sprintf("%s/%s[%d]", f.id, st.Name, i), m: st.Processor, parent: f, index: i, state: st.Processor.StartAt, input: f.items[i], isolated: f.distributed}
		f.kids[i] = kid
		if !f.distributed {
			x.history("MapIterationStarted", map[string]any{"name": st.Name, "index": i})
		}
		x.schedule(kid)
	}
}

// checkChildren finishes a Parallel or Map state once its children allow.
func (x *Execution) checkChildren(f *frame) {
	st := f.m.States[f.state]
	if st.Type == TypeMap {
		x.checkMap(f, st)
		return
	}
	if f.failures > 0 {
		e := f.kidErr
		x.abortChildren(f)
		f.kids, f.kidErr = nil, nil
		x.fail(f, st, &Error{Name: e.Name, Cause: e.Cause, failEvent: "ParallelStateFailed"})
		return
	}
	if f.finished < len(f.kids) {
		return
	}
	results := f.results
	f.kids, f.results = nil, nil
	x.history("ParallelStateSucceeded", nil)
	if err := x.finishResult(f, st, results, true); err != nil {
		x.fail(f, st, x.inState(f, err))
	}
}

func (x *Execution) checkMap(f *frame, st *State) {
	total := len(f.items)
	if f.failures > 0 {
		// Inline: any failure fails the Map. Distributed: a failure count or
		// percentage above either configured threshold (default zero).
		exceeded := true
		if f.distributed && (f.tolCountSet || f.tolPctSet) {
			pct := float64(f.failures) * 100 / float64(total)
			exceeded = f.tolCountSet && f.failures > f.tolCount || f.tolPctSet && pct > f.tolPct
		}
		if exceeded {
			e := f.kidErr
			x.abortChildren(f)
			if f.distributed {
				e = &Error{Name: ErrExceedToleratedFailureThresh, Cause: "The specified tolerated failure threshold was exceeded"}
				x.history("MapRunFailed", errorDetails(e))
			}
			f.kids, f.kidErr = nil, nil
			x.fail(f, st, &Error{Name: e.Name, Cause: e.Cause, failEvent: "MapStateFailed"})
			return
		}
	}
	x.startIterations(f, st)
	if f.finished < total {
		return
	}
	results := f.results
	f.kids, f.results, f.items = nil, nil, nil
	if f.distributed {
		x.history("MapRunSucceeded", nil)
	}
	x.history("MapStateSucceeded", nil)
	if err := x.finishResult(f, st, results, true); err != nil {
		x.fail(f, st, x.inState(f, err))
	}
}
