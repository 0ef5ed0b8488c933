package server_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func sfnClient(n *node) *sfn.Client {
	return sfn.New(sfn.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(n.url),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 1,
	})
}

const passMachine = `{"Comment": "hello", "StartAt": "Hello", "States": {"Hello": {"Type": "Pass", "Result": "world", "End": true}}}`

func TestStepFunctions_StateMachineLifecycle(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	role := aws.String("arn:aws:iam::000000000000:role/sfn")

	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("hello"), Definition: aws.String(passMachine), RoleArn: role})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.StateMachineArn)
	if arn != "arn:aws:states:us-east-1:000000000000:stateMachine:hello" || created.CreationDate == nil {
		t.Errorf("create returned %s %v", arn, created.CreationDate)
	}
	// Creating the same machine again is idempotent; a different one conflicts.
	again, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("hello"), Definition: aws.String(passMachine), RoleArn: role})
	if err != nil || aws.ToString(again.StateMachineArn) != arn {
		t.Errorf("idempotent create: %v %v", again, err)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("hello"), Definition: aws.String(strings.Replace(passMachine, "world", "moon", 1)), RoleArn: role})
	var exists *types.StateMachineAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("conflicting create: got %v, want StateMachineAlreadyExists", err)
	}

	desc, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.Definition) != passMachine || desc.Type != types.StateMachineTypeStandard || desc.Status != types.StateMachineStatusActive || aws.ToString(desc.RoleArn) != aws.ToString(role) {
		t.Errorf("describe returned %+v", desc)
	}

	c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("express"), Definition: aws.String(passMachine), RoleArn: role, Type: types.StateMachineTypeExpress})
	var names []string
	p := sfn.NewListStateMachinesPaginator(c, &sfn.ListStateMachinesInput{MaxResults: 1})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.StateMachines {
			names = append(names, aws.ToString(m.Name)+"/"+string(m.Type))
		}
	}
	if strings.Join(names, ",") != "express/EXPRESS,hello/STANDARD" {
		t.Errorf("list returned %v", names)
	}

	newDef := strings.Replace(passMachine, "world", "there", 1)
	upd, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(newDef)})
	if err != nil || upd.UpdateDate == nil {
		t.Fatalf("update: %v %v", upd, err)
	}
	n = n.restart()
	c = sfnClient(n)
	desc, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || aws.ToString(desc.Definition) != newDef {
		t.Fatalf("after update and restart: %v %v", desc, err)
	}

	if _, err := c.DeleteStateMachine(ctx, &sfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	var missing *types.StateMachineDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("describe after delete: got %v, want StateMachineDoesNotExist", err)
	}
}

