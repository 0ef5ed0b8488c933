package server_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/smithy-go"
)

// apiCode is the AWS error code of err.
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "no API error: " + errString(err)
}

// markMachine is a machine whose one task appends "start" and "done"
// lines (with the invocation's request ID) to the file named by the
// input's "file", sleeping sleepMs in between.
func markMachine(functionArn string) string {
	return `{"StartAt": "Mark", "States": {
	  "Mark": {"Type": "Task", "Resource": "` + functionArn + `", "Parameters": {"action": "mark", "file.$": "$.file", "sleepMs.$": "$.sleepMs"}, "ResultPath": null, "Next": "Done"},
	  "Done": {"Type": "Pass", "End": true}}}`
}

func TestStepFunctions_ExpressAsyncExecution(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	fn := n.create("xtask", nil)
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("xasync"), Definition: aws.String(markMachine(aws.ToString(fn.FunctionArn))),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"), Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Express names need not be unique: three starts are three executions.
	arns := map[string]bool{}
	var files []string
	for i := range 3 {
		file := filepath.Join(dir, fmt.Sprint(i))
		files = append(files, file)
		before := time.Now().Add(-time.Second)
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String("same"),
			Input: aws.String(fmt.Sprintf(`{"file": %q, "sleepMs": 0}`, file))})
		if err != nil {
			t.Fatal(err)
		}
		arn := aws.ToString(out.ExecutionArn)
		if !strings.HasPrefix(arn, "arn:aws:states:us-east-1:000000000000:express:xasync:same:") {
			t.Errorf("got execution ARN %s", arn)
		}
		if out.StartDate == nil || out.StartDate.Before(before) || out.StartDate.After(time.Now().Add(time.Second)) {
			t.Errorf("got start date %v", out.StartDate)
		}
		arns[arn] = true
	}
	if len(arns) != 3 {
		t.Errorf("got %d distinct execution ARNs, want 3", len(arns))
	}
	eventually(t, 20*time.Second, "every async Express execution to run", func() bool {
		for _, f := range files {
			if countPrefix(lines(f), "done ") != 1 {
				return false
			}
		}
		return true
	})

	// AWS keeps no record of Express executions to describe, list or stop.
	var arn string
	for a := range arns {
		arn = a
	}
	_, err = c.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	_, herr := c.GetExecutionHistory(ctx, &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn)})
	_, serr := c.StopExecution(ctx, &sfn.StopExecutionInput{ExecutionArn: aws.String(arn)})
	_, merr := c.DescribeStateMachineForExecution(ctx, &sfn.DescribeStateMachineForExecutionInput{ExecutionArn: aws.String(arn)})
	for op, err := range map[string]error{"DescribeExecution": err, "GetExecutionHistory": herr, "StopExecution": serr, "DescribeStateMachineForExecution": merr} {
		if apiCode(err) != "InvalidArn" || !strings.Contains(err.Error(), "Resource type not valid in this context: express") {
			t.Errorf("%s of an Express execution: got %v, want InvalidArn", op, err)
		}
	}
	_, err = c.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: m.StateMachineArn})
	var unsupported *types.StateMachineTypeNotSupported
	if !errors.As(err, &unsupported) {
		t.Errorf("ListExecutions of an EXPRESS machine: got %v, want StateMachineTypeNotSupported", err)
	}
}

