//go:build linux && cgo

// The sandbox child's fast path. It runs before the Go runtime: in a
// child the spawner forked (spawner_linux.c), or from a constructor when
// the process is a child the driver executed itself (updraft_sandbox_child
// in its environment). It reads the plan the node sent on the control
// socket, runs its steps in order and executes the function, so a child
// never starts the Go runtime nor runs any package's init. When a step
// fails it sends the step's index and the errno and exits 1. It decides
// nothing: the node worked out every step (plan_linux.go, layout_linux.go)
// and keeps them, to name what failed. child_linux.go runs the same plans
// in Go for builds without cgo.

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include "nsinit_linux.h"

enum {
	fd_control = FD_CONTROL,
	max_config = 1 << 20, // maxConfig
	max_steps = 1 << 16,  // maxSteps
	max_args = 1 << 16,   // maxArgs
	max_listeners = 64,
	plan_magic = 0x31445055, // planMagic
};

static const uint32_t step_config = 0xffffffff; // stepConfig

static const char failed_mark[] = "\0failed";   // failedMark
static const char listeners_mark[] = "\0listeners"; // listenersMark

struct arg {
	const unsigned char *p;
	uint32_t len;
};

struct reader {
	const unsigned char *p, *end;
};

struct child {
	const char *prog; // set by OP_RESOLVE
	int listeners[max_listeners];
	size_t nlisteners;
};

// fail answers the parent that step i failed with err and exits.
static void fail(uint32_t i, int err) __attribute__((noreturn));
static void fail(uint32_t i, int err) {
	unsigned char m[sizeof failed_mark - 1 + 8];
	size_t n = sizeof failed_mark - 1;
	memcpy(m, failed_mark, n);
	for (size_t k = 0; k < 4; k++) m[n + k] = (unsigned char)(i >> (8 * k));
	for (size_t k = 0; k < 4; k++) m[n + 4 + k] = (unsigned char)((uint32_t)err >> (8 * k));
	(void)send(fd_control, m, sizeof m, MSG_NOSIGNAL);
	_exit(1);
}

static int get_u32(struct reader *r, uint32_t *v) {
	if (r->end - r->p < 4) return -1;
	*v = (uint32_t)r->p[0] | (uint32_t)r->p[1] << 8 | (uint32_t)r->p[2] << 16 | (uint32_t)r->p[3] << 24;
	r->p += 4;
	return 0;
}

// str is argument a as a C string: it must end with its only NUL.
static const char *str(const struct arg *a) {
	if (a->len == 0 || a->p[a->len - 1] != 0 || memchr(a->p, 0, a->len - 1) != NULL) return NULL;
	return (const char *)a->p;
}

static int num(const struct arg *a, uint64_t *v) {
	if (a->len != 8) return -1;
	*v = 0;
	for (int k = 7; k >= 0; k--) *v = *v << 8 | a->p[k];
	return 0;
}

// The arguments of a step, checked: s0…s4 strings, n0… numbers.
#define NARGS(n) do { if (nargs != (n)) return EPROTO; } while (0)
#define STR(v, i) const char *v = str(&args[i]); if (v == NULL) return EPROTO
#define NUM(v, i) uint64_t v; if (num(&args[i], &v) != 0) return EPROTO

static int loopback_up(void) {
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) return errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	strcpy(ifr.ifr_name, "lo");
	int err = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
		err = errno;
	} else {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) err = errno;
	}
	close(s);
	return err;
}

static int listen_on(struct child *c, const struct arg *a) {
	if (a->len < sizeof(sa_family_t) || c->nlisteners == max_listeners) return EPROTO;
	sa_family_t family;
	memcpy(&family, a->p, sizeof family);
	if (family != AF_INET && family != AF_INET6) return EPROTO;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) return errno;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
	    bind(fd, (const struct sockaddr *)a->p, a->len) != 0 || listen(fd, SOMAXCONN) != 0) {
		int err = errno;
		close(fd);
		return err;
	}
	c->listeners[c->nlisteners++] = fd;
	return 0;
}

static int send_listeners(struct child *c) {
	struct iovec iov = {.iov_base = (void *)listeners_mark, .iov_len = sizeof listeners_mark - 1};
	union {
		char buf[CMSG_SPACE(sizeof(int) * max_listeners)];
		struct cmsghdr align;
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	if (c->nlisteners > 0) {
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * c->nlisteners);
		struct cmsghdr *h = CMSG_FIRSTHDR(&m);
		h->cmsg_level = SOL_SOCKET;
		h->cmsg_type = SCM_RIGHTS;
		h->cmsg_len = CMSG_LEN(sizeof(int) * c->nlisteners);
		memcpy(CMSG_DATA(h), c->listeners, sizeof(int) * c->nlisteners);
	}
	int err = sendmsg(fd_control, &m, MSG_NOSIGNAL) < 0 ? errno : 0;
	for (size_t i = 0; i < c->nlisteners; i++) close(c->listeners[i]);
	c->nlisteners = 0;
	return err;
}

