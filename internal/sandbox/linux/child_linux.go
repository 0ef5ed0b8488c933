package linux

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// initArg is argv[0] of a re-executed binary that is to become a sandbox.
const initArg = "updraft-sandbox-init"

// fdControl is the child's end of a SOCK_SEQPACKET pair, after stdin,
// stdout and stderr. The parent sends one message: childConfig as JSON
// with the function's stdout and stderr attached (SCM_RIGHTS). With an
// isolated network the child first sends its listening sockets
// (listenersMark). It answers with why it failed, or closes the socket by
// executing the function (it is close-on-exec), which the parent reads as
// EOF.
const fdControl = 3

// maxConfig bounds the configuration message.
const maxConfig = 1 << 20

// childConfig is what the re-executed child needs to build the sandbox.
// It travels as JSON over fdConfig.
type childConfig struct {
	Root     string   // empty host directory the root is assembled on
	Hostname string   // in the new UTS namespace
	HostDirs []string // host directories (or their symlinks) at the same path, read-only
	Etc      []string // files and directories of the host's /etc shown read-only
	CodeDir  string   // shown read-only at TaskRoot
	OptDir   string   // shown read-only at /opt when set
	ReadOnly []string // further host paths shown read-only at the same path
	TmpMB    int      // size of the tmpfs /tmp
	UID, GID int      // the function's ids
	UserNS   bool     // running in a new user namespace (not root on the host)
	Args     []string // the program; Args[0] as in sandbox.Spec
	Env      []string
	Probe    bool // build the sandbox, then exit 0 instead of running Args
	// Network asks for a network namespace of the environment's own,
	// with listeners on Listen (loopback ip:port) handed to the parent.
	Network bool
	Listen  []string
}

var hooked bool // Init ran in this process

// Init must be called first thing in main (and in TestMain of test
// binaries that start linux environments). In a process the driver
// re-executed to become a sandbox it never returns: it builds the
// sandbox and executes the function. Otherwise it only notes that the
// hook is in place, which Driver.Start checks.
func Init() {
	if len(os.Args) == 0 || os.Args[0] != initArg {
		hooked = true
		return
	}
	// Every per-thread step (capabilities, seccomp, no_new_privs, the
	// credentials) and the final execve happen on this one thread.
	runtime.LockOSThread()
	unix.CloseOnExec(fdControl)
	err := becomeSandbox()
	if err == nil { // a probe
		os.Exit(0)
	}
	_, _ = unix.Write(fdControl, []byte(err.Error()))
	os.Exit(1)
}