func TestStepFunctions_Errors(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	role := aws.String("arn:aws:iam::000000000000:role/sfn")
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		return "no API error: " + errString(err)
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"bad definition", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`), RoleArn: role})
			return err
		}(), "InvalidDefinition"},
		{"bad name", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("has space"), Definition: aws.String(passMachine), RoleArn: role})
			return err
		}(), "InvalidName"},
		{"bad role", func() error {
			_, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(passMachine), RoleArn: aws.String("nope")})
			return err
		}(), "InvalidArn"},
		{"bad arn", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("arn:aws:lambda:us-east-1:000000000000:function:f")})
			return err
		}(), "InvalidArn"},
		{"missing machine", func() error {
			_, err := c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:ghost")})
			return err
		}(), "StateMachineDoesNotExist"},
		{"unsupported operation", func() error {
			_, err := c.ListActivities(ctx, &sfn.ListActivitiesInput{})
			return err
		}(), "UnknownOperationException"},
	}
	for _, tt := range tests {
		if got := code(tt.err); got != tt.want {
			t.Errorf("%s: got %s (%v), want %s", tt.name, got, tt.err, tt.want)
		}
	}
	if list, err := c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil || len(list.StateMachines) != 0 {
		t.Errorf("rejected creates left %v (%v)", list, err)
	}

	ok, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(passMachine)})
	if err != nil || ok.Result != types.ValidateStateMachineDefinitionResultCodeOk {
		t.Errorf("validate good: %+v %v", ok, err)
	}
	bad, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(`{"StartAt":"A","States":{"A":{"Type":"Pass","Next":"B"}}}`)})
	if err != nil || bad.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(bad.Diagnostics) == 0 ||
		aws.ToString(bad.Diagnostics[0].Code) != "MISSING_TRANSITION_TARGET" || aws.ToString(bad.Diagnostics[0].Location) != "/States/A" ||
		bad.Diagnostics[0].Severity != types.ValidateStateMachineDefinitionSeverityError {
		t.Errorf("validate bad: %v, first diagnostic %+v", err, bad.Diagnostics)
	}
}

func errString(err error) string {
	if err == nil {
		return "nil"
	}
	return err.Error()
}

// noHostPrefix turns off the SDK's "sync-" host prefix for
// StartSyncExecution, which a loopback endpoint cannot resolve.
func noHostPrefix(o *sfn.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("noHostPrefix",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
			}), middleware.Before)
	})
}

func TestStepFunctions_ExpressSyncExecution(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	fn := n.create("sfn-task", nil)
	def := `{
	  "StartAt": "Check",
	  "States": {
	    "Check": {"Type": "Choice", "Choices": [{"And": [{"Variable": "$.fail", "IsPresent": true}, {"Variable": "$.fail", "BooleanEquals": true}], "Next": "Boom"}], "Default": "Call"},
	    "Call": {"Type": "Task", "Resource": "` + aws.ToString(fn.FunctionArn) + `",
	      "Parameters": {"action": "echo", "message.$": "States.Format('hi {}', $.who)"},
	      "ResultSelector": {"said.$": "$.message"}, "ResultPath": "$.lambda", "Next": "Optimized"},
	    "Optimized": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	      "Parameters": {"FunctionName": "sfn-task", "Payload": {"action": "error", "message": "nope"}},
	      "Catch": [{"ErrorEquals": ["errorString"], "ResultPath": "$.caught", "Next": "Done"}], "End": true},
	    "Done": {"Type": "Pass", "End": true},
	    "Boom": {"Type": "Fail", "Error": "Asked", "Cause": "fail was true"}
	  }}`
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("express"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"), Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{"who": "there"}`)}, noHostPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.SyncExecutionStatusSucceeded {
		t.Fatalf("got %s %s %s", out.Status, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	res := decodeResult(t, []byte(aws.ToString(out.Output)))
	if res["lambda"].(map[string]any)["said"] != "hi there" || res["caught"].(map[string]any)["Error"] != "errorString" {
		t.Errorf("got output %s", aws.ToString(out.Output))
	}
	if !strings.HasPrefix(aws.ToString(out.ExecutionArn), "arn:aws:states:us-east-1:000000000000:express:express:") {
		t.Errorf("got execution ARN %s", aws.ToString(out.ExecutionArn))
	}

	failed, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{"fail": true}`)}, noHostPrefix)
	if err != nil || failed.Status != types.SyncExecutionStatusFailed || aws.ToString(failed.Error) != "Asked" || aws.ToString(failed.Cause) != "fail was true" {
		t.Errorf("failing execution: %+v %v", failed, err)
	}

	std, _ := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("std"), Definition: aws.String(passMachine), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	_, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: std.StateMachineArn}, noHostPrefix)
	var unsupported *types.StateMachineTypeNotSupported
	if !errors.As(err, &unsupported) {
		t.Errorf("sync execution of a STANDARD machine: got %v, want StateMachineTypeNotSupported", err)
	}
	_, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{bad`)}, noHostPrefix)
	var badInput *types.InvalidExecutionInput
	if !errors.As(err, &badInput) {
		t.Errorf("bad input: got %v, want InvalidExecutionInput", err)
	}
}

