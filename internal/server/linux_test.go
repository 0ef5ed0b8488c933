package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/scheduler"
	"github.com/updraft/updraft/internal/server"
)

var (
	linuxOnce sync.Once
	linuxErr  error
)

// skipWithoutLinuxSandbox skips the test where the linux sandbox cannot
// run (not Linux, not root and no user namespaces, no cgroups).
func skipWithoutLinuxSandbox(t *testing.T) {
	t.Helper()
	linuxOnce.Do(func() {
		d, err := linux.New(linux.Config{}) // the state dir of this user
		if err == nil {
			err = d.Probe(context.Background())
			_ = d.Close()
		}
		linuxErr = err
	})
	if linuxErr != nil {
		t.Skipf("linux sandbox unavailable: %v", linuxErr)
	}
}

// TestLinuxSandbox_StartFails: a node asked for the linux sandbox where it
// cannot run (here: a cgroup parent outside its own) fails to start,
// says why, and stops what it had started.
func TestLinuxSandbox_StartFails(t *testing.T) {
	cfg := server.Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), Sandbox: server.SandboxLinux, CgroupParent: "../outside"}
	srv, err := server.New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Start(context.Background()) }()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), "sandbox linux: ") {
			t.Errorf("got %v, want sandbox linux: and why", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Start did not return")
	}
}

// fnResult is the test function's answer.
type fnResult struct {
	Invocations int
	Data        string
}

func (n *node) call(name string, event map[string]any) fnResult {
	n.t.Helper()
	out := n.invoke(name, event)
	if out.FunctionError != nil {
		n.t.Fatalf("%s %v: %s %s", name, event, aws.ToString(out.FunctionError), out.Payload)
	}
	res := decodeResult(n.t, out.Payload)
	data, _ := res["data"].(string)
	inv, _ := res["invocations"].(float64)
	return fnResult{Invocations: int(inv), Data: data}
}

// TestLinuxSandbox_Isolation runs real aws-lambda-go functions in the
// linux sandbox through the Lambda API and checks what they can reach.
func TestLinuxSandbox_Isolation(t *testing.T) {
	skipWithoutLinuxSandbox(t)
	n := startNode(t, func(c *server.Config) { c.Sandbox = server.SandboxLinux })
	if got := n.status()["sandbox"]; got != "linux" {
		t.Fatalf("status says sandbox %v, want linux", got)
	}
	n.create("iso-a", nil)
	n.create("iso-b", nil)
	n.call("iso-b", map[string]any{"action": "echo"})
	// B's code, unpacked on this host, is not visible to A.
	codeRoot := filepath.Join(n.cfg.DataDir, "code")
	entries, err := os.ReadDir(codeRoot)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no unpacked code under %s: %v", codeRoot, err)
	}
	for _, e := range entries {
		p := filepath.Join(codeRoot, e.Name(), "bootstrap")
		if got := n.call("iso-a", map[string]any{"action": "stat", "file": p}).Data; !strings.Contains(got, "no such file") {
			t.Errorf("A stat %s: got %q, want no such file", p, got)
		}
	}
	if got := n.call("iso-a", map[string]any{"action": "stat", "file": "/var/task/bootstrap"}).Data; got != "ok" {
		t.Errorf("A stat its own /var/task/bootstrap: %q", got)
	}
	if got := n.call("iso-a", map[string]any{"action": "procs"}).Data; got != "1" {
		t.Errorf("A sees processes %q, want only itself (1)", got)
	}
	if got := n.call("iso-a", map[string]any{"action": "stat", "file": fmt.Sprintf("/proc/%d", os.Getpid())}).Data; got == "ok" && os.Getpid() != 1 {
		t.Errorf("A sees the node's process %d", os.Getpid())
	}
	if got := n.call("iso-a", map[string]any{"action": "whoami"}).Data; !strings.HasPrefix(got, "993 990 updraft-") {
		t.Errorf("A runs as %q, want uid 993 gid 990 and its own host name", got)
	}
	// Writes: only /tmp.
	for _, p := range []string{"/var/task/x", "/x", "/etc/x", "/opt/x", "/usr/x", "/proc/sys/kernel/hostname"} {
		if got := n.call("iso-a", map[string]any{"action": "write", "file": p, "message": "x"}).Data; got == "ok" {
			t.Errorf("A wrote %s", p)
		}
	}
	if got := n.call("iso-a", map[string]any{"action": "write", "file": "/tmp/secret", "message": "a's"}).Data; got != "ok" {
		t.Fatalf("A cannot write /tmp: %s", got)
	}
	// /tmp lasts as long as the environment, and is not shared.
	if got := n.call("iso-a", map[string]any{"action": "read", "file": "/tmp/secret"}).Data; got != "a'sok" {
		t.Errorf("A reads back %q from its /tmp, want a's", got)
	}
	if got := n.call("iso-b", map[string]any{"action": "stat", "file": "/tmp/secret"}).Data; !strings.Contains(got, "no such file") {
		t.Errorf("B sees A's /tmp/secret: %q", got)
	}
}

