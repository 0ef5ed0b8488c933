//go:build linux

package linux_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/linux"
)

// The environment of a test binary that TestSandbox_NotRoot re-executes
// as an unprivileged user.
const (
	notRootVar      = "UPDRAFT_TEST_NOT_ROOT"      // set: a driver that cannot run fails the test
	joinVar         = "UPDRAFT_TEST_JOIN_CGROUPS"  // cgroup directories TestMain moves the process into
	cgroupParentVar = "UPDRAFT_TEST_CGROUP_PARENT" // linux.Config.CgroupParent of newDriver
)

// nobody is the unprivileged user the test runs the driver as.
const nobody = 65534

// notRootTests are the tests a node that is not root must pass too: the
// conformance suite and the isolation tests (not the CPU quota's, which
// measures time and shows nothing new here).
var notRootTests = []string{
	"TestDriver_Conformance", "TestDriver_HostIdentity",
	"TestSandbox_Confinement", "TestSandbox_CannotSeeOtherCodeOrHostProcesses",
	"TestSandbox_TmpIsPrivate", "TestSandbox_MemoryLimitKills", "TestSandbox_ForkBombIsContained",
	"TestSandbox_KillLeavesNothingBehind", "TestSandbox_Network",
}

// TestSandbox_NotRoot proves the driver works for a node that is not
// root. Run as root, it delegates a new cgroup to nobody (65534), below
// its own, and re-executes this test binary as nobody with no
// supplementary groups, three times: started inside the delegated cgroup
// (as a user's shell would start a node there), the conformance suite and
// the isolation tests must pass; started outside it with the cgroup named
// by a relative Config.CgroupParent (cgroup v1 only), the conformance suite must
// pass; with no cgroup delegated, New must fail with ErrNotDelegated. The
// cgroups, the re-executed binary and its files are removed at the end;
// every process the children start dies with them.
func TestSandbox_NotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the driver as another user with a cgroup delegated to it")
	}
	if os.Getenv(notRootVar) != "" {
		t.Skip("already re-executed")
	}
	if why := userNamespacesUnavailable(); why != "" {
		t.Skipf("unprivileged user namespaces are unavailable: %s", why)
	}
	newDriver(t) // skips where the driver cannot run even as root
	code := probeCode(t)

	dir, err := os.MkdirTemp("", "updraft-notroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// The binary is copied where nobody may execute it (go test's work
	// directory is root's alone); nobody's temporary files go in home.
	bin := filepath.Join(dir, "linux.test")
	if err := copyFile("/proc/self/exe", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}

	deleg := delegateCgroup(t, fmt.Sprintf("updraft-notroot-%d", os.Getpid()))
	env := []string{"PATH=/usr/bin:/bin", "HOME=" + home, "TMPDIR=" + home, probeDirVar + "=" + code, notRootVar + "=1"}

	t.Run("InDelegatedCgroup", func(t *testing.T) {
		run := child{bin: bin, dir: home, env: env, tests: notRootTests}
		if deleg.fd >= 0 {
			run.cgroupFD = deleg.fd // v2: cloned into it
		} else {
			run.env = append(slices.Clip(env), joinVar+"="+strings.Join(deleg.dirs, ":"))
		}
		run.run(t)
	})
	t.Run("CgroupParent", func(t *testing.T) {
		if deleg.fd >= 0 {
			t.Skip("cgroup v2 lets a user that is not root move processes only within a subtree it is in")
		}
		run := child{bin: bin, dir: home, env: append(slices.Clip(env), cgroupParentVar+"="+deleg.path), tests: []string{"TestDriver_Conformance"}}
		run.run(t)
	})
	t.Run("NotDelegated", func(t *testing.T) {
		run := child{bin: bin, dir: home, env: env, tests: []string{"TestNotRoot_NotDelegated"}}
		run.run(t)
	})
}