func TestStepFunctions_ExpressParallelWaitAndTaskTimeout(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	fn := n.create("sleepy", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(10) })
	arn := aws.ToString(fn.FunctionArn)
	def := `{
	  "StartAt": "Both",
	  "States": {
	    "Both": {"Type": "Parallel", "Next": "Pause", "ResultPath": "$.branches", "Branches": [
	      {"StartAt": "A", "States": {"A": {"Type": "Task", "Resource": "` + arn + `", "Parameters": {"action": "sleep", "sleepMs": 700, "message": "a"}, "OutputPath": "$.message", "End": true}}},
	      {"StartAt": "B", "States": {"B": {"Type": "Task", "Resource": "` + arn + `", "Parameters": {"action": "sleep", "sleepMs": 700, "message": "b"}, "OutputPath": "$.message", "End": true}}}
	    ]},
	    "Pause": {"Type": "Wait", "Seconds": 0.2, "Next": "TooSlow"},
	    "TooSlow": {"Type": "Task", "Resource": "` + arn + `", "TimeoutSeconds": 1,
	      "Parameters": {"action": "sleep", "sleepMs": 3000},
	      "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.timeout", "Next": "End"}], "End": true},
	    "End": {"Type": "Pass", "End": true}
	  }}`
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("concurrent"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"), Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	// Warm two environments so the timing below measures the workflow.
	concurrentInvokes(n, "sleepy", 2, 10)
	start := time.Now()
	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: created.StateMachineArn}, noHostPrefix)
	took := time.Since(start)
	if err != nil || out.Status != types.SyncExecutionStatusSucceeded {
		t.Fatalf("got %v: %s %s", err, aws.ToString(out.Error), aws.ToString(out.Cause))
	}
	res := decodeResult(t, []byte(aws.ToString(out.Output)))
	if res["timeout"].(map[string]any)["Error"] != "States.Timeout" || fmt.Sprint(res["branches"]) != "[a b]" {
		t.Errorf("got output %s, want the task timeout caught", aws.ToString(out.Output))
	}
	// Branches ran at once (~0.7 s, not 1.4 s), then 0.2 s wait, then 1 s timeout.
	if took > 2800*time.Millisecond {
		t.Errorf("execution took %v; the Parallel branches did not run concurrently", took)
	}
}

func waitStatus(t *testing.T, c *sfn.Client, arn *string, want types.ExecutionStatus, within time.Duration) *sfn.DescribeExecutionOutput {
	t.Helper()
	var out *sfn.DescribeExecutionOutput
	eventually(t, within, "execution "+string(want), func() bool {
		var err error
		out, err = c.DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: arn})
		return err == nil && out.Status == want
	})
	return out
}

