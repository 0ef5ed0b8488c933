package states

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// TestState runs one state once, as the TestState API does: with the
// given input and variables, its task answered by a mock or by RunTask,
// a Wait state's timer fired at once, and a retry reported rather than
// waited for.

// TestStateRequest describes the state to run.
type TestStateRequest struct {
	// Definition is one state's definition, or a whole state machine when
	// StateName names the state to run.
	Definition []byte
	StateName  string
	Input      any
	// Variables are visible to the state as workflow variables.
	Variables map[string]any
	// Mock, when set, is the task's (or Map's, or Parallel's) result
	// instead of running it: MockResult, or MockError when set.
	Mock       bool
	MockResult any
	MockError  *Error
	// RunTask runs a task when there is no mock.
	RunTask func(c Command) (any, *Error)
	// Now is the clock of the run ($$.State.EnteredTime and the like).
	Now time.Time
	// Info is the context object's execution data.
	Info Info
	// RevealSecrets is the request's revealSecrets (refused with a mock).
	RevealSecrets bool
	// RoleArn is the request's roleArn; a Task state without a mock needs one.
	RoleArn string
}

// TestStateInputError is a TestState request AWS refuses with a
// ValidationException.
type TestStateInputError struct{ Msg string }

func (e *TestStateInputError) Error() string { return e.Msg }

// TestState outcomes.
const (
	TestSucceeded   = "SUCCEEDED"
	TestFailed      = "FAILED"
	TestRetriable   = "RETRIABLE"
	TestCaughtError = "CAUGHT_ERROR"
)

// TestStateResult is what running the state gave.
type TestStateResult struct {
	Status    string
	Output    any // valid unless Status is FAILED or RETRIABLE
	Err       *Error
	NextState string
	// Variables are every variable after the state ran.
	Variables map[string]any

	// Inspection data: Inspect holds the fields AWS shows for the state's
	// type and query language (afterInputPath, afterParameters or
	// afterArguments, result, afterResultSelector, afterResultPath,
	// afterItemsPath, maxConcurrency, toleratedFailureCount, ...).
	Inspect         map[string]any
	AfterParameters any // the task's input (Parameters or Arguments)
	Result          any // the task's result
	HasTask         bool
	stages          *stages
	RetryIndex      int // -1 unless RETRIABLE
	RetryBackoff    float64
	CatchIndex      int // -1 unless CAUGHT_ERROR
}

// stages records what the tested state made of its data at each step.
type stages struct {
	afterInputPath, afterParameters        any
	afterResultSelector, afterResultPath   any
	hasInputPath, hasParameters, hasResult bool
}

type retryInfo struct {
	err   *Error
	index int
	delay float64
}

type catchInfo struct {
	err   *Error
	index int
}

var statePreamble = regexp.MustCompile(`^An error occurred while executing the state '[^']*' \(entered at the event id #\d+\)\. `)

// mockResource stands for a Map or Parallel state whose result is mocked.
const mockResource = "arn:aws:states:::updraft:teststate.mock"

// TestState runs the state. A definition that is not valid gives a
// *DefinitionError.
func TestState(req TestStateRequest) (*TestStateResult, error) {
	raw, err := Decode(req.Definition)
	if err != nil {
		return nil, &DefinitionError{Problems: []string{"INVALID_JSON_DESCRIPTION: " + err.Error()}}
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, &DefinitionError{Problems: []string{"SCHEMA_VALIDATION_FAILED: The definition must be a JSON object at /"}}
	}
	lang := JSONPath
	name := req.StateName
	stateObj := obj
	if name != "" {
		if _, err := Parse(req.Definition); err != nil {
			return nil, err
		}
		if ql, _ := obj["QueryLanguage"].(string); ql != "" {
			lang = ql
		}
		states, _ := obj["States"].(map[string]any)
		stateObj, _ = states[name].(map[string]any)
		if stateObj == nil {
			return nil, &TestStateInputError{Msg: "State not found in definition"}
		}
	} else {
		name = "StateName"
		if _, isMachine := obj["States"]; isMachine {
			return nil, &DefinitionError{Problems: []string{"SCHEMA_VALIDATION_FAILED: A state machine definition needs stateName to say which state to test at /"}}
		}
	}
	if ql, _ := stateObj["QueryLanguage"].(string); ql != "" {
		lang = ql
	}
	typ, _ := stateObj["Type"].(string)
	// A machine of the state and, for each state it can move to, a
	// Succeed state that ends the run there. It is parsed as given first,
	// so the state is validated as written.
	build := func(st map[string]any) (*Machine, error) {
		states := map[string]any{name: st}
		for _, t := range targets(st) {
			if t != name {
				states[t] = map[string]any{"Type": TypeSucceed}
			}
		}
		machine := map[string]any{"StartAt": name, "States": states}
		if lang == JSONata {
			machine["QueryLanguage"] = JSONata
		}
		return Parse([]byte(Encode(machine)))
	}
	m, err := build(stateObj)
	if err != nil {
		return nil, err
	}
	st := m.States[name]
	if err := checkTestRequest(st, req); err != nil {
		return nil, err
	}
	if req.Mock && (typ == TypeMap || typ == TypeParallel) {
		if m, err = build(mockedAsTask(stateObj)); err != nil {
			return nil, err
		}
	}
	res, err := runTestState(m, m.States[name], req)
	if err == nil {
		res.Inspect = inspection(st, req, res)
	}
	return res, err
}

