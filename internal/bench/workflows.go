package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Workflow scenario defaults.
const (
	WorkflowExecutionsDefault  = 2000
	WorkflowStatesDefault      = 20
	StartLatencySamplesDefault = 1000
	MapItemsDefault            = 10000
	RecoveryExecutionsDefault  = 10000
	// TargetTransitions is ARCHITECTURE.md §7's durable STANDARD target;
	// TargetExpressTransitions its Express one.
	TargetTransitions        = 5000
	TargetExpressTransitions = 50000
)

// sfnRole is the role every benchmark state machine names.
const sfnRole = "arn:aws:iam::000000000000:role/updraft-bench"

// sfn calls one Step Functions operation with a plain unsigned AWS JSON
// 1.0 POST, so the client costs little; out may be nil.
func sfnCall(ctx context.Context, c *http.Client, endpoint, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header["Content-Type"] = []string{"application/x-amz-json-1.0"}
	req.Header["X-Amz-Target"] = []string{"AWSStepFunctions." + op}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: status %d: %s", op, resp.StatusCode, truncate(buf.String(), 300))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(buf.Bytes(), out)
}

// machine creates (or finds) a state machine of the benchmark.
func (r *Runner) machine(ctx context.Context, suffix, typ, definition string) (string, error) {
	var out struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	err := sfnCall(ctx, r.http, r.endpoint, "CreateStateMachine", map[string]any{
		"name": r.prefix + "-" + suffix, "type": typ, "roleArn": sfnRole, "definition": definition}, &out)
	if err != nil {
		return "", err
	}
	r.machines = append(r.machines, out.StateMachineArn)
	return out.StateMachineArn, nil
}

// chain is a definition of n states in a row, each made by state(i, next)
// where next is `"Next": "S<i+1>"` or `"End": true`.
func chain(n int, state func(i int, next string) string) string {
	parts := make([]string, n)
	for i := range n {
		next := fmt.Sprintf(`"Next": "S%d"`, i+1)
		if i == n-1 {
			next = `"End": true`
		}
		parts[i] = fmt.Sprintf(`"S%d": %s`, i, state(i, next))
	}
	return `{"StartAt": "S0", "States": {` + strings.Join(parts, ",") + `}}`
}

// passChain is n Pass states, each adding one field to the state.
func passChain(n int) string {
	return chain(n, func(i int, next string) string {
		return fmt.Sprintf(`{"Type": "Pass", "Parameters": {"step": %d, "prev.$": "$.step"}, %s}`, i, next)
	})
}

// waitChain is n Wait states of zero seconds: every transition goes
// through a durable timer (a scheduled message and the stored TimerFired
// record), so this measures durable transitions without a function's
// cost.
func waitChain(n int) string {
	return chain(n, func(i int, next string) string {
		return fmt.Sprintf(`{"Type": "Wait", "Seconds": 0, %s}`, next)
	})
}

