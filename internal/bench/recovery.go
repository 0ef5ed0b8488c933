package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// RecoveryParkDefault is how far in the future the recovery scenario's
// executions are parked: long enough to start them all.
const RecoveryParkDefault = 30 * time.Second

// RecoveryResult is how long a node killed with SIGKILL took to resume
// Executions STANDARD executions parked in a Wait state.
type RecoveryResult struct {
	Executions int `json:"executions"`
	// Finished is how many executions had already ended before them.
	Finished int `json:"finished"`
	// Start is how long starting them all took (Concurrency clients).
	Start       time.Duration `json:"startNs"`
	Concurrency int           `json:"concurrency"`
	// Ready is from starting the killed node's command again until its
	// API answered.
	Ready time.Duration `json:"readyNs"`
	// Resumed is from starting the command again until every execution
	// had run past its Wait (whose time passed while the node was dead)
	// to its end.
	Resumed   time.Duration `json:"resumedNs"`
	Succeeded int           `json:"succeeded"`
	Errors    errorLog      `json:"errors"`
}

// Recovery runs `binary up` on a fresh data directory under tmp, starts
// n executions (c clients) of a machine that waits until a time park
// ahead and then passes, kills the node with SIGKILL, waits for that time
// to pass, starts the node again and times how long it takes to finish
// every execution. Before them it runs finished executions that end at
// once, whose histories the node keeps too. progress receives a line per
// step.
func Recovery(ctx context.Context, binary, tmp string, n, finished, c int, park time.Duration, progress io.Writer) (*RecoveryResult, error) {
	say := func(format string, args ...any) { fmt.Fprintf(progress, "bench: recovery: "+format+"\n", args...) }
	dir, err := os.MkdirTemp(tmp, "recovery-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	endpoint := "http://" + addr
	client := newHTTPClient(c)
	node, err := startNode(ctx, binary, addr, dir, client)
	if err != nil {
		return nil, err
	}
	defer func() { node.kill() }()

	var created struct {
		StateMachineArn string `json:"stateMachineArn"`
	}
	def := `{"StartAt": "Park", "States": {"Park": {"Type": "Wait", "TimestampPath": "$.at", "Next": "Done"}, "Done": {"Type": "Pass", "End": true}}}`
	if err := sfnCall(ctx, client, endpoint, "CreateStateMachine", map[string]any{"name": "recovery", "roleArn": sfnRole, "definition": def}, &created); err != nil {
		return nil, err
	}
	res := &RecoveryResult{Executions: n, Finished: finished, Concurrency: c}
	if finished > 0 {
		var done struct {
			StateMachineArn string `json:"stateMachineArn"`
		}
		if err := sfnCall(ctx, client, endpoint, "CreateStateMachine", map[string]any{"name": "finished", "roleArn": sfnRole, "definition": passChain(3)}, &done); err != nil {
			return nil, err
		}
		say("running %d executions that end at once", finished)
		startAll(ctx, client, endpoint, done.StateMachineArn, `{"step": -1}`, finished, c, &res.Errors)
	}
	at := time.Now().Add(park)
	input := fmt.Sprintf(`{"at": %q}`, at.UTC().Format(time.RFC3339Nano))
	say("starting %d executions parked until %s, %d clients", n, at.Format(time.TimeOnly), c)
	begin := time.Now()
	startAll(ctx, client, endpoint, created.StateMachineArn, input, n, c, &res.Errors)
	res.Start = time.Since(begin)
	if res.Errors.Count > 0 {
		return res, fmt.Errorf("recovery: %d starts failed: %v", res.Errors.Count, res.Errors.Samples)
	}
	if time.Now().After(at) {
		return res, fmt.Errorf("recovery: starting took %s, longer than the %s park; raise it", res.Start, park)
	}
	say("started in %s; kill -9", res.Start.Round(time.Millisecond))
	node.kill()
	if err := sleep(ctx, time.Until(at)+100*time.Millisecond); err != nil {
		return res, err
	}
	client.CloseIdleConnections()

	say("every Wait is due; starting the node again")
	restart := time.Now()
	node, err = startNode(ctx, binary, addr, dir, client)
	if err != nil {
		return res, err
	}
	res.Ready = time.Since(restart)
	r := &Runner{endpoint: endpoint, http: client}
	all, err := r.waitEnded(ctx, created.StateMachineArn, n, 10*time.Millisecond)
	if err != nil {
		return res, err
	}
	res.Resumed = time.Since(restart)
	for _, e := range all {
		if e.Status == "SUCCEEDED" {
			res.Succeeded++
		}
	}
	say("ready after %s, all %d ended after %s", res.Ready.Round(time.Millisecond), len(all), res.Resumed.Round(time.Millisecond))
	if log, err := os.ReadFile(filepath.Join(dir, "node.log")); err == nil {
		for _, line := range strings.Split(string(log), "\n") {
			if strings.Contains(line, "executions replayed") {
				say("node: %s", line)
			}
		}
	}
	return res, nil
}

// startAll starts n executions of machine with c clients.
func startAll(ctx context.Context, client *http.Client, endpoint, machine, input string, n, c int, errs *errorLog) {
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(n) {
				if err := sfnCall(ctx, client, endpoint, "StartExecution", map[string]any{"stateMachineArn": machine, "input": input}, nil); err != nil {
					mu.Lock()
					errs.add(err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
}

// childNode is `updraft up` run by the recovery scenario.
type childNode struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (n *childNode) kill() {
	if n.cmd.Process != nil {
		_ = n.cmd.Process.Signal(syscall.SIGKILL)
		<-n.done
	}
}

func startNode(ctx context.Context, binary, addr, dir string, client *http.Client) (*childNode, error) {
	logf, err := os.OpenFile(filepath.Join(dir, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "up", "--addr", addr, "--data-dir", filepath.Join(dir, "data"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	n := &childNode{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logf.Close(); close(n.done) }()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/_updraft/v1/status", nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return n, nil
			}
		}
		select {
		case <-n.done:
			log, _ := os.ReadFile(filepath.Join(dir, "node.log"))
			return nil, fmt.Errorf("updraft up exited: %s", truncate(string(log), 2000))
		case <-ctx.Done():
			n.kill()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// BuildUpdraft builds cmd/updraft from the source tree at moduleDir into
// outDir, for scenarios that run and kill a node.
func BuildUpdraft(ctx context.Context, moduleDir, outDir string) (string, error) {
	bin := filepath.Join(outDir, "updraft")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, modulePath+"/cmd/updraft")
	cmd.Dir = moduleDir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.Join(fmt.Errorf("go build updraft: %w", err), errors.New(string(out)))
	}
	return bin, nil
}
