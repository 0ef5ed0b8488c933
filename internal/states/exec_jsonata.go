package states

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// The states of the JSONata query language: Arguments in, Output and
// Assign out, with $states bound as the language requires.

func (x *Execution) jsonataEnv() *jsonataEnv {
	if x.jenv == nil {
		x.jenv = newJSONataEnv(x)
	}
	return x.jenv
}

// jsonataBindings are the names an expression of frame f's current state
// sees: its variables and $states, with extra fields of $states (result,
// errorOutput).
func (x *Execution) jsonataBindings(f *frame, extra map[string]any) map[string]any {
	return x.jsonataBindingsCtx(f, x.contextObject(f, ""), extra)
}

func (x *Execution) jsonataBindingsCtx(f *frame, ctx any, extra map[string]any) map[string]any {
	vars := visibleVars(f)
	b := make(map[string]any, len(vars)+1)
	for k, v := range vars {
		b[k] = toJSONata(v)
	}
	states := map[string]any{"input": toJSONata(f.input), "context": toJSONata(ctx)}
	for k, v := range extra {
		states[k] = toJSONata(v)
	}
	b["states"] = states
	return b
}

// jsonataAssign evaluates an Assign field to the variables it sets.
func (x *Execution) jsonataAssign(assign any, has bool, b map[string]any) (map[string]any, *Error) {
	if !has {
		return nil, nil
	}
	v, err := jsonataEval(assign, "Assign", x.jsonataEnv(), b)
	if err != nil {
		return nil, err
	}
	m, _ := v.(map[string]any)
	return m, nil
}

// finishJSONata ends a state: Output (by default the result, or the
// input when the state has none) and Assign, both evaluated with the
// variables as they were when the state was entered.
func (x *Execution) finishJSONata(f *frame, st *State, result any, hasResult bool) *Error {
	var extra map[string]any
	out := f.input
	if hasResult {
		extra = map[string]any{"result": result}
		out = result
	}
	out, vals, err := x.outputAndAssign(st.Output, st.hasOutput, st.Assign, st.hasAssign, out, x.jsonataBindings(f, extra))
	if err != nil {
		return err
	}
	x.exitState(f, st, out, vals)
	x.transition(f, st, out)
	return nil
}

// typeError is AWS's failure for an expression whose value has the wrong
// JSON type for its field.
func typeError(expr, field, want string, v any) *Error {
	src := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(expr, "{%"), "%}"))
	e := Errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' returned an unexpected result type. Expected '%s', but was '%s' for value: %s", src, field, want, jsonType(v), Encode(v))
	e.location = field
	return e
}

// outputAndAssign evaluates a state's Output (out when it has none) and
// Assign, both against the variables as they were on entry.
func (x *Execution) outputAndAssign(output any, hasOutput bool, assign any, hasAssign bool, out any, b map[string]any) (any, map[string]any, *Error) {
	if hasOutput {
		v, err := jsonataEval(output, "Output", x.jsonataEnv(), b)
		if err != nil {
			return nil, nil, err
		}
		out = v
	}
	vals, err := x.jsonataAssign(assign, hasAssign, b)
	if err != nil {
		return nil, nil, err
	}
	return out, vals, nil
}

// jsonataNumber evaluates the expression of field, which must give a
// number; whole reports whether it must be an integer.
func (x *Execution) jsonataNumber(expr, field string, b map[string]any, whole bool) (float64, *Error) {
	v, err := jsonataEval(expr, field, x.jsonataEnv(), b)
	if err != nil {
		return 0, err
	}
	n, ok := v.(json.Number)
	f, perr := n.Float64()
	if !ok || perr != nil || whole && f != math.Trunc(f) {
		want := "number"
		if whole {
			want = "integer"
		}
		return 0, typeError(expr, field, want, v)
	}
	return f, nil
}

// jsonataInt sets *dst from the expression of field, when st has one.
func (x *Execution) jsonataInt(st *State, field string, b map[string]any, min int, dst *int) *Error {
	expr, ok := st.exprs[field]
	if !ok {
		return nil
	}
	f, err := x.jsonataNumber(expr, field, b, true)
	if err != nil {
		return err
	}
	if f < float64(min) || f > math.MaxInt32 {
		return Errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field '%s' returned %s, which is out of range.", strings.TrimSuffix(strings.TrimPrefix(expr, "{%"), "%}"), field, jsNumber(f))
	}
	*dst = int(f)
	return nil
}

