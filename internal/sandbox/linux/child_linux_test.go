package linux

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/updraft/updraft/internal/sandbox"
)

// children runs f with a driver whose children run their plan in C
// (where built with cgo) and with one whose children run it in Go.
func children(t *testing.T, f func(t *testing.T, d *Driver)) {
	for _, goChild := range []bool{false, true} {
		name := "C"
		if goChild || !nativeChild {
			name = "Go"
		}
		t.Run(name, func(t *testing.T) {
			d, err := newDriver(Config{Spares: -1}, goChild)
			if err != nil {
				t.Skipf("linux sandbox unavailable: %v", err)
			}
			t.Cleanup(func() { _ = d.Close() })
			if err := d.Probe(context.Background()); err != nil {
				t.Skipf("linux sandbox unavailable: %v", err)
			}
			f(t, d)
		})
	}
}

// TestChild_ReportsFailedStep: a step that fails in the child comes back
// through the control socket as that step, with its errno.
func TestChild_ReportsFailedStep(t *testing.T) {
	children(t, func(t *testing.T, d *Driver) {
		code := t.TempDir()
		os.Chmod(code, 0o755)
		// Executable, but neither ELF nor a script: execve fails ENOEXEC.
		if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte("\x00\x01\x02\x03"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := d.Start(context.Background(), sandbox.Spec{ID: "noexec", CodeDir: code, Args: []string{"./bootstrap"}})
		if !errors.Is(err, unix.ENOEXEC) || !strings.Contains(err.Error(), "exec ./bootstrap: exec format error") {
			t.Errorf("got %v, want exec ./bootstrap: exec format error", err)
		}
		// Found on the host's PATH, not in the sandbox's.
		_, err = d.Start(context.Background(), sandbox.Spec{ID: "nopath", CodeDir: code, Args: []string{"bootstrap"}, Env: []string{"PATH=/nowhere"}})
		if err == nil || !strings.HasSuffix(err.Error(), "program bootstrap: not found in PATH") {
			t.Errorf("got %v, want not found in PATH", err)
		}
	})
}

// TestChild_RefusesBadPlan: a child that cannot read its plan says so,
// runs nothing and exits 1.
func TestChild_RefusesBadPlan(t *testing.T) {
	children(t, func(t *testing.T, d *Driver) {
		for _, tt := range []struct {
			name   string
			msg    []byte
			rights bool
		}{
			{"garbage", []byte("{\"Root\":\"/\"}"), true},
			{"no outputs", mustEncode(t, &plan{}), false},
			{"truncated", mustEncode(t, &plan{})[:6], true},
			{"argument past the end", append(mustEncode(t, &plan{steps: []step{{op: opExit, args: [][]byte{num(0)}}}}), 1)[:30], true},
			{"trailing bytes", append(mustEncode(t, &plan{steps: []step{{op: opExit, args: [][]byte{num(0)}}}}), 0), true},
			{"unknown step", mustEncode(t, &plan{steps: []step{{op: opEnd}}}), true},
		} {
			s, err := d.spawnStub()
			if err != nil {
				t.Fatal(err)
			}
			null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			var rights []byte
			if tt.rights {
				rights = unix.UnixRights(int(null.Fd()), int(null.Fd()))
			}
			if err := unix.Sendmsg(int(s.ctrl.Fd()), tt.msg, rights, nil, 0); err != nil {
				t.Fatal(err)
			}
			null.Close()
			answer := make([]byte, 64)
			n, err := s.ctrl.Read(answer)
			if err != nil {
				t.Fatalf("%s: read answer: %v", tt.name, err)
			}
			i, errno, ok := decodeFailure(answer[:n])
			if !ok || i != stepConfig || errno != unix.EPROTO {
				t.Errorf("%s: got answer %q, want a failure to read the plan (EPROTO)", tt.name, answer[:n])
			}
			if err := waitProcess(s.proc); err == nil || !strings.Contains(err.Error(), "exit status 1") {
				t.Errorf("%s: child ended with %v, want exit status 1", tt.name, err)
			}
			s.ctrl.Close()
			_ = s.g.remove()
		}
	})
}

func mustEncode(t *testing.T, p *plan) []byte {
	t.Helper()
	b, err := p.encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChild_NativeRunsBeforeGo: built with cgo, a child waiting for its
// plan is one thread, blocked in recvmsg: the Go runtime, which starts
// more, never ran.
func TestChild_NativeRunsBeforeGo(t *testing.T) {
	children(t, func(t *testing.T, d *Driver) {
		s, err := d.spawnStub()
		if err != nil {
			t.Fatal(err)
		}
		defer s.discard()
		pid := strconv.Itoa(s.proc.Pid)
		deadline := time.Now().Add(10 * time.Second)
		for {
			b, err := os.ReadFile("/proc/" + pid + "/syscall")
			if errors.Is(err, os.ErrPermission) {
				t.Skipf("cannot see what the child waits for: %v", err)
			} else if err != nil {
				t.Fatal(err)
			}
			if nr, _, _ := strings.Cut(string(b), " "); nr == strconv.Itoa(unix.SYS_RECVMSG) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the child never waited for its plan: /proc/%s/syscall is %q", pid, b)
			}
			time.Sleep(time.Millisecond)
		}
		status, err := os.ReadFile("/proc/" + pid + "/status")
		if err != nil {
			t.Fatal(err)
		}
		threads := ""
		for line := range strings.Lines(string(status)) {
			if v, ok := strings.CutPrefix(line, "Threads:"); ok {
				threads = strings.TrimSpace(v)
			}
		}
		if native := nativeChild && !d.goChild; native != (threads == "1") {
			t.Errorf("native child %v, got %s threads waiting for the plan", native, threads)
		}
	})
}