// TestLinuxSandbox_OutOfMemory: a function that exceeds its memory size
// is killed, and the caller gets Lambda's Runtime.OutOfMemory.
func TestLinuxSandbox_OutOfMemory(t *testing.T) {
	skipWithoutLinuxSandbox(t)
	n := startNode(t, func(c *server.Config) { c.Sandbox = server.SandboxLinux })
	n.create("oom", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(128) })
	if got := n.call("oom", map[string]any{"action": "alloc", "size": 32}).Data; got != "32" {
		t.Fatalf("32 MB in 128 MB: got %q", got)
	}
	out := n.invoke("oom", map[string]any{"action": "alloc", "size": 256}, func(in *lambda.InvokeInput) { in.LogType = types.LogTypeTail })
	body := decodeResult(t, out.Payload)
	msg, _ := body["errorMessage"].(string)
	if aws.ToString(out.FunctionError) != "Unhandled" || body["errorType"] != "Runtime.OutOfMemory" ||
		!strings.HasPrefix(msg, "RequestId: ") || !strings.HasSuffix(msg, " Error: Runtime exited with error: signal: killed") {
		t.Errorf("got %s %v, want Unhandled Runtime.OutOfMemory 'RequestId: … Error: Runtime exited with error: signal: killed'", aws.ToString(out.FunctionError), body)
	}
	// The next invocation gets a fresh environment.
	if got := n.call("oom", map[string]any{"action": "echo"}).Invocations; got != 1 {
		t.Errorf("after the OOM kill got invocation %d of an environment, want 1 (a new one)", got)
	}
}