func TestStepFunctions_StandardExecutionSurvivesRestart(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	fn := n.create("std-task", nil)
	def := `{"StartAt": "Call", "States": {
	  "Call": {"Type": "Task", "Resource": "` + aws.ToString(fn.FunctionArn) + `", "Parameters": {"action": "echo", "message.$": "$.greeting"}, "ResultSelector": {"said.$": "$.message"}, "ResultPath": "$.first", "Next": "Pause"},
	  "Pause": {"Type": "Wait", "Seconds": 2, "Next": "Again"},
	  "Again": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": {"FunctionName": "std-task", "Payload": {"action": "echo", "message": "second"}}, "ResultSelector": {"said.$": "$.Payload.message"}, "ResultPath": "$.second", "End": true}
	}}`
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("durable"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatal(err)
	}
	started, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("run-1"), Input: aws.String(`{"greeting": "hello"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(started.ExecutionArn) != "arn:aws:states:us-east-1:000000000000:execution:durable:run-1" {
		t.Errorf("got ARN %s", aws.ToString(started.ExecutionArn))
	}
	// Same name and input while running: the same execution.
	again, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("run-1"), Input: aws.String(`{"greeting": "hello"}`)})
	if err != nil || aws.ToString(again.ExecutionArn) != aws.ToString(started.ExecutionArn) {
		t.Errorf("idempotent start: %v %v", again, err)
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("run-1"), Input: aws.String(`{"greeting": "other"}`)})
	var exists *types.ExecutionAlreadyExists
	if !errors.As(err, &exists) {
		t.Errorf("same name, other input: got %v, want ExecutionAlreadyExists", err)
	}

	// The node stops during the Wait; the restarted node finishes the run.
	eventually(t, 5*time.Second, "the wait to begin", func() bool {
		h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
		if err != nil {
			return false
		}
		for _, e := range h.Events {
			if e.Type == types.HistoryEventTypeWaitStateEntered {
				return true
			}
		}
		return false
	})
	n = n.restart()
	c = sfnClient(n)
	done := waitStatus(t, c, started.ExecutionArn, types.ExecutionStatusSucceeded, 20*time.Second)
	res := decodeResult(t, []byte(aws.ToString(done.Output)))
	if res["first"].(map[string]any)["said"] != "hello" || res["second"].(map[string]any)["said"] != "second" {
		t.Errorf("got output %s", aws.ToString(done.Output))
	}
	h, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var typesSeen []string
	for _, e := range h.Events {
		typesSeen = append(typesSeen, string(e.Type))
	}
	joined := strings.Join(typesSeen, ",")
	for _, want := range []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionSucceeded", "WaitStateEntered", "WaitStateExited", "TaskScheduled", "TaskSucceeded", "ExecutionSucceeded"} {
		if !strings.Contains(joined, want) {
			t.Errorf("history lacks %s: %s", want, joined)
		}
	}
	if strings.Count(joined, "ExecutionSucceeded") != 1 || strings.Count(joined, "LambdaFunctionSucceeded") != 1 {
		t.Errorf("a transition was applied twice: %s", joined)
	}
	list, err := c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: m.StateMachineArn, StatusFilter: types.ExecutionStatusSucceeded})
	if err != nil || len(list.Executions) != 1 {
		t.Errorf("list executions: %v %v", list, err)
	}

	// Restarted once it has ended, a node reads the execution's summary
	// (stored before the node stops) instead of replaying it, and answers
	// for it all the same.
	n = n.restart()
	c = sfnClient(n)
	after, err := c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: started.ExecutionArn})
	if err != nil || after.Status != types.ExecutionStatusSucceeded || aws.ToString(after.Output) != aws.ToString(done.Output) ||
		aws.ToString(after.Input) != aws.ToString(done.Input) || !after.StartDate.Equal(*done.StartDate) || !after.StopDate.Equal(*done.StopDate) {
		t.Errorf("describe after restart: got %+v %v, want %+v", after, err, done)
	}
	h2, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil || len(h2.Events) != len(h.Events) {
		t.Fatalf("history after restart: %d events (%v), want %d", len(h2.Events), err, len(h.Events))
	}
	for i := range h.Events {
		if h2.Events[i].Type != h.Events[i].Type || !h2.Events[i].Timestamp.Equal(*h.Events[i].Timestamp) {
			t.Errorf("event %d after restart: %s at %v, want %s at %v", i, h2.Events[i].Type, h2.Events[i].Timestamp, h.Events[i].Type, h.Events[i].Timestamp)
		}
	}
	_, err = c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("run-1"), Input: aws.String(`{"greeting": "hello"}`)})
	if !errors.As(err, &exists) {
		t.Errorf("same name after it ended: got %v, want ExecutionAlreadyExists", err)
	}
	list, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: m.StateMachineArn})
	if err != nil || len(list.Executions) != 1 || list.Executions[0].Status != types.ExecutionStatusSucceeded {
		t.Errorf("list executions after restart: %+v %v", list, err)
	}
}

func TestStepFunctions_StopExecution(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("long"),
		Definition: aws.String(`{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 31536000, "End": true}}}`),
		RoleArn:    aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, c, run.ExecutionArn, types.ExecutionStatusRunning, 5*time.Second)
	if _, err := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: run.ExecutionArn, Error: aws.String("Enough"), Cause: aws.String("a year is long")}); err != nil {
		t.Fatal(err)
	}
	stopped := waitStatus(t, c, run.ExecutionArn, types.ExecutionStatusAborted, 5*time.Second)
	if stopped.StopDate == nil {
		t.Errorf("no stop date")
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:long:nope")})
	var missing *types.ExecutionDoesNotExist
	if !errors.As(err, &missing) {
		t.Errorf("describe missing: got %v", err)
	}
}

func TestStepFunctions_TaskTokens(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	records := t.TempDir() + "/records"
	n.create("worker", func(in *lambda.CreateFunctionInput) {
		in.Environment = &lambdatypes.Environment{Variables: map[string]string{"RECORD_FILE": records}}
	})
	def := `{"StartAt": "Ask", "States": {"Ask": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
	  "HeartbeatSeconds": %HB%, "Parameters": {"FunctionName": "worker", "Payload": {"action": "echo", "message.$": "$.id", "token.$": "$$.Task.Token"}}, "End": true}}}`
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("tokens"), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"),
		Definition: aws.String(strings.Replace(def, "%HB%", "30", 1))})
	if err != nil {
		t.Fatal(err)
	}
	tokenFor := func(id string) string {
		var token string
		eventually(t, 10*time.Second, "the function to receive the token of "+id, func() bool {
			for _, l := range lines(records) {
				ev := decodeResult(t, []byte(l))
				if ev["message"] == id {
					token, _ = ev["token"].(string)
				}
			}
			return token != ""
		})
		return token
	}

	ok, _ := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"id": "one"}`)})
	token := tokenFor("one")
	if _, err := c.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil {
		t.Errorf("heartbeat: %v", err)
	}
	if _, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"approved": true}`)}); err != nil {
		t.Fatal(err)
	}
	done := waitStatus(t, c, ok.ExecutionArn, types.ExecutionStatusSucceeded, 10*time.Second)
	if aws.ToString(done.Output) != `{"approved":true}` {
		t.Errorf("got output %s", aws.ToString(done.Output))
	}
	// As on AWS, the history shows the call going through before the answer.
	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: ok.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range hist.Events {
		if strings.HasPrefix(string(ev.Type), "Task") && !strings.HasPrefix(string(ev.Type), "TaskState") {
			kinds = append(kinds, string(ev.Type))
		}
	}
	if got := strings.Join(kinds, ","); got != "TaskScheduled,TaskStarted,TaskSubmitted,TaskSucceeded" {
		t.Errorf("task events %s", got)
	}
	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{}`)})
	var gone *types.TaskDoesNotExist
	if !errors.As(err, &gone) {
		t.Errorf("second answer: got %v, want TaskDoesNotExist", err)
	}

	bad, _ := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"id": "two"}`)})
	if _, err := c.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{TaskToken: aws.String(tokenFor("two")), Error: aws.String("Rejected"), Cause: aws.String("no")}); err != nil {
		t.Fatal(err)
	}
	failed := waitStatus(t, c, bad.ExecutionArn, types.ExecutionStatusFailed, 10*time.Second)
	if aws.ToString(failed.Error) != "Rejected" || aws.ToString(failed.Cause) != "no" {
		t.Errorf("got %s %s", aws.ToString(failed.Error), aws.ToString(failed.Cause))
	}

	_, err = c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String("not-a-token!"), Output: aws.String(`{}`)})
	var invalid *types.InvalidToken
	if !errors.As(err, &invalid) {
		t.Errorf("bad token: got %v, want InvalidToken", err)
	}

	// A worker that never heartbeats times the task out.
	if _, err := c.UpdateStateMachine(ctx, &sfn.UpdateStateMachineInput{StateMachineArn: m.StateMachineArn, Definition: aws.String(strings.Replace(def, "%HB%", "1", 1))}); err != nil {
		t.Fatal(err)
	}
	silent, _ := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{"id": "three"}`)})
	timedOut := waitStatus(t, c, silent.ExecutionArn, types.ExecutionStatusFailed, 10*time.Second)
	if aws.ToString(timedOut.Error) != "States.HeartbeatTimeout" {
		t.Errorf("got %s, want States.HeartbeatTimeout", aws.ToString(timedOut.Error))
	}
}

