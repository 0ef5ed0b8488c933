package linux

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/affinity"
)

// Driver starts environments in Linux namespaces and cgroups.
type Driver struct {
	cfg    Config
	cg     cgroups
	userNS bool
	root   string // where each child assembles its root, in its own mount namespace
	empty  string // an empty directory, the code of probes

	filter  []byte   // the seccomp program
	lastCap int      // the highest capability number the kernel knows
	goChild bool     // children run their plan in Go even where the C child is built in
	sp      *spawner // nil: re-execute the binary for each child
	devNull *os.File // stdin, stdout and stderr of children until they have their plan

	spares    chan *stub
	stop      chan struct{} // closed by Close
	filled    chan struct{} // closed when fill has returned
	closeOnce sync.Once
	closeErr  error
}

// New checks that this host offers what the driver needs (a supported
// architecture, writable cgroups, the Init hook) and makes the driver's
// cgroup; it starts keeping Config.Spares children ready. Close stops.
func New(cfg Config) (*Driver, error) {
	return newDriver(cfg, false)
}

// newDriver is New; with goChild, children run their plan in Go even
// where the C child is built in.
func newDriver(cfg Config, goChild bool) (*Driver, error) {
	cfg.setDefaults()
	if !hooked {
		return nil, errors.New("linux sandbox: linux.Init was not called at program start")
	}
	if auditArch() == 0 {
		return nil, fmt.Errorf("linux sandbox: seccomp filter not written for %s", runtimeArch())
	}
	filter, err := seccompProgram()
	if err != nil {
		return nil, fmt.Errorf("linux sandbox: %w", err)
	}
	d := &Driver{cfg: cfg, userNS: os.Geteuid() != 0, filter: filter, lastCap: lastCap(), goChild: goChild}
	if d.userNS && !userNamespacesAllowed() {
		return nil, errors.New("linux sandbox: not root, and unprivileged user namespaces are disabled")
	}
	d.root = filepath.Join(cfg.StateDir, "root")
	d.empty = filepath.Join(cfg.StateDir, "empty")
	if err := ownDirs(cfg.StateDir, d.root, d.empty); err != nil {
		return nil, fmt.Errorf("linux sandbox: %w", err)
	}
	cg, err := detectCgroups(fmt.Sprintf("d%d-%s", os.Getpid(), randomHex(4)), cfg.CgroupParent)
	if err != nil {
		return nil, fmt.Errorf("linux sandbox: %w", err)
	}
	d.cg = cg
	if d.devNull, err = os.Open(os.DevNull); err != nil {
		_ = cg.close()
		return nil, fmt.Errorf("linux sandbox: %w", err)
	}
	// Without a spawner the driver still works, re-executing its binary
	// for each child.
	if nativeChild && !goChild {
		d.sp, _ = startSpawner(d.devNull)
	}
	d.spares = make(chan *stub, max(cfg.Spares, 0))
	d.stop, d.filled = make(chan struct{}), make(chan struct{})
	if cfg.Spares > 0 {
		go d.fill()
	} else {
		close(d.filled)
	}
	return d, nil
}

// Name is "linux".
func (*Driver) Name() string { return "linux" }

// TaskRoot is where functions see their code.
func (*Driver) TaskRoot() string { return taskRoot }

// CgroupVersion is "v1" or "v2", the layout found on this host.
func (d *Driver) CgroupVersion() string { return d.cg.version() }

// Probe starts one environment that builds the whole sandbox and exits
// without running anything, proving the driver works here.
func (d *Driver) Probe(ctx context.Context) error {
	e, err := d.start(ctx, sandbox.Spec{ID: "probe-" + randomHex(4), CodeDir: d.empty, Args: []string{"probe"}}, true)
	if err != nil {
		return err
	}
	<-e.Done()
	if err := e.Err(); err != nil {
		return fmt.Errorf("linux sandbox probe: %w", err)
	}
	return nil
}

// Close stops keeping children ready, kills those ready, and removes the
// driver's cgroup; environments still running keep it.
func (d *Driver) Close() error {
	d.closeOnce.Do(func() {
		close(d.stop)
		<-d.filled
		for {
			select {
			case s := <-d.spares:
				s.discard()
				continue
			default:
			}
			break
		}
		// devNull stays open for a Start after Close (its finalizer
		// closes it).
		if d.sp != nil {
			d.sp.close()
		}
		d.closeErr = d.cg.close()
	})
	return d.closeErr
}

// Start builds the sandbox and runs spec.Args in it.
func (d *Driver) Start(ctx context.Context, spec sandbox.Spec) (sandbox.Env, error) {
	return d.start(ctx, spec, false)
}