func (x *Execution) jsonataString(st *State, field string, b map[string]any, dst *string) *Error {
	expr, ok := st.exprs[field]
	if !ok {
		return nil
	}
	v, err := jsonataEval(expr, field, x.jsonataEnv(), b)
	if err != nil {
		return err
	}
	s, isStr := v.(string)
	if !isStr {
		return typeError(expr, field, "string", v)
	}
	*dst = s
	return nil
}

// executeJSONata carries out the current state of f, a JSONata state.
func (x *Execution) executeJSONata(f *frame, st *State) *Error {
	env := x.jsonataEnv()
	switch st.Type {
	case TypePass:
		return x.finishJSONata(f, st, nil, false)
	case TypeSucceed:
		out := f.input
		if st.hasOutput {
			v, err := jsonataEval(st.Output, "Output", env, x.jsonataBindings(f, nil))
			if err != nil {
				return err
			}
			out = v
		}
		x.exitState(f, st, out, nil)
		x.end(f, out)
	case TypeFail:
		b := x.jsonataBindings(f, nil)
		e := &Error{Name: st.Error, Cause: st.Cause}
		if err := x.jsonataString(st, "Error", b, &e.Name); err != nil {
			return err
		}
		if err := x.jsonataString(st, "Cause", b, &e.Cause); err != nil {
			return err
		}
		f.failed, f.err, f.done = true, e, true
	case TypeChoice:
		return x.choiceJSONata(f, st)
	case TypeWait:
		return x.waitJSONata(f, st)
	case TypeTask:
		id := x.nextID(f, "task")
		token := ""
		if x.env.TaskToken != nil && strings.HasSuffix(st.Resource, ".waitForTaskToken") {
			token = x.env.TaskToken(id)
		}
		b := x.jsonataBindingsCtx(f, x.contextObject(f, token), nil)
		params := f.input
		if st.hasArguments {
			v, err := jsonataEval(st.Arguments, "Arguments", env, b)
			if err != nil {
				return err
			}
			params = v
		}
		timeout, heartbeat := st.TimeoutSeconds, st.HeartbeatSeconds
		if err := x.jsonataInt(st, "TimeoutSeconds", b, 1, &timeout); err != nil {
			return err
		}
		if err := x.jsonataInt(st, "HeartbeatSeconds", b, 1, &heartbeat); err != nil {
			return err
		}
		x.scheduleTask(f, st, id, token, params, timeout, heartbeat)
	case TypeParallel:
		input := f.input
		if st.hasArguments {
			v, err := jsonataEval(st.Arguments, "Arguments", env, x.jsonataBindings(f, nil))
			if err != nil {
				return err
			}
			input = v
		}
		x.startBranches(f, st, input)
	case TypeMap:
		return x.mapJSONata(f, st)
	}
	return nil
}

func (x *Execution) choiceJSONata(f *frame, st *State) *Error {
	env := x.jsonataEnv()
	b := x.jsonataBindings(f, nil)
	next := st.Default
	output, hasOutput := st.Output, st.hasOutput
	assign, hasAssign := st.Assign, st.hasAssign
	for i, rule := range st.Choices {
		field := fmt.Sprintf("Choices[%d]/Condition", i)
		v, err := jsonataEval(rule.condition, field, env, b)
		if err != nil {
			return err
		}
		ok, isBool := v.(bool)
		if !isBool {
			return typeError(rule.condition, field, "boolean", v)
		}
		if ok {
			next = rule.next
			if rule.hasOutput {
				output, hasOutput = rule.output, true
			}
			if rule.hasAssign {
				assign, hasAssign = rule.assign, true
			}
			break
		}
	}
	if next == "" {
		return &Error{Name: ErrNoChoiceMatched, Cause: fmt.Sprintf("No Matches for Choice State: %s", st.Name)}
	}
	out, vals, err := x.outputAndAssign(output, hasOutput, assign, hasAssign, f.input, b)
	if err != nil {
		return err
	}
	x.exitState(f, st, out, vals)
	x.next(f, next, out)
	return nil
}

