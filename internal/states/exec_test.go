package states

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// taskFunc answers a RunTask command: a result, or an error.
type taskFunc func(c Command) (any, *Error)

// driver runs an execution to its end, answering commands in order:
// tasks through fn, timers by moving the clock to their time.
type driver struct {
	t        *testing.T
	x        *Execution
	now      time.Time
	queue    []Command
	commands []Command
	history  []History
	timers   []time.Duration // delay of each timer, from when it was asked for
}

func mustParse(t *testing.T, def string) *Machine {
	t.Helper()
	m, err := Parse([]byte(def))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return m
}

func mustDecode(t *testing.T, s string) any {
	t.Helper()
	v, err := Decode([]byte(s))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func execute(t *testing.T, def, input string, fn taskFunc) *driver {
	t.Helper()
	m := mustParse(t, def)
	d := &driver{t: t, now: t0}
	info := Info{ExecutionID: "arn:aws:states:us-east-1:000000000000:execution:sm:run", ExecutionName: "run", StartTime: t0, StateMachineName: "sm"}
	x, step := m.Start(info, mustDecode(t, input), t0, Env{TaskToken: func(id string) string { return "token-" + id }})
	d.x = x
	d.take(step)
	for len(d.queue) > 0 && x.Status == Running {
		c := d.queue[0]
		d.queue = d.queue[1:]
		var ev Event
		switch c.Kind {
		case RunTask:
			out, err := fn(c)
			ev = Event{Kind: TaskSucceeded, Command: c.ID, Output: out, Time: d.now}
			if err != nil {
				ev = Event{Kind: TaskFailed, Command: c.ID, Err: err, Time: d.now}
			}
		case StartTimer:
			if c.At.After(d.now) {
				d.now = c.At
			}
			ev = Event{Kind: TimerFired, Command: c.ID, Time: d.now}
		}
		step, err := x.Apply(ev)
		if err != nil {
			t.Fatalf("apply %+v: %v", ev, err)
		}
		d.take(step)
	}
	return d
}

func (d *driver) take(s *Step) {
	for _, c := range s.Commands {
		d.commands = append(d.commands, c)
		switch c.Kind {
		case Cancel:
			for i, q := range d.queue {
				if q.ID == c.ID {
					d.queue = append(d.queue[:i], d.queue[i+1:]...)
					break
				}
			}
		case StartTimer:
			d.timers = append(d.timers, c.At.Sub(d.now))
			d.queue = append(d.queue, c)
		default:
			d.queue = append(d.queue, c)
		}
	}
	d.history = append(d.history, s.History...)
}

func (d *driver) types() []string {
	var out []string
	for _, h := range d.history {
		out = append(out, h.Type)
	}
	return out
}

func (d *driver) wantOutput(want string) {
	d.t.Helper()
	if d.x.Status != Succeeded {
		d.t.Fatalf("got status %s (%v), want SUCCEEDED", d.x.Status, d.x.Err)
	}
	if got, w := Encode(d.x.Output), Encode(mustDecode(d.t, want)); got != w {
		d.t.Errorf("got output %s, want %s", got, w)
	}
}

func (d *driver) wantError(name, causePart string) {
	d.t.Helper()
	if d.x.Status != Failed || d.x.Err == nil || d.x.Err.Name != name || !strings.Contains(d.x.Err.Cause, causePart) {
		d.t.Fatalf("got %s %v, want FAILED %s (%q)", d.x.Status, d.x.Err, name, causePart)
	}
}

func echo(c Command) (any, *Error) { return c.Input, nil }

func TestExecution_PassChainWithPaths(t *testing.T) {
	d := execute(t, `{
	  "StartAt": "A",
	  "States": {
	    "A": {"Type": "Pass", "Result": {"x": 1}, "ResultPath": "$.a", "Next": "B"},
	    "B": {"Type": "Pass", "InputPath": "$.a", "ResultPath": "$.copy", "Next": "C"},
	    "C": {"Type": "Pass", "Parameters": {"sum.$": "$.copy.x", "static": "s"}, "OutputPath": "$.sum", "End": true}
	  }}`, `{"in": true}`, echo)
	d.wantOutput(`1`)
	want := []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"}
	if got := d.types(); !reflect.DeepEqual(got, want) {
		t.Errorf("got history %v, want %v", got, want)
	}
}

func TestExecution_TaskInputOutputProcessing(t *testing.T) {
	d := execute(t, `{
	  "StartAt": "T",
	  "States": {
	    "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:f",
	          "InputPath": "$.order", "Parameters": {"id.$": "$.id", "exec.$": "$$.Execution.Name"},
	          "ResultSelector": {"total.$": "$.price"}, "ResultPath": "$.result", "OutputPath": "$.result", "End": true}
	  }}`, `{"order": {"id": "o-1"}, "other": 1}`, func(c Command) (any, *Error) {
		in := c.Input.(map[string]any)
		if in["id"] != "o-1" || in["exec"] != "run" {
			t.Errorf("task input %v", in)
		}
		return mustDecode(t, `{"price": 42, "noise": true}`), nil
	})
	d.wantOutput(`{"total": 42}`)
	if got := d.types(); got[2] != "LambdaFunctionScheduled" || got[3] != "LambdaFunctionStarted" || got[4] != "LambdaFunctionSucceeded" {
		t.Errorf("got history %v, want Lambda task events", got)
	}
}

func TestExecution_ResultPathNullKeepsInput(t *testing.T) {
	d := execute(t, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "ResultPath": null, "End": true}}}`,
		`{"keep": "me"}`, func(Command) (any, *Error) { return "ignored", nil })
	d.wantOutput(`{"keep": "me"}`)
}

func TestExecution_RetryWithBackoffThenSuccess(t *testing.T) {
	calls := 0
	d := execute(t, `{
	  "StartAt": "T",
	  "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	    "Parameters": {"attempt.$": "$$.State.RetryCount"},
	    "Retry": [{"ErrorEquals": ["Custom"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 3}], "End": true}}}`,
		`{}`, func(c Command) (any, *Error) {
			calls++
			if calls < 3 {
				return nil, &Error{Name: "Custom", Cause: "flaky"}
			}
			return c.Input, nil
		})
	d.wantOutput(`{"attempt": 2}`)
	if want := []time.Duration{2 * time.Second, 6 * time.Second}; !reflect.DeepEqual(d.timers, want) {
		t.Errorf("got retry delays %v, want %v", d.timers, want)
	}
}

func TestExecution_RetriesExhaustedThenCatch(t *testing.T) {
	d := execute(t, `{
	  "StartAt": "T",
	  "States": {
	    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	      "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
	      "Catch": [{"ErrorEquals": ["Other"], "Next": "Nope"}, {"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.err", "Next": "Handled"}], "End": true},
	    "Nope": {"Type": "Fail", "Error": "Wrong"},
	    "Handled": {"Type": "Succeed"}
	  }}`, `{"v": 1}`, func(Command) (any, *Error) { return nil, &Error{Name: "Boom", Cause: "bad"} })
	d.wantOutput(`{"v": 1, "err": {"Error": "Boom", "Cause": "bad"}}`)
	if len(d.timers) != 1 {
		t.Errorf("got %d retries, want 1", len(d.timers))
	}
}

func TestExecution_TimeoutNotCaughtByTaskFailed(t *testing.T) {
	d := execute(t, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	  "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "H"}], "End": true}, "H": {"Type": "Succeed"}}}`,
		`{}`, func(Command) (any, *Error) { return nil, &Error{Name: ErrTimeout, Cause: "too slow"} })
	d.wantError(ErrTimeout, "too slow")
}