func TestStepFunctions_NestedExecutions(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	role := aws.String("arn:aws:iam::000000000000:role/sfn")
	child, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("child"), RoleArn: role,
		Definition: aws.String(`{"StartAt": "C", "States": {"C": {"Type": "Choice", "Choices": [{"Variable": "$.n", "NumericGreaterThan": 10, "Next": "Big"}], "Default": "Small"},
		  "Big": {"Type": "Fail", "Error": "TooBig", "Cause": "n > 10"}, "Small": {"Type": "Pass", "Parameters": {"doubled.$": "States.MathAdd($.n, $.n)"}, "End": true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	parent := `{"StartAt": "Run", "States": {
	  "Run": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
	    "Parameters": {"StateMachineArn": "` + aws.ToString(child.StateMachineArn) + `", "Input": {"n.$": "$.n"}},
	    "ResultSelector": {"out.$": "$.Output"}, "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.failed", "Next": "Fire"}], "Next": "Fire"},
	  "Fire": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution",
	    "Parameters": {"StateMachineArn": "` + aws.ToString(child.StateMachineArn) + `", "Name": "fire-and-forget", "Input": "{\"n\": 1}"},
	    "ResultPath": "$.fired", "End": true}}}`
	p, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("parent"), RoleArn: role, Definition: aws.String(parent)})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: p.StateMachineArn, Input: aws.String(`{"n": 4}`)})
	if err != nil {
		t.Fatal(err)
	}
	done := waitStatus(t, c, run.ExecutionArn, types.ExecutionStatusSucceeded, 15*time.Second)
	res := decodeResult(t, []byte(aws.ToString(done.Output)))
	if fmt.Sprint(res["out"]) != "map[doubled:8]" {
		t.Errorf("got output %s", aws.ToString(done.Output))
	}
	fired := res["fired"].(map[string]any)
	if fired["ExecutionArn"] != "arn:aws:states:us-east-1:000000000000:execution:child:fire-and-forget" {
		t.Errorf("fire-and-forget returned %v", fired)
	}
	waitStatus(t, c, aws.String(fired["ExecutionArn"].(string)), types.ExecutionStatusSucceeded, 10*time.Second)

	run2, _ := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: p.StateMachineArn, Input: aws.String(`{"n": 40}`)})
	// The fire-and-forget child name is taken now: the parent's second task fails.
	failed := waitStatus(t, c, run2.ExecutionArn, types.ExecutionStatusFailed, 15*time.Second)
	h, _ := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: run2.ExecutionArn})
	caught := false
	for _, e := range h.Events {
		if e.StateExitedEventDetails != nil && aws.ToString(e.StateExitedEventDetails.Name) == "Run" && strings.Contains(aws.ToString(e.StateExitedEventDetails.Output), "TooBig") {
			caught = true
		}
	}
	if !caught || aws.ToString(failed.Error) != "StepFunctions.ExecutionAlreadyExistsException" {
		t.Errorf("got error %s (caught child failure %v)", aws.ToString(failed.Error), caught)
	}
}

// TestStepFunctions_JSONataAndVariables runs a Standard JSONata machine
// that calls a real function, keeps data in workflow variables, and reads
// the assignments back from the execution history.
func TestStepFunctions_JSONataAndVariables(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	n.create("sfn-task", nil)
	def := `{
	  "QueryLanguage": "JSONata",
	  "StartAt": "Call",
	  "States": {
	    "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
	      "Arguments": {"FunctionName": "sfn-task", "Payload": {"action": "echo", "message": "{% 'hi ' & $states.input.who %}"}},
	      "Assign": {"said": "{% $states.result.Payload.message %}", "status": "{% $states.result.StatusCode %}"},
	      "Output": {"n": "{% $count($states.input.items) %}"}, "Next": "Each"},
	    "Each": {"Type": "Map", "Items": "{% $states.input.n = 2 ? ['a','b'] : [] %}",
	      "ItemProcessor": {"StartAt": "Tag", "States": {"Tag": {"Type": "Pass", "Output": "{% $said & '/' & $states.input %}", "End": true}}},
	      "Next": "Decide"},
	    "Decide": {"Type": "Choice", "Choices": [{"Condition": "{% $status = 200 %}", "Next": "Done", "Output": {"tags": "{% $states.input %}", "said": "{% $said %}"}}], "Default": "Bad"},
	    "Bad": {"Type": "Fail", "Error": "Unexpected", "Cause": "{% $string($status) %}"},
	    "Done": {"Type": "Succeed"}
	  }}`
	created, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("jsonata"), Definition: aws.String(def),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatal(err)
	}
	started, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: created.StateMachineArn, Input: aws.String(`{"who": "there", "items": [1, 2]}`)})
	if err != nil {
		t.Fatal(err)
	}
	done := waitStatus(t, c, started.ExecutionArn, types.ExecutionStatusSucceeded, 30*time.Second)
	if got, want := aws.ToString(done.Output), `{"said":"hi there","tags":["hi there/a","hi there/b"]}`; got != want {
		t.Errorf("got output %s, want %s", got, want)
	}
	hist, err := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: started.ExecutionArn})
	if err != nil {
		t.Fatal(err)
	}
	var assigned map[string]string
	for _, e := range hist.Events {
		if e.Type == types.HistoryEventTypeTaskStateExited && e.StateExitedEventDetails != nil {
			assigned = e.StateExitedEventDetails.AssignedVariables
		}
	}
	if assigned["said"] != `"hi there"` || assigned["status"] != `200` {
		t.Errorf("got assignedVariables %v", assigned)
	}

	// A JSONPath field in a JSONata state is a definition error.
	v, err := c.ValidateStateMachineDefinition(ctx, &sfn.ValidateStateMachineDefinitionInput{Definition: aws.String(
		`{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":"$.x","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if v.Result != types.ValidateStateMachineDefinitionResultCodeFail || len(v.Diagnostics) == 0 {
		t.Errorf("validation of a JSONPath field in a JSONata state: %+v", v)
	}
	_, err = c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("bad"), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"),
		Definition: aws.String(`{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% $x( %}","End":true}}}`)})
	var invalid *types.InvalidDefinition
	if !errors.As(err, &invalid) {
		t.Errorf("bad expression: got %v, want InvalidDefinition", err)
	}
}

