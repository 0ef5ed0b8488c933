//go:build unix && !linux

package process

import "syscall"

// procAttr puts an environment in a process group of its own, so that
// Kill reaches its whole tree. Other systems have no parent-death
// signal: an environment outlives a node killed with SIGKILL there.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
