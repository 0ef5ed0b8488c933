//go:build cgo

package linux

// #include "nsinit_linux.h"
import "C"

// nativeChild: children of this build run their plan in C before the Go
// runtime starts (nsinit_linux.c).
const nativeChild = true

// childEnv, set to "1" in a child's environment, makes nsinit_linux.c
// take over the process; set to spawnerEnv, spawner_linux.c.
const (
	childEnv   = C.CHILD_ENV
	spawnerEnv = C.CHILD_ENV_SPAWNER
)

// spawnMagic starts a request to the spawner.
const spawnMagic = C.SPAWN_MAGIC

// The C side numbers its steps as the plan does: each line fails to
// compile (a constant overflows) when the two differ.
const (
	_ = uint32(opUnshare-C.OP_UNSHARE) + uint32(C.OP_UNSHARE-opUnshare)
	_ = uint32(opMount-C.OP_MOUNT) + uint32(C.OP_MOUNT-opMount)
	_ = uint32(opUmount-C.OP_UMOUNT) + uint32(C.OP_UMOUNT-opUmount)
	_ = uint32(opMkdir-C.OP_MKDIR) + uint32(C.OP_MKDIR-opMkdir)
	_ = uint32(opSymlink-C.OP_SYMLINK) + uint32(C.OP_SYMLINK-opSymlink)
	_ = uint32(opCreate-C.OP_CREATE) + uint32(C.OP_CREATE-opCreate)
	_ = uint32(opWriteFile-C.OP_WRITE_FILE) + uint32(C.OP_WRITE_FILE-opWriteFile)
	_ = uint32(opSethostname-C.OP_SETHOSTNAME) + uint32(C.OP_SETHOSTNAME-opSethostname)
	_ = uint32(opChdir-C.OP_CHDIR) + uint32(C.OP_CHDIR-opChdir)
	_ = uint32(opPivotRoot-C.OP_PIVOT_ROOT) + uint32(C.OP_PIVOT_ROOT-opPivotRoot)
	_ = uint32(opPrctl-C.OP_PRCTL) + uint32(C.OP_PRCTL-opPrctl)
	_ = uint32(opSetgroups-C.OP_SETGROUPS) + uint32(C.OP_SETGROUPS-opSetgroups)
	_ = uint32(opSetresgid-C.OP_SETRESGID) + uint32(C.OP_SETRESGID-opSetresgid)
	_ = uint32(opSetresuid-C.OP_SETRESUID) + uint32(C.OP_SETRESUID-opSetresuid)
	_ = uint32(opCapset-C.OP_CAPSET) + uint32(C.OP_CAPSET-opCapset)
	_ = uint32(opSeccomp-C.OP_SECCOMP) + uint32(C.OP_SECCOMP-opSeccomp)
	_ = uint32(opLoopbackUp-C.OP_LOOPBACK_UP) + uint32(C.OP_LOOPBACK_UP-opLoopbackUp)
	_ = uint32(opListen-C.OP_LISTEN) + uint32(C.OP_LISTEN-opListen)
	_ = uint32(opSendListeners-C.OP_SEND_LISTENERS) + uint32(C.OP_SEND_LISTENERS-opSendListeners)
	_ = uint32(opResolve-C.OP_RESOLVE) + uint32(C.OP_RESOLVE-opResolve)
	_ = uint32(opExec-C.OP_EXEC) + uint32(C.OP_EXEC-opExec)
	_ = uint32(opExit-C.OP_EXIT) + uint32(C.OP_EXIT-opExit)
	_ = uint32(opSetaffinity-C.OP_SETAFFINITY) + uint32(C.OP_SETAFFINITY-opSetaffinity)
	_ = uint32(opEnd-C.OP_END) + uint32(C.OP_END-opEnd)
	_ = uint32(fdControl-C.FD_CONTROL) + uint32(C.FD_CONTROL-fdControl)
)
