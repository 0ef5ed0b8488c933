package states

// Conformance with the AWS Step Functions Developer Guide.
//
// Every case below is one of the guide's own worked examples: the
// definition, the input, what the task (usually a Lambda function) returns
// and the output, error or task input the guide says results. Each case
// quotes the section it comes from; the URLs are those of the guide
// (https://docs.aws.amazon.com/step-functions/latest/dg/...). Where the
// guide's example is only a fragment, the rest of the machine is the
// smallest one that runs it (a Pass state for "NextState" and the like),
// and where the guide's example text contradicts itself (an input and an
// output that differ in an unrelated field) the consistent reading is used.
//
// A few cases pin behaviour the guide describes in words but shows no
// output for; their comments say so and name the evidence used instead.
//
// Tasks answer through the execute driver of exec_test.go: scripted
// replies per state name (the last one repeats), or the task's input
// taskEcho when a state has no script.
//
// Cases marked skip ("bug: ...") are known discrepancies; run them with
// STATES_CONFORMANCE_BUGS=1 go test -run Conformance ./internal/states/

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

const docBase = "https://docs.aws.amazon.com/step-functions/latest/dg/"

// reply is one scripted answer of a task: a JSON result, an error, or
// (echo) the task's own input.
type reply struct {
	out  string
	err  *Error
	echo bool
}

func taskOK(out string) reply { return reply{out: out} }

func taskFail(name, cause string) reply { return reply{err: &Error{Name: name, Cause: cause}} }

var taskEcho = reply{echo: true}

// taskCall is one RunTask command the driver answered.
type taskCall struct {
	state   string
	input   string // Encode(Command.Input)
	timeout int
}

type confCase struct {
	name  string
	doc   string // page#anchor under docBase, or a full URL
	def   string
	input string
	tasks map[string][]reply

	wantOutput    string
	wantErr       *Error // Name and Cause must match exactly unless causeContains
	causeContains bool
	wantCalls     []string        // "State <- input JSON", in the order the tasks ran
	wantTimers    []time.Duration // every StartTimer delay (Wait states, Retry backoff)
	check         func(t *testing.T, d *driver, calls []taskCall)

	skip string // "bug: ..." for a known discrepancy
}

func runConformance(t *testing.T, cases []confCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Logf("doc: %s", docURL(c.doc))
			if c.skip != "" && os.Getenv("STATES_CONFORMANCE_BUGS") == "" {
				t.Skip(c.skip)
			}
			var calls []taskCall
			n := map[string]int{}
			d := execute(t, c.def, c.input, func(cmd Command) (any, *Error) {
				calls = append(calls, taskCall{state: cmd.State, input: Encode(cmd.Input), timeout: cmd.TimeoutSeconds})
				rs := c.tasks[cmd.State]
				if len(rs) == 0 {
					return cmd.Input, nil
				}
				r := rs[min(n[cmd.State], len(rs)-1)]
				n[cmd.State]++
				switch {
				case r.err != nil:
					return nil, r.err
				case r.echo:
					return cmd.Input, nil
				}
				return mustDecode(t, r.out), nil
			})
			switch {
			case c.wantErr != nil:
				if d.x.Status != Failed || d.x.Err == nil {
					t.Fatalf("got status %s, output %s; want FAILED %s: %s", d.x.Status, Encode(d.x.Output), c.wantErr.Name, c.wantErr.Cause)
				}
				got := d.x.Err
				causeOK := got.Cause == c.wantErr.Cause || c.causeContains && strings.Contains(got.Cause, c.wantErr.Cause)
				if got.Name != c.wantErr.Name || !causeOK {
					t.Errorf("got error %q cause %q, want %q cause %q", got.Name, got.Cause, c.wantErr.Name, c.wantErr.Cause)
				}
			case c.wantOutput != "":
				d.wantOutput(c.wantOutput)
			}
			if c.wantCalls != nil {
				var got []string
				for _, call := range calls {
					got = append(got, call.state+" <- "+call.input)
				}
				var want []string
				for _, w := range c.wantCalls {
					state, in, _ := strings.Cut(w, " <- ")
					want = append(want, state+" <- "+Encode(mustDecode(t, in)))
				}
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("got task calls\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
				}
			}
			if c.wantTimers != nil && fmt.Sprint(d.timers) != fmt.Sprint(c.wantTimers) {
				t.Errorf("got timer delays %v, want %v", d.timers, c.wantTimers)
			}
			if c.check != nil {
				c.check(t, d, calls)
			}
		})
	}
}

func docURL(doc string) string {
	if strings.HasPrefix(doc, "http") {
		return doc
	}
	return docBase + doc
}

// lambdaTask is a one-Task machine around a Lambda function; extra is
// spliced into the state's fields.
func lambdaTask(name, extra string) string {
	return `{"StartAt": "` + name + `", "States": {"` + name + `": {"Type": "Task",
	  "Resource": "arn:aws:lambda:us-east-1:123456789012:function:HelloFunction", ` + extra + ` "End": true}}}`
}

// choiceRule is a Choice state with one rule (and Next) leading to Yes,
// defaulting to No; each answers "yes" or "no".
func choiceRule(rule string) string {
	return `{"StartAt": "C", "States": {
	  "C": {"Type": "Choice", "Choices": [` + rule + `], "Default": "No"},
	  "Yes": {"Type": "Pass", "Result": "yes", "End": true},
	  "No": {"Type": "Pass", "Result": "no", "End": true}}}`
}

// passParams is a Pass state whose Parameters are params.
func passParams(params string) string {
	return `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": ` + params + `, "End": true}}}`
}

// mapInFlight is the most Map iterations running at once, from the history.
func mapInFlight(d *driver) int {
	running, most := 0, 0
	for _, h := range d.history {
		switch h.Type {
		case "MapIterationStarted":
			running++
			most = max(most, running)
		case "MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted":
			running--
		}
	}
	return most
}

const (
	helloInput = `{"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"}`
	hello      = `"Hello, AWS Step Functions!"`
)

// Specifying state output using ResultPath (input-output-resultpath).
func TestConformance_ResultPath(t *testing.T) {
	runConformance(t, []confCase{
		{
			// "If you don't specify a ResultPath, the default behavior is as if you had specified
			// "ResultPath": "$". ... the output of the state is the following. "Hello, AWS Step Functions!""
			name: "replace input with result (default)", doc: "input-output-resultpath.html#input-output-resultpath-default",
			def: lambdaTask("HelloWorld", ""), input: helloInput,
			tasks:      map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantOutput: hello,
			wantCalls:  []string{"HelloWorld <- " + helloInput},
		},
		{
			// Same section: "or if "ResultPath": "$" is set, the input of the state is replaced by the result".
			name: "replace input with result ($)", doc: "input-output-resultpath.html#input-output-resultpath-default",
			def: lambdaTask("HelloWorld", `"ResultPath": "$",`), input: helloInput,
			tasks:      map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantOutput: hello,
		},
		{
			// "If you set ResultPath to null, it will pass the original input to the output. ... the
			// state's input payload will be copied directly to the output, with no regard for the result."
			name: "discard result and keep input", doc: "input-output-resultpath.html#input-output-resultpath-null",
			def: lambdaTask("HelloWorld", `"ResultPath": null,`), input: helloInput,
			tasks:      map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantOutput: helloInput,
		},
		{
			// "ResultPath": "$.taskresult" — "This includes the result of the Lambda function with the
			// original input." (The guide's output says "Default behavior example" for details; its
			// input says "Default example"; the input's value is kept.)
			name: "include result with input", doc: "input-output-resultpath.html#input-output-resultpath-append",
			def: lambdaTask("HelloWorld", `"ResultPath": "$.taskresult",`), input: helloInput,
			tasks: map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantOutput: `{"comment": "This is a test of the input and output of a Task state.", "details": "Default example",
			  "who": "AWS Step Functions", "taskresult": "Hello, AWS Step Functions!"}`,
		},
		{
			// "You can also insert the result into a child node of the input. Set the ResultPath to
			// "$.strings.lambdaresult" ... The result of the Lambda function is inserted as a child of the
			// strings node in the input."
			name: "insert result into a child node", doc: "input-output-resultpath.html#input-output-resultpath-append",
			def:   lambdaTask("HelloWorld", `"ResultPath": "$.strings.lambdaresult",`),
			input: `{"comment": "An input comment.", "strings": {"string1": "foo", "string2": "bar", "string3": "baz"}, "who": "AWS Step Functions"}`,
			tasks: map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantOutput: `{"comment": "An input comment.", "strings": {"string1": "foo", "string2": "bar", "string3": "baz",
			  "lambdaresult": "Hello, AWS Step Functions!"}, "who": "AWS Step Functions"}`,
		},
		{
			// "Because the comment node already exists in the state input, setting ResultPath to
			// "$.comment" replaces that node in the input with the result of the Lambda function."
			name: "update a node in the input", doc: "input-output-resultpath.html#input-output-resultpath-amend",
			def: lambdaTask("HelloWorld", `"ResultPath": "$.comment",`), input: helloInput,
			tasks:      map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantOutput: `{"comment": "Hello, AWS Step Functions!", "details": "Default example", "who": "AWS Step Functions"}`,
		},
		{
			// "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NextTask", "ResultPath": "$.error"}] with
			// input {"foo": "bar"}: "The state output when catching an error is the following.
			// {"foo": "bar", "error": {"Error": "Error here"}}". The guide elides Cause; a Lambda error
			// always has one, and the error output carries it (concepts-error-handling "Error output").
			name: "include error and input in a Catch", doc: "input-output-resultpath.html#input-output-resultpath-catch",
			def: `{"StartAt": "T", "States": {
			  "T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:FailFunction",
			    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "NextTask", "ResultPath": "$.error"}], "End": true},
			  "NextTask": {"Type": "Pass", "End": true}}}`,
			input:      `{"foo": "bar"}`,
			tasks:      map[string][]reply{"T": {taskFail("Error here", "details")}},
			wantOutput: `{"foo": "bar", "error": {"Error": "Error here", "Cause": "details"}}`,
		},
	})
}

