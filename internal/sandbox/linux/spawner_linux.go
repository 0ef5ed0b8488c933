package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// A spawner is the fork server of a driver (spawner_linux.c): the node's
// binary re-executed once, taken over by C before the Go runtime starts,
// that clones each new child as the node's (CLONE_PARENT) into its
// namespaces. A child forked from it starts with the spawner's few pages
// and four descriptors, where one forked from the node would copy and
// then close the node's descriptors (thousands in a burst: sockets,
// pipes) and re-execute its 30 MB binary. Requests are served one at a
// time.
type spawner struct {
	mu   sync.Mutex
	conn *os.File // the node's end of the spawner's control socket
	proc *os.Process
	err  error // why the spawner cannot serve any more

	release chan struct{} // closed by close: frees the thread that started the spawner
	done    chan struct{} // closed when that goroutine has returned
}

// errSpawnerGone: the spawner cannot serve (it failed or was closed);
// the driver re-executes its binary for each child instead.
var errSpawnerGone = errors.New("spawner gone")

// idMap maps the child into a new user namespace: UID and GID inside
// are HostUID and HostGID outside.
type idMap struct {
	UID, HostUID, GID, HostGID int
}

// startSpawner starts the fork server. The children it makes are the
// node's, and their parent-death signal follows the thread that started
// the spawner; a goroutine therefore keeps that thread to itself (a
// thread whose locked goroutine ends exits with it) until close.
func startSpawner(devNull *os.File) (*spawner, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("spawner: %w", err)
	}
	conn, theirs := os.NewFile(uintptr(fds[0]), "spawner"), os.NewFile(uintptr(fds[1]), "spawner")
	s := &spawner{conn: conn, release: make(chan struct{}), done: make(chan struct{})}
	started := make(chan error)
	go func() {
		defer close(s.done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		p, err := os.StartProcess("/proc/self/exe", []string{initArg, "spawner"}, &os.ProcAttr{
			Env:   []string{childEnv + "=" + spawnerEnv},
			Files: []*os.File{devNull, devNull, devNull, theirs},
			Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
		})
		s.proc = p
		started <- err
		if err == nil {
			<-s.release
		}
	}()
	err = <-started
	theirs.Close()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("spawner: %w", err)
	}
	return s, nil
}

// spawn makes a child in new namespaces (flags) with ctrl, its end of
// the control socket, as fd 3; into the cgroup cgroupFD when not -1 (v2),
// and into a new user namespace when ids is not nil. The child is the
// node's: the caller waits for it.
func (s *spawner) spawn(ctrl *os.File, flags uintptr, cgroupFD int, ids *idMap) (*os.Process, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	req := binary.LittleEndian.AppendUint32(nil, spawnMagic)
	req = binary.LittleEndian.AppendUint64(req, uint64(flags))
	var m idMap
	userNS := ids != nil
	if userNS {
		m = *ids
	}
	for _, v := range []int{boolInt(userNS), m.UID, m.HostUID, m.GID, m.HostGID, boolInt(cgroupFD >= 0)} {
		req = binary.LittleEndian.AppendUint32(req, uint32(v))
	}
	fds := []int{int(ctrl.Fd())}
	if cgroupFD >= 0 {
		fds = append(fds, cgroupFD)
	}
	if err := unix.Sendmsg(int(s.conn.Fd()), req, unix.UnixRights(fds...), nil, unix.MSG_NOSIGNAL); err != nil {
		s.err = fmt.Errorf("%w: send: %v", errSpawnerGone, err)
		return nil, s.err
	}
	answer := make([]byte, 16)
	n, err := s.conn.Read(answer)
	if err != nil || n != 8 {
		s.err = fmt.Errorf("%w: answer of %d bytes: %v", errSpawnerGone, n, err)
		return nil, s.err
	}
	pid := int(int32(binary.LittleEndian.Uint32(answer)))
	errno := unix.Errno(binary.LittleEndian.Uint32(answer[4:]))
	var p *os.Process
	if pid > 0 {
		// The child cannot be reaped by anyone but the node, so its
		// pid cannot have been reused.
		if p, err = os.FindProcess(pid); err != nil {
			return nil, fmt.Errorf("spawner: %w", err)
		}
	}
	if errno != 0 {
		if p != nil { // killed by the spawner
			_, _ = p.Wait()
		}
		return nil, fmt.Errorf("spawn: %w", errno)
	}
	if p == nil {
		return nil, errors.New("spawner: no child and no error")
	}
	return p, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// close stops the spawner and waits for it; children it made live on.
func (s *spawner) close() {
	s.mu.Lock()
	if s.err == nil {
		s.err = fmt.Errorf("%w: closed", errSpawnerGone)
	}
	s.conn.Close() // the spawner exits when its socket ends
	s.mu.Unlock()
	_, _ = s.proc.Wait()
	close(s.release)
	<-s.done
}