// executable is 0 when path is an executable regular file, else an errno.
static int executable(const char *path) {
	struct stat st;
	if (stat(path, &st) != 0) return errno;
	if (S_ISDIR(st.st_mode)) return EISDIR;
	if ((st.st_mode & 0111) == 0) return EACCES;
	return 0;
}

static int exec_program(struct child *c, const struct arg *args, uint32_t nargs) {
	if (nargs < 1 || c->prog == NULL) return EPROTO;
	NUM(argc, 0);
	if (argc < 1 || argc > nargs - 1) return EPROTO;
	char **argv = calloc(argc + 1, sizeof *argv);
	char **envp = calloc(nargs - argc, sizeof *envp);
	if (argv == NULL || envp == NULL) return ENOMEM;
	for (uint32_t i = 1; i < nargs; i++) {
		char *s = (char *)str(&args[i]);
		if (s == NULL) return EPROTO;
		if (i <= argc) argv[i - 1] = s;
		else envp[i - 1 - argc] = s;
	}
	execve(c->prog, argv, envp);
	return errno;
}

// run does one step; it returns 0 or an errno.
static int run(struct child *c, uint32_t op, const struct arg *args, uint32_t nargs) {
	switch (op) {
	case OP_UNSHARE: {
		NARGS(1);
		NUM(flags, 0);
		return unshare((int)flags) == 0 ? 0 : errno;
	}
	case OP_MOUNT: {
		NARGS(5);
		STR(src, 0);
		STR(dst, 1);
		STR(fstype, 2);
		NUM(flags, 3);
		STR(data, 4);
		return mount(src, dst, fstype, (unsigned long)flags, data) == 0 ? 0 : errno;
	}
	case OP_UMOUNT: {
		NARGS(2);
		STR(target, 0);
		NUM(flags, 1);
		return umount2(target, (int)flags) == 0 ? 0 : errno;
	}
	case OP_MKDIR: {
		NARGS(2);
		STR(path, 0);
		NUM(mode, 1);
		return mkdir(path, (mode_t)mode) == 0 ? 0 : errno;
	}
	case OP_SYMLINK: {
		NARGS(2);
		STR(target, 0);
		STR(path, 1);
		return symlink(target, path) == 0 ? 0 : errno;
	}
	case OP_CREATE: {
		NARGS(2);
		STR(path, 0);
		NUM(mode, 1);
		int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, (mode_t)mode);
		if (fd < 0) return errno;
		close(fd);
		return 0;
	}
	case OP_WRITE_FILE: {
		NARGS(3);
		STR(path, 0);
		NUM(mode, 2);
		int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, (mode_t)mode);
		if (fd < 0) return errno;
		const unsigned char *p = args[1].p;
		size_t left = args[1].len;
		while (left > 0) {
			ssize_t n = write(fd, p, left);
			if (n < 0) {
				if (errno == EINTR) continue;
				int err = errno;
				close(fd);
				return err;
			}
			p += n;
			left -= (size_t)n;
		}
		return close(fd) == 0 ? 0 : errno;
	}
	case OP_SETHOSTNAME: {
		NARGS(1);
		STR(name, 0);
		return sethostname(name, strlen(name)) == 0 ? 0 : errno;
	}
	case OP_CHDIR: {
		NARGS(1);
		STR(path, 0);
		return chdir(path) == 0 ? 0 : errno;
	}
	case OP_PIVOT_ROOT: {
		NARGS(2);
		STR(new_root, 0);
		STR(put_old, 1);
		return syscall(SYS_pivot_root, new_root, put_old) == 0 ? 0 : errno;
	}
	case OP_PRCTL: {
		NARGS(2);
		NUM(option, 0);
		NUM(arg2, 1);
		return prctl((int)option, (unsigned long)arg2, 0UL, 0UL, 0UL) == 0 ? 0 : errno;
	}
	case OP_SETGROUPS:
		NARGS(0);
		return syscall(SYS_setgroups, 0, NULL) == 0 ? 0 : errno;
	case OP_SETRESGID: {
		NARGS(1);
		NUM(gid, 0);
		return syscall(SYS_setresgid, (gid_t)gid, (gid_t)gid, (gid_t)gid) == 0 ? 0 : errno;
	}
	case OP_SETRESUID: {
		NARGS(1);
		NUM(uid, 0);
		return syscall(SYS_setresuid, (uid_t)uid, (uid_t)uid, (uid_t)uid) == 0 ? 0 : errno;
	}
	case OP_CAPSET: {
		NARGS(0);
		struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
		struct __user_cap_data_struct d[2];
		memset(d, 0, sizeof d);
		return syscall(SYS_capset, &h, d) == 0 ? 0 : errno;
	}
	case OP_SECCOMP: {
		NARGS(1);
		if (args[0].len == 0 || args[0].len % sizeof(struct sock_filter) != 0 ||
		    args[0].len / sizeof(struct sock_filter) > 0xffff)
			return EPROTO;
		// The argument is not aligned in the message.
		struct sock_filter *f = malloc(args[0].len);
		if (f == NULL) return ENOMEM;
		memcpy(f, args[0].p, args[0].len);
		struct sock_fprog prog = {.len = (unsigned short)(args[0].len / sizeof *f), .filter = f};
		return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0UL, 0UL) == 0 ? 0 : errno;
	}
	case OP_LOOPBACK_UP:
		NARGS(0);
		return loopback_up();
	case OP_LISTEN:
		NARGS(1);
		return listen_on(c, &args[0]);
	case OP_SEND_LISTENERS:
		NARGS(0);
		return send_listeners(c);
	case OP_RESOLVE: {
		int err = ENOENT;
		for (uint32_t i = 0; i < nargs; i++) {
			STR(path, i);
			if ((err = executable(path)) == 0) {
				c->prog = path;
				return 0;
			}
		}
		return err;
	}
	case OP_SETAFFINITY: {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (uint32_t i = 0; i < nargs; i++) {
			NUM(cpu, i);
			if (cpu >= CPU_SETSIZE) return EINVAL;
			CPU_SET((int)cpu, &set);
		}
		return sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : errno;
	}
	case OP_EXEC:
		return exec_program(c, args, nargs);
	case OP_EXIT: {
		NARGS(1);
		NUM(status, 0);
		_exit((int)status);
	}
	}
	return EPROTO;
}