func TestStepFunctions_Limits(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	role := aws.String("arn:aws:iam::000000000000:role/sfn")
	std, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("limits"), Definition: aws.String(passMachine), RoleArn: role})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("xlimits"), Definition: aws.String(passMachine), RoleArn: role, Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	const max = 256 << 10
	fits := `"` + strings.Repeat("x", max-2) + `"`
	tooBig := `"` + strings.Repeat("x", max-1) + `"`
	start := func(m *string, name, input string) error {
		in := &sfn.StartExecutionInput{StateMachineArn: m, Input: aws.String(input)}
		if name != "" {
			in.Name = aws.String(name)
		}
		_, err := c.StartExecution(ctx, in)
		return err
	}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"input of 256 KiB", start(std.StateMachineArn, "", fits), ""},
		{"input over 256 KiB", start(std.StateMachineArn, "", tooBig), "ValidationException"},
		{"express input over 256 KiB", start(xp.StateMachineArn, "", tooBig), "ValidationException"},
		{"sync input over 256 KiB", func() error {
			_, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: xp.StateMachineArn, Input: aws.String(tooBig)}, noHostPrefix)
			return err
		}(), "ValidationException"},
		{"name of 80 characters", start(std.StateMachineArn, strings.Repeat("n", 80), "{}"), ""},
		{"name of 81 characters", start(std.StateMachineArn, strings.Repeat("n", 81), "{}"), "ValidationException"},
		{"name with a space", start(std.StateMachineArn, "a b", "{}"), "InvalidName"},
		{"name with a colon", start(std.StateMachineArn, "a:b", "{}"), "InvalidName"},
		{"name with a wildcard", start(std.StateMachineArn, "a*", "{}"), "InvalidName"},
		{"express name with a slash", start(xp.StateMachineArn, "a/b", "{}"), "InvalidName"},
	}
	for _, tt := range tests {
		got := ""
		if tt.err != nil {
			got = apiCode(tt.err)
		}
		if got != tt.want {
			t.Errorf("%s: got %q (%v), want %q", tt.name, got, tt.err, tt.want)
		}
	}

	// Names AWS allows beyond letters, digits, '-' and '_' run as any other.
	for _, name := range []string{"dotted.name", "ünïcødé-名前", "plus+equals=at@"} {
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: std.StateMachineArn, Name: aws.String(name)})
		if err != nil {
			t.Errorf("start %q: %v", name, err)
			continue
		}
		if want := "arn:aws:states:us-east-1:000000000000:execution:limits:" + name; aws.ToString(out.ExecutionArn) != want {
			t.Errorf("got ARN %s, want %s", aws.ToString(out.ExecutionArn), want)
		}
		d := waitStatus(t, c, out.ExecutionArn, types.ExecutionStatusSucceeded, 10*time.Second)
		if aws.ToString(d.Name) != name {
			t.Errorf("described name %q, want %q", aws.ToString(d.Name), name)
		}
		// A machine of Pass states ends as it starts: it stops then too.
		if d.StopDate == nil || d.StartDate == nil || d.StopDate.Before(*d.StartDate) {
			t.Errorf("%s: start %v, stop %v", name, d.StartDate, d.StopDate)
		}
	}
}

// A task result over 256 KiB fails the execution with the terminal
// States.DataLimitExceeded, which not even States.ALL catches.
func TestStepFunctions_DataLimitExceeded(t *testing.T) {
	n := startNode(t, nil)
	c := sfnClient(n)
	ctx := context.Background()
	fn := n.create("bigtask", nil)
	def := `{"StartAt": "Big", "States": {
	  "Big": {"Type": "Task", "Resource": "` + aws.ToString(fn.FunctionArn) + `", "Parameters": {"action": "big", "size.$": "$.size"},
	    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2, "IntervalSeconds": 1}],
	    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": true},
	  "Caught": {"Type": "Pass", "End": true}}}`
	role := aws.String("arn:aws:iam::000000000000:role/sfn")
	std, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("big"), Definition: aws.String(def), RoleArn: role})
	if err != nil {
		t.Fatal(err)
	}
	xp, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("xbig"), Definition: aws.String(def), RoleArn: role, Type: types.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	wantCause := "The state/task '" + aws.ToString(fn.FunctionArn) + "' returned a result with a size exceeding the maximum number of bytes service limit."

	run, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: std.StateMachineArn, Input: aws.String(`{"size": 300000}`)})
	if err != nil {
		t.Fatal(err)
	}
	d := waitStatus(t, c, run.ExecutionArn, types.ExecutionStatusFailed, 20*time.Second)
	if aws.ToString(d.Error) != "States.DataLimitExceeded" || aws.ToString(d.Cause) != wantCause {
		t.Errorf("STANDARD: got %s: %s", aws.ToString(d.Error), aws.ToString(d.Cause))
	}

	out, err := c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: xp.StateMachineArn, Input: aws.String(`{"size": 300000}`)}, noHostPrefix)
	if err != nil || out.Status != types.SyncExecutionStatusFailed || aws.ToString(out.Error) != "States.DataLimitExceeded" {
		t.Errorf("EXPRESS: got %v %+v", err, out)
	}
	// Just under the limit is fine.
	out, err = c.StartSyncExecution(ctx, &sfn.StartSyncExecutionInput{StateMachineArn: xp.StateMachineArn, Input: aws.String(`{"size": 200000}`)}, noHostPrefix)
	if err != nil || out.Status != types.SyncExecutionStatusSucceeded {
		t.Errorf("EXPRESS under the limit: got %v %+v", err, out)
	}
}