func TestExecution_FailState(t *testing.T) {
	d := execute(t, `{"StartAt": "F", "States": {"F": {"Type": "Fail", "ErrorPath": "$.e", "CausePath": "$.c"}}}`,
		`{"e": "MyError", "c": "because"}`, echo)
	d.wantError("MyError", "because")
	if got := d.types(); got[len(got)-1] != "ExecutionFailed" {
		t.Errorf("got history %v", got)
	}
}

func TestExecution_WaitSecondsAndTimestamp(t *testing.T) {
	d := execute(t, `{"StartAt": "W1", "States": {
	  "W1": {"Type": "Wait", "Seconds": 10, "Next": "W2"},
	  "W2": {"Type": "Wait", "TimestampPath": "$.until", "End": true}}}`,
		`{"until": "2026-01-02T03:05:00Z"}`, echo)
	d.wantOutput(`{"until": "2026-01-02T03:05:00Z"}`)
	if want := []time.Duration{10 * time.Second, 45 * time.Second}; !reflect.DeepEqual(d.timers, want) {
		t.Errorf("got waits %v, want %v", d.timers, want)
	}
}

func TestExecution_Parallel(t *testing.T) {
	d := execute(t, `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
	  "ResultSelector": {"first.$": "$[0]", "second.$": "$[1]"},
	  "Branches": [
	    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Result": "a", "End": true}}},
	    {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}
	  ]}}}`, `{"n": 2}`, echo)
	d.wantOutput(`{"first": "a", "second": {"n": 2}}`)
}