// TestLinuxSandbox_ForkBomb: a function that starts processes without end
// hits the pids limit, and its processes go with the environment.
func TestLinuxSandbox_ForkBomb(t *testing.T) {
	skipWithoutLinuxSandbox(t)
	n := startNode(t, func(c *server.Config) { c.Sandbox = server.SandboxLinux })
	n.create("bomb", func(in *lambda.CreateFunctionInput) {
		in.MemorySize = aws.Int32(3008) // room for the processes' kernel memory
		in.Timeout = aws.Int32(60)
	})
	const arg = "47.25" // marks this test's sleepers
	got := n.call("bomb", map[string]any{"action": "spawn", "message": arg}).Data
	count, reason, _ := strings.Cut(got, " ")
	spawned, _ := strconv.Atoi(count)
	if spawned == 0 || spawned >= linux.PidsMaxDefault || !strings.Contains(reason, "resource temporarily unavailable") {
		t.Errorf("spawn: got %q, want fewer than %d processes, then EAGAIN", got, linux.PidsMaxDefault)
	}
	t.Logf("spawn: %s", got)
	if sleepers(arg) < spawned {
		t.Fatalf("found %d sleepers on the host, want the %d spawned", sleepers(arg), spawned)
	}
	// Changing the function retires its environment: everything goes.
	_, err := n.lambda.UpdateFunctionConfiguration(context.Background(), &lambda.UpdateFunctionConfigurationInput{
		FunctionName: aws.String("bomb"), Description: aws.String("retire"),
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the bomb's processes to die", func() bool { return sleepers(arg) == 0 })
}

// sleepers counts host processes running "sleep arg".
func sleepers(arg string) int {
	entries, _ := os.ReadDir("/proc")
	n := 0
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.HasSuffix(string(b), "sleep\x00"+arg+"\x00") {
			n++
		}
	}
	return n
}

// TestLinuxSandbox_FreezesIdleEnvironments: an environment idle for
// FreezeAfter is frozen, and thawed when it is invoked again.
func TestLinuxSandbox_FreezesIdleEnvironments(t *testing.T) {
	skipWithoutLinuxSandbox(t)
	n := startNode(t, func(c *server.Config) {
		c.Sandbox = server.SandboxLinux
		c.FreezeAfter = 50 * time.Millisecond
	})
	n.create("freezer", nil)
	n.call("freezer", map[string]any{"action": "echo"})
	eventually(t, 5*time.Second, "the idle environment to be frozen", func() bool { return frozenEnvs(t) == 1 })
	start := time.Now()
	if got := n.call("freezer", map[string]any{"action": "echo"}).Invocations; got != 2 {
		t.Errorf("got invocation %d, want 2: the same, thawed environment", got)
	}
	t.Logf("invoke of a frozen environment took %v", time.Since(start))
	if frozenEnvs(t) != 0 {
		t.Error("the environment is still frozen after an invocation")
	}
}

// frozenEnvs counts frozen environment cgroups of linux drivers in this
// process.
func frozenEnvs(t *testing.T) int {
	t.Helper()
	pattern := fmt.Sprintf("updraft/d%d-*/*/", os.Getpid())
	var files []string
	for _, g := range []string{"/sys/fs/cgroup/freezer/" + pattern + "freezer.state", "/sys/fs/cgroup/freezer/*/" + pattern + "freezer.state"} {
		m, _ := filepath.Glob(g)
		files = append(files, m...)
	}
	n := 0
	for _, f := range files {
		if b, _ := os.ReadFile(f); strings.TrimSpace(string(b)) == "FROZEN" {
			n++
		}
	}
	v2, _ := filepath.Glob("/sys/fs/cgroup/" + pattern + "cgroup.freeze")
	for _, f := range v2 {
		if b, _ := os.ReadFile(f); strings.TrimSpace(string(b)) == "1" {
			n++
		}
	}
	return n
}

// TestLinuxSandbox_Network: a function reaches the node's loopback unless
// it sets UPDRAFT_NETWORK=none; then it reaches nothing but the Runtime
// API (it still runs) and Updraft's endpoint.
func TestLinuxSandbox_Network(t *testing.T) {
	skipWithoutLinuxSandbox(t)
	n := startNode(t, func(c *server.Config) { c.Sandbox = server.SandboxLinux })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, "host")
			c.Close()
		}
	}()
	host := ln.Addr().String()

	n.create("net-open", nil)
	if got := n.call("net-open", map[string]any{"action": "dial", "message": host}).Data; got != "hostok" {
		t.Errorf("without %s, dial %s: got %q, want host", scheduler.NetworkVar, host, got)
	}

	n.create("net-none", func(in *lambda.CreateFunctionInput) {
		in.Environment = &types.Environment{Variables: map[string]string{scheduler.NetworkVar: scheduler.NetworkNone}}
	})
	if got := n.call("net-none", map[string]any{"action": "dial", "message": host}).Data; !strings.Contains(got, "connection refused") {
		t.Errorf("with %s=none, dial %s: got %q, want connection refused", scheduler.NetworkVar, host, got)
	}
	if got := n.call("net-none", map[string]any{"action": "dial", "message": "192.0.2.1:80"}).Data; !strings.Contains(got, "network is unreachable") {
		t.Errorf("with %s=none, dial 192.0.2.1:80: got %q, want network is unreachable", scheduler.NetworkVar, got)
	}
	got := n.call("net-none", map[string]any{"action": "endpoint", "message": "/_updraft/v1/status"}).Data
	if !strings.HasPrefix(got, "200 ") || !strings.Contains(got, `"sandbox"`) {
		t.Errorf("with %s=none, GET AWS_ENDPOINT_URL/_updraft/v1/status: got %q, want 200 and the status", scheduler.NetworkVar, got)
	}
	// Every call above ran in one warm environment, through the Runtime API.
	if got := n.call("net-none", map[string]any{"action": "echo"}).Invocations; got != 4 {
		t.Errorf("got invocation %d of the environment, want 4", got)
	}
}

// TestNetworkNone_Refused: a node whose sandbox cannot isolate the network
// refuses to run a function that asks for it, and nobody may ask for
// anything but none.
func TestNetworkNone_Refused(t *testing.T) {
	n := startNode(t, nil) // process sandbox
	for name, value := range map[string]string{"net-none": scheduler.NetworkNone, "net-bogus": "bridge"} {
		n.create(name, func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{scheduler.NetworkVar: value}}
		})
		_, err := n.tryInvoke(name, map[string]any{"action": "echo"})
		var bad *types.InvalidParameterValueException
		if !errors.As(err, &bad) || !strings.Contains(bad.ErrorMessage(), scheduler.NetworkVar) {
			t.Errorf("%s=%s on the process sandbox: got %v, want InvalidParameterValueException naming %s", scheduler.NetworkVar, value, err, scheduler.NetworkVar)
		}
	}
}