// InputPath, Parameters and ResultSelector; InputPath, ResultPath and
// OutputPath examples; Paths.
func TestConformance_InputOutputProcessing(t *testing.T) {
	runConformance(t, []confCase{
		{
			// "InputPath": "$.lambda", "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data":
			// "The Lambda function receives only the JSON object {"who": "AWS Step Functions"} as input."
			// ... "The state output is filtered to the following. {"val1": 23, "val2": 17,
			// "lambdaresult": "Hello, AWS Step Functions!"}"
			name: "InputPath ResultPath OutputPath walkthrough", doc: "input-output-example.html",
			def:        lambdaTask("HelloWorld", `"InputPath": "$.lambda", "ResultPath": "$.data.lambdaresult", "OutputPath": "$.data",`),
			input:      `{"comment": "An input comment.", "data": {"val1": 23, "val2": 17}, "extra": "foo", "lambda": {"who": "AWS Step Functions"}}`,
			tasks:      map[string][]reply{"HelloWorld": {taskOK(hello)}},
			wantCalls:  []string{`HelloWorld <- {"who": "AWS Step Functions"}`},
			wantOutput: `{"val1": 23, "val2": 17, "lambdaresult": "Hello, AWS Step Functions!"}`,
		},
		{
			// "InputPath": "$.dataset2" — "the following is the JSON that is passed as the input.
			// {"val1": "a", "val2": "b", "val3": "c"}"
			name: "InputPath selects a node", doc: "input-output-inputpath-params.html#input-output-inputpath",
			def:        lambdaTask("T", `"InputPath": "$.dataset2",`),
			input:      `{"comment": "Example for InputPath.", "dataset1": {"val1": 1, "val2": 2, "val3": 3}, "dataset2": {"val1": "a", "val2": "b", "val3": "c"}}`,
			wantCalls:  []string{`T <- {"val1": "a", "val2": "b", "val3": "c"}`},
			wantOutput: `{"val1": "a", "val2": "b", "val3": "c"}`,
		},
		{
			// "A path can yield a selection of values. ... { "a": [1, 2, 3, 4] } If you apply the path
			// $.a[0:2], the following is the result. [ 1, 2 ]"
			name: "InputPath yields a selection", doc: "input-output-inputpath-params.html#input-output-inputpath",
			def: `{"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.a[0:2]", "End": true}}}`, input: `{"a": [1, 2, 3, 4]}`,
			wantOutput: `[1, 2]`,
		},
		{
			// Parameters key-value pairs: "Given the previous input and the Parameters field, this is the
			// JSON that is passed. {"comment": "Selecting what I care about.", "MyDetails": {"size":
			// "small", "exists": "in stock", "StaticValue": "foo"}}"
			name: "Parameters key-value pairs", doc: "input-output-inputpath-params.html#input-output-parameters",
			def: lambdaTask("T", `"Parameters": {"comment": "Selecting what I care about.",
			  "MyDetails": {"size.$": "$.product.details.size", "exists.$": "$.product.availability", "StaticValue": "foo"}},`),
			input: `{"comment": "Example for Parameters.", "product": {"details": {"color": "blue", "size": "small", "material": "cotton"},
			  "availability": "in stock", "sku": "2317", "cost": "$23"}}`,
			wantCalls: []string{`T <- {"comment": "Selecting what I care about.", "MyDetails": {"size": "small", "exists": "in stock", "StaticValue": "foo"}}`},
		},
		{
			// ResultSelector: "we want to select just the resourceType and ClusterId, and merge that with
			// the state input from an Amazon EMR createCluster.sync" ... "using ResultSelector produces:
			// {"OtherDataFromInput": {}, "EMROutput": {"ResourceType": "elasticmapreduce", "ClusterId":
			// "AKIAIOSFODNN7EXAMPLE"}}"
			name: "ResultSelector with ResultPath", doc: "input-output-inputpath-params.html#input-output-resultselector",
			def: `{"StartAt": "Create Cluster", "States": {"Create Cluster": {"Type": "Task",
			  "Resource": "arn:aws:states:::elasticmapreduce:createCluster.sync", "Parameters": {"Name": "c"},
			  "ResultSelector": {"ClusterId.$": "$.output.ClusterId", "ResourceType.$": "$.resourceType"},
			  "ResultPath": "$.EMROutput", "End": true}}}`,
			input: `{"OtherDataFromInput": {}}`,
			tasks: map[string][]reply{"Create Cluster": {taskOK(`{"resourceType": "elasticmapreduce", "resource": "createCluster.sync",
			  "output": {"SdkHttpMetadata": {"HttpHeaders": {"Content-Length": "1112", "Content-Type": "application/x-amz-JSON-1.1",
			    "Date": "Mon, 25 Nov 2019 19:41:29 GMT", "x-amzn-RequestId": "1234-5678-9012"}, "HttpStatusCode": 200},
			  "SdkResponseMetadata": {"RequestId": "1234-5678-9012"}, "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}`)}},
			wantOutput: `{"OtherDataFromInput": {}, "EMROutput": {"ResourceType": "elasticmapreduce", "ClusterId": "AKIAIOSFODNN7EXAMPLE"}}`,
		},
		{
			// Paths: "$.foo => 123, $.bar => ["a", "b", "c"], $.car.cdr => true,
			// $.jar[?(@.a >= 5)] => [{"a": 5}, {"a": 7}]"
			name: "paths in Parameters", doc: "amazon-states-language-paths.html",
			def:        passParams(`{"foo.$": "$.foo", "bar.$": "$.bar", "cdr.$": "$.car.cdr", "jar.$": "$.jar[?(@.a >= 5)]"}`),
			input:      `{"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}, "jar": [{"a": 1}, {"a": 5}, {"a": 2}, {"a": 7}, {"a": 3}]}`,
			wantOutput: `{"foo": 123, "bar": ["a", "b", "c"], "cdr": true, "jar": [{"a": 5}, {"a": 7}]}`,
		},
		{
			// Same page, the filter as an InputPath.
			name: "filter path as InputPath", doc: "amazon-states-language-paths.html",
			def:        `{"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.jar[?(@.a >= 5)]", "End": true}}}`,
			input:      `{"jar": [{"a": 1}, {"a": 5}, {"a": 2}, {"a": 7}, {"a": 3}]}`,
			wantOutput: `[{"a": 5}, {"a": 7}]`,
		},
		{
			// Not in the guide's examples; the States Language spec: "If the value of InputPath is null,
			// that means that the raw input is discarded, and the effective input for the state is an
			// empty JSON object, {}." (https://states-language.net/spec.html#filters)
			name: "InputPath null", doc: "https://states-language.net/spec.html#filters",
			def:        `{"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": null, "End": true}}}`,
			input:      `{"a": 1}`,
			wantOutput: `{}`,
		},
		{
			// Spec, same section: "If the value of OutputPath is null, that means the input and result
			// are discarded, and the effective output from the state is an empty JSON object, {}."
			name: "OutputPath null", doc: "https://states-language.net/spec.html#filters",
			def:        lambdaTask("T", `"OutputPath": null,`),
			input:      `{"a": 1}`,
			wantOutput: `{}`,
		},
	})
}

// Pass workflow state (state-pass).
func TestConformance_Pass(t *testing.T) {
	runConformance(t, []confCase{
		{
			// "Here is an example of a Pass state that injects some fixed data into the state machine"
			// ... input {"georefOf": "Home"}: "Then the output would be this. {"georefOf": "Home",
			// "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355}}"
			name: "Result with ResultPath", doc: "state-pass.html#pass-state-example",
			def: `{"StartAt": "No-op", "States": {
			  "No-op": {"Type": "Pass", "Result": {"x-datum": 0.381018, "y-datum": 622.2269926397355}, "ResultPath": "$.coords", "Next": "End"},
			  "End": {"Type": "Succeed"}}}`,
			input:      `{"georefOf": "Home"}`,
			wantOutput: `{"georefOf": "Home", "coords": {"x-datum": 0.381018, "y-datum": 622.2269926397355}}`,
		},
		{
			// "Result (Optional): Refers to the output of a virtual task that is passed on to the next
			// state." Without ResultPath, "$" replaces the input.
			name: "Result replaces input", doc: "state-pass.html",
			def:        `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "End": true}}}`,
			input:      `{"georefOf": "Home"}`,
			wantOutput: `{"x": 1}`,
		},
		{
			// "Parameters (Optional): Creates a collection of key-value pairs that will be passed as input."
			name: "Parameters become the output", doc: "state-pass.html",
			def:        `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"where.$": "$.georefOf", "static": 1}, "ResultPath": "$.p", "End": true}}}`,
			input:      `{"georefOf": "Home"}`,
			wantOutput: `{"georefOf": "Home", "p": {"where": "Home", "static": 1}}`,
		},
	})
}