// StandardResult is how fast durable STANDARD executions of one machine
// ran: Executions started by Concurrency clients, each making States
// state transitions, from the first start to the last end.
type StandardResult struct {
	Machine     string        `json:"machine"`
	States      int           `json:"states"`
	Executions  int           `json:"executions"`
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"durationNs"`
	Transitions int           `json:"transitions"`
	PerSecond   float64       `json:"transitionsPerSecond"`
	Failed      int           `json:"failed"`
	Errors      errorLog      `json:"errors"`
}

// WorkflowResult gathers the workflow scenarios.
type WorkflowResult struct {
	// PassHeavy and TaskHeavy are STANDARD executions of a chain of Pass
	// states and of Task states calling the hello function.
	PassHeavy *StandardResult `json:"passHeavy,omitempty"`
	TaskHeavy *StandardResult `json:"taskHeavy,omitempty"`
	// WaitHeavy is STANDARD executions of Wait states of zero seconds:
	// one durable timer per transition.
	WaitHeavy *StandardResult `json:"waitHeavy,omitempty"`
	// StartLatency is StartExecution request to response, one at a time:
	// the start is stored and its first transition applied before the
	// node answers.
	StartLatency Latency `json:"startLatency"`
	// Express is StartSyncExecution of a chain of Pass states.
	Express *ExpressResult `json:"express,omitempty"`
	// Map is StartSyncExecution of an Express Map over MapItems items.
	Map      Latency `json:"map"`
	MapItems int     `json:"mapItems"`
}

// Workflows runs the workflow scenarios: n STANDARD executions of each
// kind with c clients, start latency, Express for d, and the Map.
func (r *Runner) Workflows(ctx context.Context, n, c int, d time.Duration) (*WorkflowResult, error) {
	res := &WorkflowResult{MapItems: MapItemsDefault}
	var err error
	states := WorkflowStatesDefault
	if res.PassHeavy, err = r.standard(ctx, "pass", passChain(states), states, n, c); err != nil {
		return res, err
	}
	if res.TaskHeavy, err = r.taskHeavy(ctx, max(n/4, 1), c); err != nil {
		return res, err
	}
	if res.WaitHeavy, err = r.standard(ctx, "wait", waitChain(states), states, n, c); err != nil {
		return res, err
	}
	if res.StartLatency, err = r.startLatency(ctx, StartLatencySamplesDefault); err != nil {
		return res, err
	}
	if res.Express, err = r.express(ctx, c, d); err != nil {
		return res, err
	}
	res.Map, err = r.mapLatency(ctx, MapItemsDefault, 5)
	return res, err
}

// taskHeavy runs n STANDARD executions of 10 Task states, each calling
// the hello function, with c clients.
func (r *Runner) taskHeavy(ctx context.Context, n, c int) (*StandardResult, error) {
	fn, err := r.function(ctx, "hello", r.cfg.Code.Hello)
	if err != nil {
		return nil, err
	}
	fnArn, err := r.lambdaARN(ctx, fn)
	if err != nil {
		return nil, err
	}
	const states = 10
	tasks := chain(states, func(i int, next string) string {
		return fmt.Sprintf(`{"Type": "Task", "Resource": %q, "Parameters": {"name": "step %d"}, "ResultPath": "$.last", %s}`, fnArn, i, next)
	})
	return r.standard(ctx, "task", tasks, states, n, c)
}

// lambdaARN is a function's ARN.
func (r *Runner) lambdaARN(ctx context.Context, name string) (string, error) {
	var out struct {
		Configuration struct {
			FunctionArn string `json:"FunctionArn"`
		} `json:"Configuration"`
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.endpoint+"/2015-03-31/functions/"+name, nil)
	if err != nil {
		return "", err
	}
	resp, err := r.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Configuration.FunctionArn == "" {
		return "", fmt.Errorf("get function %s: %v", name, err)
	}
	return out.Configuration.FunctionArn, nil
}

type listedExecution struct {
	ExecutionArn string  `json:"executionArn"`
	Status       string  `json:"status"`
	StartDate    float64 `json:"startDate"`
	StopDate     float64 `json:"stopDate"`
}

// listAll lists a machine's executions with the given status ("" for all).
func (r *Runner) listAll(ctx context.Context, machine, status string) ([]listedExecution, error) {
	var all []listedExecution
	token := ""
	for {
		in := map[string]any{"stateMachineArn": machine, "maxResults": 1000}
		if status != "" {
			in["statusFilter"] = status
		}
		if token != "" {
			in["nextToken"] = token
		}
		var out struct {
			Executions []listedExecution `json:"executions"`
			NextToken  string            `json:"nextToken"`
		}
		if err := sfnCall(ctx, r.http, r.endpoint, "ListExecutions", in, &out); err != nil {
			return nil, err
		}
		all = append(all, out.Executions...)
		if out.NextToken == "" {
			return all, nil
		}
		token = out.NextToken
	}
}

// waitEnded waits until machine has n executions and none running, and
// returns them.
func (r *Runner) waitEnded(ctx context.Context, machine string, n int, poll time.Duration) ([]listedExecution, error) {
	for {
		running, err := r.listAll(ctx, machine, "RUNNING")
		if err != nil {
			return nil, err
		}
		if len(running) == 0 {
			all, err := r.listAll(ctx, machine, "")
			if err != nil {
				return nil, err
			}
			if len(all) >= n {
				return all, nil
			}
		}
		if err := sleep(ctx, poll); err != nil {
			return nil, err
		}
	}
}

// standard starts n executions of definition with c clients and waits
// for them all to end.
func (r *Runner) standard(ctx context.Context, suffix, definition string, states, n, c int) (*StandardResult, error) {
	arn, err := r.machine(ctx, suffix, "STANDARD", definition)
	if err != nil {
		return nil, err
	}
	r.progress("workflows: %d STANDARD executions of %d %s states, %d clients", n, states, suffix, c)
	res := &StandardResult{Machine: suffix, States: states, Executions: n, Concurrency: c}
	began := time.Now()
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				err := sfnCall(ctx, r.http, r.endpoint, "StartExecution", map[string]any{"stateMachineArn": arn, "input": `{"step": -1}`}, nil)
				if err != nil {
					mu.Lock()
					res.Errors.add(err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	all, err := r.waitEnded(ctx, arn, n-res.Errors.Count, 20*time.Millisecond)
	if err != nil {
		return res, err
	}
	first, last := all[0].StartDate, all[0].StopDate
	for _, e := range all {
		first, last = min(first, e.StartDate), max(last, e.StopDate)
		if e.Status != "SUCCEEDED" {
			res.Failed++
		}
	}
	res.Duration = time.Duration((last - first) * float64(time.Second))
	// Executions' own dates follow their events' times, and a timer's
	// event carries the time it was due: when a chain waits, the wall
	// clock (to the poll that saw the last one end) is the honest figure.
	if wall := time.Since(began); wall > res.Duration {
		res.Duration = wall
	}
	res.Transitions = states * (len(all) - res.Failed)
	if res.Duration > 0 {
		res.PerSecond = float64(res.Transitions) / res.Duration.Seconds()
	}
	return res, nil
}

// startLatency times n StartExecution calls one after another, on a
// machine whose first state is a Pass state.
func (r *Runner) startLatency(ctx context.Context, n int) (Latency, error) {
	arn, err := r.machine(ctx, "latency", "STANDARD", passChain(2))
	if err != nil {
		return Latency{}, err
	}
	r.progress("workflows: start-to-first-transition latency, %d samples", n)
	samples := make([]time.Duration, 0, n)
	for range n {
		t := time.Now()
		if err := sfnCall(ctx, r.http, r.endpoint, "StartExecution", map[string]any{"stateMachineArn": arn, "input": `{"step": -1}`}, nil); err != nil {
			return Latency{}, err
		}
		samples = append(samples, time.Since(t))
	}
	return summarize(samples), nil
}

// ExpressResult is how fast StartSyncExecution ran a chain of States Pass
// states with Concurrency clients for Duration.
type ExpressResult struct {
	States      int           `json:"states"`
	Concurrency int           `json:"concurrency"`
	Duration    time.Duration `json:"durationNs"`
	Executions  int           `json:"executions"`
	PerSecond   float64       `json:"transitionsPerSecond"`
	Latency     Latency       `json:"latency"`
	Errors      errorLog      `json:"errors"`
}

func (r *Runner) express(ctx context.Context, c int, d time.Duration) (*ExpressResult, error) {
	const states = 100
	arn, err := r.machine(ctx, "express", "EXPRESS", passChain(states))
	if err != nil {
		return nil, err
	}
	r.progress("workflows: Express, %d Pass states per execution, %d clients for %s", states, c, d)
	res := &ExpressResult{States: states, Concurrency: c, Duration: d}
	var mu sync.Mutex
	var samples []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			for time.Now().Before(deadline) {
				var out struct {
					Status string `json:"status"`
				}
				t := time.Now()
				err := sfnCall(ctx, r.http, r.endpoint, "StartSyncExecution", map[string]any{"stateMachineArn": arn, "input": `{"step": -1}`}, &out)
				if err == nil && out.Status != "SUCCEEDED" {
					err = fmt.Errorf("execution %s", out.Status)
				}
				if err != nil {
					mu.Lock()
					res.Errors.add(err)
					mu.Unlock()
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			samples = append(samples, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.Executions = len(samples)
	res.Latency = summarize(samples)
	res.PerSecond = float64(states*res.Executions) / d.Seconds()
	return res, nil
}

// mapLatency times StartSyncExecution of an Express Map over items
// numbers with a Pass processor, samples times.
func (r *Runner) mapLatency(ctx context.Context, items, samples int) (Latency, error) {
	def := `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 0,
	  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"n.$": "$"}, "End": true}}}, "End": true}}}`
	arn, err := r.machine(ctx, "map", "EXPRESS", def)
	if err != nil {
		return Latency{}, err
	}
	nums := make([]string, items)
	for i := range nums {
		nums[i] = fmt.Sprint(i)
	}
	input := `{"items": [` + strings.Join(nums, ",") + `]}`
	r.progress("workflows: Express Map over %d items, %d samples", items, samples)
	var got []time.Duration
	for range samples {
		var out struct {
			Status string `json:"status"`
			Cause  string `json:"cause"`
		}
		t := time.Now()
		if err := sfnCall(ctx, r.http, r.endpoint, "StartSyncExecution", map[string]any{"stateMachineArn": arn, "input": input}, &out); err != nil {
			return Latency{}, err
		}
		if out.Status != "SUCCEEDED" {
			return Latency{}, fmt.Errorf("map execution %s: %s", out.Status, out.Cause)
		}
		got = append(got, time.Since(t))
	}
	return summarize(got), nil
}
