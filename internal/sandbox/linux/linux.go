// Package linux is the sandbox driver that isolates each execution
// environment with Linux namespaces, a pivot_root into a read-only root,
// an unprivileged user, no capabilities, no_new_privs, a seccomp filter
// and cgroup limits (v1 or v2, detected at start).
//
// There is no daemon. Each driver starts a spawner: the running binary
// (/proc/self/exe) re-executed once and taken over, before the Go
// runtime starts, by C compiled in with cgo (spawner_linux.c). It forks
// each environment's first process into new mount, PID, IPC and UTS
// namespaces (and a user namespace when not root) as a child of the
// node. The node sends that process a plan, the sandbox worked out as a
// list of system calls (plan_linux.go, layout_linux.go); the process runs
// it in C (nsinit_linux.c) and executes the function, which becomes the
// init of its PID namespace: killing it ends every process of the
// environment. Builds without cgo re-execute the binary for every
// environment instead, and the program's Init hook, which main and the
// TestMain of test binaries that start environments call first, runs the
// same plan in Go. See docs/design.md for the layout of the root.
//
// Any package may import linux; only internal/server chooses it. A
// Driver and its environments are safe for concurrent use.
package linux

import "errors"

// ErrNotDelegated is in the error of New when the node is not root and
// may not write the cgroups it would use: someone must delegate a cgroup
// to its user (Config.CgroupParent).
var ErrNotDelegated = errors.New("no cgroup delegated to this user")

// Defaults of Config and of Spec fields left zero.
const (
	// UIDDefault and GIDDefault are the ids functions run as: Lambda's
	// sbx_user1051.
	UIDDefault = 993
	GIDDefault = 990
	// PidsMaxDefault bounds processes and threads per environment, as
	// Lambda's 1,024.
	PidsMaxDefault = 1024
	// MemoryMBDefault is the memory limit when Spec.MemoryMB is 0.
	MemoryMBDefault = 128
	// TmpMBDefault is the size of /tmp when Spec.TmpMB is 0.
	TmpMBDefault = 512
	// SparesDefault is how many sandboxes are kept ready for the next
	// starts.
	SparesDefault = 2
)

// taskRoot is where functions see their code.
const taskRoot = "/var/task"

// HostDirsDefault are the host directories every root shows read-only at
// the same path: what dynamically linked programs and interpreters need.
// Symlinks (merged /usr) are copied as symlinks; missing ones skipped.
var HostDirsDefault = []string{"/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"}

// EtcDefault are the files and directories of the host's /etc every root
// shows read-only: the dynamic linker's cache, name resolution, TLS
// roots, time zone, Debian's alternatives links.
var EtcDefault = []string{
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf",
	"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/localtime",
	"/etc/alternatives", "/etc/mime.types",
}

// Config configures a Driver.
type Config struct {
	// UID and GID are the ids functions run as. Defaults UIDDefault and
	// GIDDefault.
	UID, GID int
	// PidsMax bounds the processes and threads of one environment.
	// Default PidsMaxDefault.
	PidsMax int
	// HostDirs are shown read-only at the same path. Default
	// HostDirsDefault.
	HostDirs []string
	// Etc are the host's /etc entries shown read-only. Default EtcDefault.
	Etc []string
	// Spares is how many re-executed children, already in their
	// namespaces and cgroups, are kept ready for the next starts (each
	// holds a few MB). Default SparesDefault; negative keeps none.
	Spares int
	// StateDir holds the empty directory roots are assembled on (each in
	// the environment's own mount namespace, so nothing shows on the
	// host). It must belong to the node's user. Default:
	// updraft-sandbox-<euid> in the system's temporary directory.
	StateDir string
	// CgroupParent is the cgroup the driver makes its groups below: a
	// path from the root of each hierarchy (as /proc/self/cgroup shows
	// them) such as "/updraft-alice", or a relative one below the node's
	// own cgroup such as "updraft-alice". Default: the node's own. A
	// node that is not root needs one delegated to its user: see
	// docs/design.md. With cgroup v2 the kernel lets a process that is
	// not root move children only within a subtree it is itself in, so
	// there the node must run inside CgroupParent.
	CgroupParent string
}

// Identity is who the functions of a driver are on the host.
type Identity struct {
	// UserNS is set when environments run in a user namespace: the node
	// is not root. UID and GID are then the node's own, the only ids an
	// unprivileged process may map (Config.UID and GID inside), and
	// Groups are the node's supplementary groups, which the kernel does
	// not let an unprivileged process drop.
	UserNS   bool
	UID, GID int
	Groups   []int
}