// Accessing execution data from the Context object (input-output-contextobject).
func TestConformance_ContextObject(t *testing.T) {
	runConformance(t, []confCase{
		{
			// "This example Task state uses a path to retrieve and pass the execution Amazon Resource
			// Name (ARN) to an Amazon Simple Queue Service (Amazon SQS) message."
			name: "execution ARN into an SQS message", doc: "input-output-contextobject.html#contextobject-access",
			def: `{"StartAt": "Order Flight Ticket Queue", "States": {"Order Flight Ticket Queue": {"Type": "Task",
			  "Resource": "arn:aws:states:::sqs:sendMessage",
			  "Parameters": {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/flight-purchase",
			    "MessageBody": {"From": "YVR", "To": "SEA", "Execution.$": "$$.Execution.Id"}}, "End": true}}}`,
			input: `{}`,
			tasks: map[string][]reply{"Order Flight Ticket Queue": {taskOK(`{"MessageId": "m-1"}`)}},
			wantCalls: []string{`Order Flight Ticket Queue <- {"QueueUrl": "https://sqs.us-east-1.amazonaws.com/123456789012/flight-purchase",
			  "MessageBody": {"From": "YVR", "To": "SEA", "Execution": "arn:aws:states:us-east-1:000000000000:execution:sm:run"}}`},
			wantOutput: `{"MessageId": "m-1"}`,
		},
		{
			// "Example to access the execution start time and name in a Pass state" (ISO 8601 with
			// milliseconds, as in the guide's "StartTime": "2019-03-26T20:14:13.192Z").
			name: "start time and name in a Pass state", doc: "input-output-contextobject.html#contextobject-access",
			def: `{"Comment": "Accessing context object in a state machine", "StartAt": "Get execution context data", "States": {
			  "Get execution context data": {"Type": "Pass", "Parameters": {"startTime.$": "$$.Execution.StartTime", "execName.$": "$$.Execution.Name"},
			    "ResultPath": "$.executionContext", "End": true}}}`,
			input:      `{"k": "v"}`,
			wantOutput: `{"k": "v", "executionContext": {"startTime": "2026-01-02T03:04:05.000Z", "execName": "run"}}`,
		},
		{
			// Context object format: Execution.Input, StateMachine.Name, State.Name, State.EnteredTime
			// ("Format: ISO 8601"). The second state is entered after a 10 second Wait.
			name: "state and execution fields", doc: "input-output-contextobject.html#contextobject-format",
			def: `{"StartAt": "W", "States": {
			  "W": {"Type": "Wait", "Seconds": 10, "Next": "Test"},
			  "Test": {"Type": "Pass", "Parameters": {"input.$": "$$.Execution.Input", "sm.$": "$$.StateMachine.Name",
			    "state.$": "$$.State.Name", "entered.$": "$$.State.EnteredTime", "all.$": "$$.State"}, "End": true}}}`,
			input: `{"key": "value"}`,
			// Only Task states show State.RetryCount: AWS's recorded context
			// objects of Pass states hold just EnteredTime and Name.
			wantOutput: `{"input": {"key": "value"}, "sm": "sm", "state": "Test", "entered": "2026-01-02T03:04:15.000Z", "all": {"EnteredTime": "2026-01-02T03:04:15.000Z", "Name": "Test"}}`,
		},
		{
			// "State": {"RetryCount": Number} — the count of retries of the current state so far.
			name: "State.RetryCount counts retries", doc: "input-output-contextobject.html#contextobject-format",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
			  "Parameters": {"state.$": "$$.State.Name", "retry.$": "$$.State.RetryCount"},
			  "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}], "End": true}}}`,
			input:      `{}`,
			tasks:      map[string][]reply{"T": {taskFail("E", ""), taskFail("E", ""), taskEcho}},
			wantCalls:  []string{`T <- {"state": "T", "retry": 0}`, `T <- {"state": "T", "retry": 1}`, `T <- {"state": "T", "retry": 2}`},
			wantOutput: `{"state": "T", "retry": 2}`,
			wantTimers: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			// Context object data for Map states: "If you execute the previous state machine with the
			// following input, Index and Value are inserted in the output."
			name: "Map Item Index and Value (Parameters)", doc: "input-output-contextobject.html#contextobject-map",
			def: `{"StartAt": "ExampleMapState", "States": {"ExampleMapState": {"Type": "Map",
			  "Parameters": {"ContextIndex.$": "$$.Map.Item.Index", "ContextValue.$": "$$.Map.Item.Value"},
			  "Iterator": {"StartAt": "TestPass", "States": {"TestPass": {"Type": "Pass", "End": true}}}, "End": true}}}`,
			input: `[{"who": "bob"}, {"who": "meg"}, {"who": "joe"}]`,
			wantOutput: `[{"ContextIndex": 0, "ContextValue": {"who": "bob"}}, {"ContextIndex": 1, "ContextValue": {"who": "meg"}},
			  {"ContextIndex": 2, "ContextValue": {"who": "joe"}}]`,
		},
		{
			// The same example as the current guide writes it, with ItemSelector and ItemProcessor.
			name: "Map Item Index and Value (ItemSelector)", doc: "input-output-contextobject.html#contextobject-map",
			def: `{"StartAt": "ExampleMapState", "States": {"ExampleMapState": {"Type": "Map",
			  "ItemSelector": {"ContextIndex.$": "$$.Map.Item.Index", "ContextValue.$": "$$.Map.Item.Value"},
			  "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "TestPass", "States": {"TestPass": {"Type": "Pass", "End": true}}}, "End": true}}}`,
			input: `[{"who": "bob"}, {"who": "meg"}, {"who": "joe"}]`,
			wantOutput: `[{"ContextIndex": 0, "ContextValue": {"who": "bob"}}, {"ContextIndex": 1, "ContextValue": {"who": "meg"}},
			  {"ContextIndex": 2, "ContextValue": {"who": "joe"}}]`,
		},
	})
}

const choiceStateX = `{"StartAt": "ChoiceStateX", "States": {
  "ChoiceStateX": {"Type": "Choice", "Choices": [
    {"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"},
    {"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"},
    {"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20}, {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}],
    "Default": "DefaultState"},
  "Public": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Foo", "Next": "NextState"},
  "ValueIsZero": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Zero", "Next": "NextState"},
  "ValueInTwenties": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:Bar", "Next": "NextState"},
  "DefaultState": {"Type": "Fail", "Cause": "No Matches!"},
  "NextState": {"Type": "Pass", "End": true}}}`

var choiceTasks = map[string][]reply{"Public": {taskOK(`"Foo"`)}, "ValueIsZero": {taskOK(`"Zero"`)}, "ValueInTwenties": {taskOK(`"Bar"`)}}

