package linux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// childConfig describes the sandbox of one environment; planSandbox turns
// it into the steps the child runs.
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
	Probe    bool  // build the sandbox, then exit 0 instead of running Args
	CPUs     []int // the CPUs the program starts on; nil for every CPU
	// Network asks for a network namespace of the environment's own,
	// with listeners on Listen (loopback addresses) handed to the parent.
	Network bool
	Listen  []netip.AddrPort
	LastCap int    // the highest capability number the kernel knows
	Filter  []byte // the seccomp program (seccompProgram)
}

// planner works out the steps of one sandbox. It tracks what exists under
// the root, which starts as an empty tmpfs, so that the child need not
// look.
type planner struct {
	plan
	root   string
	made   map[string]bool // paths under root that steps create
	mounts []string        // directories bind-mounted under root: what is below them exists
}

// planSandbox is the plan of the child described by c: the cgroup and
// network namespaces, the root file system, the host name, pivot_root,
// the credentials, capabilities, no_new_privs and seccomp, then the
// program (or, for a probe, exit 0).
func planSandbox(c *childConfig) (*plan, error) {
	p := &planner{root: c.Root, made: map[string]bool{c.Root: true}}
	// The parent has placed the child in its cgroups: make them the root
	// of what /proc/self/cgroup shows.
	p.add(opUnshare, "cgroup namespace", num(unix.CLONE_NEWCGROUP)).ignore = unix.EINVAL
	if c.Network {
		p.isolateNetwork(c.Listen)
	}
	if err := p.buildRoot(c); err != nil {
		return nil, err
	}
	p.add(opSethostname, "sethostname", p.str(c.Hostname))
	if len(c.CPUs) > 0 {
		cpus := make([][]byte, len(c.CPUs))
		for i, cpu := range c.CPUs {
			cpus[i] = num(cpu)
		}
		// EINVAL: none of them is the node's any more (its cpuset
		// changed); the environment then runs where the node may.
		p.add(opSetaffinity, fmt.Sprintf("sched_setaffinity %v", c.CPUs), cpus...).ignore = unix.EINVAL
	}
	p.pivot()
	p.chdir(taskRoot)
	if !c.Probe {
		p.resolve(c.Args[0], c.Env)
	}
	p.dropPrivileges(c.UID, c.GID, c.UserNS, c.LastCap)
	p.add(opSeccomp, "seccomp", c.Filter)
	if c.Probe {
		p.add(opExit, "exit", num(0))
	} else {
		args := [][]byte{num(len(c.Args))}
		for _, a := range c.Args {
			args = append(args, p.str(a))
		}
		for _, kv := range c.Env {
			args = append(args, p.str(kv))
		}
		p.add(opExec, "exec "+c.Args[0], args...)
	}
	if p.err != nil {
		return nil, fmt.Errorf("plan: %w", p.err)
	}
	return &p.plan, nil
}

// isolateNetwork moves the child into a new network namespace with
// loopback up, listens on each of addrs there, and sends the listening
// sockets, in order, to the parent. See netns_linux.go.
func (p *planner) isolateNetwork(addrs []netip.AddrPort) {
	p.add(opUnshare, "network namespace", num(unix.CLONE_NEWNET))
	p.add(opLoopbackUp, "loopback up")
	for _, a := range addrs {
		p.add(opListen, fmt.Sprintf("listen %s in network namespace", a), sockaddr(a))
	}
	p.add(opSendListeners, "send listeners")
}

