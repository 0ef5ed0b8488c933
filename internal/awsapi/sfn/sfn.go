// Package sfn is the wire adapter for the AWS Step Functions API (AWS
// JSON 1.0, X-Amz-Target: AWSStepFunctions.<Operation>). It decodes
// requests, calls the workflow service and encodes results and errors in
// Step Functions' shapes. It holds no behaviour of its own.
package sfn

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/states"
	"github.com/updraft/updraft/internal/workflow"
)

// TargetPrefix is the X-Amz-Target prefix of the Step Functions API.
const TargetPrefix = "AWSStepFunctions."

// API serves the Step Functions operations.
type API struct {
	machines   *workflow.Machines
	executions *workflow.Executions
	express    *workflow.ExpressQueue
	tasks      *workflow.Tasks
	log        *slog.Logger
	ops        map[string]func(*http.Request, []byte) (any, error)
}

// New returns the Step Functions API.
func New(machines *workflow.Machines, executions *workflow.Executions, express *workflow.ExpressQueue, tasks *workflow.Tasks, log *slog.Logger) *API {
	a := &API{machines: machines, executions: executions, express: express, tasks: tasks, log: log}
	a.ops = map[string]func(*http.Request, []byte) (any, error){
		"CreateStateMachine":               a.createStateMachine,
		"DescribeStateMachine":             a.describeStateMachine,
		"ListStateMachines":                a.listStateMachines,
		"UpdateStateMachine":               a.updateStateMachine,
		"DeleteStateMachine":               a.deleteStateMachine,
		"ValidateStateMachineDefinition":   a.validateStateMachineDefinition,
		"StartSyncExecution":               a.startSyncExecution,
		"StartExecution":                   a.startExecution,
		"DescribeExecution":                a.describeExecution,
		"DescribeStateMachineForExecution": a.describeStateMachineForExecution,
		"ListExecutions":                   a.listExecutions,
		"GetExecutionHistory":              a.getExecutionHistory,
		"StopExecution":                    a.stopExecution,
		"SendTaskSuccess":                  a.sendTaskSuccess,
		"SendTaskFailure":                  a.sendTaskFailure,
		"SendTaskHeartbeat":                a.sendTaskHeartbeat,
		"TestState":                        a.testState,
	}
	return a
}

// errorTable maps fault kinds to Step Functions error names when a fault
// carries no name of its own. Every Step Functions client error is a 400.
var errorTable = map[fault.Kind]string{
	fault.Validation:       "ValidationException",
	fault.InvalidParameter: "ValidationException",
	fault.InvalidRequest:   "SerializationException",
	fault.NotFound:         "ResourceNotFound",
	fault.Conflict:         "ConflictException",
	fault.TooLarge:         "ValidationException",
	fault.Throttled:        "ThrottlingException",
	fault.Unsupported:      "UnknownOperationException",
	fault.AccessDenied:     "AccessDeniedException",
}

// ServeHTTP dispatches on X-Amz-Target.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
	handler, ok := a.ops[op]
	if !ok || r.Method != http.MethodPost {
		a.fail(w, r, fault.Typed(fault.Unsupported, "UnknownOperationException", "Updraft does not support the operation %s yet; see docs/compatibility.md.", op))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 2<<20))
	if err != nil {
		a.fail(w, r, fault.Typed(fault.InvalidRequest, "SerializationException", "could not read the request body"))
		return
	}
	out, err := handler(r, body)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	_ = json.NewEncoder(w).Encode(out)
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) {
	f := fault.As(err)
	status := http.StatusBadRequest
	if f == nil {
		a.log.ErrorContext(r.Context(), "step functions request failed", "err", err)
		f = &fault.Error{Kind: fault.Internal, Type: "InternalServerError", Message: "An internal error occurred. See the Updraft log for details."}
		status = http.StatusInternalServerError
	}
	name := f.Type
	if name == "" {
		name = errorTable[f.Kind]
	}
	w.Header().Set("x-amzn-ErrorType", name)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": name, "message": f.Message})
}