// checkTestRequest refuses what AWS's TestState refuses for the state.
func checkTestRequest(st *State, req TestStateRequest) error {
	switch {
	case req.Mock && req.RevealSecrets:
		return &TestStateInputError{Msg: "TestState does not support RevealSecrets when a mock is specified."}
	case req.Mock && st.Type != TypeTask && st.Type != TypeMap && st.Type != TypeParallel:
		return &TestStateInputError{Msg: fmt.Sprintf("State type '%s' is not supported when a mock is specified", st.Type)}
	case !req.Mock && (st.Type == TypeMap || st.Type == TypeParallel):
		return &DefinitionError{Problems: nil, Message: "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"}
	case !req.Mock && st.Type == TypeTask && req.RoleArn == "":
		return &TestStateInputError{Msg: "RoleArn must be specified when testing a Task state"}
	}
	if req.Mock && req.MockError == nil {
		list, isList := req.MockResult.([]any)
		switch {
		case st.Type == TypeMap && !isList:
			return &TestStateInputError{Msg: "Mocked result must be an array."}
		case st.Type == TypeParallel && !isList:
			return &TestStateInputError{Msg: "Mocked result must be an array."}
		case st.Type == TypeParallel && len(list) != len(st.Branches):
			return &TestStateInputError{Msg: "Mocked result must contain the same number of items as number of Parallel branches."}
		}
	}
	return nil
}

// inspection is the inspectionData AWS shows for the state: which fields
// depends on the state's type and query language.
func inspection(st *State, req TestStateRequest, res *TestStateResult) map[string]any {
	out := map[string]any{}
	stages := res.stages
	put := func(k string, v any, ok bool) {
		if ok {
			out[k] = v
		}
	}
	if len(req.Variables) > 0 || len(res.Variables) > 0 {
		out["variables"] = res.Variables
	}
	if st.Lang == JSONata {
		switch st.Type {
		case TypeTask:
			put("afterArguments", res.AfterParameters, res.HasTask)
			put("result", res.Result, res.Result != nil)
		case TypeMap:
			mapInspection(st, out)
		}
		return out
	}
	switch st.Type {
	case TypePass:
		if st.hasResult {
			put("result", st.Result, true)
		} else {
			put("afterInputPath", stages.afterInputPath, stages.hasInputPath)
			put("afterParameters", stages.afterParameters, stages.hasParameters)
		}
		put("afterResultSelector", stages.afterResultSelector, stages.hasResult)
		put("afterResultPath", stages.afterResultPath, stages.hasResult)
	case TypeTask:
		put("afterInputPath", stages.afterInputPath, stages.hasInputPath)
		put("afterParameters", res.AfterParameters, res.HasTask)
		put("result", res.Result, res.Result != nil)
		put("afterResultSelector", stages.afterResultSelector, stages.hasResult)
		put("afterResultPath", stages.afterResultPath, stages.hasResult)
	case TypeMap, TypeParallel:
		if st.Type == TypeMap {
			mapInspection(st, out)
		}
		if st.InputPath.set {
			put("afterInputPath", stages.afterInputPath, stages.hasInputPath)
		}
		put("afterResultSelector", stages.afterResultSelector, stages.hasResult)
		put("afterResultPath", stages.afterResultPath, stages.hasResult)
	default: // Choice, Wait, Succeed, Fail
		put("afterInputPath", stages.afterInputPath, stages.hasInputPath)
	}
	return out
}

func mapInspection(st *State, out map[string]any) {
	out["maxConcurrency"] = st.MaxConcurrency
	if st.hasTolCount && st.ToleratedFailureCountPath == nil {
		out["toleratedFailureCount"] = st.ToleratedFailureCount
	}
	if st.hasTolPct && st.ToleratedFailurePctPath == nil {
		out["toleratedFailurePercentage"] = st.ToleratedFailurePercentage
	}
}