// receiveConfig waits for the parent's message and puts the descriptors
// it carries on stdout and stderr.
func receiveConfig() (*childConfig, error) {
	buf := make([]byte, maxConfig)
	oob := make([]byte, unix.CmsgSpace(2*4))
	n, oobn, _, _, err := unix.Recvmsg(fdControl, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if n == 0 {
		return nil, errors.New("read config: parent went away")
	}
	var c childConfig
	if err := json.Unmarshal(buf[:n], &c); err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("read config: want stdout and stderr (%v)", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 2 {
		return nil, fmt.Errorf("read config: want stdout and stderr (%v)", err)
	}
	for i, fd := range fds {
		if err := unix.Dup3(fd, 1+i, 0); err != nil {
			return nil, fmt.Errorf("dup output: %w", err)
		}
		unix.Close(fd)
	}
	return &c, nil
}

// becomeSandbox reads the configuration, builds the sandbox and executes
// the function; it returns only on error, or with nil after a probe.
func becomeSandbox() error {
	cp, err := receiveConfig()
	if err != nil {
		return err
	}
	c := *cp
	// The parent has placed this process in its cgroups: make them the
	// root of what /proc/self/cgroup shows.
	if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("cgroup namespace: %w", err)
	}
	if c.Network {
		if err := isolateNetwork(c.Listen); err != nil {
			return err
		}
	}
	if err := buildRoot(&c); err != nil {
		return err
	}
	if err := unix.Sethostname([]byte(c.Hostname)); err != nil {
		return fmt.Errorf("sethostname: %w", err)
	}
	if err := pivot(c.Root); err != nil {
		return err
	}
	if err := os.Chdir(taskRoot); err != nil {
		return fmt.Errorf("chdir %s: %w", taskRoot, err)
	}
	var prog string
	if !c.Probe {
		if prog, err = lookPath(c.Args[0], c.Env); err != nil {
			return err
		}
	}
	if err := dropPrivileges(c.UID, c.GID, c.UserNS); err != nil {
		return err
	}
	if err := installSeccomp(); err != nil {
		return err
	}
	if c.Probe {
		return nil
	}
	err = unix.Exec(prog, c.Args, c.Env)
	return fmt.Errorf("exec %s: %w", c.Args[0], err)
}

// buildRoot assembles the function's root file system on c.Root: a small
// read-only tmpfs holding mount points, the host's runtime directories,
// the code, /opt, /tmp, /proc and a minimal /dev.
func buildRoot(c *childConfig) error {
	// Nothing mounted from here on may reach the host.
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make mounts private: %w", err)
	}
	r := c.Root
	if err := unix.Mount("tmpfs", r, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m,mode=0755"); err != nil {
		return fmt.Errorf("mount root tmpfs: %w", err)
	}
	for _, d := range c.HostDirs {
		if err := showHostPath(r, d); err != nil {
			return err
		}
	}
	for _, p := range c.Etc {
		if err := showHostPath(r, p); err != nil {
			return err
		}
	}
	if err := writeIdentity(r, c.UID, c.GID); err != nil {
		return err
	}
	if err := bindReadOnly(c.CodeDir, r+taskRoot, true); err != nil {
		return err
	}
	if err := os.Mkdir(r+"/opt", 0o755); err != nil {
		return err
	}
	if c.OptDir != "" {
		if err := bindReadOnly(c.OptDir, r+"/opt", false); err != nil {
			return err
		}
	}
	if err := os.Mkdir(r+"/tmp", 0o755); err != nil {
		return err
	}
	opts := fmt.Sprintf("size=%dm,mode=1777", c.TmpMB)
	if err := unix.Mount("tmpfs", r+"/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return fmt.Errorf("mount /tmp: %w", err)
	}
	if err := os.Mkdir(r+"/proc", 0o555); err != nil {
		return err
	}
	if err := unix.Mount("proc", r+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount /proc: %w", err)
	}
	if err := buildDev(r); err != nil {
		return err
	}
	// After /tmp, so that paths under /tmp are mounted over it.
	for _, p := range c.ReadOnly {
		if err := showHostPath(r, p); err != nil {
			return err
		}
	}
	if err := unix.Mount("", r, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return fmt.Errorf("remount root read-only: %w", err)
	}
	return nil
}

// showHostPath makes host path p visible read-only at the same path under
// root: a symlink is copied as a symlink, a directory or file is
// bind-mounted. Missing paths are skipped.
func showHostPath(root, p string) error {
	fi, err := os.Lstat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	if err := os.MkdirAll(root+filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if fi.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(p)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, root+p); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		// A link to a place the root does not otherwise show (a
		// resolv.conf managed elsewhere) is followed and shown too.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if _, err := os.Lstat(root + real); errors.Is(err, os.ErrNotExist) {
				return showHostPath(root, real)
			}
		}
		return nil
	}
	return bindReadOnly(p, root+p, fi.IsDir())
}