// decode reads a JSON request; malformed JSON is a SerializationException.
func decode(body []byte, v any) error {
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) {
			return fault.Typed(fault.InvalidRequest, "SerializationException", "Start of structure or map found where not expected for field %s", ute.Field)
		}
		return fault.Typed(fault.InvalidRequest, "SerializationException", "Malformed request: %v", err)
	}
	return nil
}

func required(field, value string) error {
	if value == "" {
		return fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	return nil
}

// epoch renders a time as the JSON 1.0 protocol's timestamps: seconds.
func epoch(t time.Time) json.Number {
	return json.Number(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64))
}

func (a *API) createStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		Name                 string         `json:"name"`
		Definition           string         `json:"definition"`
		RoleArn              string         `json:"roleArn"`
		Type                 string         `json:"type"`
		LoggingConfiguration map[string]any `json:"loggingConfiguration"`
		TracingConfiguration map[string]any `json:"tracingConfiguration"`
		Tags                 []tag          `json:"tags"`
		Publish              bool           `json:"publish"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	for _, f := range [][2]string{{"name", in.Name}, {"definition", in.Definition}, {"roleArn", in.RoleArn}} {
		if err := required(f[0], f[1]); err != nil {
			return nil, err
		}
	}
	if in.Publish {
		return nil, fault.Typed(fault.InvalidParameter, "ValidationException", "Publishing state machine versions is not supported yet.")
	}
	m, err := a.machines.Create(r.Context(), workflow.CreateInput{
		Name: in.Name, Definition: in.Definition, RoleArn: in.RoleArn, Type: in.Type,
		LoggingConfiguration: in.LoggingConfiguration, TracingConfiguration: in.TracingConfiguration, Tags: tagMap(in.Tags),
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"stateMachineArn": m.StateMachineArn, "creationDate": epoch(m.CreationDate)}, nil
}

type tag struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func tagMap(tags []tag) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// machineArn reads a request whose only field is stateMachineArn.
func machineArn(body []byte) (string, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	if err := decode(body, &in); err != nil {
		return "", err
	}
	return in.StateMachineArn, required("stateMachineArn", in.StateMachineArn)
}

func (a *API) describeStateMachine(r *http.Request, body []byte) (any, error) {
	arn, err := machineArn(body)
	if err != nil {
		return nil, err
	}
	m, err := a.machines.Get(arn)
	if err != nil {
		return nil, err
	}
	logging := m.LoggingConfiguration
	if logging == nil {
		logging = map[string]any{"level": "OFF", "includeExecutionData": false}
	}
	tracing := m.TracingConfiguration
	if tracing == nil {
		tracing = map[string]any{"enabled": false}
	}
	out := map[string]any{
		"stateMachineArn": m.StateMachineArn, "name": m.Name, "status": m.Status, "definition": m.Definition,
		"roleArn": m.RoleArn, "type": m.Type, "creationDate": epoch(m.CreationDate),
		"loggingConfiguration": logging, "tracingConfiguration": tracing,
	}
	// AWS shows a revision id once the machine has been updated.
	if m.UpdateDate.After(m.CreationDate) {
		out["revisionId"] = m.RevisionID
	}
	return out, nil
}

func (a *API) listStateMachines(r *http.Request, body []byte) (any, error) {
	var in struct {
		MaxResults int    `json:"maxResults"`
		NextToken  string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := pageParams(in.MaxResults, in.NextToken, 1024); err != nil {
		return nil, err
	}
	if in.MaxResults <= 0 {
		in.MaxResults = 100
	}
	all := a.machines.List()
	start := 0
	if in.NextToken != "" {
		start = len(all)
		for i, m := range all {
			if m.Name > in.NextToken {
				start = i
				break
			}
		}
	}
	items := []map[string]any{}
	for i := start; i < len(all) && len(items) < in.MaxResults; i++ {
		m := all[i]
		items = append(items, map[string]any{"stateMachineArn": m.StateMachineArn, "name": m.Name, "type": m.Type, "creationDate": epoch(m.CreationDate)})
	}
	out := map[string]any{"stateMachines": items}
	if end := start + len(items); end < len(all) && len(items) > 0 {
		out["nextToken"] = items[len(items)-1]["name"]
	}
	return out, nil
}

func (a *API) updateStateMachine(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string  `json:"stateMachineArn"`
		Definition      *string `json:"definition"`
		RoleArn         *string `json:"roleArn"`
		Publish         bool    `json:"publish"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	m, err := a.machines.Update(r.Context(), in.StateMachineArn, in.Definition, in.RoleArn)
	if err != nil {
		return nil, err
	}
	return map[string]any{"updateDate": epoch(m.UpdateDate), "revisionId": m.RevisionID}, nil
}