// Choice workflow state (state-choice).
func TestConformance_Choice(t *testing.T) {
	const doc = "state-choice.html"
	runConformance(t, []confCase{
		{
			// "In this example, the state machine starts with the following input value. {"type":
			// "Private", "value": 22} Step Functions transitions to the ValueInTwenties state, based on
			// the value field."
			name: "ChoiceStateX goes to ValueInTwenties", doc: doc + "#choice-state-example",
			def: choiceStateX, input: `{"type": "Private", "value": 22}`, tasks: choiceTasks,
			wantCalls: []string{`ValueInTwenties <- {"type": "Private", "value": 22}`}, wantOutput: `"Bar"`,
		},
		{
			// Same example: the first rule, a Not, matches any type but "Private".
			name: "ChoiceStateX Not goes to Public", doc: doc + "#choice-state-example",
			def: choiceStateX, input: `{"type": "Public", "value": 22}`, tasks: choiceTasks, wantOutput: `"Foo"`,
		},
		{
			name: "ChoiceStateX goes to ValueIsZero", doc: doc + "#choice-state-example",
			def: choiceStateX, input: `{"type": "Private", "value": 0}`, tasks: choiceTasks, wantOutput: `"Zero"`,
		},
		{
			// "If there are no matches for the Choice state's Choices, the state provided in the Default
			// field runs instead." DefaultState is {"Type": "Fail", "Cause": "No Matches!"}.
			name: "ChoiceStateX goes to Default", doc: doc + "#choice-state-example",
			def: choiceStateX, input: `{"type": "Private", "value": 42}`, tasks: choiceTasks,
			wantErr: &Error{Name: "", Cause: "No Matches!"},
		},
		{
			// "You must specify the $.type field. If the state input doesn't contain the $.type field,
			// the execution fails and an error is displayed in the execution history."
			name: "ChoiceStateX without $.type fails", doc: doc + "#choice-state-example",
			def: choiceStateX, input: `{"value": 22}`, tasks: choiceTasks,
			wantErr:       &Error{Name: ErrRuntime, Cause: "Invalid path '$.type': The choice state's condition path references an invalid value."},
			causeContains: true,
		},
		{
			// "If the Default state isn't specified, the execution fails with an error." —
			// concepts-error-handling: "States.NoChoiceMatched: This runtime error occurs if a Choice
			// state fails to match the input with the conditions defined in the Choice Rule and no
			// Default transition is specified."
			name: "no match and no Default", doc: doc + "#choice-state-example",
			def: `{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.value", "NumericEquals": 0, "Next": "Z"}]},
			  "Z": {"Type": "Succeed"}}}`,
			input: `{"value": 1}`, wantErr: &Error{Name: ErrNoChoiceMatched}, causeContains: true,
		},
		// Choice rules: the guide's one-rule examples, each with an input that should match (or not).
		{name: "rule NumericEquals", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "NumericEquals": 1, "Next": "Yes"}`), input: `{"foo": 1}`, wantOutput: `"yes"`},
		{name: "rule StringEquals", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringEquals": "MyString", "Next": "Yes"}`), input: `{"foo": "MyString"}`, wantOutput: `"yes"`},
		{name: "rule StringGreaterThan", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringGreaterThan": "MyStringABC", "Next": "Yes"}`), input: `{"foo": "MyStringABD"}`, wantOutput: `"yes"`},
		{name: "rule IsNull", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.possiblyNullValue", "IsNull": true, "Next": "Yes"}`), input: `{"possiblyNullValue": null}`, wantOutput: `"yes"`},
		{
			// "the StringEquals rule is only evaluated when $.keyThatMightNotExist exists because of the
			// preceding IsPresent Choice Rule."
			name: "rule And IsPresent guards StringEquals", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"And": [{"Variable": "$.keyThatMightNotExist", "IsPresent": true},
			  {"Variable": "$.keyThatMightNotExist", "StringEquals": "foo"}], "Next": "Yes"}`),
			input: `{}`, wantOutput: `"no"`,
		},
		{name: "rule StringMatches wildcard", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringMatches": "log-*.txt", "Next": "Yes"}`), input: `{"foo": "log-2024-01-01.txt"}`, wantOutput: `"yes"`},
		{
			// "The wildcard character is escaped by using the standard \\ (Ex: "\\*")."
			name: "rule StringMatches escaped wildcard", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringMatches": "log-\\*.txt", "Next": "Yes"}`), input: `{"foo": "log-1.txt"}`, wantOutput: `"no"`,
		},
		{name: "rule StringMatches escaped wildcard literal", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringMatches": "log-\\*.txt", "Next": "Yes"}`), input: `{"foo": "log-*.txt"}`, wantOutput: `"yes"`},
		{name: "rule TimestampEquals", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "TimestampEquals": "2001-01-01T12:00:00Z", "Next": "Yes"}`), input: `{"foo": "2001-01-01T12:00:00Z"}`, wantOutput: `"yes"`},
		{name: "rule StringEqualsPath", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringEqualsPath": "$.bar", "Next": "Yes"}`), input: `{"foo": "x", "bar": "x"}`, wantOutput: `"yes"`},
		{
			// "Step Functions doesn't attempt to match a numeric field to a string value."
			name: "rule NumericEquals never matches a string", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "NumericEquals": 1, "Next": "Yes"}`), input: `{"foo": "1"}`, wantOutput: `"no"`,
		},
		{
			// "because timestamp fields are logically strings, it's possible that a field considered to
			// be a timestamp can be matched by a StringEquals comparator."
			name: "rule StringEquals matches a timestamp", doc: doc + "#amazon-states-language-choice-state-rules",
			def: choiceRule(`{"Variable": "$.foo", "StringEquals": "2016-08-18T17:33:00Z", "Next": "Yes"}`), input: `{"foo": "2016-08-18T17:33:00Z"}`, wantOutput: `"yes"`,
		},
	})
}

// Wait workflow state (state-wait).
func TestConformance_Wait(t *testing.T) {
	const doc = "state-wait.html#wait-state-example"
	at := func(want time.Time) func(*testing.T, *driver, []taskCall) {
		return func(t *testing.T, d *driver, _ []taskCall) {
			for _, c := range d.commands {
				if c.Kind == StartTimer {
					if !c.At.Equal(want) {
						t.Errorf("got timer at %v, want %v", c.At, want)
					}
					return
				}
			}
			t.Errorf("no timer was started")
		}
	}
	runConformance(t, []confCase{
		{
			// "The following Wait state introduces a 10-second delay into a state machine."
			name: "Seconds", doc: doc,
			def: `{"StartAt": "wait_ten_seconds", "States": {"wait_ten_seconds": {"Type": "Wait", "Seconds": 10, "Next": "NextState"},
			  "NextState": {"Type": "Pass", "End": true}}}`,
			input: `{"a": 1}`, wantOutput: `{"a": 1}`, wantTimers: []time.Duration{10 * time.Second},
		},
		{
			// "the Wait state waits until an absolute time: March 14, 2016, at 1:59 PM UTC" (the
			// timestamp is 01:59). A time in the past ends the wait at once.
			name: "Timestamp", doc: doc,
			def: `{"StartAt": "wait_until", "States": {"wait_until": {"Type": "Wait", "Timestamp": "2016-03-14T01:59:00Z", "Next": "NextState"},
			  "NextState": {"Type": "Pass", "End": true}}}`,
			input: `{"a": 1}`, wantOutput: `{"a": 1}`, check: at(time.Date(2016, 3, 14, 1, 59, 0, 0, time.UTC)),
		},
		{
			// "You can select the value of "expirydate" from the input using a reference path".
			name: "TimestampPath", doc: doc,
			def: `{"StartAt": "wait_until", "States": {"wait_until": {"Type": "Wait", "TimestampPath": "$.expirydate", "Next": "NextState"},
			  "NextState": {"Type": "Pass", "End": true}}}`,
			input: `{"expirydate": "2016-03-14T01:59:00Z"}`, wantOutput: `{"expirydate": "2016-03-14T01:59:00Z"}`,
			check: at(time.Date(2016, 3, 14, 1, 59, 0, 0, time.UTC)),
		},
		{
			// "SecondsPath: A time, in seconds, to wait before beginning the state specified in the Next
			// field, specified using a path from the state's input data."
			name: "SecondsPath", doc: "state-wait.html",
			def: `{"StartAt": "W", "States": {"W": {"Type": "Wait", "SecondsPath": "$.waitSeconds", "Next": "NextState"},
			  "NextState": {"Type": "Pass", "End": true}}}`,
			input: `{"waitSeconds": 5}`, wantOutput: `{"waitSeconds": 5}`, wantTimers: []time.Duration{5 * time.Second},
		},
	})
}

// Fail workflow state (state-fail).
func TestConformance_Fail(t *testing.T) {
	const doc = "state-fail.html"
	runConformance(t, []confCase{
		{
			// "The following Fail state definition example specifies static Error and Cause field values."
			name: "static Error and Cause", doc: doc,
			def:     `{"StartAt": "FailState", "States": {"FailState": {"Type": "Fail", "Cause": "Invalid response.", "Error": "ErrorA"}}}`,
			input:   `{}`,
			wantErr: &Error{Name: "ErrorA", Cause: "Invalid response."},
		},
		{
			// "The following Fail state definition example uses reference paths to dynamically resolve
			// the Error and Cause field values."
			name: "ErrorPath and CausePath", doc: doc,
			def:     `{"StartAt": "FailState", "States": {"FailState": {"Type": "Fail", "CausePath": "$.Cause", "ErrorPath": "$.Error"}}}`,
			input:   `{"Error": "ErrorA", "Cause": "Invalid response."}`,
			wantErr: &Error{Name: "ErrorA", Cause: "Invalid response."},
		},
		{
			// "The following Fail state definition example uses the States.Format intrinsic function to
			// dynamically specify the Error and Cause field values." — "You can also specify CausePath
			// using an intrinsic function that returns a string. These intrinsics are: States.Format,
			// States.JsonToString, States.ArrayGetItem, States.Base64Encode, States.Base64Decode,
			// States.Hash, and States.UUID."
			name: "ErrorPath and CausePath as intrinsics", doc: doc,
			def: `{"StartAt": "FailState", "States": {"FailState": {"Type": "Fail",
			  "CausePath": "States.Format('This is a custom error message for {}, caused by {}.', $.Error, $.Cause)",
			  "ErrorPath": "States.Format('{}', $.Error)"}}}`,
			input:   `{"Error": "ErrorA", "Cause": "Invalid response."}`,
			wantErr: &Error{Name: "ErrorA", Cause: "This is a custom error message for ErrorA, caused by Invalid response.."},
		},
	})
}

// Handling errors in Step Functions workflows (concepts-error-handling).
func TestConformance_RetryCatch(t *testing.T) {
	const doc = "concepts-error-handling.html"
	fallback := `"fallback": {"Type": "Pass", "Result": "Hello, AWS Step Functions!", "End": true}`
	hw := func(fn, fields string) string {
		states := `"HelloWorld": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:` + fn + `", ` + fields + ` "End": true}`
		if strings.Contains(fields, `"fallback"`) {
			states += ", " + fallback
		}
		return `{"Comment": "A Hello World example", "StartAt": "HelloWorld", "States": {` + states + `}}`
	}
	timeout := taskFail(ErrTimeout, "Task timed out after 2.00 seconds")
	runConformance(t, []confCase{
		{
			// "This example of a Retry makes 2 retry attempts after waiting for 3 and 4.5 seconds."
			name: "retry waits 3 and 4.5 seconds", doc: doc + "#error-handling-retrying-after-an-error",
			def:        hw("sleep10", `"Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 3, "MaxAttempts": 2, "BackoffRate": 1.5}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {timeout}},
			wantErr:    timeout.err,
			wantTimers: []time.Duration{3 * time.Second, 4500 * time.Millisecond},
		},
		{
			// "This example of a Retry field retries any error except States.Timeout." — the timeout is
			// never retried ...
			name: "MaxAttempts 0 never retries", doc: doc + "#error-handling-retrying-after-an-error",
			def:        hw("F", `"Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {timeout}},
			wantErr:    timeout.err,
			wantTimers: []time.Duration{},
			check: func(t *testing.T, _ *driver, calls []taskCall) {
				if len(calls) != 1 {
					t.Errorf("got %d attempts, want 1", len(calls))
				}
			},
		},
		{
			// ... and any other error is retried with the defaults: "IntervalSeconds ... (1 by default)",
			// "MaxAttempts ... (3 by default)", "BackoffRate ... (2.0 by default)".
			name: "States.ALL retrier with defaults", doc: doc + "#error-handling-retrying-after-an-error",
			def:        hw("F", `"Retry": [{"ErrorEquals": ["States.Timeout"], "MaxAttempts": 0}, {"ErrorEquals": ["States.ALL"]}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {taskFail("Boom", "bad")}},
			wantErr:    &Error{Name: "Boom", Cause: "bad"},
			wantTimers: []time.Duration{time.Second, 2 * time.Second, 4 * time.Second},
		},
		{
			// Complex retry scenarios: "A retrier's parameters apply across all visits to the retrier in
			// the context of a single-state execution. ... This task fails four times in succession,
			// outputting these error names: ErrorA, ErrorB, ErrorC, and ErrorB. ... The first two errors
			// match the first retrier and cause waits of one and two seconds. The third error matches
			// the second retrier and causes a wait of five seconds. The fourth error also matches the
			// first retrier. However, it already reached its maximum of two retries (MaxAttempts) for
			// that particular error. Therefore, that retrier fails and the execution redirects the
			// workflow to the Z state through the Catch field."
			name: "complex retry scenario", doc: doc + "#error-handling-complex-retry-scenarios",
			def: `{"StartAt": "X", "States": {
			  "X": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:X", "Next": "Y",
			    "Retry": [{"ErrorEquals": ["ErrorA", "ErrorB"], "IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 2},
			              {"ErrorEquals": ["ErrorC"], "IntervalSeconds": 5}],
			    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Z"}]},
			  "Y": {"Type": "Succeed"},
			  "Z": {"Type": "Pass", "End": true}}}`,
			input:      `{}`,
			tasks:      map[string][]reply{"X": {taskFail("ErrorA", "a"), taskFail("ErrorB", "b"), taskFail("ErrorC", "c"), taskFail("ErrorB", "b2"), taskOK(`"unexpected fifth attempt"`)}},
			wantOutput: `{"Error": "ErrorB", "Cause": "b2"}`,
			wantTimers: []time.Duration{time.Second, 2 * time.Second, 5 * time.Second},
		},
		{
			// A variant of the same rule that the interpreter already gets right: an error of the second
			// retrier does not use up the first retrier's attempts.
			name: "retriers count attempts separately", doc: doc + "#error-handling-complex-retry-scenarios",
			def: `{"StartAt": "X", "States": {"X": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:X", "End": true,
			  "Retry": [{"ErrorEquals": ["ErrorA"], "MaxAttempts": 1}, {"ErrorEquals": ["ErrorC"], "MaxAttempts": 1}]}}}`,
			input:      `{}`,
			tasks:      map[string][]reply{"X": {taskFail("ErrorA", ""), taskFail("ErrorC", ""), taskOK(`"done"`)}},
			wantOutput: `"done"`,
		},
		{
			// "Handling a failure using Retry": "The function is retried twice with an exponential
			// backoff between retries."
			name: "retry a Lambda error twice", doc: doc + "#error-handling-handling-failure-using-retry",
			def:        hw("FailFunction", `"Retry": [{"ErrorEquals": ["HandledError"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {taskFail("HandledError", "error")}},
			wantErr:    &Error{Name: "HandledError", Cause: "error"},
			wantTimers: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			// "This variant uses the predefined error code States.TaskFailed, which matches any error
			// that a Lambda function outputs."
			name: "retry States.TaskFailed", doc: doc + "#error-handling-handling-failure-using-retry",
			def:        hw("FailFunction", `"Retry": [{"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {taskFail("Error", "error")}},
			wantErr:    &Error{Name: "Error", Cause: "error"},
			wantTimers: []time.Duration{time.Second, 2 * time.Second},
		},
		{
			// "Handling a failure using Catch": "When a Lambda function outputs an error, the error is
			// caught and the state machine transitions to the fallback state."
			name: "catch a Lambda error", doc: doc + "#error-handling-handling-failure-using-catch",
			def:        hw("FailFunction", `"Catch": [{"ErrorEquals": ["HandledError"], "Next": "fallback"}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {taskFail("HandledError", "error")}},
			wantOutput: hello,
		},
		{
			name: "catch States.TaskFailed", doc: doc + "#error-handling-handling-failure-using-catch",
			def:        hw("FailFunction", `"Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "fallback"}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {taskFail("Lambda.Unknown", "out of memory")}},
			wantOutput: hello,
		},
		{
			// "Handling a timeout using Retry": "retry a Task state that times out based on the timeout
			// value specified in TimeoutSeconds ... retried twice with an exponential backoff".
			name: "retry a timeout", doc: doc + "#error-handling-handling-timeout-using-retry",
			def: hw("sleep10", `"TimeoutSeconds": 2,
			  "Retry": [{"ErrorEquals": ["States.Timeout"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 2.0}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {timeout}},
			wantErr:    timeout.err,
			wantTimers: []time.Duration{time.Second, 2 * time.Second},
			check: func(t *testing.T, _ *driver, calls []taskCall) {
				for _, c := range calls {
					if c.timeout != 2 {
						t.Errorf("got task TimeoutSeconds %d, want 2", c.timeout)
					}
				}
			},
		},
		{
			name: "catch a timeout", doc: doc + "#error-handling-handling-timeout-using-catch",
			def:        hw("sleep10", `"TimeoutSeconds": 2, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "fallback"}],`),
			input:      `{}`,
			tasks:      map[string][]reply{"HelloWorld": {timeout}},
			wantOutput: hello,
		},
		{
			// "States.TaskFailed ... acts as a wildcard that matches any known error name except for
			// States.Timeout."
			name: "States.TaskFailed does not catch a timeout", doc: doc + "#error-handling-error-representation",
			def:     hw("sleep10", `"TimeoutSeconds": 2, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "fallback"}],`),
			input:   `{}`,
			tasks:   map[string][]reply{"HelloWorld": {timeout}},
			wantErr: timeout.err,
		},
		{
			// Fallback states: "for the first catcher the error output is added to the input as a field
			// named error-info ... Then, the entire input is sent to RecoveryState."
			name: "catcher with ResultPath keeps the input", doc: doc + "#error-handling-fallback-states",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
			  "Catch": [{"ErrorEquals": ["java.lang.Exception"], "ResultPath": "$.error-info", "Next": "RecoveryState"},
			            {"ErrorEquals": ["States.ALL"], "Next": "EndState"}], "End": true},
			  "RecoveryState": {"Type": "Pass", "End": true}, "EndState": {"Type": "Pass", "End": true}}}`,
			input:      `{"order": 1}`,
			tasks:      map[string][]reply{"T": {taskFail("java.lang.Exception", "boom")}},
			wantOutput: `{"order": 1, "error-info": {"Error": "java.lang.Exception", "Cause": "boom"}}`,
		},
		{
			// Same example: "For the second catcher, the error output overwrites the input and only the
			// error output is sent to EndState."
			name: "catcher without ResultPath sends only the error", doc: doc + "#error-handling-fallback-states",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
			  "Catch": [{"ErrorEquals": ["java.lang.Exception"], "ResultPath": "$.error-info", "Next": "RecoveryState"},
			            {"ErrorEquals": ["States.ALL"], "Next": "EndState"}], "End": true},
			  "RecoveryState": {"Type": "Pass", "End": true}, "EndState": {"Type": "Pass", "End": true}}}`,
			input:      `{"order": 1}`,
			tasks:      map[string][]reply{"T": {taskFail("Other", "boom")}},
			wantOutput: `{"Error": "Other", "Cause": "boom"}`,
		},
		{
			// "Cause payloads and service integrations": "The following example of a Pass state with
			// intrinsic functions shows how to convert a Cause string to JSON."
			name: "convert a caught Cause to JSON", doc: doc + "#error-handling-integrations-json",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:states:::codebuild:startBuild.sync",
			  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handle escaped JSON with JSONtoString"}], "End": true},
			  "Handle escaped JSON with JSONtoString": {"Type": "Pass", "Parameters": {"Cause.$": "States.StringToJson($.Cause)"}, "End": true}}}`,
			input:      `{}`,
			tasks:      map[string][]reply{"T": {taskFail("States.TaskFailed", `{"Build": {"BuildStatus": "FAILED"}}`)}},
			wantOutput: `{"Cause": {"Build": {"BuildStatus": "FAILED"}}}`,
		},
		{
			// "States.Runtime ... A States.Runtime error is not retriable, and will always cause the
			// execution to fail. A retry or catch on States.ALL will not catch States.Runtime errors."
			name: "States.ALL does not catch States.Runtime", doc: doc + "#error-handling-error-representation",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
			  "OutputPath": "$.missing", "Retry": [{"ErrorEquals": ["States.ALL"]}], "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Never"}], "End": true},
			  "Never": {"Type": "Succeed"}}}`,
			input:         `{}`,
			tasks:         map[string][]reply{"T": {taskOK(`{"a": 1}`)}},
			wantErr:       &Error{Name: ErrRuntime, Cause: "Invalid path '$.missing' : No results for path: $['missing']"},
			causeContains: true,
			wantTimers:    []time.Duration{},
		},
		{
			// Retrier fields, MaxDelaySeconds: caps the interval that BackoffRate grows. (The guide's
			// wording could not be retrieved here; the CDK's RetryProps.maxDelay, which renders this
			// field: "Maximum limit on retry interval growth during exponential backoff.")
			name: "MaxDelaySeconds caps the backoff", doc: doc + "#error-handling-retrying-after-an-error",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true,
			  "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "BackoffRate": 2, "MaxAttempts": 6, "MaxDelaySeconds": 10}]}}}`,
			input:      `{}`,
			tasks:      map[string][]reply{"T": {taskFail("E", "")}},
			wantErr:    &Error{Name: "E"},
			wantTimers: []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 10 * time.Second, 10 * time.Second},
		},
		{
			// Retrier fields, JitterStrategy FULL (CDK's JitterType, which renders this field: "Calculates
			// the delay to be a random number between 0 and the computed backoff for the given retry
			// attempt count"), with the backoff capped by MaxDelaySeconds.
			name: "full jitter stays within the backoff", doc: doc + "#error-handling-retrying-after-an-error",
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true,
			  "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 5, "MaxDelaySeconds": 20, "JitterStrategy": "FULL"}]}}}`,
			input:   `{}`,
			tasks:   map[string][]reply{"T": {taskFail("E", "")}},
			wantErr: &Error{Name: "E"},
			check: func(t *testing.T, d *driver, _ []taskCall) {
				caps := []time.Duration{2 * time.Second, 6 * time.Second, 18 * time.Second, 20 * time.Second, 20 * time.Second}
				if len(d.timers) != len(caps) {
					t.Fatalf("got %d retries, want %d", len(d.timers), len(caps))
				}
				same := true
				for i, got := range d.timers {
					if got < 0 || got > caps[i] {
						t.Errorf("retry %d waited %v, want within [0, %v]", i+1, got, caps[i])
					}
					same = same && got == caps[i]
				}
				if same {
					t.Errorf("got delays %v: no jitter at all", d.timers)
				}
			},
		},
	})
}

