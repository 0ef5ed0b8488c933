//go:build linux && cgo

// Shared by nsinit_linux.c and nsinit_cgo_linux.go, which checks that
// these numbers are the plan's (op in plan_linux.go).

#ifndef UPDRAFT_NSINIT_H
#define UPDRAFT_NSINIT_H

// The environment variable that makes a process a sandbox child when it
// is "1" (childEnv), or the fork server that makes them when it is
// "spawner" (spawnerEnv).
#define CHILD_ENV "updraft_sandbox_child"
#define CHILD_ENV_SPAWNER "spawner"

// The control socket: the plan's in a child, the node's requests in the
// spawner (fdControl).
#define FD_CONTROL 3

// Magic of a spawn request (spawnMagic).
#define SPAWN_MAGIC 0x31575053

// updraft_become_sandbox reads the plan on FD_CONTROL and runs it; it
// never returns (nsinit_linux.c).
void updraft_become_sandbox(void) __attribute__((noreturn));

// updraft_spawner serves spawn requests on FD_CONTROL until the node
// closes it, then exits (spawner_linux.c).
void updraft_spawner(void) __attribute__((noreturn));

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
	OP_SETAFFINITY,
	OP_END,
};

#endif