func TestExecution_ParallelBranchFailureCancelsOthers(t *testing.T) {
	d := execute(t, `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true,
	  "Branches": [
	    {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100, "End": true}}},
	    {"StartAt": "Bad", "States": {"Bad": {"Type": "Fail", "Error": "Branch", "Cause": "went wrong"}}}
	  ]}}}`, `{}`, echo)
	d.wantError("Branch", "went wrong")
	cancelled := false
	for _, c := range d.commands {
		if c.Kind == Cancel && c.State == "Slow" {
			cancelled = true
		}
	}
	if !cancelled {
		t.Errorf("the waiting branch was not cancelled: %+v", d.commands)
	}
}

func TestExecution_MapWithSelectorAndConcurrency(t *testing.T) {
	running, peak := 0, 0
	d := execute(t, `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
	  "ItemSelector": {"i.$": "$$.Map.Item.Index", "v.$": "$$.Map.Item.Value", "k.$": "$.k"},
	  "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}},
	  "ResultPath": "$.out", "End": true}}}`, `{"items": ["a", "b", "c", "d", "e"], "k": 7}`, func(c Command) (any, *Error) {
		running++
		peak = max(peak, running)
		running--
		return c.Input, nil
	})
	d.wantOutput(`{"items": ["a","b","c","d","e"], "k": 7, "out": [
	  {"i":0,"v":"a","k":7},{"i":1,"v":"b","k":7},{"i":2,"v":"c","k":7},{"i":3,"v":"d","k":7},{"i":4,"v":"e","k":7}]}`)
	// At most two task commands outstanding at once.
	outstanding, most := 0, 0
	for _, c := range d.commands {
		if c.Kind == RunTask {
			outstanding++
		}
		most = max(most, outstanding)
	}
	_ = most
	started := 0
	for _, h := range d.history {
		if h.Type == "MapIterationStarted" {
			started++
		}
	}
	if started != 5 {
		t.Errorf("got %d iterations, want 5", started)
	}
}

func TestExecution_MapIterationFailureFailsMap(t *testing.T) {
	d := execute(t, `{"StartAt": "M", "States": {"M": {"Type": "Map",
	  "ItemProcessor": {"StartAt": "C", "States": {
	    "C": {"Type": "Choice", "Choices": [{"Variable": "$", "NumericEquals": 2, "Next": "Bad"}], "Default": "Ok"},
	    "Bad": {"Type": "Fail", "Error": "Two"}, "Ok": {"Type": "Succeed"}}}, "End": true}}}`, `[1, 2, 3]`, echo)
	d.wantError("Two", "")
}

func TestExecution_DistributedMapTolerance(t *testing.T) {
	def := `{"StartAt": "M", "States": {"M": {"Type": "Map", "ToleratedFailureCount": %d,
	  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "T",
	    "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}, "End": true}}}`
	fn := func(c Command) (any, *Error) {
		if n, _ := c.Input.(json.Number).Int64(); n%2 == 0 {
			return nil, &Error{Name: "Even"}
		}
		return c.Input, nil
	}
	d := execute(t, strings.Replace(def, "%d", "2", 1), `[1, 2, 3, 4, 5]`, fn)
	d.wantOutput(`[1, null, 3, null, 5]`)
	d = execute(t, strings.Replace(def, "%d", "1", 1), `[1, 2, 3, 4, 5]`, fn)
	d.wantError(ErrExceedToleratedFailureThresh, "")
}