// Intrinsic functions for JSONPath states (intrinsic-functions).
func TestConformance_Intrinsics(t *testing.T) {
	const doc = "intrinsic-functions.html"
	nine := `{"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9]}`
	runConformance(t, []confCase{
		{
			// "States.Format('Hello, my name is {}.', $.name) or States.Format($.template, $.name) Both
			// result in an output of Hello, my name is Arnav."
			name: "States.Format", doc: doc + "#asl-intrsc-func-generic",
			def:        passParams(`{"a.$": "States.Format('Hello, my name is {}.', $.name)", "b.$": "States.Format($.template, $.name)"}`),
			input:      `{"name": "Arnav", "template": "Hello, my name is {}."}`,
			wantOutput: `{"a": "Hello, my name is Arnav.", "b": "Hello, my name is Arnav."}`,
		},
		{
			// Reserved characters: "The literal string \' represents '." (\\' in JSON).
			name: "escaped quote in a literal", doc: doc + "#amazon-states-language-intrinsic-functions-escapes",
			def:        passParams(`{"a.$": "States.Format('It\\'s {}', $.name)"}`),
			input:      `{"name": "Arnav"}`,
			wantOutput: `{"a": "It's Arnav"}`,
		},
		{
			// "States.StringToJson($.escapedJsonString) Which would return { "foo": "bar" }"
			name: "States.StringToJson", doc: doc + "#asl-intrsc-func-json-manipulate",
			def:        passParams(`{"v.$": "States.StringToJson($.escapedJsonString)"}`),
			input:      `{"escapedJsonString": "{\"foo\": \"bar\"}"}`,
			wantOutput: `{"v": {"foo": "bar"}}`,
		},
		{
			// "States.JsonToString($.unescapedJson) Which would return {\"foo\":\"bar\"}"
			name: "States.JsonToString", doc: doc + "#asl-intrsc-func-json-manipulate",
			def:        passParams(`{"v.$": "States.JsonToString($.unescapedJson)"}`),
			input:      `{"unescapedJson": {"foo": "bar"}}`,
			wantOutput: `{"v": "{\"foo\":\"bar\"}"}`,
		},
		{
			// "foo.$": "States.Array('Foo', 2020, $.someJson, null)" -> {"foo": ["Foo", 2020,
			// {"random": "abcdefg"}, null]}
			name: "States.Array", doc: doc + "#asl-intrsc-func-arrays",
			def:        passParams(`{"foo.$": "States.Array('Foo', 2020, $.someJson, null)"}`),
			input:      `{"someJson": {"random": "abcdefg"}, "zebra": "stripe"}`,
			wantOutput: `{"foo": ["Foo", 2020, {"random": "abcdefg"}, null]}`,
		},
		{
			// "States.ArrayPartition($.inputArray,4)" -> {"inputArray": [[1,2,3,4], [5,6,7,8], [9]]}
			name: "States.ArrayPartition", doc: doc + "#asl-intrsc-func-arrays",
			def: passParams(`{"inputArray.$": "States.ArrayPartition($.inputArray,4)"}`), input: nine,
			wantOutput: `{"inputArray": [[1, 2, 3, 4], [5, 6, 7, 8], [9]]}`,
		},
		{
			// "States.ArrayContains($.inputArray, $.lookingFor)" with lookingFor 5 -> true
			name: "States.ArrayContains", doc: doc + "#asl-intrsc-func-arrays",
			def:        passParams(`{"contains.$": "States.ArrayContains($.inputArray, $.lookingFor)"}`),
			input:      `{"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "lookingFor": 5}`,
			wantOutput: `{"contains": true}`,
		},
		{
			// "States.ArrayRange(1, 9, 2)" -> {"array": [1,3,5,7,9]}
			name: "States.ArrayRange", doc: doc + "#asl-intrsc-func-arrays",
			def: passParams(`{"array.$": "States.ArrayRange(1, 9, 2)"}`), input: `{}`,
			wantOutput: `{"array": [1, 3, 5, 7, 9]}`,
		},
		{
			// "States.ArrayGetItem($.inputArray, $.index)" with index 5 -> 6
			name: "States.ArrayGetItem", doc: doc + "#asl-intrsc-func-arrays",
			def:        passParams(`{"item.$": "States.ArrayGetItem($.inputArray, $.index)"}`),
			input:      `{"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}`,
			wantOutput: `{"item": 6}`,
		},
		{
			// "States.ArrayLength($.inputArray)" -> 9
			name: "States.ArrayLength", doc: doc + "#asl-intrsc-func-arrays",
			def: passParams(`{"length.$": "States.ArrayLength($.inputArray)"}`), input: nine,
			wantOutput: `{"length": 9}`,
		},
		{
			// "States.ArrayUnique($.inputArray)" on [1,2,3,3,3,3,3,3,4] -> [1,2,3,4]
			name: "States.ArrayUnique", doc: doc + "#asl-intrsc-func-arrays",
			def: passParams(`{"unique.$": "States.ArrayUnique($.inputArray)"}`), input: `{"inputArray": [1, 2, 3, 3, 3, 3, 3, 3, 4]}`,
			wantOutput: `{"unique": [1, 2, 3, 4]}`,
		},
		{
			// "States.Base64Encode($.input)" on "Data to encode" -> "RGF0YSB0byBlbmNvZGU="
			name: "States.Base64Encode", doc: doc + "#asl-intrsc-func-data-encode-decode",
			def: passParams(`{"base64.$": "States.Base64Encode($.input)"}`), input: `{"input": "Data to encode"}`,
			wantOutput: `{"base64": "RGF0YSB0byBlbmNvZGU="}`,
		},
		{
			// "States.Base64Decode($.base64)" -> "Data to encode"
			name: "States.Base64Decode", doc: doc + "#asl-intrsc-func-data-encode-decode",
			def: passParams(`{"data.$": "States.Base64Decode($.base64)"}`), input: `{"base64": "RGF0YSB0byBlbmNvZGU="}`,
			wantOutput: `{"data": "Data to encode"}`,
		},
		{
			// "States.Hash($.Data, $.Algorithm)" with "input data" and SHA-1 ->
			// "aaff4a450a104cd177d28d18d74485e8cae074b7"
			name: "States.Hash", doc: doc + "#asl-intrsc-func-uuid-generate",
			def: passParams(`{"output.$": "States.Hash($.Data, $.Algorithm)"}`), input: `{"Data": "input data", "Algorithm": "SHA-1"}`,
			wantOutput: `{"output": "aaff4a450a104cd177d28d18d74485e8cae074b7"}`,
		},
		{
			// "States.JsonMerge($.json1, $.json2, false)" -> {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}
			name: "States.JsonMerge", doc: doc + "#asl-intrsc-func-json-manipulate",
			def:        passParams(`{"output.$": "States.JsonMerge($.json1, $.json2, false)"}`),
			input:      `{"json1": {"a": {"a1": 1, "a2": 2}, "b": 2}, "json2": {"a": {"a3": 1, "a4": 2}, "c": 3}}`,
			wantOutput: `{"output": {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3}}`,
		},
		{
			// "States.MathAdd($.value1, $.step)" with 111 and -1 -> 110
			name: "States.MathAdd", doc: doc + "#asl-intrsc-func-math-operation",
			def: passParams(`{"value1.$": "States.MathAdd($.value1, $.step)"}`), input: `{"value1": 111, "step": -1}`,
			wantOutput: `{"value1": 110}`,
		},
		{
			// "States.MathRandom($.start, $.end)": "a random number between the specified start and end
			// number" — the start is inclusive, the end exclusive.
			name: "States.MathRandom", doc: doc + "#asl-intrsc-func-math-operation",
			def: passParams(`{"random.$": "States.MathRandom($.start, $.end)"}`), input: `{"start": 1, "end": 999}`,
			check: func(t *testing.T, d *driver, _ []taskCall) {
				out := Encode(d.x.Output)
				var n int
				if _, err := fmt.Sscanf(out, `{"random":%d}`, &n); err != nil || n < 1 || n >= 999 {
					t.Errorf("got %s, want an integer in [1, 999)", out)
				}
			},
		},
		{
			// "States.StringSplit($.inputString, $.splitter)": "1,2,3,4,5" on "," ->
			// ["1","2","3","4","5"]; "This.is+a,test=string" on ".+,=" -> ["This","is","a","test","string"]
			name: "States.StringSplit", doc: doc + "#asl-intrsc-func-string-operation",
			def: passParams(`{"a.$": "States.StringSplit($.one.inputString, $.one.splitter)", "b.$": "States.StringSplit($.two.inputString, $.two.splitter)"}`),
			input: `{"one": {"inputString": "1,2,3,4,5", "splitter": ","},
			  "two": {"inputString": "This.is+a,test=string", "splitter": ".+,="}}`,
			wantOutput: `{"a": ["1", "2", "3", "4", "5"], "b": ["This", "is", "a", "test", "string"]}`,
		},
		{
			// "States.UUID()" returns "a version 4 universally unique identifier (v4 UUID)".
			name: "States.UUID", doc: doc + "#asl-intrsc-func-uuid-generate",
			def: passParams(`{"uuid.$": "States.UUID()"}`), input: `{}`,
			check: func(t *testing.T, d *driver, _ []taskCall) {
				out := Encode(d.x.Output)
				if !regexp.MustCompile(`^\{"uuid":"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\}$`).MatchString(out) {
					t.Errorf("got %s, want a v4 UUID", out)
				}
			},
		},
	})
}

