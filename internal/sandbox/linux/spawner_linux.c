//go:build linux && cgo

// The spawner: a fork server the driver starts once (spawner_linux.go).
// It is the node's binary re-executed, but the constructor in
// nsinit_linux.c hands it here before the Go runtime starts, so it is a
// small single-threaded C process holding four descriptors. For each
// request it clones a child into new namespaces with CLONE_PARENT, so the
// child is the node's to reap and signal as if the node had spawned it,
// and the child goes straight on to wait for its plan
// (updraft_become_sandbox): no execve of the node's binary, no dynamic
// loader, and none of the node's thousands of descriptors copied and
// closed, which forking from the node costs.
//
// Request (one message on FD_CONTROL, little-endian, spawnRequest):
//
//	magic:u32 flags:u64 userns:u32 uid:u32 host_uid:u32 gid:u32 host_gid:u32 cgroup:u32
//
// with the child's end of its control socket and, when cgroup is 1, an
// O_PATH descriptor of its cgroup (v2: CLONE_INTO_CGROUP) attached. flags
// are the namespaces to create. With userns the child is mapped to
// uid/gid in a new user namespace, as host_uid/host_gid outside.
// Answer: pid:i32 errno:u32. A pid with an errno is a child that was
// killed (the node reaps it).

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "nsinit_linux.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

struct request {
	uint64_t flags;
	uint32_t userns, uid, host_uid, gid, host_gid, cgroup;
};

// The kernel's struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2).
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};

static uint32_t u32_at(const unsigned char *p) {
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

// clone_child is fork with flags, as a sibling of this process.
static pid_t clone_child(uint64_t flags, int cgroup_fd) {
	struct clone_args_v2 a;
	memset(&a, 0, sizeof a);
	a.flags = flags | CLONE_PARENT; // exit_signal must be 0: the child's is ours
	if (cgroup_fd >= 0) {
		a.flags |= CLONE_INTO_CGROUP;
		a.cgroup = (uint64_t)cgroup_fd;
	}
	long pid = syscall(SYS_clone3, &a, sizeof a);
	// Without clone3 (old kernels, container runtimes that filter it)
	// clone does the same unless a cgroup was asked for.
	if (pid < 0 && errno == ENOSYS && cgroup_fd < 0) pid = syscall(SYS_clone, (unsigned long)(flags | CLONE_PARENT), 0L, 0L, 0L, 0L);
	return (pid_t)pid;
}

static int write_proc(pid_t pid, const char *file, const char *text) {
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return errno;
	size_t n = strlen(text);
	int err = write(fd, text, n) == (ssize_t)n ? 0 : (errno ? errno : EIO);
	close(fd);
	return err;
}

// map_ids writes the new user namespace's maps, as the node would.
static int map_ids(pid_t pid, const struct request *q) {
	char m[64];
	int err = write_proc(pid, "setgroups", "deny");
	if (err != 0) return err;
	snprintf(m, sizeof m, "%u %u 1\n", q->uid, q->host_uid);
	if ((err = write_proc(pid, "uid_map", m)) != 0) return err;
	snprintf(m, sizeof m, "%u %u 1\n", q->gid, q->host_gid);
	return write_proc(pid, "gid_map", m);
}

// child runs in the new process: it waits for its id maps, takes its
// control socket as FD_CONTROL (dropping the spawner's) and becomes the
// sandbox.
static void child(int ctrl, int cgroup_fd, int sync_r, int sync_w) __attribute__((noreturn));
static void child(int ctrl, int cgroup_fd, int sync_r, int sync_w) {
	// Its parent is the node's thread that started the spawner. Should
	// the node be gone already, reading the plan ends in EOF.
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0UL, 0UL, 0UL) != 0) _exit(1);
	// Its name in ps until it executes the function (argv still says
	// spawner).
	(void)prctl(PR_SET_NAME, "updraft-sandbox", 0UL, 0UL, 0UL);
	if (cgroup_fd >= 0) close(cgroup_fd);
	if (sync_w >= 0) close(sync_w);
	if (sync_r >= 0) {
		char b;
		ssize_t n;
		do {
			n = read(sync_r, &b, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 1) _exit(1); // not mapped
		close(sync_r);
	}
	if (dup3(ctrl, FD_CONTROL, 0) < 0) _exit(1);
	close(ctrl);
	updraft_become_sandbox();
}

// spawn makes one child; it returns its pid (or 0) and sets *err.
static pid_t spawn(const struct request *q, int ctrl, int cgroup_fd, int *err) {
	int sync[2] = {-1, -1};
	if (q->userns && pipe2(sync, O_CLOEXEC) != 0) {
		*err = errno;
		return 0;
	}
	pid_t pid = clone_child(q->flags | (q->userns ? CLONE_NEWUSER : 0), cgroup_fd);
	if (pid == 0) child(ctrl, cgroup_fd, sync[0], sync[1]);
	*err = pid < 0 ? errno : 0;
	if (sync[0] >= 0) close(sync[0]);
	if (pid > 0 && q->userns) {
		if ((*err = map_ids(pid, q)) != 0) kill(pid, SIGKILL);
		else if (write(sync[1], "1", 1) != 1) {
			*err = errno;
			kill(pid, SIGKILL);
		}
	}
	if (sync[1] >= 0) close(sync[1]);
	return pid < 0 ? 0 : pid;
}

static void answer(pid_t pid, int err) {
	unsigned char a[8];
	for (int k = 0; k < 4; k++) a[k] = (unsigned char)((uint32_t)pid >> (8 * k));
	for (int k = 0; k < 4; k++) a[4 + k] = (unsigned char)((uint32_t)err >> (8 * k));
	(void)send(FD_CONTROL, a, sizeof a, MSG_NOSIGNAL);
}

// serve handles one request; it returns -1 when the node has gone.
static int serve(void) {
	unsigned char buf[64];
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t n = recvmsg(FD_CONTROL, &m, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EINTR) return 0;
	if (n <= 0) return -1;
	int fds[2] = {-1, -1};
	size_t nfds = 0;
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (h != NULL && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
		nfds = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (nfds > 2) nfds = 2;
		memcpy(fds, CMSG_DATA(h), nfds * sizeof(int));
	}
	struct request q;
	int err = 0;
	pid_t pid = 0;
	if (n != 36 || u32_at(buf) != SPAWN_MAGIC || (m.msg_flags & MSG_CTRUNC)) {
		err = EPROTO;
	} else {
		q.flags = (uint64_t)u32_at(buf + 4) | (uint64_t)u32_at(buf + 8) << 32;
		q.userns = u32_at(buf + 12);
		q.uid = u32_at(buf + 16);
		q.host_uid = u32_at(buf + 20);
		q.gid = u32_at(buf + 24);
		q.host_gid = u32_at(buf + 28);
		q.cgroup = u32_at(buf + 32);
		if (nfds != 1 + (q.cgroup ? 1u : 0u)) err = EPROTO;
		else pid = spawn(&q, fds[0], q.cgroup ? fds[1] : -1, &err);
	}
	for (size_t i = 0; i < nfds; i++) close(fds[i]);
	answer(pid, err);
	return 0;
}

void updraft_spawner(void) {
	if (fcntl(FD_CONTROL, F_SETFD, FD_CLOEXEC) != 0) _exit(1);
	(void)prctl(PR_SET_NAME, "updraft-spawner", 0UL, 0UL, 0UL);
	while (serve() == 0) {
	}
	_exit(0);
}
