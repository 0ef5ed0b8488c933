//go:build linux

package linux_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/linux"
)

// probeDirVar names a directory holding a built probe, set for a
// re-executed test binary.
const probeDirVar = "UPDRAFT_TEST_PROBE_DIR"

var (
	probeOnce  sync.Once
	probeDir   string
	probeErr   error
	probeBuilt bool // probeDir is this process's, removed by TestMain
)

// probeCode returns a code directory holding the probe program
// (testdata/probe) as bootstrap, built once per test binary.
func probeCode(t *testing.T) string {
	t.Helper()
	probeOnce.Do(func() {
		// A test binary re-executed as another user (userns_test.go)
		// gets the probe its parent built.
		if dir := os.Getenv(probeDirVar); dir != "" {
			probeDir = dir
			return
		}
		probeDir, probeErr = os.MkdirTemp("", "updraft-probe-")
		if probeErr != nil {
			return
		}
		probeBuilt = true
		cmd := exec.Command("go", "build", "-o", filepath.Join(probeDir, "bootstrap"), "./testdata/probe")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probeErr = fmt.Errorf("build probe: %v\n%s", err, out)
		}
		// The function's user must be able to enter its code.
		if probeErr == nil {
			probeErr = os.Chmod(probeDir, 0o755)
		}
	})
	if probeErr != nil {
		t.Fatal(probeErr)
	}
	return probeDir
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// report is the probe's output (testdata/probe).
type report struct {
	UID, GID   int
	Groups     []int
	Hostname   string
	Status     map[string]string
	Pids       []int
	Root       []string
	Calls      map[string]string
	Writes     map[string]string
	Paths      map[string]bool
	Cgroup     string
	Spawned    int
	SpawnError string
	Dials      map[string]string
}

func start(t *testing.T, d sandbox.Driver, spec sandbox.Spec) sandbox.Env {
	t.Helper()
	if spec.ID == "" {
		spec.ID = strings.ReplaceAll(t.Name(), "/", "-")
	}
	if spec.Env == nil {
		spec.Env = []string{"PATH=/usr/bin:/bin"}
	}
	e, err := d.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(func() { _ = e.Kill() })
	return e
}

// runProbe runs the probe with args to the end and decodes its report.
func runProbe(t *testing.T, d sandbox.Driver, spec sandbox.Spec, args ...string) (report, error) {
	t.Helper()
	var out syncBuffer
	spec.CodeDir = probeCode(t)
	spec.Args = append([]string{"./bootstrap"}, args...)
	spec.Stdout, spec.Stderr = &out, &out
	e := start(t, d, spec)
	select {
	case <-e.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("probe did not finish")
	}
	var r report
	if err := e.Err(); err != nil {
		return r, err
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("probe output %q: %v", out.Bytes(), err)
	}
	return r, nil
}

func TestSandbox_Confinement(t *testing.T) {
	eachChild(t, testConfinement)
}

