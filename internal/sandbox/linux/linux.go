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
	// host). Default: updraft-sandbox in the system's temporary directory.
	StateDir string
}
