//go:build linux && cgo

// Shared by nsinit_linux.c and nsinit_cgo_linux.go, which checks that
// these numbers are the plan's (op in plan_linux.go).

#ifndef UPDRAFT_NSINIT_H
#define UPDRAFT_NSINIT_H

// The environment variable, set to "1", that makes a process a sandbox
// child (childEnv).
#define CHILD_ENV "updraft_sandbox_child"

enum {
	OP_UNSHARE = 1,
	OP_MOUNT,
	OP_UMOUNT,
	OP_MKDIR,
	OP_SYMLINK,
	OP_CREATE,
	OP_WRITE_FILE,
	OP_SETHOSTNAME,
	OP_CHDIR,
	OP_PIVOT_ROOT,
	OP_PRCTL,
	OP_SETGROUPS,
	OP_SETRESGID,
	OP_SETRESUID,
	OP_CAPSET,
	OP_SECCOMP,
	OP_LOOPBACK_UP,
	OP_LISTEN,
	OP_SEND_LISTENERS,
	OP_RESOLVE,
	OP_EXEC,
	OP_EXIT,
	OP_END,
};

#endif