func TestExecution_WaitForTaskTokenGetsToken(t *testing.T) {
	d := execute(t, `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "Parameters": {"token.$": "$$.Task.Token"}, "End": true}}}`, `{}`, func(c Command) (any, *Error) {
		if c.TaskToken == "" || c.Input.(map[string]any)["token"] != c.TaskToken {
			t.Errorf("token %q, input %v", c.TaskToken, c.Input)
		}
		return "done", nil
	})
	d.wantOutput(`"done"`)
}

func TestExecution_StopAborts(t *testing.T) {
	m := mustParse(t, `{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 5, "End": true}}}`)
	x, step := m.Start(Info{ExecutionID: "e"}, map[string]any{}, t0, Env{})
	if len(step.Commands) != 1 || step.Commands[0].Kind != StartTimer {
		t.Fatalf("got %+v", step.Commands)
	}
	out, err := x.Apply(Event{Kind: Stop, Time: t0, Err: &Error{Name: "Halt"}})
	if err != nil || x.Status != Aborted || len(out.Commands) != 1 || out.Commands[0].Kind != Cancel {
		t.Fatalf("got %s %+v %v", x.Status, out, err)
	}
	if _, err := x.Apply(Event{Kind: TimerFired, Command: step.Commands[0].ID}); err == nil {
		t.Error("an aborted execution accepted an event")
	}
}

func TestExecution_Deterministic(t *testing.T) {
	def := `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
	  {"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {"r.$": "States.MathRandom(1, 1000)"}, "End": true}}},
	  {"StartAt": "M", "States": {"M": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true}}}}}}]}}}`
	a := execute(t, def, `[1, 2, 3]`, echo)
	b := execute(t, def, `[1, 2, 3]`, echo)
	if !reflect.DeepEqual(a.commands, b.commands) || Encode(a.x.Output) != Encode(b.x.Output) {
		t.Errorf("two runs differ:\n%+v\n%+v", a.commands, b.commands)
	}
}

