package linux

import (
	"errors"
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// initArg is argv[0] of a re-executed binary that is to become a sandbox.
const initArg = "updraft-sandbox-init"

// fdControl is the child's end of a SOCK_SEQPACKET pair, after stdin,
// stdout and stderr. The parent sends one message: the plan
// (plan_linux.go) with the function's stdout and stderr attached
// (SCM_RIGHTS). With an isolated network the child first sends its
// listening sockets (listenersMark). It answers with the step that failed
// (failedMark), or closes the socket by executing the function (it is
// close-on-exec), which the parent reads as EOF.
const fdControl = 3

// maxConfig bounds the plan message.
const maxConfig = 1 << 20

var hooked bool // Init ran in this process

// Init must be called first thing in main (and in TestMain of test
// binaries that start linux environments). In a process the driver
// re-executed to become a sandbox it never returns: it runs the plan,
// which builds the sandbox and executes the function. Otherwise it only
// notes that the hook is in place, which Driver.Start checks.
//
// In builds with cgo the child runs its plan in C before the Go runtime
// starts (nsinit_linux.c) and never gets here; this is the path of builds
// without cgo.
func Init() {
	if len(os.Args) == 0 || os.Args[0] != initArg {
		hooked = true
		return
	}
	// Every per-thread step (network namespace, capabilities, seccomp,
	// no_new_privs, the credentials) and the final execve happen on this
	// one thread.
	runtime.LockOSThread()
	unix.CloseOnExec(fdControl)
	i, errno := becomeSandbox()
	_, _ = unix.Write(fdControl, encodeFailure(i, errno))
	os.Exit(1)
}

// receivePlan waits for the parent's message and puts the descriptors it
// carries on stdout and stderr.
func receivePlan() ([]step, unix.Errno) {
	buf := make([]byte, maxConfig)
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, flags, _, err := unix.Recvmsg(fdControl, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, errnoOf(err)
	}
	if n == 0 {
		os.Exit(1) // the parent went away
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		return nil, unix.EMSGSIZE
	}
	fds, err := receivedFDs(oob[:oobn])
	if err != nil || len(fds) != 2 {
		return nil, unix.EPROTO
	}
	for i, fd := range fds {
		if err := unix.Dup3(fd, 1+i, 0); err != nil {
			return nil, errnoOf(err)
		}
		unix.Close(fd)
	}
	steps, err := decodePlan(buf[:n])
	if err != nil {
		return nil, unix.EPROTO
	}
	return steps, 0
}

// becomeSandbox runs the plan; it returns only when a step fails, with
// the step's index and why.
func becomeSandbox() (uint32, unix.Errno) {
	steps, errno := receivePlan()
	if errno != 0 {
		return stepConfig, errno
	}
	var c goChild
	for i := range steps {
		s := &steps[i]
		if errno := c.run(s); errno != 0 && errno != s.ignore {
			return uint32(i), errno
		}
	}
	// A plan ends by executing the program or exiting.
	return uint32(len(steps)), unix.EPROTO
}

// goChild is the state of a plan run in Go.
type goChild struct {
	prog      string // set by opResolve
	listeners []int
}

// run does one step; it returns 0 or why it failed.
func (c *goChild) run(s *step) unix.Errno {
	var a args
	a.s = s
	var err error
	switch s.op {
	case opUnshare:
		err = unix.Unshare(int(a.num(0)))
	case opMount:
		err = unix.Mount(a.str(0), a.str(1), a.str(2), uintptr(a.num(3)), a.str(4))
	case opUmount:
		err = unix.Unmount(a.str(0), int(a.num(1)))
	case opMkdir:
		err = unix.Mkdir(a.str(0), uint32(a.num(1)))
	case opSymlink:
		err = unix.Symlink(a.str(0), a.str(1))
	case opCreate:
		var fd int
		if fd, err = unix.Open(a.str(0), unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, uint32(a.num(1))); err == nil {
			err = unix.Close(fd)
		}
	case opWriteFile:
		err = createFile(a.str(0), a.bytes(1), uint32(a.num(2)))
	case opSethostname:
		err = unix.Sethostname([]byte(a.str(0)))
	case opChdir:
		err = unix.Chdir(a.str(0))
	case opPivotRoot:
		err = unix.PivotRoot(a.str(0), a.str(1))
	case opPrctl:
		err = unix.Prctl(int(a.num(0)), uintptr(a.num(1)), 0, 0, 0)
	// Raw system calls for the credentials: the Go wrappers change every
	// thread of the process, and only this one goes on to execve.
	case opSetgroups:
		err = rawErr(unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0))
	case opSetresgid:
		g := uintptr(a.num(0))
		err = rawErr(unix.RawSyscall(unix.SYS_SETRESGID, g, g, g))
	case opSetresuid:
		u := uintptr(a.num(0))
		err = rawErr(unix.RawSyscall(unix.SYS_SETRESUID, u, u, u))
	case opCapset:
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		err = unix.Capset(&hdr, &data[0])
	case opSeccomp:
		err = installSeccomp(a.bytes(0))
	case opLoopbackUp:
		err = loopbackUp()
	case opListen:
		var fd int
		if fd, err = listenRaw(a.bytes(0)); err == nil {
			c.listeners = append(c.listeners, fd)
		}
	case opSendListeners:
		err = sendListeners(c.listeners)
		c.listeners = nil
	case opResolve:
		err = unix.ENOENT
		for i := range s.args {
			p := a.str(i)
			if err = executable(p); err == nil {
				c.prog = p
				break
			}
		}
	case opExec:
		argc := int(a.num(0))
		if argc < 1 || argc >= len(s.args) || c.prog == "" {
			return unix.EPROTO
		}
		argv := make([]string, 0, argc)
		envv := make([]string, 0, len(s.args)-1-argc)
		for i := 1; i < len(s.args); i++ {
			if i <= argc {
				argv = append(argv, a.str(i))
			} else {
				envv = append(envv, a.str(i))
			}
		}
		if a.bad {
			return unix.EPROTO
		}
		err = unix.Exec(c.prog, argv, envv)
	case opSetaffinity:
		var set unix.CPUSet
		for i := range s.args {
			cpu := a.num(i)
			if cpu >= uint64(len(set)*64) {
				return unix.EINVAL
			}
			set.Set(int(cpu))
		}
		if !a.bad {
			err = unix.SchedSetaffinity(0, &set)
		}
	case opExit:
		if !a.bad {
			os.Exit(int(a.num(0)))
		}
	default:
		return unix.EPROTO
	}
	if a.bad {
		return unix.EPROTO
	}
	return errnoOf(err)
}

