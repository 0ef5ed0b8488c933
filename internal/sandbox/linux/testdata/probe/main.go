// Command probe reports, as JSON on stdout, what a program can see and do
// inside a sandbox; the linux driver's tests run it there. The first
// argument picks the report:
//
//	probe report [PATH...]   identity, limits, denied calls, writes; whether each PATH exists
//	probe alloc MB           allocate and touch MB megabytes, then report
//	probe spawn              start sleeping children until the kernel refuses
//	probe spin               use the CPU forever
//	probe dial ADDR...       connect to each TCP ADDR and read one line
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

type report struct {
	UID, GID   int
	Groups     []int
	Hostname   string
	Status     map[string]string // selected /proc/self/status lines
	Pids       []int             // what /proc lists
	Root       []string          // entries of /
	Calls      map[string]string // denied system call → error
	Writes     map[string]string // path → error, "" when the write worked
	Paths      map[string]bool   // argument → exists
	Cgroup     string
	Spawned    int
	SpawnError string
	Dials      map[string]string // address → the line read, or "error: …"
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	var errno unix.Errno
	if errors.As(err, &errno) {
		return unix.ErrnoName(errno)
	}
	return err.Error()
}

func main() {
	r := report{Status: map[string]string{}, Calls: map[string]string{}, Writes: map[string]string{}, Paths: map[string]bool{}}
	mode := "report"
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "alloc":
		mb, _ := strconv.Atoi(os.Args[2])
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
	case "spawn":
		for {
			cmd := exec.Command("/bin/sleep", "30")
			if err := cmd.Start(); err != nil {
				r.SpawnError = err.Error()
				break
			}
			r.Spawned++
		}
	case "dial":
		r.Dials = map[string]string{}
		for _, a := range os.Args[2:] {
			r.Dials[a] = dial(a)
		}
	case "spin":
		for {
		}
	case "report":
		identity(&r)
		calls(&r)
		for _, p := range []string{"/", "/var/task", "/opt", "/etc", "/usr", "/tmp"} {
			f, err := os.CreateTemp(p, "probe")
			if err == nil {
				f.Close()
				os.Remove(f.Name())
			}
			r.Writes[p] = errText(errors.Unwrap(err))
		}
		f, err := os.OpenFile("/proc/sys/kernel/hostname", os.O_WRONLY, 0)
		if err == nil {
			f.Close()
		}
		r.Writes["/proc/sys/kernel/hostname"] = errText(errors.Unwrap(err))
		for _, p := range os.Args[2:] {
			_, err := os.Stat(p)
			r.Paths[p] = err == nil
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
}

// dial connects to addr and returns the first line it sends.
func dial(addr string) string {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return "error: " + errText(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "error: " + errText(err)
	}
	return strings.TrimSpace(line)
}

func identity(r *report) {
	r.UID, r.GID = os.Getuid(), os.Getgid()
	r.Groups, _ = os.Getgroups()
	r.Hostname, _ = os.Hostname()
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp":
			r.Status[k] = strings.TrimSpace(v)
		}
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			r.Pids = append(r.Pids, pid)
		}
	}
	entries, _ = os.ReadDir("/")
	for _, e := range entries {
		r.Root = append(r.Root, e.Name())
	}
	cg, _ := os.ReadFile("/proc/self/cgroup")
	r.Cgroup = string(cg)
}

// calls tries system calls the sandbox denies.
func calls(r *report) {
	r.Calls["mount"] = errText(unix.Mount("tmpfs", "/tmp", "tmpfs", 0, ""))
	r.Calls["umount2"] = errText(unix.Unmount("/proc", unix.MNT_DETACH))
	r.Calls["unshare"] = errText(unix.Unshare(unix.CLONE_NEWUSER))
	r.Calls["setns"] = errText(unix.Setns(0, 0))
	r.Calls["chroot"] = errText(unix.Chroot("/tmp"))
	_, _, e := unix.RawSyscall(unix.SYS_PTRACE, unix.PTRACE_TRACEME, 0, 0)
	r.Calls["ptrace"] = errText(errnoErr(e))
	_, err := unix.KeyctlInt(unix.KEYCTL_GET_KEYRING_ID, unix.KEY_SPEC_SESSION_KEYRING, 0, 0, 0)
	r.Calls["keyctl"] = errText(err)
	_, _, e = unix.RawSyscall(unix.SYS_BPF, 0, 0, 0)
	r.Calls["bpf"] = errText(errnoErr(e))
	_, _, e = unix.RawSyscall(unix.SYS_PERF_EVENT_OPEN, 0, 0, 0)
	r.Calls["perf_event_open"] = errText(errnoErr(e))
	_, _, e = unix.RawSyscall(unix.SYS_FINIT_MODULE, 0, 0, 0)
	r.Calls["finit_module"] = errText(errnoErr(e))
	_, _, e = unix.RawSyscall(unix.SYS_REBOOT, 0, 0, 0)
	r.Calls["reboot"] = errText(errnoErr(e))
	_, _, e = unix.RawSyscall(unix.SYS_CLONE, unix.CLONE_NEWNS|uintptr(unix.SIGCHLD), 0, 0)
	r.Calls["clone(CLONE_NEWNS)"] = errText(errnoErr(e))
	_, _, e = unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	r.Calls["clone3"] = errText(errnoErr(e))
	r.Calls["sethostname"] = errText(unix.Sethostname([]byte("x")))
}

func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}