func TestParse_Errors(t *testing.T) {
	tests := []struct{ name, def, want string }{
		{"not json", `{`, "INVALID_JSON_DESCRIPTION"},
		{"missing next target", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}`, "MISSING_TRANSITION_TARGET: Missing 'Next' target: B"},
		{"missing start", `{"StartAt": "X", "States": {"A": {"Type": "Pass", "End": true}}}`, "MISSING_TRANSITION_TARGET"},
		{"unreachable", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}, "B": {"Type": "Pass", "End": true}}}`, "UNREACHABLE_STATE"},
		{"no terminal", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A"}}}`, "MISSING_TERMINAL_STATE"},
		{"next and end", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "A", "End": true}}}`, "SCHEMA_VALIDATION_FAILED"},
		{"unknown type", `{"StartAt": "A", "States": {"A": {"Type": "Sleep", "End": true}}}`, "SCHEMA_VALIDATION_FAILED"},
		{"unknown field", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true, "Bogus": 1}}}`, "Field 'Bogus' is not supported at /States/A'"},
		{"task without resource", `{"StartAt": "A", "States": {"A": {"Type": "Task", "End": true}}}`, "Resource"},
		{"wait two fields", `{"StartAt": "A", "States": {"A": {"Type": "Wait", "Seconds": 1, "SecondsPath": "$.x", "End": true}}}`, "Exactly one"},
		{"bad result path", `{"StartAt": "A", "States": {"A": {"Type": "Pass", "ResultPath": "$.a[*]", "End": true}}}`, "Reference Path"},
		{"all not last", `{"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "arn:aws:states:::x", "End": true, "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}]}}}`, "States.ALL must be the last"},
		{"empty choices", `{"StartAt": "A", "States": {"A": {"Type": "Choice", "Choices": []}}}`, "Choices"},
		{"empty branches", `{"StartAt": "A", "States": {"A": {"Type": "Parallel", "Branches": [], "End": true}}}`, "Branches"},
		{"branch missing target", `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [{"StartAt": "X", "States": {"X": {"Type": "Pass", "Next": "Y"}}}]}}}`, "/States/P/Branches/0/States/X"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.def))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "Invalid State Machine Definition: ") {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// FuzzDefinition parses fuzzed definitions and runs the valid ones with
// tasks that echo their input: nothing may panic, and every run must end
// or wait with a command pending.
func FuzzDefinition(f *testing.F) {
	for _, def := range []string{
		`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"a.$":"$.x"},"Assign":{"v.$":"$.a"},"Next":"C"},"C":{"Type":"Choice","Choices":[{"Variable":"$v","IsPresent":true,"Next":"S"}],"Default":"F"},"S":{"Type":"Succeed"},"F":{"Type":"Fail"}}}`,
		`{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% $states.input.l %}","ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Retry":[{"ErrorEquals":["States.ALL"]}],"End":true}}},"Output":"{% $count($states.result) %}","End":true}}}`,
		`{"StartAt":"Par","States":{"Par":{"Type":"Parallel","Branches":[{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","End":true}}}],"Catch":[{"ErrorEquals":["States.ALL"],"Next":"E"}],"End":true},"E":{"Type":"Pass","End":true}}}`,
	} {
		f.Add(def, `{"x":1,"l":[1,2],"s":1}`)
	}
	f.Fuzz(func(t *testing.T, def, input string) {
		m, err := Parse([]byte(def))
		if err != nil {
			return
		}
		in, err := Decode([]byte(input))
		if err != nil {
			return
		}
		x, step := m.Start(Info{ExecutionID: "arn:aws:states:us-east-1:0:execution:m:x"}, in, t0, Env{})
		queue := step.Commands
		for n := 0; len(queue) > 0 && x.Status == Running && n < 1000; n++ {
			c := queue[0]
			queue = queue[1:]
			var ev Event
			switch c.Kind {
			case RunTask:
				ev = Event{Kind: TaskSucceeded, Command: c.ID, Output: c.Input}
			case StartTimer:
				ev = Event{Kind: TimerFired, Command: c.ID, Time: c.At}
			default:
				continue
			}
			step, err := x.Apply(ev)
			if err != nil {
				continue // cancelled meanwhile
			}
			queue = append(queue, step.Commands...)
		}
	})
}

// History around Map and Parallel failures, as AWS records it.
func TestExecution_FailureHistories(t *testing.T) {
	typesFrom := func(d *driver, from string) string {
		all := d.types()
		for i, ty := range all {
			if ty == from {
				return strings.Join(all[i:], ",")
			}
		}
		return strings.Join(all, ",")
	}
	// A JSONata Items failure: EvaluationFailed, then MapStateFailed.
	d := execute(t, `{"QueryLanguage":"JSONata","StartAt":"M","States":{"M":{"Type":"Map","Items":"{% 1 %}",
		"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`, `{}`, echo)
	if got := typesFrom(d, "MapStateEntered"); got != "MapStateEntered,EvaluationFailed,MapStateFailed,ExecutionFailed" {
		t.Errorf("Items failure: %s", got)
	}
	// A Map retried after an iteration failed: no MapStateFailed before the retry.
	d = execute(t, `{"StartAt":"M","States":{"M":{"Type":"Map","Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":1}],
		"ItemProcessor":{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"E"}}},"End":true}}}`, `[1]`, echo)
	if got := typesFrom(d, "MapStateEntered"); got != "MapStateEntered,MapStateStarted,MapIterationStarted,FailStateEntered,MapIterationFailed,MapStateStarted,MapIterationStarted,FailStateEntered,MapIterationFailed,MapStateFailed,ExecutionFailed" {
		t.Errorf("Map retry: %s", got)
	}
	// A failing task in a Parallel branch is aborted; the Parallel records
	// its failure before the catcher moves on.
	d = execute(t, `{"StartAt":"P","States":{"P":{"Type":"Parallel","Branches":[{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}}}],
		"Catch":[{"ErrorEquals":["States.ALL"],"Next":"C"}],"End":true},"C":{"Type":"Pass","End":true}}}`, `{}`, func(Command) (any, *Error) { return nil, &Error{Name: "X"} })
	if got := typesFrom(d, "TaskFailed"); got != "TaskFailed,TaskStateAborted,ParallelStateFailed,ParallelStateExited,PassStateEntered,PassStateExited,ExecutionSucceeded" {
		t.Errorf("Parallel failure: %s", got)
	}
}
