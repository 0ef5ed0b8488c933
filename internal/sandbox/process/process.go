// Package process is the sandbox driver that runs each execution
// environment as a plain child process in its own process group, with the
// function code as its working directory. It isolates nothing beyond what
// the operating system gives any process; it is for development, for
// hosts where the linux driver cannot run, and as the reference for the
// conformance suite.
package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/affinity"
)

// Driver starts plain child processes.
type Driver struct{}

// New returns the process driver.
func New() *Driver { return &Driver{} }

// Name is "process".
func (*Driver) Name() string { return "process" }

// Start launches spec.Args in spec.CodeDir. It refuses a Spec that asks
// for an isolated network (sandbox.ErrNetworkIsolation): a plain process
// shares the node's network, and running it anyway would hand a function
// that asked to be cut off the whole network.
func (*Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Env, error) {
	if len(spec.Args) == 0 {
		return nil, errors.New("start env: no command")
	}
	if spec.Network != nil {
		return nil, fmt.Errorf("start env %s: %w", spec.ID, sandbox.ErrNetworkIsolation)
	}
	prog := spec.Args[0]
	switch {
	case filepath.IsAbs(prog):
	case strings.ContainsRune(prog, '/'):
		prog = filepath.Join(spec.CodeDir, prog)
	default:
		p, err := exec.LookPath(prog)
		if err != nil {
			return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
		}
		prog = p
	}
	environ := spec.Env
	if spec.OptDir != "" {
		environ = withOptDir(environ, spec.OptDir)
	}
	cmd := &exec.Cmd{
		Path:        prog,
		Args:        spec.Args,
		Dir:         spec.CodeDir,
		Env:         environ,
		Stdout:      spec.Stdout,
		Stderr:      spec.Stderr,
		SysProcAttr: procAttr(),
	}
	cpus := affinity.Pick(spec.CPUs)
	if err := affinity.Run(cpus, cmd.Start); err != nil {
		affinity.Drop(cpus)
		return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
	}
	e := &env{cmd: cmd, done: make(chan struct{}), cpus: cpus}
	go e.wait()
	return e, nil
}

// optPathVars are the search-path variables whose /opt entries are
// pointed at the layers directory, since this driver cannot mount it at
// /opt.
var optPathVars = map[string]bool{"PATH": true, "LD_LIBRARY_PATH": true, "PYTHONPATH": true, "NODE_PATH": true}

// withOptDir rewrites every /opt entry of the search-path variables to
// optDir, and tells the function where its layers are in
// UPDRAFT_OPT_DIR.
func withOptDir(env []string, optDir string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if optPathVars[k] {
			parts := strings.Split(v, ":")
			for i, p := range parts {
				if p == "/opt" || strings.HasPrefix(p, "/opt/") {
					parts[i] = optDir + strings.TrimPrefix(p, "/opt")
				}
			}
			kv = k + "=" + strings.Join(parts, ":")
		}
		out = append(out, kv)
	}
	return append(out, "UPDRAFT_OPT_DIR="+optDir)
}

type env struct {
	cmd      *exec.Cmd
	done     chan struct{}
	err      error
	killOnce sync.Once
	mu       sync.Mutex
	peak     int64
	cpus     []int // the CPUs it runs on (affinity.Pick), nil for all
}

func (e *env) wait() {
	err := e.cmd.Wait()
	// Whatever the main process left behind in its group goes with it.
	_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	affinity.Drop(e.cpus)
	e.err = err
	close(e.done)
}

func (e *env) PID() int              { return e.cmd.Process.Pid }
func (e *env) Done() <-chan struct{} { return e.done }
func (e *env) Err() error            { <-e.done; return e.err }
func (e *env) MemoryBytes() int64    { return statusKB(e.cmd.Process.Pid, "VmRSS:") * 1024 }
func (e *env) MaxMemoryBytes() int64 {
	hwm := statusKB(e.cmd.Process.Pid, "VmHWM:") * 1024
	e.mu.Lock()
	defer e.mu.Unlock()
	if hwm > e.peak {
		e.peak = hwm
	}
	return e.peak
}

func (e *env) Kill() error {
	e.killOnce.Do(func() {
		e.MaxMemoryBytes() // keep the peak for reports after the kill
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGKILL)
	})
	<-e.done
	return nil
}

// statusKB reads a "Name:   123 kB" line from /proc/PID/status; 0 when it
// cannot.
func statusKB(pid int, field string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte(field))
	if i < 0 {
		return 0
	}
	rest := b[i+len(field):]
	if j := bytes.IndexByte(rest, '\n'); j >= 0 {
		rest = rest[:j]
	}
	rest = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte("kB")))
	n, _ := strconv.ParseInt(string(rest), 10, 64)
	return n
}
