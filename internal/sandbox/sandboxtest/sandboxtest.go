// Package sandboxtest is the conformance suite every sandbox driver
// passes: run it from the driver's own tests with Run(t, driver).
package sandboxtest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/sandbox"
)

// syncBuffer is a bytes.Buffer safe for the driver's writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// script writes an executable shell script named name into dir.
func script(t *testing.T, dir, name, body string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

func start(t *testing.T, d sandbox.Driver, spec sandbox.Spec) sandbox.Env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e, err := d.Start(ctx, spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = e.Kill() })
	return e
}

func waitDone(t *testing.T, e sandbox.Env) {
	t.Helper()
	select {
	case <-e.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("environment did not exit")
	}
}

// cpusAllowed is the Cpus_allowed_list of process pid's main thread.
func cpusAllowed(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Cpus_allowed_list:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Skip("no Cpus_allowed_list in /proc")
	return ""
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "Z")
}

// waitFor polls cond every 5 ms for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// children lists the host PIDs whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:]) // state ppid …
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// cpuTicks is the user+system CPU time of pid and its reaped children,
// in clock ticks.
func cpuTicks(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	var total int64
	for _, i := range []int{11, 12} { // utime, stime (fields 14 and 15)
		n, _ := strconv.ParseInt(f[i], 10, 64)
		total += n
	}
	return total
}

