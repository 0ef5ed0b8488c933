package server_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds cmd/updraft once for the tests that run the real command.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "updraft-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "updraft")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/updraft/updraft/cmd/updraft").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build updraft: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// process is `updraft up` running as a child process.
type process struct {
	cmd *exec.Cmd
	url string
	log *logBuffer
}

// logBuffer collects a child's output; it may be read while the child
// still writes.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startProcess(t *testing.T, addr, dataDir string, extra ...string) *process {
	t.Helper()
	args := append([]string{"up", "--addr", addr, "--data-dir", dataDir, "--sandbox", "process", "--async-ack-wait", "2s", "--async-retry-base", "100ms"}, extra...)
	cmd := exec.Command(binary(t), args...)
	log := &logBuffer{}
	cmd.Stderr = log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, url: "http://" + addr, log: log}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	eventually(t, 30*time.Second, "updraft up to answer", func() bool {
		resp, err := http.Get(p.url + "/_updraft/v1/status")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return p
}

func (p *process) kill9(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

func TestAsync_SurvivesKill9(t *testing.T) {
	addr, dataDir := freeAddr(t), t.TempDir()
	p := startProcess(t, addr, dataDir)
	client := lambdaClient(p.url, "test", "test")
	ctx := context.Background()
	_, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("durable"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: fnZip}, Timeout: aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	running, queued := filepath.Join(dir, "running"), filepath.Join(dir, "queued")
	send := func(file string, sleepMs int) {
		out, err := client.Invoke(ctx, &lambda.InvokeInput{
			FunctionName: aws.String("durable"), InvocationType: types.InvocationTypeEvent,
			Payload: []byte(fmt.Sprintf(`{"action":"mark","file":%q,"sleepMs":%d}`, file, sleepMs)),
		})
		if err != nil || out.StatusCode != 202 {
			t.Fatalf("async invoke: %v", err)
		}
	}
	// One event is running when the node dies, the others were only accepted.
	send(running, 3000)
	eventually(t, 10*time.Second, "the first event to start", func() bool { return countPrefix(lines(running), "start ") == 1 })
	for range 5 {
		send(queued, 0)
	}
	p.kill9(t)
	time.Sleep(200 * time.Millisecond)
	if got := countPrefix(lines(running), "done "); got != 0 {
		t.Fatalf("the running event finished although its node was killed")
	}

	p2 := startProcess(t, addr, dataDir)
	t.Cleanup(func() { t.Logf("running: %q queued: %q\nlog:\n%s", lines(running), lines(queued), p2.log) })
	eventually(t, 30*time.Second, "every accepted event to run after kill -9", func() bool {
		return countPrefix(lines(running), "done ") >= 1 && countPrefix(lines(queued), "done ") >= 5
	})
	// At least once, with the same request IDs.
	ids := map[string]bool{}
	for _, l := range lines(queued) {
		if strings.HasPrefix(l, "done ") {
			ids[strings.Fields(l)[1]] = true
		}
	}
	if len(ids) != 5 {
		t.Errorf("got %d distinct queued events done, want 5", len(ids))
	}
}

func TestStepFunctions_StandardExecutionSurvivesKill9(t *testing.T) {
	addr, dataDir := freeAddr(t), t.TempDir()
	p := startProcess(t, addr, dataDir)
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1})
	ctx := context.Background()
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("killed"), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"),
		Definition: aws.String(`{"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 2, "Next": "P"}, "P": {"Type": "Pass", "Result": "after", "End": true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn, Input: aws.String(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	p.kill9(t)
	p2 := startProcess(t, addr, dataDir)
	c = sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(p2.url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1})
	out := waitStatus(t, c, run.ExecutionArn, sfntypes.ExecutionStatusSucceeded, 20*time.Second)
	if aws.ToString(out.Output) != `"after"` {
		t.Errorf("got output %s", aws.ToString(out.Output))
	}
}

// TestStepFunctions_ExpressAsyncSurvivesKill9 kills the node with -9
// while async Express executions run: after a restart each runs again
// (at least once) to its end.
func TestStepFunctions_ExpressAsyncSurvivesKill9(t *testing.T) {
	addr, dataDir := freeAddr(t), t.TempDir()
	p := startProcess(t, addr, dataDir)
	ctx := context.Background()
	fn, err := lambdaClient(p.url, "test", "test").CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: aws.String("xmark"), Runtime: types.RuntimeProvidedal2023, Handler: aws.String("bootstrap"),
		Role: aws.String("arn:aws:iam::000000000000:role/test"), Code: &types.FunctionCode{ZipFile: fnZip}, Timeout: aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	c := sfn.New(sfn.Options{Region: "us-east-1", BaseEndpoint: aws.String(p.url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""), RetryMaxAttempts: 1})
	m, err := c.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{Name: aws.String("xkilled"), RoleArn: aws.String("arn:aws:iam::000000000000:role/sfn"),
		Definition: aws.String(markMachine(aws.ToString(fn.FunctionArn))), Type: sfntypes.StateMachineTypeExpress})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var files []string
	for i := range 3 {
		file := filepath.Join(dir, fmt.Sprint(i))
		files = append(files, file)
		if _, err := c.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: m.StateMachineArn,
			Input: aws.String(fmt.Sprintf(`{"file": %q, "sleepMs": 3000}`, file))}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "every execution's task to start", func() bool {
		for _, f := range files {
			if countPrefix(lines(f), "start ") != 1 {
				return false
			}
		}
		return true
	})
	p.kill9(t)
	time.Sleep(200 * time.Millisecond)
	for _, f := range files {
		if got := countPrefix(lines(f), "done "); got != 0 {
			t.Fatalf("a task finished although its node was killed")
		}
	}

	p2 := startProcess(t, addr, dataDir)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", p2.log)
		}
	})
	eventually(t, 30*time.Second, "every execution to run again after kill -9", func() bool {
		for _, f := range files {
			if countPrefix(lines(f), "done ") < 1 {
				return false
			}
		}
		return true
	})
	for _, f := range files {
		if got := countPrefix(lines(f), "start "); got < 2 {
			t.Errorf("%s: %d starts, want the interrupted run and the one after restart", f, got)
		}
	}
}
