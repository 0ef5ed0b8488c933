package linux

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A stub is a re-executed child already in its namespaces and cgroup,
// waiting for its configuration. Spawning one costs a few milliseconds,
// most of it moving the process into its cgroup (with cgroup v1 that waits
// for an RCU grace period); the driver keeps Config.Spares of them ready
// so that a cold start does not wait for it.
type stub struct {
	cmd  *exec.Cmd
	g    group
	ctrl *os.File // the parent's end of the control socket
}

var stubCount atomic.Int64

// spawnStub starts a child in new namespaces and in a new cgroup.
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
	attr := &syscall.SysProcAttr{
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID | syscall.CLONE_NEWIPC | syscall.CLONE_NEWUTS,
		Pdeathsig:  syscall.SIGKILL,
	}
	if fd := g.fd(); fd >= 0 {
		attr.UseCgroupFD, attr.CgroupFD = true, fd
	}
	if d.userNS {
		attr.Cloneflags |= syscall.CLONE_NEWUSER
		attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: d.cfg.UID, HostID: os.Getuid(), Size: 1}}
		attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: d.cfg.GID, HostID: os.Getgid(), Size: 1}}
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
	cmd := &exec.Cmd{
		Path:        "/proc/self/exe",
		Args:        []string{initArg, strconv.FormatInt(stubCount.Load(), 10)},
		Env:         env,
		ExtraFiles:  []*os.File{child},
		SysProcAttr: attr,
	}
	if err := cmd.Start(); err != nil {
		ctrl.Close()
		_ = g.remove()
		return nil, fmt.Errorf("spawn: %w", err)
	}
	s := &stub{cmd: cmd, g: g, ctrl: ctrl}
	if err := g.join(cmd.Process.Pid); err != nil {
		s.discard()
		return nil, err
	}
	return s, nil
}

// discard kills a stub that was never handed out.
func (s *stub) discard() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	s.ctrl.Close()
	_ = s.g.remove()
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
