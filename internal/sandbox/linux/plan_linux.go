package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// A plan is everything a re-executed child does to become a sandbox, as
// a list of steps, each one system call (or, for the program lookup, a
// few stats). The node works the plan out — which host paths exist, which
// are symlinks, which directories to create, the seccomp filter — and
// sends it; the child runs the steps in order without deciding anything,
// so the small C program that runs them before the Go runtime starts
// (nsinit_linux.c) and the Go fallback (child_linux.go) cannot disagree
// on what the sandbox is. When a step fails the child answers with the
// step's index and the errno, and the node, which kept the plan, names
// what failed.
type plan struct {
	steps []step
	err   error // the first string that cannot travel (it holds a NUL)
}

// step is one system call of a plan.
type step struct {
	op     op
	ignore unix.Errno // an error that counts as success; 0 for none
	args   [][]byte   // strings end with a NUL; numbers are 8 bytes, little-endian

	// Kept by the node to describe a failure, never sent.
	what string                 // "bind /usr", as the error's prefix
	fail func(unix.Errno) error // when set, the whole error instead
}

// op is what a step does. The numbers are the wire format's and the C
// child's (nsinit_linux.c); nsinit_cgo_linux.go fails to compile when they
// differ.
type op uint32

const (
	opUnshare       op = iota + 1 // flags
	opMount                       // source, target, fstype, flags, data
	opUmount                      // target, flags
	opMkdir                       // path, mode
	opSymlink                     // target, path
	opCreate                      // path, mode: open(O_CREAT|O_WRONLY), close
	opWriteFile                   // path, content, mode
	opSethostname                 // name
	opChdir                       // path
	opPivotRoot                   // new root, put old
	opPrctl                       // option, arg2
	opSetgroups                   // none: setgroups(0, NULL)
	opSetresgid                   // gid: real, effective and saved
	opSetresuid                   // uid: real, effective and saved
	opCapset                      // none: empty permitted, effective and inheritable sets
	opSeccomp                     // struct sock_filter[], in host byte order
	opLoopbackUp                  // none: IFF_UP on "lo"
	opListen                      // struct sockaddr_in or sockaddr_in6: a listening TCP socket
	opSendListeners               // none: the listening sockets, in order, to the parent
	opResolve                     // candidate paths: the first executable regular file is the program
	opExec                        // argc, argv…, envp…: execve the resolved program
	opExit                        // status
	opSetaffinity                 // cpu…: sched_setaffinity to these CPUs
	opEnd                         // not an op: one past the last
)

// str is a string argument; a plan cannot carry a string holding a NUL.
func (p *plan) str(s string) []byte {
	if strings.IndexByte(s, 0) >= 0 && p.err == nil {
		p.err = fmt.Errorf("%q holds a NUL byte", s)
	}
	return append([]byte(s), 0)
}

// num is a number argument.
func num[T ~int | ~uint | ~uint32 | ~uintptr | ~uint64](n T) []byte {
	return binary.LittleEndian.AppendUint64(nil, uint64(n))
}

// add appends a step doing o, described as what in an error.
func (p *plan) add(o op, what string, args ...[]byte) *step {
	p.steps = append(p.steps, step{op: o, what: what, args: args})
	return &p.steps[len(p.steps)-1]
}

// failure is the error of step i failing with errno.
func (p *plan) failure(i uint32, errno unix.Errno) error {
	if i == stepConfig {
		return fmt.Errorf("read config: %w", errno)
	}
	if int(i) >= len(p.steps) {
		return fmt.Errorf("step %d of %d failed: %w", i, len(p.steps), errno)
	}
	s := &p.steps[i]
	if s.fail != nil {
		return s.fail(errno)
	}
	return fmt.Errorf("%s: %w", s.what, errno)
}