// Run runs the conformance suite against d.
func Run(t *testing.T, d sandbox.Driver) {
	t.Run("RunsInCodeDirWithEnv", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", `echo "cwd=$(pwd) greeting=$GREETING"; echo oops >&2`)
		var out, errOut syncBuffer
		e := start(t, d, sandbox.Spec{ID: "t1", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"GREETING=hi", "PATH=/usr/bin:/bin"}, Stdout: &out, Stderr: &errOut})
		waitDone(t, e)
		if err := e.Err(); err != nil {
			t.Errorf("got exit error %v, want success", err)
		}
		if got := out.String(); !strings.Contains(got, "greeting=hi") || !strings.Contains(got, "cwd=") {
			t.Errorf("got stdout %q, want the environment variable and working directory", got)
		}
		if got := errOut.String(); got != "oops\n" {
			t.Errorf("got stderr %q, want oops", got)
		}
	})
	t.Run("ReportsExitStatus", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", "exit 3\n")
		e := start(t, d, sandbox.Spec{ID: "t2", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}})
		waitDone(t, e)
		if err := e.Err(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
			t.Errorf("got %v, want exit status 3", err)
		}
	})
	t.Run("KillEndsTheWholeTree", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", "sleep 60 &\nsleep 60 &\necho started\nwait\n")
		var out syncBuffer
		e := start(t, d, sandbox.Spec{ID: "t3", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out})
		waitFor(t, "the environment to start its children", func() bool {
			return strings.Contains(out.String(), "started") && len(children(e.PID())) == 2
		})
		kids := children(e.PID())
		if err := e.Kill(); err != nil {
			t.Fatalf("kill: %v", err)
		}
		select {
		case <-e.Done():
		default:
			t.Error("Done is open after Kill returned")
		}
		if alive(e.PID()) {
			t.Errorf("main process %d survived Kill", e.PID())
		}
		deadline := time.Now().Add(2 * time.Second)
		for _, child := range kids {
			for alive(child) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if alive(child) {
				t.Errorf("child process %d survived Kill", child)
			}
		}
		if err := e.Kill(); err != nil {
			t.Errorf("second Kill: %v", err)
		}
	})
	t.Run("ReportsMemory", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", "sleep 5\n")
		e := start(t, d, sandbox.Spec{ID: "t4", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}, MemoryMB: 128})
		time.Sleep(50 * time.Millisecond)
		if e.MemoryBytes() <= 0 || e.MaxMemoryBytes() < e.MemoryBytes() {
			t.Errorf("got memory %d peak %d, want positive and peak >= current", e.MemoryBytes(), e.MaxMemoryBytes())
		}
	})
	t.Run("TaskRootIsTheWorkingDirectory", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", "pwd\n")
		var out syncBuffer
		e := start(t, d, sandbox.Spec{ID: "t7", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out})
		waitDone(t, e)
		if got, want := strings.TrimSpace(out.String()), sandbox.TaskRoot(d, dir); got != want {
			t.Errorf("got working directory %q, want %q", got, want)
		}
	})
	t.Run("ReadOnlyPathsAreVisible", func(t *testing.T) {
		dir, extra := t.TempDir(), t.TempDir()
		if err := os.WriteFile(filepath.Join(extra, "client.txt"), []byte("runtime client"), 0o644); err != nil {
			t.Fatal(err)
		}
		script(t, dir, "bootstrap", "cat "+filepath.Join(extra, "client.txt")+"\n")
		var out syncBuffer
		e := start(t, d, sandbox.Spec{ID: "t8", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out, ReadOnly: []string{extra}})
		waitDone(t, e)
		if got := out.String(); got != "runtime client" {
			t.Errorf("got %q, want the file under the read-only path", got)
		}
	})
	t.Run("ManyAtOnce", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", "echo \"hello $N\"\n")
		const n = 20
		var wg sync.WaitGroup
		outs := make([]syncBuffer, n)
		envs := make([]sandbox.Env, n)
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				envs[i], errs[i] = d.Start(context.Background(), sandbox.Spec{ID: "many" + strconv.Itoa(i), CodeDir: dir, Args: []string{"./bootstrap"},
					Env: []string{"PATH=/usr/bin:/bin", "N=" + strconv.Itoa(i)}, Stdout: &outs[i]})
			}()
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil {
				t.Errorf("start %d: %v", i, errs[i])
				continue
			}
			waitDone(t, envs[i])
			if got, want := outs[i].String(), "hello "+strconv.Itoa(i)+"\n"; got != want {
				t.Errorf("env %d: got %q, want %q", i, got, want)
			}
		}
	})
	t.Run("FreezeStopsTheCPU", func(t *testing.T) {
		dir := t.TempDir()
		script(t, dir, "bootstrap", "while :; do :; done\n")
		e := start(t, d, sandbox.Spec{ID: "t9", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}, MemoryMB: 1769})
		f, ok := e.(sandbox.Freezer)
		if !ok {
			t.Skipf("%s environments cannot be frozen", d.Name())
		}
		if ie, ok := e.(sandbox.InitEnder); ok {
			if err := ie.EndInit(); err != nil {
				t.Fatalf("end init: %v", err)
			}
		}
		waitFor(t, "the loop to use CPU", func() bool { return cpuTicks(e.PID()) > 2 })
		if err := f.Freeze(); err != nil {
			t.Fatalf("freeze: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // let a freeze in progress settle
		before := cpuTicks(e.PID())
		time.Sleep(300 * time.Millisecond)
		if after := cpuTicks(e.PID()); after != before {
			t.Errorf("a frozen environment used %d ticks of CPU in 300ms", after-before)
		}
		if err := f.Thaw(); err != nil {
			t.Fatalf("thaw: %v", err)
		}
		before = cpuTicks(e.PID())
		waitFor(t, "the thawed loop to use CPU", func() bool { return cpuTicks(e.PID()) > before })
		// Frozen again, Kill must still end it.
		if err := f.Freeze(); err != nil {
			t.Fatalf("freeze: %v", err)
		}
		if err := e.Kill(); err != nil {
			t.Fatalf("kill: %v", err)
		}
		if alive(e.PID()) {
			t.Errorf("a frozen environment survived Kill")
		}
		if err := f.Thaw(); err != nil {
			t.Errorf("thaw after kill: %v", err)
		}
	})
	t.Run("RunsOnItsCPUs", func(t *testing.T) {
		host := cpusAllowed(t, os.Getpid())
		if runtime.GOOS != "linux" || strings.IndexAny(host, ",-") < 0 {
			t.Skip("needs Linux and more than one CPU")
		}
		// The program says its CPUs and those of a process it starts,
		// then stays, so that the next environment is started beside it.
		dir := t.TempDir()
		script(t, dir, "bootstrap", `cpus='while read -r k v; do case $k in Cpus_allowed_list:) echo "$v";; esac; done </proc/self/status'
eval "$cpus"
sh -c "$cpus"
exec sleep 30
`)
		var got [2]string
		for i := range got {
			var out syncBuffer
			start(t, d, sandbox.Spec{ID: "cpus" + strconv.Itoa(i), CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"},
				MemoryMB: 128, CPUs: 1, Stdout: &out})
			waitFor(t, "the program to say its CPUs", func() bool { return strings.Count(out.String(), "\n") == 2 })
			lines := strings.Fields(out.String())
			if len(lines) != 2 || strings.IndexAny(lines[0], ",-") >= 0 || lines[0] != lines[1] {
				t.Fatalf("environment %d with CPUs 1 runs on %q, and a process it starts on %q; want one CPU for both (the node may use %s)", i, lines[0], lines[1], host)
			}
			got[i] = lines[0]
		}
		if got[0] == got[1] {
			t.Errorf("two environments with CPUs 1 side by side both run on CPU %s, while the node may use %s", got[0], host)
		}
	})
	t.Run("IsolatedNetworkOrRefusal", func(t *testing.T) {
		// A driver either cuts the environment off the network (it sees
		// only loopback) or refuses; it never runs it on the node's.
		dir := t.TempDir()
		script(t, dir, "bootstrap", "cat /proc/net/dev\n")
		var out syncBuffer
		spec := sandbox.Spec{ID: "t7", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}, Stdout: &out, Network: &sandbox.Network{}}
		e, err := d.Start(context.Background(), spec)
		if err != nil {
			if !errors.Is(err, sandbox.ErrNetworkIsolation) {
				t.Fatalf("got %v, want isolation or sandbox.ErrNetworkIsolation", err)
			}
			return
		}
		t.Cleanup(func() { _ = e.Kill() })
		waitDone(t, e)
		var ifaces []string
		for _, line := range strings.Split(out.String(), "\n") {
			if name, _, ok := strings.Cut(line, ":"); ok && !strings.Contains(name, "|") {
				ifaces = append(ifaces, strings.TrimSpace(name))
			}
		}
		if len(ifaces) != 1 || ifaces[0] != "lo" {
			t.Errorf("isolated environment sees interfaces %q, want only lo\n%s", ifaces, out.String())
		}
	})
	t.Run("MissingProgram", func(t *testing.T) {
		ctx := context.Background()
		if _, err := d.Start(ctx, sandbox.Spec{ID: "t5", CodeDir: t.TempDir(), Args: []string{"./bootstrap"}}); err == nil {
			t.Error("started a program that does not exist")
		}
		if _, err := d.Start(ctx, sandbox.Spec{ID: "t6", CodeDir: t.TempDir()}); err == nil {
			t.Error("started with no command")
		}
	})
}