// Parallel workflow state (state-parallel) and the applicant-verification
// example of input-output-example.
func TestConformance_Parallel(t *testing.T) {
	runConformance(t, []confCase{
		{
			// "If the FunWithMath state was given the array [3, 2] as input, then both the Add and
			// Subtract states receive that array as input. ... the output of the Parallel state would be
			// an array. [ 5, 1 ]"
			name: "FunWithMath", doc: "state-parallel.html#amazon-states-language-parallel-state-output",
			def: `{"Comment": "Parallel Example.", "StartAt": "FunWithMath", "States": {"FunWithMath": {"Type": "Parallel", "End": true, "Branches": [
			  {"StartAt": "Add", "States": {"Add": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:Add", "End": true}}},
			  {"StartAt": "Subtract", "States": {"Subtract": {"Type": "Task", "Resource": "arn:aws:states:us-east-1:123456789012:activity:Subtract", "End": true}}}]}}}`,
			input:      `[3, 2]`,
			tasks:      map[string][]reply{"Add": {taskOK(`5`)}, "Subtract": {taskOK(`1`)}},
			wantCalls:  []string{`Add <- [3, 2]`, `Subtract <- [3, 2]`},
			wantOutput: `[5, 1]`,
		},
		{
			// "It generates output that is an array with one element for each branch" — in branch order,
			// even when a later branch finishes first.
			name: "output in branch order", doc: "state-parallel.html#amazon-states-language-parallel-state-output",
			def: `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
			  {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 5, "Next": "A"}, "A": {"Type": "Pass", "Result": "first", "End": true}}},
			  {"StartAt": "B", "States": {"B": {"Type": "Pass", "Result": "second", "End": true}}}]}}}`,
			input:      `{}`,
			wantOutput: `["first", "second"]`,
		},
		{
			// "The output array can be inserted into the input data (and the whole sent as the Parallel
			// state's output) by using a ResultPath field in the usual way".
			name: "ResultPath places the array", doc: "state-parallel.html#amazon-states-language-parallel-state-output",
			def: `{"StartAt": "LookupCustomerInfo", "States": {"LookupCustomerInfo": {"Type": "Parallel", "ResultPath": "$.info", "End": true, "Branches": [
			  {"StartAt": "LookupAddress", "States": {"LookupAddress": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:AddressFinder", "End": true}}},
			  {"StartAt": "LookupPhone", "States": {"LookupPhone": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:PhoneFinder", "End": true}}}]}}}`,
			input:      `{"customer": "c-1"}`,
			tasks:      map[string][]reply{"LookupAddress": {taskOK(`{"street": "123 Main St"}`)}, "LookupPhone": {taskOK(`"555-0100"`)}},
			wantOutput: `{"customer": "c-1", "info": [{"street": "123 Main St"}, "555-0100"]}`,
		},
		{
			// Error handling: "If any branch fails, because of an unhandled error or by transitioning to
			// a Fail state, the entire Parallel state is considered to have failed and all its branches
			// are stopped."
			name: "a failed branch fails the state", doc: "state-parallel.html#error-handling",
			def: `{"StartAt": "P", "States": {"P": {"Type": "Parallel", "Next": "Done",
			  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.err", "Next": "Done"}], "Branches": [
			  {"StartAt": "Slow", "States": {"Slow": {"Type": "Wait", "Seconds": 100, "End": true}}},
			  {"StartAt": "FailState", "States": {"FailState": {"Type": "Fail", "Cause": "Invalid response.", "Error": "ErrorA"}}}]},
			  "Done": {"Type": "Pass", "End": true}}}`,
			input:      `{"k": 1}`,
			wantOutput: `{"k": 1, "err": {"Error": "ErrorA", "Cause": "Invalid response."}}`,
			check: func(t *testing.T, d *driver, _ []taskCall) {
				for _, c := range d.commands {
					if c.Kind == Cancel && c.State == "Slow" {
						return
					}
				}
				t.Errorf("the waiting branch was not stopped")
			},
		},
		{
			// "Example to manipulate original state machine input, result, and final output using
			// JsonPath": each branch's InputPath picks the node its Lambda function verifies, the
			// Parallel state's ResultPath "$.results" stores the verification results and OutputPath
			// "$.results" keeps only them. (The guide gives "$.data.address" for both branches; the
			// identity branch reads $.data.identity.)
			name: "verify applicant", doc: "input-output-example.html",
			def: `{"Comment": "Sample state machine to verify an applicant's ID and address", "StartAt": "Verify info", "States": {
			  "Verify info": {"Type": "Parallel", "End": true, "ResultPath": "$.results", "OutputPath": "$.results", "Branches": [
			    {"StartAt": "Verify identity", "States": {"Verify identity": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			      "InputPath": "$.data.identity",
			      "Parameters": {"Payload.$": "$", "FunctionName": "arn:aws:lambda:us-east-2:111122223333:function:check-identity:$LATEST"}, "End": true}}},
			    {"StartAt": "Verify address", "States": {"Verify address": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
			      "InputPath": "$.data.address",
			      "Parameters": {"Payload.$": "$", "FunctionName": "arn:aws:lambda:us-east-2:111122223333:function:check-address:$LATEST"}, "End": true}}}]}}}`,
			input: `{"data": {"firstname": "Jane", "lastname": "Doe", "identity": {"email": "jdoe@example.com", "ssn": "123-45-6789"},
			  "address": {"street": "123 Main St", "city": "Columbus", "state": "OH", "zip": "43219"},
			  "interests": [{"category": "home", "type": "own", "yearBuilt": 2004}]}}`,
			tasks: map[string][]reply{
				"Verify identity": {taskOK(`{"StatusCode": 200, "Payload": {"approved": true, "message": "identity validation passed"}}`)},
				"Verify address":  {taskOK(`{"StatusCode": 200, "Payload": {"approved": true, "message": "address validation passed"}}`)},
			},
			wantCalls: []string{
				`Verify identity <- {"Payload": {"email": "jdoe@example.com", "ssn": "123-45-6789"}, "FunctionName": "arn:aws:lambda:us-east-2:111122223333:function:check-identity:$LATEST"}`,
				`Verify address <- {"Payload": {"street": "123 Main St", "city": "Columbus", "state": "OH", "zip": "43219"}, "FunctionName": "arn:aws:lambda:us-east-2:111122223333:function:check-address:$LATEST"}`,
			},
			wantOutput: `[{"StatusCode": 200, "Payload": {"approved": true, "message": "identity validation passed"}},
			  {"StatusCode": 200, "Payload": {"approved": true, "message": "address validation passed"}}]`,
		},
	})
}

