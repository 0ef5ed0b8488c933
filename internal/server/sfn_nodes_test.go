package server_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/updraft/updraft/internal/server"
)

// TestStepFunctions_TwoNodesOneBackbone runs STANDARD executions on two
// nodes sharing one NATS server: whichever node they are started on, each
// task runs once (one node drives), and when that node stops the other
// one carries every execution on.
func TestStepFunctions_TwoNodesOneBackbone(t *testing.T) {
	ns, err := natsserver.NewServer(&natsserver.Options{
		Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats server not ready")
	}
	a := startNode(t, func(c *server.Config) { c.NATSURL = ns.ClientURL() })
	b := startNode(t, func(c *server.Config) { c.NATSURL = ns.ClientURL() })
	ctx := context.Background()
	fn := a.create("twomark", nil)
	def := `{"StartAt": "First", "States": {
	  "First": {"Type": "Task", "Resource": "` + aws.ToString(fn.FunctionArn) + `", "Parameters": {"action": "mark", "file.$": "$.file"}, "ResultPath": null, "Next": "Pause"},
	  "Pause": {"Type": "Wait", "SecondsPath": "$.pause", "Next": "Second"},
	  "Second": {"Type": "Task", "Resource": "` + aws.ToString(fn.FunctionArn) + `", "Parameters": {"action": "mark", "file.$": "$.file"}, "ResultPath": null, "End": true}}}`
	ca, cb := sfnClient(a), sfnClient(b)
	m, err := ca.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("twonodes"), Definition: aws.String(def), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn")})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "node b to see the machine", func() bool {
		_, err := cb.DescribeStateMachine(ctx, &sfn.DescribeStateMachineInput{StateMachineArn: m.StateMachineArn})
		return err == nil
	})
	dir := t.TempDir()
	start := func(c *sfn.Client, name string, pause int) (*string, string) {
		t.Helper()
		file := filepath.Join(dir, name)
		out, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Name: aws.String(name),
			Input: aws.String(fmt.Sprintf(`{"file": %q, "pause": %d}`, file, pause))})
		if err != nil {
			t.Fatal(err)
		}
		return out.ExecutionArn, file
	}
	type run struct {
		arn  *string
		file string
	}
	var runs []run
	for i := range 10 {
		c := ca
		if i%2 == 1 {
			c = cb
		}
		arn, file := start(c, fmt.Sprint("run-", i), 0)
		runs = append(runs, run{arn, file})
	}
	for _, r := range runs {
		for _, c := range []*sfn.Client{ca, cb} {
			waitStatus(t, c, r.arn, types.ExecutionStatusSucceeded, 20*time.Second)
		}
		if got := countPrefix(lines(r.file), "start "); got != 2 {
			t.Errorf("%s: tasks ran %d times, want 2 (one per Task state)", aws.ToString(r.arn), got)
		}
	}

	// Executions waiting when the driving node stops are carried on by the
	// other one; new ones too.
	var waiting []run
	for i := range 4 {
		arn, file := start(cb, fmt.Sprint("wait-", i), 2)
		waiting = append(waiting, run{arn, file})
	}
	eventually(t, 10*time.Second, "the first tasks to run", func() bool {
		for _, r := range waiting {
			if countPrefix(lines(r.file), "done ") < 1 {
				return false
			}
		}
		return true
	})
	a.stop()
	arn, file := start(cb, "after", 0)
	waiting = append(waiting, run{arn, file})
	for _, r := range waiting {
		waitStatus(t, cb, r.arn, types.ExecutionStatusSucceeded, 30*time.Second)
		if got := countPrefix(lines(r.file), "done "); got < 2 {
			t.Errorf("%s: %d tasks done, want 2", aws.ToString(r.arn), got)
		}
	}
}