// bindReadOnly bind-mounts src on dst (created as a directory or an empty
// file) read-only, without set-user-ID programs or device files.
func bindReadOnly(src, dst string, dir bool) error {
	if dir {
		if err := os.MkdirAll(dst, 0o755); err != nil {
			return err
		}
	} else if f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return err
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	// Flags the source mount has locked (in a user namespace) must be kept.
	var st unix.Statfs_t
	if unix.Statfs(src, &st) == nil {
		for _, f := range [][2]uintptr{
			{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME},
			{unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
		} {
			if uintptr(st.Flags)&f[0] != 0 {
				flags |= f[1]
			}
		}
	}
	if err := unix.Mount("", dst, "", flags, ""); err != nil {
		return fmt.Errorf("remount %s read-only: %w", src, err)
	}
	return nil
}

// writeIdentity gives the root an /etc/passwd and /etc/group naming the
// function's user, as Lambda's sbx_user1051.
func writeIdentity(root string, uid, gid int) error {
	if err := os.MkdirAll(root+"/etc", 0o755); err != nil {
		return err
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:%d:%d::/tmp:/sbin/nologin\n", uid, gid)
	group := fmt.Sprintf("root:x:0:\nsbx_user1051:x:%d:\n", gid)
	if err := os.WriteFile(root+"/etc/passwd", []byte(passwd), 0o644); err != nil {
		return err
	}
	return os.WriteFile(root+"/etc/group", []byte(group), 0o644)
}

// buildDev makes /dev with the harmless character devices bound from the
// host, and the usual links into /proc.
func buildDev(root string) error {
	dev := root + "/dev"
	if err := os.Mkdir(dev, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"null", "zero", "full", "random", "urandom"} {
		dst := dev + "/" + name
		f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY, 0o666)
		if err != nil {
			return err
		}
		f.Close()
		if err := unix.Mount("/dev/"+name, dst, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind /dev/%s: %w", name, err)
		}
	}
	links := map[string]string{"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"}
	for name, target := range links {
		if err := os.Symlink(target, dev+"/"+name); err != nil {
			return err
		}
	}
	return nil
}

// pivot makes root the root directory and detaches the host's.
func pivot(root string) error {
	if err := os.Chdir(root); err != nil {
		return err
	}
	// pivot_root(".", ".") stacks the old root under the new one, so no
	// put_old directory is needed; unmounting "." then drops the old root.
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach old root: %w", err)
	}
	return os.Chdir("/")
}

// lookPath resolves the program as the function's PATH would, inside the
// new root.
func lookPath(prog string, env []string) (string, error) {
	if strings.ContainsRune(prog, '/') {
		if err := executable(prog); err != nil {
			return "", fmt.Errorf("program %s: %w", prog, err)
		}
		return prog, nil
	}
	path := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if p := filepath.Join(dir, prog); executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("program %s: not found in PATH", prog)
}

func executable(p string) error {
	fi, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory")
	case fi.Mode()&0o111 == 0:
		return syscall.EACCES
	}
	return nil
}

// dropPrivileges becomes uid:gid with no supplementary groups, no
// capabilities in any set (bounding and ambient included), no way to gain
// them back (no_new_privs), and a parent-death signal. Everything but the
// credentials is per thread; the execve that follows runs on this thread.
func dropPrivileges(uid, gid int, userNS bool) error {
	last := lastCap()
	for c := 0; c <= last; c++ {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("drop bounding capability %d: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	// Raw syscalls: the Go wrappers change every thread of the process,
	// and only this one goes on to execve.
	// In a user namespace setgroups is disabled (and there are no groups
	// to drop); the ids are already the mapped ones.
	if !userNS {
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			return fmt.Errorf("setgroups: %w", e)
		}
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(gid), uintptr(gid), uintptr(gid)); e != 0 {
		return fmt.Errorf("setresgid %d: %w", gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
		return fmt.Errorf("setresuid %d: %w", uid, e)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	// Changing credentials cleared the parent-death signal.
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGKILL), 0, 0, 0); err != nil {
		return fmt.Errorf("set parent-death signal: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	return nil
}

// lastCap is the highest capability number the kernel knows.
func lastCap() int {
	b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return 63
	}
	var n int
	if _, err := fmt.Sscan(string(b), &n); err != nil {
		return 63
	}
	return n
}