// TestStepFunctions_TestState runs single states through TestState: a
// real function call, a mocked failure that a retrier would retry, a
// caught one, and bad requests.
func TestStepFunctions_TestState(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	n.create("sfn-task", nil)
	real, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition:      aws.String(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"FunctionName":"sfn-task","Payload":{"action":"echo","message.$":"$greeting"}},"ResultSelector":{"said.$":"$.Payload.message"},"Next":"Done"}`),
		Input:           aws.String(`{}`),
		Variables:       aws.String(`{"greeting":"hello"}`),
		InspectionLevel: types.InspectionLevelDebug,
		RoleArn:         aws.String("arn:aws:iam::000000000000:role/sfn"),
	}, noHostPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if real.Status != types.TestExecutionStatusSucceeded || aws.ToString(real.Output) != `{"said":"hello"}` || aws.ToString(real.NextState) != "Done" {
		t.Errorf("real task: %s %s next %s (%s %s)", real.Status, aws.ToString(real.Output), aws.ToString(real.NextState), aws.ToString(real.Error), aws.ToString(real.Cause))
	}
	if real.InspectionData == nil || !strings.Contains(aws.ToString(real.InspectionData.AfterParameters), `"message":"hello"`) {
		t.Errorf("inspection data: %+v", real.InspectionData)
	}

	retry, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Arguments":{"FunctionName":"x"},"QueryLanguage":"JSONata","Retry":[{"ErrorEquals":["Boom"],"IntervalSeconds":3}],"End":true}`),
		Mock:       &types.MockInput{ErrorOutput: &types.MockErrorOutput{Error: aws.String("Boom"), Cause: aws.String("mocked")}},
	}, noHostPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if retry.Status != types.TestExecutionStatusRetriable || aws.ToString(retry.Error) != "Boom" {
		t.Errorf("mocked failure with a retrier: %s %s", retry.Status, aws.ToString(retry.Error))
	}

	caught, err := c.TestState(ctx, &sfn.TestStateInput{
		Definition: aws.String(`{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Catch":[{"ErrorEquals":["States.ALL"],"Next":"Handler"}],"End":true}`),
		Mock:       &types.MockInput{ErrorOutput: &types.MockErrorOutput{Error: aws.String("Boom"), Cause: aws.String("mocked")}},
	}, noHostPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if caught.Status != types.TestExecutionStatusCaughtError || aws.ToString(caught.NextState) != "Handler" || aws.ToString(caught.Output) != `{"Cause":"mocked","Error":"Boom"}` {
		t.Errorf("caught: %s next %s output %s", caught.Status, aws.ToString(caught.NextState), aws.ToString(caught.Output))
	}

	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Nope"}`)}, noHostPrefix)
	var invalid *types.InvalidDefinition
	if !errors.As(err, &invalid) {
		t.Errorf("bad state: got %v, want InvalidDefinition", err)
	}
	_, err = c.TestState(ctx, &sfn.TestStateInput{Definition: aws.String(`{"Type":"Pass","End":true}`), Input: aws.String(`{bad`)}, noHostPrefix)
	var badInput *types.InvalidExecutionInput
	if !errors.As(err, &badInput) {
		t.Errorf("bad input: got %v, want InvalidExecutionInput", err)
	}
}