// mockedAsTask turns a Map or Parallel state into a Task state with the
// same input and output processing, so that a mock can be its result.
func mockedAsTask(st map[string]any) map[string]any {
	out := map[string]any{"Type": TypeTask, "Resource": mockResource}
	for _, k := range []string{"Comment", "QueryLanguage", "Next", "End", "InputPath", "OutputPath", "ResultSelector", "ResultPath", "Retry", "Catch", "Output", "Assign"} {
		if v, ok := st[k]; ok {
			out[k] = v
		}
	}
	return out
}

// targets lists the states st can move to.
func targets(st map[string]any) []string {
	var out []string
	add := func(v any) {
		if s, ok := v.(string); ok && s != "" {
			out = append(out, s)
		}
	}
	add(st["Next"])
	add(st["Default"])
	for _, key := range []string{"Choices", "Catch"} {
		list, _ := st[key].([]any)
		for _, e := range list {
			if o, ok := e.(map[string]any); ok {
				add(o["Next"])
			}
		}
	}
	return out
}

func runTestState(m *Machine, st *State, req TestStateRequest) (*TestStateResult, error) {
	now := req.Now
	if now.IsZero() {
		now = time.Unix(0, 0).UTC()
	}
	info := req.Info
	if info.ExecutionID == "" {
		info.ExecutionID = "arn:aws:states:us-east-1:000000000000:execution:TestState:test"
	}
	vars := make(map[string]any, len(req.Variables))
	for k, v := range req.Variables {
		vars[k] = v
	}
	rec := &stages{}
	x, step := m.startRecorded(info, req.Input, now, Env{TaskToken: func(id string) string { return "TestStateToken-" + id }}, vars, rec)
	res := &TestStateResult{RetryIndex: -1, CatchIndex: -1, stages: rec}
	var lastOutput any
	var queue []Command
	for {
		for _, c := range step.Commands {
			if c.Kind == Cancel {
				queue = slices.DeleteFunc(queue, func(q Command) bool { return q.ID == c.ID })
				continue
			}
			queue = append(queue, c)
		}
		// The run ends when the state exits to another (or itself again),
		// fails, ends the execution, or asks to retry.
		entries := 0
		for _, h := range step.History {
			switch {
			case strings.HasSuffix(h.Type, "StateExited") && h.Details["name"] == st.Name:
				lastOutput, _ = Decode([]byte(h.Details["output"].(string)))
			case strings.HasSuffix(h.Type, "StateEntered"):
				entries++
				if h.Details["name"] != st.Name || entries > 1 {
					res.NextState = h.Details["name"].(string)
				}
			}
		}
		if res.NextState != "" || x.Status != Running {
			break
		}
		if len(queue) == 0 {
			return nil, errors.New("the state is waiting for nothing")
		}
		c := queue[0]
		queue = queue[1:]
		var ev Event
		switch c.Kind {
		case RunTask:
			res.HasTask = true
			res.AfterParameters = c.Input
			var out any
			var terr *Error
			switch {
			case req.Mock && req.MockError != nil:
				terr = req.MockError
			case req.Mock:
				out = req.MockResult
			case req.RunTask != nil:
				out, terr = req.RunTask(c)
			default:
				terr = &Error{Name: ErrTaskFailed, Cause: "No task runner"}
			}
			if terr != nil {
				ev = Event{Kind: TaskFailed, Command: c.ID, Err: terr}
			} else {
				res.Result = out
				ev = Event{Kind: TaskSucceeded, Command: c.ID, Output: out}
			}
		case StartTimer:
			if x.lastRetry != nil {
				res.Status, res.Err = TestRetriable, x.lastRetry.err
				res.RetryIndex, res.RetryBackoff = x.lastRetry.index, x.lastRetry.delay
				res.Variables = x.root.vars
				return res, nil
			}
			ev = Event{Kind: TimerFired, Command: c.ID, Time: x.now}
		default:
			return nil, fmt.Errorf("unexpected command %s", c.Kind)
		}
		next, err := x.Apply(ev)
		if err != nil {
			return nil, err
		}
		step = next
	}
	res.Variables = x.root.vars
	switch {
	case x.Status == Failed:
		// TestState reports the cause without the execution's "An error
		// occurred while executing the state ..." preamble.
		res.Status, res.Err = TestFailed, &Error{Name: x.Err.Name, Cause: statePreamble.ReplaceAllString(x.Err.Cause, "")}
	case x.lastCatch != nil:
		res.Status, res.Err, res.CatchIndex, res.Output = TestCaughtError, x.lastCatch.err, x.lastCatch.index, lastOutput
	default:
		res.Status, res.Output = TestSucceeded, lastOutput
	}
	return res, nil
}