func (a *API) deleteStateMachine(r *http.Request, body []byte) (any, error) {
	arn, err := machineArn(body)
	if err != nil {
		return nil, err
	}
	return map[string]any{}, a.machines.Delete(r.Context(), arn)
}

func (a *API) validateStateMachineDefinition(r *http.Request, body []byte) (any, error) {
	var in struct {
		Definition string `json:"definition"`
		Type       string `json:"type"`
		MaxResults int    `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("definition", in.Definition); err != nil {
		return nil, err
	}
	m, err := states.Parse([]byte(in.Definition))
	if err == nil && in.Type == "EXPRESS" {
		if problems := states.ExpressProblems(m); len(problems) > 0 {
			err = &states.DefinitionError{Problems: problems}
		}
	}
	if err == nil {
		return map[string]any{"result": "OK", "diagnostics": []any{}, "truncated": false}, nil
	}
	var de *states.DefinitionError
	if !errors.As(err, &de) {
		return nil, err
	}
	max := in.MaxResults
	if max <= 0 {
		max = 100
	}
	diags := []map[string]any{}
	for _, p := range de.Problems {
		if len(diags) == max {
			break
		}
		code, rest, _ := strings.Cut(p, ": ")
		msg, loc, found := cutLast(rest, " at ")
		d := map[string]any{"severity": "ERROR", "code": code, "message": rest}
		if found {
			d["message"], d["location"] = msg, loc
		}
		diags = append(diags, d)
	}
	return map[string]any{"result": "FAIL", "diagnostics": diags, "truncated": len(de.Problems) > len(diags)}, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func (a *API) startSyncExecution(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
		TraceHeader     string `json:"traceHeader"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if err := workflow.CheckInput([]byte(in.Input)); err != nil {
		return nil, err
	}
	input, err := states.Decode([]byte(in.Input))
	if err != nil {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidExecutionInput", "Invalid State Machine Execution Input: '%v'", err)
	}
	m, err := a.machines.Get(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	res, err := a.machines.RunSync(r.Context(), a.tasks, m, in.Name, input)
	if err != nil {
		return nil, err
	}
	out := map[string]any{
		"executionArn": res.ExecutionArn, "stateMachineArn": m.StateMachineArn, "name": res.Name,
		"startDate": epoch(res.Start), "stopDate": epoch(res.Stop), "status": res.Status,
		"input": in.Input, "inputDetails": map[string]bool{"included": true},
		"billingDetails": map[string]int64{"billedMemoryUsedInMB": 64, "billedDurationInMilliseconds": max(100, res.Stop.Sub(res.Start).Milliseconds())},
	}
	if res.Status == states.Succeeded {
		out["output"] = states.Encode(res.Output)
		out["outputDetails"] = map[string]bool{"included": true}
	}
	if res.Err != nil {
		out["error"], out["cause"] = res.Err.Name, res.Err.Cause
	}
	return out, nil
}

func (a *API) startExecution(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		Name            string `json:"name"`
		Input           string `json:"input"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	if in.Input == "" {
		in.Input = "{}"
	}
	if err := workflow.CheckInput([]byte(in.Input)); err != nil {
		return nil, err
	}
	if _, err := states.Decode([]byte(in.Input)); err != nil {
		return nil, fault.Typed(fault.InvalidParameter, "InvalidExecutionInput", "Invalid State Machine Execution Input: '%v'", err)
	}
	m, err := a.machines.Get(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if m.Type == workflow.Express {
		arn, start, err := a.express.StartExecution(r.Context(), m, in.Name, []byte(in.Input))
		if err != nil {
			return nil, err
		}
		return map[string]any{"executionArn": arn, "startDate": epoch(start)}, nil
	}
	run, err := a.executions.StartExecution(r.Context(), m, in.Name, []byte(in.Input))
	if err != nil {
		return nil, err
	}
	s := run.Snapshot()
	return map[string]any{"executionArn": s.ExecutionArn, "startDate": epoch(s.Start)}, nil
}

func executionArn(body []byte) (string, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
	}
	if err := decode(body, &in); err != nil {
		return "", err
	}
	return in.ExecutionArn, required("executionArn", in.ExecutionArn)
}

// pageParams checks maxResults and nextToken as AWS constrains them.
func pageParams(maxResults int, nextToken string, tokenMax int) error {
	if maxResults > 1000 {
		return fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000", maxResults)
	}
	if len(nextToken) > tokenMax {
		return fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value '%s' at 'nextToken' failed to satisfy constraint: Member must have length less than or equal to %d", nextToken, tokenMax)
	}
	return nil
}

func describe(s workflow.Snapshot) map[string]any {
	out := map[string]any{
		"executionArn": s.ExecutionArn, "stateMachineArn": s.MachineArn, "name": s.Name, "status": s.Status,
		"startDate": epoch(s.Start), "input": states.Encode(s.Input), "inputDetails": map[string]bool{"included": true},
		"redriveCount": 0,
	}
	// Redrive itself is not offered, but the status reads as on AWS.
	switch s.Status {
	case states.Running, states.Succeeded:
		out["redriveStatus"] = "NOT_REDRIVABLE"
		out["redriveStatusReason"] = "Execution is " + s.Status + " and cannot be redriven"
	default:
		out["redriveStatus"] = "REDRIVABLE"
	}
	if s.Status != states.Running {
		out["stopDate"] = epoch(s.Stop)
	}
	if s.Status == states.Succeeded {
		out["output"] = states.Encode(s.Output)
		out["outputDetails"] = map[string]bool{"included": true}
	}
	if s.Err != nil {
		out["error"], out["cause"] = s.Err.Name, s.Err.Cause
	}
	return out
}

func (a *API) describeExecution(r *http.Request, body []byte) (any, error) {
	arn, err := executionArn(body)
	if err != nil {
		return nil, err
	}
	run, err := a.executions.Get(arn)
	if err != nil {
		return nil, err
	}
	return describe(run.Snapshot()), nil
}

func (a *API) describeStateMachineForExecution(r *http.Request, body []byte) (any, error) {
	arn, err := executionArn(body)
	if err != nil {
		return nil, err
	}
	run, err := a.executions.Get(arn)
	if err != nil {
		return nil, err
	}
	got, err := a.describeStateMachine(r, []byte(`{"stateMachineArn":"`+run.Snapshot().MachineArn+`"}`))
	if err != nil {
		return nil, err
	}
	// AWS's answer here names the machine as the execution ran it, without
	// its status, type or creation date.
	sm := got.(map[string]any)
	m, err := a.machines.Get(run.Snapshot().MachineArn)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"updateDate": epoch(m.UpdateDate)}
	for _, k := range []string{"stateMachineArn", "name", "definition", "roleArn", "loggingConfiguration", "tracingConfiguration", "revisionId"} {
		if v, ok := sm[k]; ok {
			out[k] = v
		}
	}
	return out, nil
}

func (a *API) listExecutions(r *http.Request, body []byte) (any, error) {
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		StatusFilter    string `json:"statusFilter"`
		MaxResults      int    `json:"maxResults"`
		NextToken       string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("stateMachineArn", in.StateMachineArn); err != nil {
		return nil, err
	}
	m, err := a.machines.Get(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	if m.Type == workflow.Express {
		return nil, fault.Typed(fault.InvalidParameter, "StateMachineTypeNotSupported", "This operation is not supported by this type of state machine")
	}
	if err := pageParams(in.MaxResults, in.NextToken, 3096); err != nil {
		return nil, err
	}
	switch in.StatusFilter {
	case "", "RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE":
	default:
		return nil, fault.Typed(fault.Validation, "ValidationException", "1 validation error detected: Value '%s' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]", in.StatusFilter)
	}
	if in.MaxResults <= 0 {
		in.MaxResults = 100
	}
	start, _ := strconv.Atoi(in.NextToken)
	var items []map[string]any
	runs := a.executions.List(m.Name)
	i := start
	for ; i < len(runs) && len(items) < in.MaxResults; i++ {
		s := runs[i].Snapshot()
		if in.StatusFilter != "" && s.Status != in.StatusFilter {
			continue
		}
		item := map[string]any{"executionArn": s.ExecutionArn, "stateMachineArn": s.MachineArn, "name": s.Name, "status": s.Status, "startDate": epoch(s.Start), "redriveCount": 0}
		if s.Status != states.Running {
			item["stopDate"] = epoch(s.Stop)
		}
		items = append(items, item)
	}
	out := map[string]any{"executions": items}
	if items == nil {
		out["executions"] = []any{}
	}
	if i < len(runs) {
		out["nextToken"] = strconv.Itoa(i)
	}
	return out, nil
}

func (a *API) getExecutionHistory(r *http.Request, body []byte) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		ReverseOrder bool   `json:"reverseOrder"`
		MaxResults   int    `json:"maxResults"`
		NextToken    string `json:"nextToken"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("executionArn", in.ExecutionArn); err != nil {
		return nil, err
	}
	run, err := a.executions.Get(in.ExecutionArn)
	if err != nil {
		return nil, err
	}
	hist, err := a.executions.History(r.Context(), run)
	if err != nil {
		return nil, err
	}
	events := make([]map[string]any, len(hist))
	for i, h := range hist {
		ev := map[string]any{"id": i + 1, "previousEventId": i, "timestamp": epoch(h.Time), "type": h.Type}
		if h.Details != nil {
			ev[detailsKey(h.Type)] = h.Details
		}
		events[i] = ev
	}
	if in.ReverseOrder {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	if err := pageParams(in.MaxResults, in.NextToken, 3096); err != nil {
		return nil, err
	}
	if in.MaxResults <= 0 {
		in.MaxResults = 100
	}
	start, _ := strconv.Atoi(in.NextToken)
	start = min(start, len(events))
	end := min(start+in.MaxResults, len(events))
	out := map[string]any{"events": events[start:end]}
	if end < len(events) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

// detailsKey is the field of a history event that holds its details, as
// AWS names it: "executionStartedEventDetails", "stateEnteredEventDetails", …
func detailsKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

func (a *API) stopExecution(r *http.Request, body []byte) (any, error) {
	var in struct {
		ExecutionArn string `json:"executionArn"`
		Error        string `json:"error"`
		Cause        string `json:"cause"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if err := required("executionArn", in.ExecutionArn); err != nil {
		return nil, err
	}
	var stopErr *states.Error
	if in.Error != "" || in.Cause != "" {
		stopErr = &states.Error{Name: in.Error, Cause: in.Cause}
	}
	if _, err := a.executions.StopExecution(r.Context(), in.ExecutionArn, stopErr); err != nil {
		return nil, err
	}
	return map[string]any{"stopDate": epoch(time.Now())}, nil
}

type tokenRequest struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
	Error     string `json:"error"`
	Cause     string `json:"cause"`
}

func decodeToken(body []byte) (tokenRequest, error) {
	var in tokenRequest
	if err := decode(body, &in); err != nil {
		return in, err
	}
	return in, required("taskToken", in.TaskToken)
}

func (a *API) sendTaskSuccess(r *http.Request, body []byte) (any, error) {
	in, err := decodeToken(body)
	if err == nil {
		err = required("output", in.Output)
	}
	if err == nil {
		err = a.executions.SendTaskSuccess(r.Context(), in.TaskToken, []byte(in.Output))
	}
	return map[string]any{}, err
}

func (a *API) sendTaskFailure(r *http.Request, body []byte) (any, error) {
	in, err := decodeToken(body)
	if err == nil {
		err = a.executions.SendTaskFailure(r.Context(), in.TaskToken, &states.Error{Name: in.Error, Cause: in.Cause})
	}
	return map[string]any{}, err
}

func (a *API) sendTaskHeartbeat(r *http.Request, body []byte) (any, error) {
	in, err := decodeToken(body)
	if err == nil {
		err = a.executions.SendTaskHeartbeat(r.Context(), in.TaskToken)
	}
	return map[string]any{}, err
}