// Wire format. A plan travels as one message on the control socket:
//
//	plan  = magic:u32 count:u32 step*
//	step  = op:u32 ignore:u32 nargs:u32 arg*
//	arg   = len:u32 byte*len
//
// all integers little-endian. A failure is failedMark, the index of the
// step (stepConfig when the plan itself could not be read) and the errno,
// both u32.
const (
	planMagic  = 0x31445055 // "UPD1"
	failedMark = "\x00failed"
	stepConfig = ^uint32(0)
	// Bounds the C child checks too.
	maxSteps = 1 << 16
	maxArgs  = 1 << 16
)

// encode is the plan as one message.
func (p *plan) encode() ([]byte, error) {
	if p.err != nil {
		return nil, fmt.Errorf("plan: %w", p.err)
	}
	if len(p.steps) > maxSteps {
		return nil, fmt.Errorf("plan: %d steps, at most %d", len(p.steps), maxSteps)
	}
	b := binary.LittleEndian.AppendUint32(nil, planMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(p.steps)))
	for _, s := range p.steps {
		if len(s.args) > maxArgs {
			return nil, fmt.Errorf("plan: %s: %d arguments, at most %d", s.what, len(s.args), maxArgs)
		}
		b = binary.LittleEndian.AppendUint32(b, uint32(s.op))
		b = binary.LittleEndian.AppendUint32(b, uint32(s.ignore))
		b = binary.LittleEndian.AppendUint32(b, uint32(len(s.args)))
		for _, a := range s.args {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(a)))
			b = append(b, a...)
		}
	}
	if len(b) > maxConfig {
		return nil, fmt.Errorf("plan: %d bytes, at most %d", len(b), maxConfig)
	}
	return b, nil
}

var errBadPlan = errors.New("malformed plan")

// decodePlan reads a message encode made. Arguments alias b.
func decodePlan(b []byte) ([]step, error) {
	r := reader{b: b}
	if r.u32() != planMagic {
		return nil, errBadPlan
	}
	n := r.u32()
	if n > maxSteps {
		return nil, errBadPlan
	}
	steps := make([]step, 0, min(n, uint32(len(b)/12)))
	for range n {
		s := step{op: op(r.u32()), ignore: unix.Errno(r.u32())}
		nargs := r.u32()
		if nargs > maxArgs || s.op == 0 || s.op >= opEnd {
			return nil, errBadPlan
		}
		s.args = make([][]byte, 0, min(nargs, uint32(len(b)/4)))
		for range nargs {
			s.args = append(s.args, r.bytes(r.u32()))
		}
		if r.bad {
			return nil, errBadPlan
		}
		steps = append(steps, s)
	}
	if r.bad || len(r.b) != 0 {
		return nil, errBadPlan
	}
	return steps, nil
}

// reader consumes a message, noting when it runs short.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u32() uint32 {
	if len(r.b) < 4 {
		r.bad, r.b = true, nil
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return v
}

func (r *reader) bytes(n uint32) []byte {
	if uint64(len(r.b)) < uint64(n) {
		r.bad, r.b = true, nil
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// argStr is argument i of s as a string: it must end with the only NUL.
func (s *step) argStr(i int) (string, bool) {
	if i >= len(s.args) {
		return "", false
	}
	a := s.args[i]
	if len(a) == 0 || a[len(a)-1] != 0 || strings.IndexByte(string(a[:len(a)-1]), 0) >= 0 {
		return "", false
	}
	return string(a[:len(a)-1]), true
}

// argNum is argument i of s as a number.
func (s *step) argNum(i int) (uint64, bool) {
	if i >= len(s.args) || len(s.args[i]) != 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(s.args[i]), true
}

// encodeFailure is the child's answer when step i failed with errno.
func encodeFailure(i uint32, errno unix.Errno) []byte {
	b := []byte(failedMark)
	b = binary.LittleEndian.AppendUint32(b, i)
	return binary.LittleEndian.AppendUint32(b, uint32(errno))
}

// decodeFailure reads an answer encodeFailure made.
func decodeFailure(b []byte) (i uint32, errno unix.Errno, ok bool) {
	rest, found := strings.CutPrefix(string(b), failedMark)
	if !found || len(rest) != 8 {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint32([]byte(rest)), unix.Errno(binary.LittleEndian.Uint32([]byte(rest[4:]))), true
}