const shipInput = `{"ship-date": "2016-03-14T01:59:00Z", "detail": {"delivery-partner": "UQS", "shipped": [
  {"prod": "R31", "dest-code": 9511, "quantity": 1344},
  {"prod": "S39", "dest-code": 9511, "quantity": 40},
  {"prod": "R31", "dest-code": 9833, "quantity": 12},
  {"prod": "R40", "dest-code": 9860, "quantity": 887},
  {"prod": "R40", "dest-code": 9511, "quantity": 1220}]}}`

var shipItems = []string{
	`{"prod": "R31", "dest-code": 9511, "quantity": 1344}`,
	`{"prod": "S39", "dest-code": 9511, "quantity": 40}`,
	`{"prod": "R31", "dest-code": 9833, "quantity": 12}`,
	`{"prod": "R40", "dest-code": 9860, "quantity": 887}`,
	`{"prod": "R40", "dest-code": 9511, "quantity": 1220}`,
}

var shipVal = map[string][]reply{"Validate": {taskOK(`"ok-0"`), taskOK(`"ok-1"`), taskOK(`"ok-2"`), taskOK(`"ok-3"`), taskOK(`"ok-4"`)}}

const shipOutput = `{"ship-date": "2016-03-14T01:59:00Z", "detail": {"delivery-partner": "UQS",
  "shipped": ["ok-0", "ok-1", "ok-2", "ok-3", "ok-4"]}}`

// Map workflow state (state-map, state-map-inline, state-map-distributed,
// input-output-itemselector, input-output-itembatcher).
func TestConformance_Map(t *testing.T) {
	validateAll := func(selector string) string {
		return `{"StartAt": "Validate-All", "States": {"Validate-All": {"Type": "Map", "InputPath": "$.detail", "ItemsPath": "$.shipped",
		  "MaxConcurrency": 0, ` + selector + ` "Iterator": {"StartAt": "Validate", "States": {"Validate": {"Type": "Task",
		  "Resource": "arn:aws:lambda:us-east-1:123456789012:function:ship-val", "End": true}}}, "ResultPath": "$.detail.shipped", "End": true}}}`
	}
	var itemCalls, parcelCalls []string
	for _, it := range shipItems {
		itemCalls = append(itemCalls, "Validate <- "+it)
		parcelCalls = append(parcelCalls, `Validate <- {"parcel": `+it+`, "courier": "UQS"}`)
	}
	distributed := func(fields string) string {
		return `{"StartAt": "M", "States": {"M": {"Type": "Map", ` + fields + `
		  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "T",
		    "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true}}}, "End": true}}}`
	}
	// Ten items, of which the first failN fail.
	tenItems := `[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]`
	failFirst := func(failN int) map[string][]reply {
		var rs []reply
		for i := 0; i < 10; i++ {
			if i < failN {
				rs = append(rs, taskFail("ItemFailed", fmt.Sprint(i)))
			} else {
				rs = append(rs, taskEcho)
			}
		}
		return map[string][]reply{"T": rs}
	}
	facts := `[{"verdict": "true", "statement_date": "6/11/2008", "statement_source": "speech"},
	  {"verdict": "false", "statement_date": "6/7/2022", "statement_source": "television"},
	  {"verdict": "true", "statement_date": "5/18/2016", "statement_source": "news"}]`
	runConformance(t, []confCase{
		{
			// Map state example: "Each iteration of the Map state will send an item in the array
			// (selected with the ItemsPath field) as input to the Lambda function." ... "the ResultPath
			// field produces output the same as the input, but with the detail.shipped field overwritten
			// by an array in which each element is the output of the ship-val Lambda function".
			name: "Validate-All", doc: "state-map-inline.html",
			def: validateAll(""), input: shipInput, tasks: shipVal,
			wantCalls: itemCalls, wantOutput: shipOutput,
		},
		{
			// Map state example with Parameters: "The following is an example of input to a single
			// iteration, that is passed to an invocation of the ship-val Lambda function.
			// {"parcel": {"prod": "R31", "dest-code": 9511, "quantity": 1344}, "courier": "UQS"}"
			name: "Validate-All with Parameters", doc: "state-map-inline.html",
			def:   validateAll(`"Parameters": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},`),
			input: shipInput, tasks: shipVal,
			wantCalls: parcelCalls, wantOutput: shipOutput,
		},
		{
			// ItemSelector (Map): the same example with the field's current name.
			name: "Validate-All with ItemSelector", doc: "input-output-itemselector.html",
			def:   validateAll(`"ItemSelector": {"parcel.$": "$$.Map.Item.Value", "courier.$": "$.delivery-partner"},`),
			input: shipInput, tasks: shipVal,
			wantCalls: parcelCalls, wantOutput: shipOutput,
		},
		{
			// ItemsPath: "The following state machine definition specifies the ThingsPiratesSay array in
			// the input using ItemsPath, and will run an iteration of the SayWord pass state for each
			// item in the ThingsPiratesSay array."
			name: "ItemsPath PiratesSay", doc: "input-output-itemspath.html",
			def: `{"StartAt": "PiratesSay", "States": {"PiratesSay": {"Type": "Map", "ItemsPath": "$.ThingsPiratesSay",
			  "ItemProcessor": {"StartAt": "SayWord", "States": {"SayWord": {"Type": "Pass", "End": true}}}, "End": true}}}`,
			input: `{"ThingsPiratesSay": [{"say": "Avast!"}, {"say": "Yar!"}, {"say": "Walk the Plank!"}],
			  "ThingsGiantsSay": [{"say": "Fee!"}, {"say": "Fi!"}, {"say": "Fo!"}, {"say": "Fum!"}]}`,
			wantOutput: `[{"say": "Avast!"}, {"say": "Yar!"}, {"say": "Walk the Plank!"}]`,
		},
		{
			// "A MaxConcurrency value of 1 invokes the ItemProcessor once for each array element in the
			// order of their appearance in the input, and will not start a new iteration until the
			// previous has completed."
			name: "MaxConcurrency 1 runs items one at a time in order", doc: "state-map-inline.html",
			def: `{"StartAt": "M", "States": {"M": {"Type": "Map", "MaxConcurrency": 1,
			  "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true}}}, "End": true}}}`,
			input:      `["a", "b", "c"]`,
			wantCalls:  []string{`T <- "a"`, `T <- "b"`, `T <- "c"`},
			wantOutput: `["a", "b", "c"]`,
			check: func(t *testing.T, d *driver, _ []taskCall) {
				if n := mapInFlight(d); n != 1 {
					t.Errorf("got %d iterations in flight at once, want 1", n)
				}
			},
		},
		{
			// "The default value is 0, which places no quota on parallelism and iterations are invoked as
			// concurrently as possible."
			name: "MaxConcurrency 0 runs all items at once", doc: "state-map-inline.html",
			def: `{"StartAt": "M", "States": {"M": {"Type": "Map",
			  "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true}}}, "End": true}}}`,
			input:      `["a", "b", "c"]`,
			wantOutput: `["a", "b", "c"]`,
			check: func(t *testing.T, d *driver, _ []taskCall) {
				if n := mapInFlight(d); n != 3 {
					t.Errorf("got %d iterations in flight at once, want 3", n)
				}
			},
		},
		{
			// "If any iteration fails, entire Map state fails, and all iterations are terminated."
			name: "a failed iteration fails the Map", doc: "state-map-inline.html",
			def: `{"StartAt": "M", "States": {"M": {"Type": "Map", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
			  "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true}}}, "End": true},
			  "Caught": {"Type": "Pass", "End": true}}}`,
			input:      `["a", "b", "c"]`,
			tasks:      map[string][]reply{"T": {taskEcho, taskFail("Bad", "item b")}},
			wantOutput: `{"Error": "Bad", "Cause": "item b"}`,
			check: func(t *testing.T, d *driver, calls []taskCall) {
				if len(calls) != 2 {
					t.Errorf("got %d task runs, want 2 (the third iteration is terminated)", len(calls))
				}
			},
		},
		{
			// "If you define Retriers for the Map state, the retry policy applies to all the Map state
			// iterations instead of only the failed iterations."
			name: "Map Retry reruns every iteration", doc: "state-map-inline.html",
			def: `{"StartAt": "M", "States": {"M": {"Type": "Map", "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}],
			  "ItemProcessor": {"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true}}}, "End": true}}}`,
			input:      `["a", "b"]`,
			tasks:      map[string][]reply{"T": {taskEcho, taskFail("Flaky", ""), taskEcho}},
			wantCalls:  []string{`T <- "a"`, `T <- "b"`, `T <- "a"`, `T <- "b"`},
			wantOutput: `["a", "b"]`,
		},
		{
			// Distributed Map failure threshold. ToleratedFailureCount is "the maximum number of failed
			// items before the Map Run fails" (API_UpdateMapRun's wording for the same setting): two of
			// ten fail, two tolerated.
			name: "ToleratedFailureCount not exceeded", doc: "state-map-distributed.html#maprun-fail-threshold",
			def: distributed(`"ToleratedFailureCount": 2,`), input: tenItems, tasks: failFirst(2),
			check: func(t *testing.T, d *driver, _ []taskCall) {
				if d.x.Status != Succeeded {
					t.Errorf("got %s %v, want SUCCEEDED", d.x.Status, d.x.Err)
				}
			},
		},
		{
			// Same section: three of ten fail, two tolerated: "States.ExceedToleratedFailureThreshold".
			name: "ToleratedFailureCount exceeded", doc: "state-map-distributed.html#maprun-fail-threshold",
			def: distributed(`"ToleratedFailureCount": 2,`), input: tenItems, tasks: failFirst(3),
			wantErr: &Error{Name: ErrExceedToleratedFailureThresh, Cause: "The specified tolerated failure threshold was exceeded"},
		},
		{
			// ToleratedFailurePercentage: "The maximum percentage of failed items before the Map Run
			// fails" (API_UpdateMapRun): 2 of 10 failed is 20%, within 20%.
			name: "ToleratedFailurePercentage not exceeded", doc: "state-map-distributed.html#maprun-fail-threshold",
			def: distributed(`"ToleratedFailurePercentage": 20,`), input: tenItems, tasks: failFirst(2),
			check: func(t *testing.T, d *driver, _ []taskCall) {
				if d.x.Status != Succeeded {
					t.Errorf("got %s %v, want SUCCEEDED", d.x.Status, d.x.Err)
				}
			},
		},
		{
			// 3 of 10 is 30%, over 20%.
			name: "ToleratedFailurePercentage exceeded", doc: "state-map-distributed.html#maprun-fail-threshold",
			def: distributed(`"ToleratedFailurePercentage": 20,`), input: tenItems, tasks: failFirst(3),
			wantErr: &Error{Name: ErrExceedToleratedFailureThresh, Cause: "The specified tolerated failure threshold was exceeded"},
		},
		{
			// Both thresholds: the Map Run fails when either is exceeded (3 failures > count 2, though
			// 30% is within 50%). The guide's text for this case could not be retrieved here; two other
			// ASL implementations (floe; an independent Go emulator, failureThresholdExceeded) treat the
			// thresholds as "either".
			name: "either threshold fails the Map Run", doc: "state-map-distributed.html#maprun-fail-threshold",
			def: distributed(`"ToleratedFailureCount": 2, "ToleratedFailurePercentage": 50,`), input: tenItems, tasks: failFirst(3),
			wantErr: &Error{Name: ErrExceedToleratedFailureThresh, Cause: "The specified tolerated failure threshold was exceeded"},
		},
		{
			// Without ToleratedFailure* fields the threshold is zero: in DISTRIBUTED mode one failed
			// child workflow fails the Map Run, and the Map state fails with
			// States.ExceedToleratedFailureThreshold, not with the child's own error. (Paraphrase: the
			// page's text could not be retrieved here; an independent Go emulator applies the same rule
			// to every DISTRIBUTED Map, set thresholds or not.)
			name: "distributed default threshold is zero", doc: "state-map-distributed.html#maprun-fail-threshold",
			def: distributed(``), input: tenItems, tasks: failFirst(1),
			wantErr: &Error{Name: ErrExceedToleratedFailureThresh, Cause: "The specified tolerated failure threshold was exceeded"},
		},
		{
			// ItemBatcher: "If you use batching, Step Functions adds the items to an Items array. It then
			// passes the array as input to each child workflow execution." ... BatchInput: "The following
			// example shows ... {"BatchInput": {"factCheck": "TRUE"}, "Items": [...]}"
			name: "ItemBatcher with BatchInput", doc: "input-output-itembatcher.html",
			def: distributed(`"ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"factCheck": "TRUE"}},`), input: facts,
			wantCalls: []string{
				`T <- {"BatchInput": {"factCheck": "TRUE"}, "Items": [{"verdict": "true", "statement_date": "6/11/2008", "statement_source": "speech"},
				  {"verdict": "false", "statement_date": "6/7/2022", "statement_source": "television"}]}`,
				`T <- {"BatchInput": {"factCheck": "TRUE"}, "Items": [{"verdict": "true", "statement_date": "5/18/2016", "statement_source": "news"}]}`,
			},
		},
		{
			// Same page, without BatchInput: each child receives only {"Items": [...]}.
			name: "ItemBatcher without BatchInput", doc: "input-output-itembatcher.html",
			def: distributed(`"ItemBatcher": {"MaxItemsPerBatch": 3},`), input: facts,
			wantCalls:  []string{`T <- {"Items": ` + facts + `}`},
			wantOutput: `[{"Items": ` + facts + `}]`,
		},
		{
			// Processing order in a Distributed Map: ItemsPath, then ItemSelector on each item, then
			// ItemBatcher groups the selected items.
			name: "ItemSelector applies before batching", doc: "input-output-itembatcher.html",
			def: distributed(`"ItemSelector": {"v.$": "$$.Map.Item.Value.verdict", "i.$": "$$.Map.Item.Index"},
			  "ItemBatcher": {"MaxItemsPerBatch": 2},`), input: facts,
			wantCalls: []string{`T <- {"Items": [{"v": "true", "i": 0}, {"v": "false", "i": 1}]}`, `T <- {"Items": [{"v": "true", "i": 2}]}`},
		},
		{
			// BatchInput with a path: not among the guide's examples, but BatchInput is a payload
			// template in other ASL implementations (floe's ItemBatcher uses PayloadTemplate) and in
			// published CDK definitions ("rcloneDestination.$": JsonPath.format(...)).
			name: "BatchInput with a path", doc: "input-output-itembatcher.html",
			def: `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.items",
			  "ItemBatcher": {"MaxItemsPerBatch": 5, "BatchInput": {"dest.$": "$.dest"}},
			  "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "T",
			    "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F", "End": true}}}, "End": true}}}`,
			input:     `{"items": [1, 2], "dest": "s3://bucket/out"}`,
			wantCalls: []string{`T <- {"BatchInput": {"dest": "s3://bucket/out"}, "Items": [1, 2]}`},
		},
	})
}