// TestStepFunctions_APIErrorsAsAWS checks request errors AWS records.
func TestStepFunctions_APIErrorsAsAWS(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("api"), Definition: aws.String(passMachine), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, err error, code, msg string) {
		t.Helper()
		var api interface {
			ErrorCode() string
			ErrorMessage() string
		}
		if !errors.As(err, &api) || api.ErrorCode() != code || api.ErrorMessage() != msg {
			t.Errorf("%s: got %v, want %s: %s", what, err, code, msg)
		}
	}
	_, err = c.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: aws.String("not_a_valid_arn")})
	check("describe a non-ARN", err, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: not_a_valid_arn'")
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String("invalid_state_machine_arn")})
	check("describe execution of a non-ARN", err, "InvalidArn", "Invalid Arn: 'Invalid ARN prefix: invalid_state_machine_arn'")
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: m.StateMachineArn})
	check("describe execution of a machine ARN", err, "InvalidArn", "Invalid Arn: 'Resource type not valid in this context: stateMachine'")
	missing := strings.Replace(aws.ToString(m.StateMachineArn), ":stateMachine:api", ":execution:api:nope", 1)
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(missing)})
	check("describe a missing execution", err, "ExecutionDoesNotExist", "Execution Does Not Exist: '"+missing+"'")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: m.StateMachineArn, MaxResults: 1001})
	check("list 1001", err, "ValidationException", "1 validation error detected: Value '1001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000")
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: m.StateMachineArn, StatusFilter: "succeeded"})
	check("bad status filter", err, "ValidationException", "1 validation error detected: Value 'succeeded' at 'statusFilter' failed to satisfy constraint: Member must satisfy enum value set: [SUCCEEDED, TIMED_OUT, PENDING_REDRIVE, ABORTED, FAILED, RUNNING]")
	_, err = c.ListStateMachines(ctx, &sfn.ListStateMachinesInput{NextToken: aws.String(strings.Repeat("a", 1025))})
	if err == nil || !strings.Contains(err.Error(), "Member must have length less than or equal to 1024") {
		t.Errorf("long nextToken: %v", err)
	}

	// A finished execution reads as AWS describes one.
	ex, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	d := waitStatus(t, c, ex.ExecutionArn, types.ExecutionStatusSucceeded, 10*time.Second)
	if d.RedriveStatus != types.ExecutionRedriveStatusNotRedrivable || aws.ToString(d.RedriveStatusReason) != "Execution is SUCCEEDED and cannot be redriven" || aws.ToInt32(d.RedriveCount) != 0 {
		t.Errorf("redrive fields: %s %q %v", d.RedriveStatus, aws.ToString(d.RedriveStatusReason), d.RedriveCount)
	}
}