// TestNotRoot_NotDelegated runs only re-executed by TestSandbox_NotRoot,
// as nobody in root's cgroups: New must say that no cgroup is delegated.
func TestNotRoot_NotDelegated(t *testing.T) {
	if os.Getenv(notRootVar) == "" || os.Geteuid() == 0 {
		t.Skip("run by TestSandbox_NotRoot")
	}
	d, err := linux.New(linux.Config{})
	if err == nil {
		d.Close()
		t.Fatal("New made a driver as nobody, in cgroups nobody may not write")
	}
	if !errors.Is(err, linux.ErrNotDelegated) || !errors.Is(err, fs.ErrPermission) {
		t.Errorf("got %v, want linux.ErrNotDelegated and the permission error", err)
	}
	t.Logf("New: %v", err)
}

// TestDriver_HostIdentity: the functions are who HostIdentity says, on
// the host.
func TestDriver_HostIdentity(t *testing.T) {
	d := newDriver(t)
	id := d.HostIdentity()
	if root := os.Geteuid() == 0; id.UserNS == root {
		t.Errorf("got UserNS %v as uid %d", id.UserNS, os.Geteuid())
	}
	want := linux.Identity{UID: linux.UIDDefault, GID: linux.GIDDefault}
	if id.UserNS {
		want = linux.Identity{UserNS: true, UID: os.Geteuid(), GID: os.Getegid()}
		groups, _ := os.Getgroups()
		for _, g := range groups {
			if g != os.Getegid() {
				want.Groups = append(want.Groups, g)
			}
		}
	}
	if id.UserNS != want.UserNS || id.UID != want.UID || id.GID != want.GID || !slices.Equal(id.Groups, want.Groups) {
		t.Errorf("got %+v, want %+v", id, want)
	}
	code := t.TempDir()
	os.Chmod(code, 0o755)
	e := start(t, d, sandbox.Spec{CodeDir: code, Args: []string{"/bin/sleep", "30"}})
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", e.PID()))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if (k == "Uid" || k == "Gid") && strings.Fields(v)[0] != strconv.Itoa(map[string]int{"Uid": id.UID, "Gid": id.GID}[k]) {
			t.Errorf("the function's %s on the host: got %s, want %d", k, strings.TrimSpace(v), map[string]int{"Uid": id.UID, "Gid": id.GID}[k])
		}
	}
}

// userNamespacesUnavailable says why this host refuses user namespaces
// to users that are not root, or "".
func userNamespacesUnavailable() string {
	for file, off := range map[string]string{
		"/proc/sys/user/max_user_namespaces":                     "0",
		"/proc/sys/kernel/unprivileged_userns_clone":             "0",
		"/proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1",
	} {
		if b, err := os.ReadFile(file); err == nil && strings.TrimSpace(string(b)) == off {
			return fmt.Sprintf("%s is %s", file, off)
		}
	}
	return ""
}

// delegation is a cgroup delegated to nobody.
type delegation struct {
	path string   // below this process's cgroup, as Config.CgroupParent
	dirs []string // its directory in each hierarchy
	fd   int      // v2: an O_PATH descriptor of it, to clone into; -1 with v1
}

// delegateCgroup makes the cgroup name below this process's own, in
// each hierarchy the driver uses, and gives it to nobody as an
// administrator delegates one: the directory (where nobody may then make
// groups) and the files that move processes into it. Cleanup removes it
// with whatever nobody left in it.
func delegateCgroup(t *testing.T, name string) delegation {
	t.Helper()
	self, err := linux.SelfCgroups()
	if err != nil {
		t.Fatal(err)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		t.Fatal(err)
	}
	d := delegation{fd: -1}
	var files []string
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		own := filepath.Join("/sys/fs/cgroup", self[""])
		d.path = name
		d.dirs = []string{filepath.Join(own, name)}
		files = []string{"cgroup.procs", "cgroup.threads", "cgroup.subtree_control"}
		enableV2Controllers(t, own)
	} else {
		mounts, err := linux.V1Mounts()
		if err != nil {
			t.Fatal(err)
		}
		d.path = name
		for _, ctrl := range []string{"memory", "cpu", "pids", "freezer"} {
			if mounts[ctrl] == "" {
				t.Skipf("no v1 %s hierarchy", ctrl)
			}
			if dir := filepath.Join(mounts[ctrl], self[ctrl], name); !slices.Contains(d.dirs, dir) {
				d.dirs = append(d.dirs, dir)
			}
		}
		files = []string{"cgroup.procs", "tasks"}
	}
	// Those of a run that was killed before its cleanup go first.
	for _, dir := range d.dirs {
		stale, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "updraft-notroot-*"))
		for _, s := range stale {
			pid, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(s), "updraft-notroot-"))
			if err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
				_ = removeCgroupTree(s)
			}
		}
	}
	t.Cleanup(func() {
		for _, dir := range d.dirs {
			if err := removeCgroupTree(dir); err != nil {
				t.Errorf("remove delegated cgroup: %v", err)
			}
		}
	})
	for _, dir := range d.dirs {
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatalf("delegate a cgroup: %v", err)
		}
		for _, f := range append([]string{""}, files...) {
			if err := os.Chown(filepath.Join(dir, f), nobody, nobody); err != nil {
				t.Fatalf("delegate a cgroup: %v", err)
			}
		}
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		fd, err := unix.Open(d.dirs[0], unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { unix.Close(fd) })
		d.fd = fd
	}
	return d
}

