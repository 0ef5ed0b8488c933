package states

import (
	"strings"
	"testing"
)

func TestTestState(t *testing.T) {
	lambda := `"Resource":"arn:aws:states:::lambda:invoke"`
	cases := []struct {
		name      string
		req       TestStateRequest
		status    string
		output    string
		next      string
		errName   string
		vars      string
		retryIdx  int
		catchIdx  int
		afterPara string
	}{
		{
			name: "pass with parameters and assign",
			req: TestStateRequest{Definition: []byte(`{"Type":"Pass","Parameters":{"v.$":"$.a","w.$":"$old"},"Assign":{"new.$":"$.v"},"ResultPath":"$.r","Next":"After"}`),
				Input: mustNumber(`{"a":1}`), Variables: map[string]any{"old": "o"}},
			status: TestSucceeded, output: `{"a":1,"r":{"v":1,"w":"o"}}`, next: "After", vars: `{"new":1,"old":"o"}`,
		},
		{
			name: "task with a mocked result",
			req: TestStateRequest{Definition: []byte(`{"Type":"Task",` + lambda + `,"Parameters":{"FunctionName":"f","Payload.$":"$"},"ResultSelector":{"p.$":"$.Payload"},"End":true}`),
				Input: mustNumber(`{"x":1}`), Mock: true, MockResult: mustNumber(`{"Payload":{"ok":true},"StatusCode":200}`)},
			status: TestSucceeded, output: `{"p":{"ok":true}}`, afterPara: `{"FunctionName":"f","Payload":{"x":1}}`,
		},
		{
			name: "task error is retriable",
			req: TestStateRequest{Definition: []byte(`{"Type":"Task",` + lambda + `,"Retry":[{"ErrorEquals":["Other"]},{"ErrorEquals":["Boom"],"IntervalSeconds":4}],"End":true}`),
				Input: mustNumber(`{}`), Mock: true, MockError: &Error{Name: "Boom", Cause: "c"}},
			status: TestRetriable, errName: "Boom", retryIdx: 1,
		},
		{
			name: "task error is caught",
			req: TestStateRequest{Definition: []byte(`{"Type":"Task",` + lambda + `,"Catch":[{"ErrorEquals":["Boom"],"ResultPath":"$.err","Next":"Handler"}],"End":true}`),
				Input: mustNumber(`{"k":1}`), Mock: true, MockError: &Error{Name: "Boom", Cause: "c"}},
			status: TestCaughtError, errName: "Boom", output: `{"k":1,"err":{"Error":"Boom","Cause":"c"}}`, next: "Handler", catchIdx: 0,
		},
		{
			name: "task runs through RunTask",
			req: TestStateRequest{Definition: []byte(`{"Type":"Task",` + lambda + `,"Arguments":{"FunctionName":"f","Payload":"{% $states.input %}"},"Output":"{% $states.result.Payload %}","QueryLanguage":"JSONata","End":true}`),
				Input: mustNumber(`{"x":2}`), RoleArn: "arn:aws:iam::000000000000:role/r", RunTask: func(c Command) (any, *Error) {
					return map[string]any{"Payload": c.Input.(map[string]any)["Payload"]}, nil
				}},
			status: TestSucceeded, output: `{"x":2}`,
		},
		{
			name:   "fail state",
			req:    TestStateRequest{Definition: []byte(`{"Type":"Fail","Error":"E","Cause":"C"}`), Input: mustNumber(`{}`)},
			status: TestFailed, errName: "E",
		},
		{
			name:   "choice picks the next state",
			req:    TestStateRequest{Definition: []byte(`{"Type":"Choice","Choices":[{"Variable":"$.n","NumericGreaterThan":1,"Next":"Big"}],"Default":"Small"}`), Input: mustNumber(`{"n":5}`)},
			status: TestSucceeded, output: `{"n":5}`, next: "Big",
		},
		{
			name:   "wait does not wait",
			req:    TestStateRequest{Definition: []byte(`{"Type":"Wait","Seconds":86400,"Next":"Later"}`), Input: mustNumber(`{"w":1}`)},
			status: TestSucceeded, output: `{"w":1}`, next: "Later",
		},
		{
			name: "map with a mocked result",
			req: TestStateRequest{Definition: []byte(`{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"ResultPath":"$.items","End":true}`),
				Input: mustNumber(`{"a":[1]}`), Mock: true, MockResult: mustNumber(`[9,9]`)},
			status: TestSucceeded, output: `{"a":[1],"items":[9,9]}`,
		},
		{
			name: "a state of a whole machine",
			req: TestStateRequest{Definition: []byte(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"},"B":{"Type":"Pass","Result":"b","End":true}}}`),
				StateName: "B", Input: mustNumber(`{}`)},
			status: TestSucceeded, output: `"b"`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := TestState(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status {
				t.Fatalf("status %s (%v), want %s", res.Status, res.Err, tc.status)
			}
			if tc.output != "" && Encode(res.Output) != Encode(mustNumber(tc.output)) {
				t.Errorf("output %s, want %s", Encode(res.Output), tc.output)
			}
			if res.NextState != tc.next {
				t.Errorf("next %q, want %q", res.NextState, tc.next)
			}
			if tc.errName != "" && (res.Err == nil || res.Err.Name != tc.errName) {
				t.Errorf("error %v, want %s", res.Err, tc.errName)
			}
			if tc.vars != "" && Encode(res.Variables) != Encode(mustNumber(tc.vars)) {
				t.Errorf("variables %s, want %s", Encode(res.Variables), tc.vars)
			}
			if tc.status == TestRetriable && (res.RetryIndex != tc.retryIdx || res.RetryBackoff != 4) {
				t.Errorf("retry %d after %v s", res.RetryIndex, res.RetryBackoff)
			}
			if tc.status == TestCaughtError && res.CatchIndex != tc.catchIdx {
				t.Errorf("catch index %d", res.CatchIndex)
			}
			if tc.afterPara != "" && Encode(res.AfterParameters) != Encode(mustNumber(tc.afterPara)) {
				t.Errorf("task input %s, want %s", Encode(res.AfterParameters), tc.afterPara)
			}
		})
	}
	if _, err := TestState(TestStateRequest{Definition: []byte(`{"Type":"Pass","Bogus":1,"End":true}`)}); err == nil {
		t.Error("an invalid state was accepted")
	}
}

// TestTestState_AsAWSRecords checks the refusals and inspection data AWS
// gives for TestState requests.
func TestTestState_AsAWSRecords(t *testing.T) {
	refused := []struct {
		name string
		req  TestStateRequest
		want string
	}{
		{"mock on a Pass state", TestStateRequest{Definition: []byte(`{"Type":"Pass","End":true}`), Mock: true, MockResult: "x"}, "State type 'Pass' is not supported when a mock is specified"},
		{"mock with revealSecrets", TestStateRequest{Definition: []byte(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}`), Mock: true, MockResult: "x", RevealSecrets: true}, "TestState does not support RevealSecrets when a mock is specified."},
		{"Map without a mock", TestStateRequest{Definition: []byte(`{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`)}, "TestState API does not support Map or Parallel states. Supported state types include: [Task, Wait, Pass, Succeed, Fail, Choice]"},
		{"Map mock not an array", TestStateRequest{Definition: []byte(`{"Type":"Map","ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`), Mock: true, MockResult: map[string]any{}}, "Mocked result must be an array."},
		{"Parallel mock of the wrong size", TestStateRequest{Definition: []byte(`{"Type":"Parallel","Branches":[{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}],"End":true}`), Mock: true, MockResult: []any{1, 2}}, "Mocked result must contain the same number of items as number of Parallel branches."},
		{"Task without a role", TestStateRequest{Definition: []byte(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","End":true}`)}, "RoleArn must be specified when testing a Task state"},
		{"unknown state name", TestStateRequest{Definition: []byte(`{"StartAt":"A","States":{"A":{"Type":"Succeed"}}}`), StateName: "B"}, "State not found in definition"},
		{"empty branches", TestStateRequest{Definition: []byte(`{"Type":"Parallel","Branches":[],"End":true}`), Mock: true, MockResult: []any{}}, "Value cannot be empty at /States/StateName/Branches"},
	}
	for _, tc := range refused {
		if _, err := TestState(tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}

	// Pass with Parameters: every step; Pass with Result: the result only.
	res, err := TestState(TestStateRequest{Definition: []byte(`{"Type":"Pass","InputPath":"$.initialData","Parameters":{"inputValue.$":"$.fieldFromInput"},"ResultPath":"$.modifiedData","End":true}`),
		Input: mustNumber(`{"initialData":{"fieldFromInput":"v"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := Encode(res.Inspect); got != `{"afterInputPath":{"fieldFromInput":"v"},"afterParameters":{"inputValue":"v"},"afterResultPath":{"initialData":{"fieldFromInput":"v"},"modifiedData":{"inputValue":"v"}},"afterResultSelector":{"inputValue":"v"}}` {
		t.Errorf("Pass inspection %s", got)
	}
	res, err = TestState(TestStateRequest{Definition: []byte(`{"Type":"Pass","Result":{"k":1},"End":true}`), Input: mustNumber(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := Encode(res.Inspect); got != `{"afterResultPath":{"k":1},"afterResultSelector":{"k":1},"result":{"k":1}}` {
		t.Errorf("Pass with Result inspection %s", got)
	}
	// The tested state is called StateName in its context object.
	res, err = TestState(TestStateRequest{Definition: []byte(`{"Type":"Pass","Parameters":{"name.$":"$$.State.Name"},"End":true}`), Input: mustNumber(`{}`)})
	if err != nil || Encode(res.Output) != `{"name":"StateName"}` {
		t.Errorf("state name: %v %v", res, err)
	}
	// A mocked Map shows its concurrency settings.
	res, err = TestState(TestStateRequest{Definition: []byte(`{"Type":"Map","MaxConcurrency":1,"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}`),
		Input: mustNumber(`[1,2,3]`), Mock: true, MockResult: []any{1, 1, 1}})
	if err != nil || res.Inspect["maxConcurrency"] != 1 || Encode(res.Output) != `[1,1,1]` {
		t.Errorf("mocked Map: %+v %v", res, err)
	}
}

func TestTestState_BareCause(t *testing.T) {
	res, err := TestState(TestStateRequest{Definition: []byte(`{"Type":"Pass","Parameters":{"a.$":"$.missing"},"End":true}`), Input: mustNumber(`{}`)})
	if err != nil || res.Status != TestFailed || strings.HasPrefix(res.Err.Cause, "An error occurred") {
		t.Fatalf("got %+v %v", res, err)
	}
}
