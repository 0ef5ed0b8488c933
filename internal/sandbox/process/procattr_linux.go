package process

import "syscall"

// procAttr puts an environment in a process group of its own (so that
// Kill reaches its whole tree) and has the kernel kill it if the node
// dies first.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
