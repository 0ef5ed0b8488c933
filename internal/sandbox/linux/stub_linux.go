package linux

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A stub is a child already in its namespaces and cgroup, waiting for
// its plan. Spawning one costs a few milliseconds, most of it moving the
// process into its cgroup (with cgroup v1 that waits for an RCU grace
// period); the driver keeps Config.Spares of them ready so that a cold
// start does not wait for it.
type stub struct {
	proc *os.Process
	g    group
	ctrl *os.File // the parent's end of the control socket
}

var stubCount atomic.Int64

// stubNamespaces are the namespaces every child is made in; with a user
// namespace (not root) CLONE_NEWUSER too.
const stubNamespaces = syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS

// spawnStub starts a child in new namespaces and in a new cgroup: forked
// by the spawner when there is one, else the node's binary re-executed.
func (d *Driver) spawnStub() (*stub, error) {
	if !hooked {
		return nil, fmt.Errorf("linux.Init was not called at program start")
	}
	g, err := d.cg.create(fmt.Sprintf("e%d-%s", stubCount.Add(1), randomHex(3)), d.cfg.PidsMax)
	if err != nil {
		return nil, err
	}
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		_ = g.remove()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	ctrl, child := os.NewFile(uintptr(fds[0]), "control"), os.NewFile(uintptr(fds[1]), "control")
	defer child.Close()
	var p *os.Process
	err = errSpawnerGone
	if d.sp != nil {
		var ids *idMap
		if d.userNS {
			ids = &idMap{UID: d.cfg.UID, HostUID: os.Geteuid(), GID: d.cfg.GID, HostGID: os.Getegid()}
		}
		p, err = d.sp.spawn(child, stubNamespaces, g.fd(), ids)
	}
	if errors.Is(err, errSpawnerGone) {
		p, err = d.execStub(child, g)
	}
	if err != nil {
		ctrl.Close()
		_ = g.remove()
		return nil, fmt.Errorf("spawn: %w", err)
	}
	s := &stub{proc: p, g: g, ctrl: ctrl}
	if err := g.join(p.Pid); err != nil {
		s.discard()
		return nil, err
	}
	return s, nil
}

// execStub re-executes the node's binary as a child, its end of the
// control socket as fd 3.
func (d *Driver) execStub(child *os.File, g group) (*os.Process, error) {
	attr := &syscall.SysProcAttr{Cloneflags: stubNamespaces, Pdeathsig: syscall.SIGKILL}
	if fd := g.fd(); fd >= 0 {
		attr.UseCgroupFD, attr.CgroupFD = true, fd
	}
	if d.userNS {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: d.cfg.UID, HostID: os.Geteuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: d.cfg.GID, HostID: os.Getegid(), Size: 1}}
		attr.GidMappingsEnableSetgroups = false
		attr.Credential = &syscall.Credential{Uid: uint32(d.cfg.UID), Gid: uint32(d.cfg.GID), NoSetGroups: true}
		// Kept across the execve of this binary as a non-root user; the
		// child drops them all before running the function.
		attr.AmbientCaps = []uintptr{capSysAdmin, capSetUID, capSetGID, capSetPCap, capSysChroot, capNetAdmin, capNetBindService}
	}
	// The child's own environment, never the function's. With cgo the
	// marker hands the process to nsinit_linux.c before the Go runtime
	// starts. Else Init runs the plan in Go: the child allocates little
	// and lives for milliseconds, so a collector and more than one P
	// are pure start-up cost.
	env := []string{"GOGC=off", "GOMAXPROCS=1"}
	if nativeChild && !d.goChild {
		env = []string{childEnv + "=1"}
	}
	return os.StartProcess("/proc/self/exe", []string{initArg, strconv.FormatInt(stubCount.Load(), 10)}, &os.ProcAttr{
		Env:   env,
		Files: []*os.File{d.devNull, d.devNull, d.devNull, child},
		Sys:   attr,
	})
}

// discard kills a stub that was never handed out.
func (s *stub) discard() {
	_ = s.proc.Kill()
	_ = waitProcess(s.proc)
	s.ctrl.Close()
	_ = s.g.remove()
}

// waitProcess waits for p to exit; an exit other than 0 is an
// *exec.ExitError.
func waitProcess(p *os.Process) error {
	st, err := p.Wait()
	if err != nil {
		return err
	}
	if !st.Success() {
		return &exec.ExitError{ProcessState: st}
	}
	return nil
}

// stub returns a ready stub, or spawns one.
func (d *Driver) stub() (*stub, error) {
	select {
	case s := <-d.spares:
		return s, nil
	default:
		return d.spawnStub()
	}
}

// fill keeps d.spares full until Close.
func (d *Driver) fill() {
	defer close(d.filled)
	for {
		s, err := d.spawnStub()
		if err != nil {
			select {
			case <-d.stop:
				return
			case <-time.After(time.Second):
				continue
			}
		}
		select {
		case d.spares <- s:
		case <-d.stop:
			s.discard()
			return
		}
	}
}