// enableV2Controllers makes the controllers the driver needs available
// below own, and puts back what it found at the end.
func enableV2Controllers(t *testing.T, own string) {
	t.Helper()
	file := filepath.Join(own, "cgroup.subtree_control")
	before, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	avail, _ := os.ReadFile(filepath.Join(own, "cgroup.controllers"))
	var added []string
	for _, c := range []string{"memory", "pids", "cpu"} {
		if slices.Contains(strings.Fields(string(before)), c) || !slices.Contains(strings.Fields(string(avail)), c) {
			continue
		}
		if err := os.WriteFile(file, []byte("+"+c), 0); err != nil {
			t.Skipf("cgroup v2: cannot enable %s below %s, which holds this process: %v", c, own, err)
		}
		added = append(added, c)
	}
	t.Cleanup(func() {
		for _, c := range added {
			_ = os.WriteFile(file, []byte("-"+c), 0)
		}
	})
}

// removeCgroupTree removes a cgroup directory and the groups below it,
// leaves first, thawing and killing what is left in them.
func removeCgroupTree(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	var errs []error
	for _, e := range entries {
		if e.IsDir() {
			errs = append(errs, removeCgroupTree(filepath.Join(dir, e.Name())))
		}
	}
	_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
	_ = os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		err := syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			break
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			errs = append(errs, fmt.Errorf("rmdir %s: %w", dir, err))
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.Join(errs...)
}

// child is one run of this test binary as nobody.
type child struct {
	bin, dir string
	env      []string
	cgroupFD int // cloned into this cgroup when >0
	tests    []string
}

// resultLine is go test's verdict on one test, as -test.v prints it.
var resultLine = regexp.MustCompile(`(?m)^\s*--- (PASS|FAIL|SKIP): (\S+)`)

// run runs the tests as nobody and fails t with the child's output
// unless every one of them, each of its subtests included, passed.
func (c child) run(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, "-test.run", "^("+strings.Join(c.tests, "|")+")$", "-test.v", "-test.count=1", "-test.timeout=150s")
	cmd.Dir, cmd.Env = c.dir, c.env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: &syscall.Credential{Uid: nobody, Gid: nobody, Groups: []uint32{}},
		Pdeathsig:  syscall.SIGKILL,
	}
	if c.cgroupFD > 0 {
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, c.cgroupFD
	}
	err := cmd.Run()
	verdicts := map[string]string{}
	for _, m := range resultLine.FindAllStringSubmatch(out.String(), -1) {
		verdicts[m[2]] = m[1]
		if m[1] != "PASS" {
			t.Errorf("as uid %d: %s %s", nobody, m[1], m[2])
		}
	}
	for _, name := range c.tests {
		if verdicts[name] != "PASS" {
			t.Errorf("as uid %d: %s: got %q, want PASS", nobody, name, verdicts[name])
		}
	}
	if err != nil || t.Failed() {
		t.Errorf("test binary as uid %d: %v\n%s", nobody, err, out.Bytes())
		return
	}
	t.Logf("as uid %d: %d tests and subtests passed", nobody, len(verdicts))
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