func testConfinement(t *testing.T, d *linux.Driver) {
	r, err := runProbe(t, d, sandbox.Spec{ID: "confine-0123456789"}, "report")
	if err != nil {
		t.Fatal(err)
	}
	if want := functionGroups(t, d); r.UID != linux.UIDDefault || r.GID != linux.GIDDefault || !slices.Equal(slices.Sorted(slices.Values(r.Groups)), want) {
		t.Errorf("got uid %d gid %d groups %v, want %d %d and groups %v", r.UID, r.GID, r.Groups, linux.UIDDefault, linux.GIDDefault, want)
	}
	zero := "0000000000000000"
	for _, k := range []string{"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"} {
		if r.Status[k] != zero {
			t.Errorf("got %s %s, want no capabilities", k, r.Status[k])
		}
	}
	if r.Status["NoNewPrivs"] != "1" || r.Status["Seccomp"] != "2" {
		t.Errorf("got NoNewPrivs %q Seccomp %q, want 1 and 2 (filter)", r.Status["NoNewPrivs"], r.Status["Seccomp"])
	}
	if r.Hostname != "updraft-confine-0123" {
		t.Errorf("got hostname %q, want the environment's", r.Hostname)
	}
	for call, got := range r.Calls {
		want := "EPERM"
		if call == "clone3" {
			want = "ENOSYS"
		}
		if got != want {
			t.Errorf("%s: got %q, want %s", call, got, want)
		}
	}
	for path, got := range r.Writes {
		if path == "/tmp" {
			if got != "" {
				t.Errorf("write in /tmp: %s, want it to work", got)
			}
		} else if got != "EROFS" && got != "EACCES" {
			t.Errorf("write in %s: got %q, want EROFS or EACCES", path, got)
		}
	}
	root := slices.Sorted(slices.Values(r.Root))
	for _, name := range root {
		if !slices.Contains([]string{"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "opt", "proc", "sbin", "tmp", "usr", "var"}, name) {
			t.Errorf("the root shows %q; want only the runtime directories and the sandbox's own", name)
		}
	}
	if strings.Contains(r.Cgroup, "updraft") {
		t.Errorf("/proc/self/cgroup shows the host's cgroup paths: %q", r.Cgroup)
	}
}

func TestSandbox_CannotSeeOtherCodeOrHostProcesses(t *testing.T) {
	d := newDriver(t)
	other := t.TempDir() // another function's code
	if err := os.WriteFile(filepath.Join(other, "secret.py"), []byte("KEY = 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	host := fmt.Sprintf("/proc/%d", os.Getpid())
	r, err := runProbe(t, d, sandbox.Spec{}, "report", other, filepath.Join(other, "secret.py"), probeCode(t), host, "/var/task/bootstrap")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{other, filepath.Join(other, "secret.py"), probeCode(t)} {
		if r.Paths[p] {
			t.Errorf("the function sees the host path %s", p)
		}
	}
	if !r.Paths["/var/task/bootstrap"] {
		t.Error("the function does not see its own code at /var/task")
	}
	if r.Paths[host] && os.Getpid() != 1 {
		t.Errorf("the function sees the host process %d", os.Getpid())
	}
	if !slices.Equal(r.Pids, []int{1}) {
		t.Errorf("got processes %v in /proc, want only the function itself, 1", r.Pids)
	}
}

func TestSandbox_TmpIsPrivate(t *testing.T) {
	d := newDriver(t)
	code := t.TempDir()
	os.Chmod(code, 0o755)
	script := "#!/bin/sh\necho $SECRET > /tmp/secret\nwhile [ ! -e /tmp/secret ]; do :; done\ncat /tmp/secret\nexec sleep 30\n"
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var a, b syncBuffer
	start(t, d, sandbox.Spec{ID: "tmp-a", CodeDir: code, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin", "SECRET=from-a"}, Stdout: &a})
	start(t, d, sandbox.Spec{ID: "tmp-b", CodeDir: code, Args: []string{"./bootstrap"}, Env: []string{"PATH=/usr/bin:/bin", "SECRET=from-b"}, Stdout: &b})
	deadline := time.Now().Add(10 * time.Second)
	for (len(a.Bytes()) == 0 || len(b.Bytes()) == 0) && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := string(a.Bytes()); got != "from-a\n" {
		t.Errorf("env a read %q from its /tmp, want its own secret", got)
	}
	if got := string(b.Bytes()); got != "from-b\n" {
		t.Errorf("env b read %q from its /tmp, want its own secret", got)
	}
}

func TestSandbox_MemoryLimitKills(t *testing.T) {
	d := newDriver(t)
	_, err := runProbe(t, d, sandbox.Spec{MemoryMB: 32}, "alloc", "64")
	var oom *sandbox.OutOfMemoryError
	if !errors.As(err, &oom) {
		t.Fatalf("got %v, want an OutOfMemoryError", err)
	}
	if got := err.Error(); got != "signal: killed" {
		t.Errorf("got message %q, want signal: killed", got)
	}
	// Within the limit the same program is fine.
	if _, err := runProbe(t, d, sandbox.Spec{MemoryMB: 128}, "alloc", "16"); err != nil {
		t.Errorf("16 MB in 128 MB: %v", err)
	}
}

// functionGroups are the supplementary groups a function should see,
// sorted: none when the node is root; in a user namespace, the node's,
// which only root could drop, as the namespace shows them (its gid as
// GIDDefault, any other as the overflow gid).
func functionGroups(t *testing.T, d *linux.Driver) []int {
	t.Helper()
	want := []int{}
	if !d.HostIdentity().UserNS {
		return want
	}
	b, err := os.ReadFile("/proc/sys/kernel/overflowgid")
	if err != nil {
		t.Fatal(err)
	}
	overflow, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	groups, err := os.Getgroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range groups {
		if g == os.Getegid() {
			want = append(want, linux.GIDDefault)
		} else {
			want = append(want, overflow)
		}
	}
	return slices.Sorted(slices.Values(want))
}

func TestSandbox_ForkBombIsContained(t *testing.T) {
	d, err := linux.New(linux.Config{PidsMax: 64, CgroupParent: os.Getenv(cgroupParentVar)})
	if err != nil {
		unavailable(t, err)
	}
	t.Cleanup(func() { _ = d.Close() })
	r, err := runProbe(t, d, sandbox.Spec{}, "spawn")
	if err != nil {
		t.Fatal(err)
	}
	if r.Spawned == 0 || r.Spawned >= 64 || !strings.Contains(r.SpawnError, "resource temporarily unavailable") {
		t.Errorf("spawned %d children, then %q; want fewer than 64, then EAGAIN", r.Spawned, r.SpawnError)
	}

	// A shell fork bomb runs against the same wall, and Kill ends it.
	code := t.TempDir()
	os.Chmod(code, 0o755)
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte("#!/bin/sh\nb() { b | b & }\nb\nsleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := start(t, d, sandbox.Spec{CodeDir: code, Args: []string{"./bootstrap"}})
	time.Sleep(500 * time.Millisecond)
	if n := len(descendants(e.PID())); n > 64 {
		t.Errorf("the bomb has %d processes, over the limit of 64", n)
	}
	if err := e.Kill(); err != nil {
		t.Fatal(err)
	}
	if n := len(descendants(e.PID())); n > 0 {
		t.Errorf("%d processes of the bomb survived Kill", n)
	}
}

func TestSandbox_KillLeavesNothingBehind(t *testing.T) {
	d := newDriver(t)
	code := t.TempDir()
	os.Chmod(code, 0o755)
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte("#!/bin/sh\nsleep 60 &\nsleep 60 &\necho up\nwait\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	e := start(t, d, sandbox.Spec{CodeDir: code, Args: []string{"./bootstrap"}, Stdout: &out})
	deadline := time.Now().Add(10 * time.Second)
	for len(descendants(e.PID())) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	procs := append(descendants(e.PID()), e.PID())
	cgroups := cgroupDirs(t, e.PID())
	mntNS, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", e.PID()))
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 3 || len(cgroups) == 0 {
		t.Fatalf("got processes %v and cgroups %v before Kill; want 3 and some", procs, cgroups)
	}
	if err := e.Kill(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range procs {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("process %d survived Kill", pid)
		}
	}
	for _, dir := range cgroups {
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("cgroup %s survived Kill", dir)
		}
	}
	// The mounts lived only in the environment's mount namespace; no
	// process is left in it, and the host's mount table never had them.
	entries, _ := os.ReadDir("/proc")
	for _, ent := range entries {
		if ns, err := os.Readlink("/proc/" + ent.Name() + "/ns/mnt"); err == nil && ns == mntNS {
			t.Errorf("process %s is still in the environment's mount namespace", ent.Name())
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if bytes.Contains(mounts, []byte("updraft-sandbox")) || bytes.Contains(mounts, []byte(code)) {
		t.Errorf("the host's mount table shows the sandbox:\n%s", mounts)
	}
}

func TestSandbox_CPUQuotaAfterInit(t *testing.T) {
	d := newDriver(t)
	code := probeCode(t)
	e := start(t, d, sandbox.Spec{CodeDir: code, Args: []string{"./bootstrap", "spin"}, MemoryMB: 128})
	// INIT is not throttled: the spinning probe gets a whole CPU.
	time.Sleep(100 * time.Millisecond)
	t0, c0 := time.Now(), cpuTicks(e.PID())
	time.Sleep(500 * time.Millisecond)
	initShare := float64(cpuTicks(e.PID())-c0) / 100 / time.Since(t0).Seconds()
	if err := e.(sandbox.InitEnder).EndInit(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	t0, c0 = time.Now(), cpuTicks(e.PID())
	time.Sleep(time.Second)
	share := float64(cpuTicks(e.PID())-c0) / 100 / time.Since(t0).Seconds()
	want := 128.0 / 1769
	t.Logf("CPU share during INIT %.2f, after %.3f (want about %.3f)", initShare, share, want)
	if share > 2*want {
		t.Errorf("got a CPU share of %.3f at 128 MB, want about %.3f", share, want)
	}
	if initShare < 4*want {
		t.Errorf("got a CPU share of %.3f during INIT, want it unthrottled", initShare)
	}
}

// descendants lists the host PIDs below pid.
func descendants(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 {
			parent[p], _ = strconv.Atoi(f[1])
		}
	}
	var out []int
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// cgroupDirs lists the cgroup directories pid is in, below an updraft
// group, as the host sees them.
func cgroupDirs(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		// Inside its cgroup namespace the env's own group is "/"; the
		// host's view (this process reads it from outside) is the full path.
		if !strings.Contains(parts[2], "updraft") {
			continue
		}
		ctrl := parts[1]
		if ctrl == "" {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", parts[2]))
			continue
		}
		dirs = append(dirs, filepath.Join("/sys/fs/cgroup", strings.Split(ctrl, ",")[0], parts[2]))
	}
	return dirs
}

func cpuTicks(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	k, _ := strconv.ParseInt(f[12], 10, 64)
	return u + k
}

// lineServer accepts on a new loopback port and writes line to every
// connection.
func lineServer(t *testing.T, line string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprintln(c, line)
			c.Close()
		}
	}()
	return ln.Addr().String()
}

// TestSandbox_Network: an environment reaches the node's loopback unless
// its Spec asks for an isolated network; then it reaches only what is
// forwarded, at the forward's loopback address.
func TestSandbox_Network(t *testing.T) {
	eachChild(t, testNetwork)
}

func testNetwork(t *testing.T, d *linux.Driver) {
	host := lineServer(t, "host")
	api := lineServer(t, "api")
	_, apiPort, _ := net.SplitHostPort(api)
	otherLoopback := "127.0.0.2:" + apiPort

	r, err := runProbe(t, d, sandbox.Spec{}, "dial", host)
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Dials[host]; got != "host" {
		t.Fatalf("without isolation, dial %s: got %q, want host", host, got)
	}

	spec := sandbox.Spec{Network: &sandbox.Network{Forwards: []sandbox.Forward{
		{Listen: api, Dial: api},
		{Listen: otherLoopback, Dial: api},
	}}}
	r, err = runProbe(t, d, spec, "dial", host, api, otherLoopback, "192.0.2.1:80")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		host:           "error: ECONNREFUSED", // nothing listens there in its namespace
		api:            "api",
		otherLoopback:  "api",
		"192.0.2.1:80": "error: ENETUNREACH", // no route but loopback
	}
	for addr, w := range want {
		if got := r.Dials[addr]; got != w {
			t.Errorf("isolated, dial %s: got %q, want %q", addr, got, w)
		}
	}

	spec.Network.Forwards = []sandbox.Forward{{Listen: "10.0.0.1:80", Dial: api}}
	if _, err := d.Start(context.Background(), sandbox.Spec{ID: "bad-forward", CodeDir: probeCode(t), Args: []string{"./bootstrap"}, Network: spec.Network}); err == nil {
		t.Error("started with a forward listening on a non-loopback address")
	}
}