// The runtime errors the guide names (concepts-error-handling, "Error
// names"), with the causes AWS reports.
func TestConformance_RuntimeErrors(t *testing.T) {
	const doc = "concepts-error-handling.html#error-handling-error-representation"
	runConformance(t, []confCase{
		{
			// "States.Runtime ... Often these are caused by errors at runtime, such as attempting to
			// apply InputPath or OutputPath on a null JSON payload." A path that selects nothing fails
			// with Jayway's message (AWS: "Invalid path '$.Payload' : No results for path: $['Payload']").
			name: "InputPath selects nothing", doc: doc,
			def:           `{"StartAt": "P", "States": {"P": {"Type": "Pass", "InputPath": "$.missing", "End": true}}}`,
			input:         `{"a": 1}`,
			wantErr:       &Error{Name: ErrRuntime, Cause: "Invalid path '$.missing' : No results for path: $['missing']"},
			causeContains: true,
		},
		{
			name: "OutputPath selects nothing", doc: doc,
			def:           lambdaTask("T", `"OutputPath": "$.Payload",`),
			input:         `{}`,
			tasks:         map[string][]reply{"T": {taskOK(`{"ExecutedVersion": "$LATEST", "StatusCode": 200}`)}},
			wantErr:       &Error{Name: ErrRuntime, Cause: "Invalid path '$.Payload' : No results for path: $['Payload']"},
			causeContains: true,
		},
		{
			// The full cause AWS reports names the state and the event that entered it, e.g. "An error
			// occurred while executing the state 'AggregateIdentityResults' (entered at the event id
			// #13). Invalid path '$.Payload' : No results for path: $['Payload']" (an execution's
			// ExecutionFailed event quoted in a public write-up; the guide shows no cause text).
			name: "cause names the state", doc: doc,
			def:     lambdaTask("AggregateIdentityResults", `"OutputPath": "$.Payload",`),
			input:   `{}`,
			tasks:   map[string][]reply{"AggregateIdentityResults": {taskOK(`{"ExecutedVersion": "$LATEST", "StatusCode": 200}`)}},
			wantErr: &Error{Name: ErrRuntime, Cause: "An error occurred while executing the state 'AggregateIdentityResults' (entered at the event id #2). Invalid path '$.Payload' : No results for path: $['Payload']"},
		},
		{
			// "States.ResultPathMatchFailure: A state's ResultPath field cannot be applied to the input
			// the state received." (Here the input is a string.)
			name: "ResultPath on a non-object input", doc: doc,
			def:           `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.x", "End": true}}}`,
			input:         `"hello"`,
			wantErr:       &Error{Name: ErrResultPathMatchFailure},
			causeContains: true,
		},
		{
			// A ResultPath that steps into a string field. AWS reports this as
			// States.ReferencePathConflict ("Unable to apply step ..."), a name not in the guide's list.
			name: "ResultPath through a scalar field", doc: doc,
			def:           `{"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": 1, "ResultPath": "$.a.b", "End": true}}}`,
			input:         `{"a": "str"}`,
			wantErr:       &Error{Name: ErrReferencePathConflict, Cause: `Unable to apply step "b" to input`},
			causeContains: true,
		},
		{
			// An ItemsPath that selects nothing. Not in the guide; an AWS user's troubleshooting notes
			// quote the cause for ItemsPath "$.discovery.objects": "States.ReferencePathConflict: Unable
			// to apply step "objects" to input {"discovery":{"statusCode":500,"body":"..."}}" — the
			// whole state input, not the node the step was applied to.
			name: "ItemsPath selects nothing", doc: doc,
			def: `{"StartAt": "M", "States": {"M": {"Type": "Map", "ItemsPath": "$.discovery.objects",
			  "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": true}}}, "End": true}}}`,
			input:   `{"discovery": {"statusCode": 500, "body": "..."}}`,
			wantErr: &Error{Name: ErrReferencePathConflict, Cause: `Unable to apply step "objects" to input {"discovery":{"statusCode":500,"body":"..."}}`},
			skip:    "bug (low confidence, cause text only): reference-path causes quote the node the step failed on, keys sorted ({\"body\":\"...\",\"statusCode\":500}), where AWS quotes the whole state input in its own key order",
		},
		{
			// "States.ALL: A wildcard that matches any known error name" — including
			// States.ResultPathMatchFailure, which is not a runtime error.
			name: "States.ALL catches ResultPathMatchFailure", doc: doc,
			def: `{"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:F",
			  "ResultPath": "$.x", "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "H"}], "End": true}, "H": {"Type": "Pass", "End": true}}}`,
			input: `"hello"`,
			check: func(t *testing.T, d *driver, _ []taskCall) {
				out, _ := d.x.Output.(map[string]any)
				if d.x.Status != Succeeded || out["Error"] != ErrResultPathMatchFailure {
					t.Errorf("got %s %v output %s, want the ResultPathMatchFailure caught", d.x.Status, d.x.Err, Encode(d.x.Output))
				}
			},
		},
		{
			// "States.ParameterPathFailure: This error occurs when within a state's Parameters field, an
			// attempt to replace a field whose name ends in .$ using a path fails." AWS itself reports
			// this as States.Runtime with the cause below; the interpreter follows AWS, not the list.
			name: "Parameters path selects nothing", doc: doc,
			def:           lambdaTask("T", `"Parameters": {"x.$": "$.missing"},`),
			input:         `{"a": 1}`,
			wantErr:       &Error{Name: ErrRuntime, Cause: `The JSONPath '$.missing' specified for the field 'x.$' could not be found in the input '{"a":1}'`},
			causeContains: true,
		},
		{
			// "States.IntrinsicFailure: This error occurs when the attempt to invoke an intrinsic function
			// within a payload template fails." AWS reports an out-of-range ArrayGetItem as
			// States.Runtime ("There was an error while evaluating the intrinsic function ...").
			name: "intrinsic failure", doc: doc,
			def:           passParams(`{"v.$": "States.ArrayGetItem($.a, 5)"}`),
			input:         `{"a": [1]}`,
			wantErr:       &Error{Name: ErrRuntime, Cause: "There was an error while evaluating the intrinsic function: States.ArrayGetItem($.a, 5)."},
			causeContains: true,
		},
	})
}
