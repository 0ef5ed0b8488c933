// Package sandboxtest is the conformance suite every sandbox driver
// passes: run it from the driver's own tests with Run(t, driver).
package sandboxtest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
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
		pidFile := filepath.Join(dir, "child.pid")
		script(t, dir, "bootstrap", "sleep 60 &\necho $! > "+pidFile+"\nwait\n")
		e := start(t, d, sandbox.Spec{ID: "t3", CodeDir: dir, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin"}})
		var child int
		deadline := time.Now().Add(5 * time.Second)
		for child == 0 && time.Now().Before(deadline) {
			b, _ := os.ReadFile(pidFile)
			child, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			time.Sleep(10 * time.Millisecond)
		}
		if child == 0 {
			t.Fatal("the environment never started its child")
		}
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
		deadline = time.Now().Add(2 * time.Second)
		for alive(child) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if alive(child) {
			t.Errorf("child process %d survived Kill", child)
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