// args reads a step's arguments, noting a missing or malformed one.
type args struct {
	s   *step
	bad bool
}

func (a *args) str(i int) string {
	v, ok := a.s.argStr(i)
	a.bad = a.bad || !ok
	return v
}

func (a *args) num(i int) uint64 {
	v, ok := a.s.argNum(i)
	a.bad = a.bad || !ok
	return v
}

func (a *args) bytes(i int) []byte {
	if i >= len(a.s.args) {
		a.bad = true
		return nil
	}
	return a.s.args[i]
}

// errnoOf is err's errno; EIO for an error that carries none.
func errnoOf(err error) unix.Errno {
	if err == nil {
		return 0
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return unix.EIO
}

func rawErr(_, _ uintptr, errno unix.Errno) error {
	if errno != 0 {
		return errno
	}
	return nil
}

// createFile writes data to path, created with mode or truncated.
func createFile(path string, data []byte, mode uint32) error {
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC|unix.O_CLOEXEC, mode)
	if err != nil {
		return err
	}
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err != nil {
			unix.Close(fd)
			return err
		}
		data = data[n:]
	}
	return unix.Close(fd)
}

// executable is nil when p is an executable regular file.
func executable(p string) error {
	var st unix.Stat_t
	if err := unix.Stat(p, &st); err != nil {
		return err
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return unix.EISDIR
	case st.Mode&0o111 == 0:
		return unix.EACCES
	}
	return nil
}

// installSeccomp loads the filter prog (struct sock_filter[]) on the
// calling thread, which must already have no_new_privs set; the program
// it executes inherits it.
func installSeccomp(prog []byte) error {
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(prog) == 0 || len(prog)%size != 0 || len(prog)/size > 0xffff {
		return unix.EPROTO
	}
	p := make([]unix.SockFilter, len(prog)/size)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&p[0])), len(prog)), prog)
	fprog := unix.SockFprog{Len: uint16(len(p)), Filter: &p[0]}
	return unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&fprog)), 0, 0)
}