// receive reads the plan and puts the descriptors it carries on stdout
// and stderr. It returns the plan's length, or fails.
static size_t receive(unsigned char *buf) {
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = max_config};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	ssize_t n;
	do {
		n = recvmsg(fd_control, &m, MSG_CMSG_CLOEXEC);
	} while (n < 0 && errno == EINTR);
	if (n < 0) fail(step_config, errno);
	if (n == 0) _exit(1); // the parent went away
	if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) fail(step_config, EMSGSIZE);
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	if (h == NULL || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS ||
	    h->cmsg_len != CMSG_LEN(2 * sizeof(int)) || CMSG_NXTHDR(&m, h) != NULL)
		fail(step_config, EPROTO);
	int fds[2];
	memcpy(fds, CMSG_DATA(h), sizeof fds);
	for (int i = 0; i < 2; i++) {
		if (dup3(fds[i], 1 + i, 0) < 0) fail(step_config, errno);
		close(fds[i]);
	}
	return (size_t)n;
}

// next_step reads the framing of one step; it is -1 when r runs short.
static int next_step(struct reader *r, uint32_t *op, uint32_t *ignore, uint32_t *nargs, struct arg *args) {
	if (get_u32(r, op) != 0 || get_u32(r, ignore) != 0 || get_u32(r, nargs) != 0 || *nargs > max_args) return -1;
	for (uint32_t k = 0; k < *nargs; k++) {
		uint32_t len;
		if (get_u32(r, &len) != 0 || (size_t)(r->end - r->p) < len) return -1;
		if (args != NULL) args[k] = (struct arg){.p = r->p, .len = len};
		r->p += len;
	}
	return 0;
}

void updraft_become_sandbox(void) {
	if (fcntl(fd_control, F_SETFD, FD_CLOEXEC) != 0) _exit(1);
	unsigned char *buf = malloc(max_config);
	if (buf == NULL) fail(step_config, ENOMEM);
	size_t n = receive(buf);
	struct reader r = {.p = buf, .end = buf + n};
	uint32_t magic, count, op, ignore, nargs;
	if (get_u32(&r, &magic) != 0 || magic != plan_magic || get_u32(&r, &count) != 0 || count > max_steps)
		fail(step_config, EPROTO);
	// The whole plan is well framed before any step runs.
	const struct reader steps = r;
	for (uint32_t i = 0; i < count; i++) {
		if (next_step(&r, &op, &ignore, &nargs, NULL) != 0 || op == 0 || op >= OP_END) fail(step_config, EPROTO);
	}
	if (r.p != r.end) fail(step_config, EPROTO);
	struct arg *args = malloc(sizeof *args * max_args);
	if (args == NULL) fail(step_config, ENOMEM);
	struct child c = {0};
	r = steps;
	for (uint32_t i = 0; i < count; i++) {
		(void)next_step(&r, &op, &ignore, &nargs, args);
		int err = run(&c, op, args, nargs);
		if (err != 0 && err != (int)ignore) fail(i, err);
	}
	// A plan ends by executing the program or exiting.
	fail(count, EPROTO);
}

__attribute__((constructor)) static void updraft_sandbox_init(void) {
	const char *v = getenv(CHILD_ENV);
	if (v == NULL) return;
	if (strcmp(v, "1") == 0) updraft_become_sandbox();
	if (strcmp(v, CHILD_ENV_SPAWNER) == 0) updraft_spawner();
}