func (x *Execution) waitJSONata(f *frame, st *State) *Error {
	b := x.jsonataBindings(f, nil)
	var until time.Time
	switch {
	case st.Seconds != nil:
		until = f.entered.Add(time.Duration(*st.Seconds * float64(time.Second)))
	case st.Timestamp != nil:
		until = *st.Timestamp
	case st.exprs["Seconds"] != "":
		secs, err := x.jsonataNumber(st.exprs["Seconds"], "Seconds", b, true)
		if err != nil {
			return err
		}
		if secs < 0 || secs > 99999999 {
			return Errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field 'Seconds' returned %s, which is not between 0 and 99999999.", strings.TrimSuffix(strings.TrimPrefix(st.exprs["Seconds"], "{%"), "%}"), jsNumber(secs))
		}
		until = f.entered.Add(time.Duration(secs) * time.Second)
	case st.exprs["Timestamp"] != "":
		var s string
		if err := x.jsonataString(st, "Timestamp", b, &s); err != nil {
			return err
		}
		t, err := ParseTimestamp(s)
		if err != nil {
			e := Errorf(ErrQueryEvaluationError, "The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: %s", s)
			e.location = "Timestamp"
			return e
		}
		until = t
	}
	out, vals, err := x.outputAndAssign(st.Output, st.hasOutput, st.Assign, st.hasAssign, f.input, b)
	if err != nil {
		return err
	}
	x.startWait(f, st, until, out, vals)
	return nil
}

func (x *Execution) mapJSONata(f *frame, st *State) *Error {
	env := x.jsonataEnv()
	b := x.jsonataBindings(f, nil)
	items := f.input
	if st.hasItems {
		v, err := jsonataEval(st.Items, "Items", env, b)
		if err != nil {
			err.failEvent = "MapStateFailed"
			return err
		}
		items = v
	}
	list, ok := items.([]any)
	if !ok {
		var e *Error
		if expr, isExpr := st.Items.(string); isExpr {
			e = typeError(expr, "Items", "array", items)
		} else {
			e = Errorf(ErrQueryEvaluationError, "Map state input must be an array but was: %s", Encode(items))
			e.evaluation = true
		}
		e.failEvent = "MapStateFailed"
		return e
	}
	inputs := make([]any, len(list))
	for i, item := range list {
		inputs[i] = item
		if st.hasItemSelector {
			v, err := jsonataEval(st.ItemSelector, "ItemSelector", env, x.jsonataBindingsCtx(f, x.mapContext(f, i, item), nil))
			if err != nil {
				return err
			}
			inputs[i] = v
		}
	}
	if st.hasBatcher {
		size := st.MaxItemsPerBatch
		if err := x.jsonataInt(st, "MaxItemsPerBatch", b, 1, &size); err != nil {
			return err
		}
		batchInput := st.BatchInput
		if batchInput != nil {
			v, err := jsonataEval(batchInput, "BatchInput", env, b)
			if err != nil {
				return err
			}
			batchInput = v
		}
		inputs = batch(inputs, size, batchInput)
	}
	// As for JSONPath: MaxConcurrency is read before the Map starts, the
	// tolerances after.
	maxConc, tolCount, tolPct := st.MaxConcurrency, st.ToleratedFailureCount, st.ToleratedFailurePercentage
	if err := x.jsonataInt(st, "MaxConcurrency", b, 0, &maxConc); err != nil {
		return err
	}
	x.history("MapStateStarted", map[string]any{"length": len(inputs)})
	if err := x.jsonataInt(st, "ToleratedFailureCount", b, 0, &tolCount); err != nil {
		return err
	}
	if expr, ok := st.exprs["ToleratedFailurePercentage"]; ok {
		pct, err := x.jsonataNumber(expr, "ToleratedFailurePercentage", b, false)
		if err != nil {
			return err
		}
		if pct < 0 || pct > 100 {
			return Errorf(ErrQueryEvaluationError, "The JSONata expression '%s' specified for the field 'ToleratedFailurePercentage' returned %s, which is not between 0 and 100.", strings.TrimSuffix(strings.TrimPrefix(expr, "{%"), "%}"), jsNumber(pct))
		}
		tolPct = pct
	}
	x.beginMap(f, st, inputs, maxConc, tolCount, tolPct)
	return nil
}