// sockaddr is a as the kernel's struct sockaddr_in or sockaddr_in6.
func sockaddr(a netip.AddrPort) []byte {
	var b []byte
	if a.Addr().Is4() {
		sa := unix.RawSockaddrInet4{Family: unix.AF_INET, Addr: a.Addr().As4()}
		b = unsafe.Slice((*byte)(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	} else {
		sa := unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.Addr().As16()}
		b = unsafe.Slice((*byte)(unsafe.Pointer(&sa)), unsafe.Sizeof(sa))
	}
	b = append([]byte(nil), b...)
	// sin_port and sin6_port follow the family, in network byte order.
	binary.BigEndian.PutUint16(b[2:4], a.Port())
	return b
}

// buildRoot assembles the function's root file system on c.Root: a small
// read-only tmpfs holding mount points, the host's runtime directories,
// the code, /opt, /tmp, /proc and a minimal /dev.
func (p *planner) buildRoot(c *childConfig) error {
	r := p.root
	// Nothing mounted from here on may reach the host.
	p.mount("make mounts private", "", "/", "", unix.MS_REC|unix.MS_PRIVATE, "")
	p.mount("mount root tmpfs", "tmpfs", r, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=1m,mode=0755")
	for _, d := range c.HostDirs {
		if err := p.showHostPath(d); err != nil {
			return err
		}
	}
	for _, e := range c.Etc {
		if err := p.showHostPath(e); err != nil {
			return err
		}
	}
	p.writeIdentity(c.UID, c.GID)
	if err := p.bindReadOnly(c.CodeDir, r+taskRoot, true); err != nil {
		return err
	}
	p.mkdir(r+"/opt", 0o755)
	if c.OptDir != "" {
		if err := p.bindReadOnly(c.OptDir, r+"/opt", false); err != nil {
			return err
		}
	}
	p.mkdir(r+"/tmp", 0o755)
	p.mount("mount /tmp", "tmpfs", r+"/tmp", "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, fmt.Sprintf("size=%dm,mode=1777", c.TmpMB))
	p.mkdir(r+"/proc", 0o555)
	p.mount("mount /proc", "proc", r+"/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "")
	p.buildDev()
	// After /tmp, so that paths under /tmp are mounted over it.
	for _, path := range c.ReadOnly {
		if err := p.showHostPath(path); err != nil {
			return err
		}
	}
	p.mount("remount root read-only", "", r, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "")
	return nil
}

func (p *planner) mount(what, src, dst, fstype string, flags uintptr, data string) {
	p.add(opMount, what, p.str(src), p.str(dst), p.str(fstype), num(flags), p.str(data))
}

// exists reports whether path, under the root, will exist when the steps
// so far have run.
func (p *planner) exists(path string) bool {
	if p.made[path] {
		return true
	}
	for _, m := range p.mounts {
		if strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	return false
}

func (p *planner) mkdir(dir string, mode uint32) {
	p.add(opMkdir, "mkdir "+dir, p.str(dir), num(mode))
	p.made[dir] = true
}

// mkdirAll creates dir and its missing parents, as os.MkdirAll would.
func (p *planner) mkdirAll(dir string) {
	dir = filepath.Clean(dir)
	if p.exists(dir) || dir == "/" || dir == "." {
		return
	}
	p.mkdirAll(filepath.Dir(dir))
	p.mkdir(dir, 0o755)
}

// showHostPath makes host path hp visible read-only at the same path under
// the root: a symlink is copied as a symlink, a directory or file is
// bind-mounted. Missing paths are skipped.
func (p *planner) showHostPath(hp string) error {
	fi, err := os.Lstat(hp)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	p.mkdirAll(p.root + filepath.Dir(hp))
	if fi.Mode()&os.ModeSymlink == 0 {
		return p.bindReadOnly(hp, p.root+hp, fi.IsDir())
	}
	target, err := os.Readlink(hp)
	if err != nil {
		return err
	}
	if !p.exists(p.root + hp) {
		p.add(opSymlink, "symlink "+p.root+hp, p.str(target), p.str(p.root+hp))
		p.made[p.root+hp] = true
	}
	// A link to a place the root does not otherwise show (a resolv.conf
	// managed elsewhere) is followed and shown too.
	if real, err := filepath.EvalSymlinks(hp); err == nil && !p.exists(p.root+real) {
		return p.showHostPath(real)
	}
	return nil
}

// bindReadOnly bind-mounts src on dst (created as a directory or an empty
// file) read-only, without set-user-ID programs or device files.
func (p *planner) bindReadOnly(src, dst string, dir bool) error {
	if dir {
		p.mkdirAll(dst)
	} else if !p.exists(dst) {
		p.add(opCreate, "create "+dst, p.str(dst), num(0o644))
		p.made[dst] = true
	}
	p.mount("bind "+src, src, dst, "", unix.MS_BIND, "")
	flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV)
	// Flags the source mount has locked (in a user namespace) must be kept.
	var st unix.Statfs_t
	if err := unix.Statfs(src, &st); err != nil {
		return fmt.Errorf("bind %s: %w", src, err)
	}
	for _, f := range [][2]uintptr{
		{unix.ST_NOEXEC, unix.MS_NOEXEC}, {unix.ST_NOATIME, unix.MS_NOATIME},
		{unix.ST_NODIRATIME, unix.MS_NODIRATIME}, {unix.ST_RELATIME, unix.MS_RELATIME},
	} {
		if uintptr(st.Flags)&f[0] != 0 {
			flags |= f[1]
		}
	}
	p.mount("remount "+src+" read-only", "", dst, "", flags, "")
	if dir {
		p.mounts = append(p.mounts, dst)
	}
	return nil
}

// writeIdentity gives the root an /etc/passwd and /etc/group naming the
// function's user, as Lambda's sbx_user1051.
func (p *planner) writeIdentity(uid, gid int) {
	p.mkdirAll(p.root + "/etc")
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nsbx_user1051:x:%d:%d::/tmp:/sbin/nologin\n", uid, gid)
	group := fmt.Sprintf("root:x:0:\nsbx_user1051:x:%d:\n", gid)
	for _, f := range [][2]string{{"/etc/passwd", passwd}, {"/etc/group", group}} {
		path := p.root + f[0]
		p.add(opWriteFile, "write "+path, p.str(path), []byte(f[1]), num(0o644))
		p.made[path] = true
	}
}

// buildDev makes /dev with the harmless character devices bound from the
// host, and the usual links into /proc.
func (p *planner) buildDev() {
	dev := p.root + "/dev"
	p.mkdir(dev, 0o755)
	for _, name := range []string{"null", "zero", "full", "random", "urandom"} {
		dst := dev + "/" + name
		p.add(opCreate, "create "+dst, p.str(dst), num(0o666))
		p.mount("bind /dev/"+name, "/dev/"+name, dst, "", unix.MS_BIND, "")
	}
	for _, l := range [][2]string{{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}} {
		p.add(opSymlink, "symlink "+dev+"/"+l[0], p.str(l[1]), p.str(dev+"/"+l[0]))
	}
}

// pivot makes the root the root directory and detaches the host's.
func (p *planner) pivot() {
	p.chdir(p.root)
	// pivot_root(".", ".") stacks the old root under the new one, so no
	// put_old directory is needed; unmounting "." then drops the old root.
	p.add(opPivotRoot, "pivot_root", p.str("."), p.str("."))
	p.add(opUmount, "detach old root", p.str("."), num(unix.MNT_DETACH))
	p.chdir("/")
}

func (p *planner) chdir(dir string) { p.add(opChdir, "chdir "+dir, p.str(dir)) }

// resolve finds the program as the function's PATH would, inside the new
// root: the child takes the first candidate that is an executable
// regular file.
func (p *planner) resolve(prog string, env []string) {
	if strings.ContainsRune(prog, '/') {
		p.add(opResolve, "program "+prog, p.str(prog))
		return
	}
	path := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	var candidates [][]byte
	for _, dir := range filepath.SplitList(path) {
		candidates = append(candidates, p.str(filepath.Join(dir, prog)))
	}
	s := p.add(opResolve, "program "+prog, candidates...)
	s.fail = func(unix.Errno) error { return fmt.Errorf("program %s: not found in PATH", prog) }
}

// dropPrivileges becomes uid:gid with no supplementary groups, no
// capabilities in any set (bounding and ambient included), no way to gain
// them back (no_new_privs), and a parent-death signal. In the Go child
// everything but the credentials is per thread; the execve that follows
// runs on the same thread.
func (p *planner) dropPrivileges(uid, gid int, userNS bool, lastCap int) {
	for c := 0; c <= lastCap; c++ {
		p.add(opPrctl, fmt.Sprintf("drop bounding capability %d", c), num(unix.PR_CAPBSET_DROP), num(c)).ignore = unix.EINVAL
	}
	p.add(opPrctl, "clear ambient capabilities", num(unix.PR_CAP_AMBIENT), num(unix.PR_CAP_AMBIENT_CLEAR_ALL)).ignore = unix.EINVAL
	// In a user namespace setgroups is disabled (and there are no groups
	// to drop); the ids are already the mapped ones.
	if !userNS {
		p.add(opSetgroups, "setgroups")
	}
	p.add(opSetresgid, fmt.Sprintf("setresgid %d", gid), num(gid))
	p.add(opSetresuid, fmt.Sprintf("setresuid %d", uid), num(uid))
	p.add(opCapset, "capset")
	// Changing credentials cleared the parent-death signal.
	p.add(opPrctl, "set parent-death signal", num(unix.PR_SET_PDEATHSIG), num(unix.SIGKILL))
	p.add(opPrctl, "no_new_privs", num(unix.PR_SET_NO_NEW_PRIVS), num(1))
}