func (d *Driver) start(ctx context.Context, spec sandbox.Spec, probe bool) (*env, error) {
	if !hooked {
		return nil, errors.New("start env: linux.Init was not called at program start")
	}
	if len(spec.Args) == 0 {
		return nil, errors.New("start env: no command")
	}
	if err := d.checkProgram(spec); err != nil && !probe {
		return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
	}
	memMB := spec.MemoryMB
	if memMB <= 0 {
		memMB = MemoryMBDefault
	}
	c := childConfig{
		Root:     d.root,
		LastCap:  d.lastCap,
		Filter:   d.filter,
		Hostname: hostname(spec.ID),
		HostDirs: d.cfg.HostDirs,
		Etc:      d.cfg.Etc,
		CodeDir:  spec.CodeDir,
		OptDir:   spec.OptDir,
		ReadOnly: d.uncovered(spec.ReadOnly),
		TmpMB:    spec.TmpMB,
		UID:      d.cfg.UID,
		GID:      d.cfg.GID,
		UserNS:   d.userNS,
		Args:     spec.Args,
		Env:      spec.Env,
		Probe:    probe,
	}
	var dials []string
	if spec.Network != nil {
		c.Network = true
		for _, f := range spec.Network.Forwards {
			ap, err := loopbackAddr(f.Listen)
			if err != nil {
				return nil, fmt.Errorf("start env %s: forward: %w", spec.ID, err)
			}
			c.Listen = append(c.Listen, ap)
			dials = append(dials, f.Dial)
		}
	}
	if c.TmpMB <= 0 {
		c.TmpMB = TmpMBDefault
	}
	c.CPUs = affinity.Pick(spec.CPUs)
	started := false
	defer func() {
		if !started {
			affinity.Drop(c.CPUs)
		}
	}()
	p, err := planSandbox(&c)
	if err != nil {
		return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
	}
	msg, err := p.encode()
	if err != nil {
		return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
	}
	st, err := d.stub()
	if err != nil {
		return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
	}
	e := &env{proc: st.proc, g: st.g, memMB: memMB, cpus: c.CPUs, done: make(chan struct{})}
	if err := e.handout(st, spec, p, msg, dials); err != nil {
		return nil, fmt.Errorf("start env %s: %w", spec.ID, err)
	}
	started = true
	go e.wait()
	return e, nil
}

// checkProgram fails early, on the host, for a program that cannot be
// there; the child checks again inside.
func (d *Driver) checkProgram(spec sandbox.Spec) error {
	prog := spec.Args[0]
	switch {
	case filepath.IsAbs(prog):
	case strings.ContainsRune(prog, '/'):
		prog = filepath.Join(spec.CodeDir, prog)
	default:
		return nil
	}
	if err := executable(prog); err != nil {
		return fmt.Errorf("program %s: %w", spec.Args[0], err)
	}
	return nil
}

// uncovered drops the paths every root shows anyway (an interpreter in
// /usr/bin).
func (d *Driver) uncovered(paths []string) []string {
	var out []string
	for _, p := range paths {
		p = filepath.Clean(p)
		covered := false
		for _, dir := range d.cfg.HostDirs {
			if fi, err := os.Lstat(dir); err == nil && fi.IsDir() && (p == dir || strings.HasPrefix(p, dir+"/")) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

// hostname is the environment's host name: its ID, shortened.
func hostname(id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return "updraft-" + id
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// env is one running sandbox.
type env struct {
	proc   *os.Process
	g      group
	memMB  int
	cpus   []int // the CPUs it runs on (affinity.Pick), nil for all
	done   chan struct{}
	err    error
	copies sync.WaitGroup // output copied from pipes to non-file writers

	mu     sync.Mutex
	killed bool // Kill was called
	gone   bool // the processes are gone and the cgroup removed
	frozen bool
	peak   int64

	relay *relay // forwards into an isolated network, or nil
}

// handout gives a stub its memory limit, output and plan (p, encoded as
// msg), and waits until it has executed the program (or failed to). With
// an isolated network it relays the listeners the child sends to dials.
func (e *env) handout(st *stub, spec sandbox.Spec, p *plan, msg []byte, dials []string) error {
	defer st.ctrl.Close()
	// On failure the copying goroutines end when the deferred Closes
	// drop the pipes' last write ends.
	fail := func(err error) error {
		_ = e.proc.Kill()
		_ = waitProcess(e.proc)
		_ = e.g.remove()
		if e.relay != nil {
			e.relay.close()
		}
		return err
	}
	if err := e.g.limitMemory(e.memMB); err != nil {
		return fail(err)
	}
	stdout, err := e.output(spec.Stdout)
	if err != nil {
		return fail(err)
	}
	defer stdout.Close()
	stderr := stdout
	if spec.Stderr != spec.Stdout {
		if stderr, err = e.output(spec.Stderr); err != nil {
			return fail(err)
		}
		defer stderr.Close()
	}
	rights := unix.UnixRights(int(stdout.Fd()), int(stderr.Fd()))
	if err := unix.Sendmsg(int(st.ctrl.Fd()), msg, rights, nil, 0); err != nil {
		return fail(fmt.Errorf("send config: %w", err))
	}
	if err := e.await(st.ctrl, p, spec.Network != nil, dials); err != nil {
		return fail(err)
	}
	// The peak so far is the re-executed binary's, not the function's.
	e.g.resetPeak()
	return nil
}

// await reads the child's answers until it has executed the program
// (EOF) or says which step of p failed; with an isolated network the
// first answer carries the listeners to relay.
func (e *env) await(ctrl *os.File, p *plan, network bool, dials []string) error {
	answer := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*max(len(dials), 1)))
	for {
		n, oobn, _, _, err := unix.Recvmsg(int(ctrl.Fd()), answer, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil {
			return fmt.Errorf("read answer: %w", err)
		}
		if n == 0 && oobn == 0 {
			return nil // EOF: executed
		}
		if i, errno, ok := decodeFailure(answer[:n]); ok {
			return p.failure(i, errno)
		}
		if string(answer[:n]) != listenersMark {
			return fmt.Errorf("unexpected answer from the sandbox: %q", answer[:n])
		}
		fds, err := receivedFDs(oob[:oobn])
		if err != nil || !network || e.relay != nil || len(fds) != len(dials) {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return fmt.Errorf("unexpected listeners from the sandbox (%d, want %d): %v", len(fds), len(dials), err)
		}
		if e.relay, err = newRelay(fds, dials); err != nil {
			return err
		}
	}
}

// receivedFDs are the descriptors of one SCM_RIGHTS message, if any.
func receivedFDs(oob []byte) ([]int, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var fds []int
	for i := range msgs {
		got, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			return fds, err
		}
		fds = append(fds, got...)
	}
	return fds, nil
}

// output is the file the function writes w through: w itself when it is
// a file, /dev/null when nil, else a pipe copied to w until the
// environment ends.
func (e *env) output(w io.Writer) (*os.File, error) {
	if f, ok := w.(*os.File); ok {
		// A duplicate, so that the deferred Close leaves w open.
		fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		return os.NewFile(uintptr(fd), f.Name()), nil
	}
	if w == nil {
		return os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	}
	r, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	e.copies.Add(1)
	go func() {
		defer e.copies.Done()
		_, _ = io.Copy(w, r)
		r.Close()
	}()
	return pw, nil
}

// wait reaps the environment: when its first process, the init of its PID
// namespace, exits, the kernel has killed every other process in it.
func (e *env) wait() {
	err := waitProcess(e.proc)
	e.copies.Wait()
	if e.relay != nil {
		e.relay.close()
	}
	oom := e.g.oomKilled()
	e.mu.Lock()
	_, e.peak = e.memoryLocked()
	e.gone = true
	_ = e.g.remove()
	e.mu.Unlock()
	affinity.Drop(e.cpus)
	if err != nil && oom {
		err = &sandbox.OutOfMemoryError{Err: err}
	}
	e.err = err
	close(e.done)
}

func (e *env) PID() int              { return e.proc.Pid }
func (e *env) Done() <-chan struct{} { return e.done }
func (e *env) Err() error            { <-e.done; return e.err }

// Kill ends every process of the environment. A frozen environment is
// thawed after the signal, so that its processes die at once.
func (e *env) Kill() error {
	e.mu.Lock()
	if !e.killed && !e.gone {
		e.killed = true
		if !e.g.kill() {
			_ = e.proc.Signal(syscall.SIGKILL)
		}
		if e.frozen {
			_ = e.g.freeze(false)
			e.frozen = false
		}
	}
	e.mu.Unlock()
	<-e.done
	return nil
}

// Freeze suspends every process of the environment.
func (e *env) Freeze() error { return e.setFrozen(true) }

// Thaw resumes a frozen environment.
func (e *env) Thaw() error { return e.setFrozen(false) }

func (e *env) setFrozen(frozen bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.killed || e.gone || e.frozen == frozen {
		return nil
	}
	if err := e.g.freeze(frozen); err != nil {
		return err
	}
	e.frozen = frozen
	return nil
}

// EndInit applies the CPU quota that goes with the memory size.
func (e *env) EndInit() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return nil
	}
	return e.g.limitCPU(e.memMB)
}

func (e *env) MemoryBytes() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return 0
	}
	cur, _ := e.memoryLocked()
	return cur
}

func (e *env) MaxMemoryBytes() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.gone {
		return e.peak
	}
	_, peak := e.memoryLocked()
	return peak
}

func (e *env) memoryLocked() (int64, int64) {
	cur, peak := e.g.memory()
	peak = max(peak, cur, e.peak)
	e.peak = peak
	return cur, peak
}

// lastCap is the highest capability number the kernel knows.
func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 63
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 63
	}
	return n
}
