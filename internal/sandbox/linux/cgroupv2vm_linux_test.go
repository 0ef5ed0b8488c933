package linux_test

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The environment of a test binary that TestSandbox_CgroupV2 runs inside
// a virtual machine.
const (
	vmVar     = "UPDRAFT_TEST_VM"     // set: this binary runs inside the VM
	cgroupVar = "UPDRAFT_TEST_CGROUP" // the cgroup version every driver must report ("v1", "v2")
)

// vmExitMarker precedes the test binary's exit status on the VM's console.
const vmExitMarker = "updraft-vm-exit"

// vmModules are the kernel modules the VM's first stage loads to mount
// the host's root over virtio 9p, with whatever they depend on.
var vmModules = []string{"virtio_pci", "9pnet_virtio", "9p"}

// TestSandbox_CgroupV2 runs this package's tests again on cgroup v2, on
// a host that mounts cgroup v1 (where the v2 code would otherwise never
// run): it boots a kernel of the host's (/boot) in QEMU, with the host's
// root shared read-only over virtio 9p and the unified hierarchy mounted
// at /sys/fs/cgroup with every controller, and runs this test binary
// there as root, with the probe built here. Every driver inside must
// report cgroup v2, and the tests must pass, including TestSandbox_NotRoot
// (a cgroup delegated to an unprivileged user, as on a systemd host).
//
// It needs qemu-system-x86_64, a /boot/vmlinuz-* whose modules include
// 9p, and a static busybox (Debian: qemu-system-x86, linux-image-amd64,
// busybox-static; `make deps` installs them where cgroup v1 is mounted).
// QEMU emulates the CPU (no KVM: nested virtualisation is not to be
// relied on), so it takes a minute or two.
func TestSandbox_CgroupV2(t *testing.T) {
	if os.Getenv(vmVar) != "" {
		t.Skip("already inside the VM")
	}
	if testing.Short() {
		t.Skip("boots a virtual machine")
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		t.Skip("this host mounts cgroup v2: the other tests run the v2 code here")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root, to read the host's kernel and run the VM's tests as root")
	}
	vm, why := findVM()
	if why != "" {
		t.Skipf("cannot boot a cgroup v2 VM: %s (install qemu-system-x86, linux-image-amd64 and busybox-static; make deps does)", why)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// The function's user (65534 in TestSandbox_NotRoot) must reach the
	// probe, and the VM reads all of this through the shared root.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd.cpio")
	if err := vm.writeInitramfs(initrd, stage2(exe, wd, probeCode(t))); err != nil {
		t.Fatal(err)
	}

	// A guest whose tests hang panics after -test.timeout (vmTestTimeout)
	// and reports an exit status. A VM that reports nothing by
	// vmDeadline has frozen under the emulated CPUs (seen once in about
	// twenty runs, with the guest's own test timeout never firing); it
	// is booted once more before the test fails.
	var console string
	var start time.Time
	var status []string
	for attempt := 1; ; attempt++ {
		start = time.Now()
		var err error
		console, err = vm.run(initrd)
		status = regexp.MustCompile(vmExitMarker + ` (\d+)`).FindStringSubmatch(console)
		if status != nil {
			break
		}
		if attempt == 2 {
			t.Fatalf("the VM ended (%v) after %s without the tests' exit status, twice; its console:\n%s", err, time.Since(start).Round(time.Second), tail(console, 200))
		}
		t.Logf("the VM ended (%v) after %s without the tests' exit status; booting it again. Its console:\n%s", err, time.Since(start).Round(time.Second), tail(console, 40))
	}
	results := testResults(console)
	if status[1] != "0" || !slices.ContainsFunc(results, func(s string) bool { return strings.HasPrefix(s, "--- PASS: TestDriver_Conformance ") }) {
		t.Fatalf("the tests in the cgroup v2 VM exited %s; its console:\n%s", status[1], tail(console, 300))
	}
	t.Logf("cgroup v2 VM (%s, %s):\n%s", filepath.Base(vm.kernel), time.Since(start).Round(time.Second), strings.Join(results, "\n"))
}

// vmDeadline bounds one boot of the VM; a run takes about 45 s here.
// vmTestTimeout is the test binary's own timeout inside it, shorter, so
// that a hang in the tests is reported with their stacks.
const (
	vmDeadline    = 5 * time.Minute
	vmTestTimeout = "4m"
)

// run boots the VM with initrd and returns its console, without carriage
// returns.
func (vm *vmParts) run(initrd string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), vmDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, vm.qemu,
		"-accel", "tcg,thread=multi", "-cpu", "max", "-smp", "2", "-m", "2048",
		"-kernel", vm.kernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1",
		"-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
		"-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio", "-monitor", "none")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return strings.ReplaceAll(out.String(), "\r", ""), err
}

// stage2 is the shell script the VM runs from the host's root: it mounts
// what a host's init would (with cgroup2 alone at /sys/fs/cgroup and a
// tmpfs as TMPDIR, the root being read-only), runs the test binary exe
// in directory wd, prints its exit status and powers off.
func stage2(exe, wd, probe string) string {
	q := shellQuote
	return strings.Join([]string{
		"mount -t proc proc /proc",
		"mount -t sysfs sysfs /sys",
		"mount -t cgroup2 cgroup2 /sys/fs/cgroup",
		"mount -t tmpfs tmpfs /run",
		"mkdir -m 1777 /run/tmp",
		"busybox ip link set lo up",
		"cd " + q(wd),
		"env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root TMPDIR=/run/tmp " +
			vmVar + "=1 " + cgroupVar + "=v2 " + probeDirVar + "=" + q(probe) + " " +
			q(exe) + " -test.v -test.timeout " + vmTestTimeout + " -test.skip TestSandbox_CgroupV2 2>&1",
		"echo " + vmExitMarker + " $?",
		"busybox poweroff -f",
	}, "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// testResults are the result lines (--- PASS/FAIL/SKIP) of a verbose test run.
func testResults(console string) []string {
	var out []string
	s := bufio.NewScanner(strings.NewReader(console))
	for s.Scan() {
		if line := strings.TrimRight(s.Text(), " "); strings.HasPrefix(strings.TrimLeft(line, " "), "--- ") {
			out = append(out, line)
		}
	}
	return out
}

func tail(s string, lines int) string {
	l := strings.Split(s, "\n")
	return strings.Join(l[max(0, len(l)-lines):], "\n")
}

// vmParts are what booting the VM takes from the host.
type vmParts struct {
	qemu, kernel, busybox string
	modules               []string // paths, in the order to load them
}

// findVM finds the VM's parts on this host, or says what is missing.
func findVM() (vmParts, string) {
	var vm vmParts
	var err error
	if vm.qemu, err = exec.LookPath("qemu-system-x86_64"); err != nil {
		return vm, "no qemu-system-x86_64"
	}
	if vm.busybox, err = exec.LookPath("busybox"); err != nil {
		return vm, "no busybox"
	}
	if !static(vm.busybox) {
		return vm, vm.busybox + " is not a statically linked program"
	}
	kernels, _ := filepath.Glob("/boot/vmlinuz-*")
	slices.Reverse(kernels) // newest version first, mostly
	for _, k := range kernels {
		release := strings.TrimPrefix(filepath.Base(k), "vmlinuz-")
		if mods, err := moduleOrder("/lib/modules/"+release, vmModules); err == nil {
			vm.kernel, vm.modules = k, mods
			return vm, ""
		}
	}
	return vm, "no kernel in /boot with the 9p and virtio modules"
}

// static reports whether path is an ELF program that needs no dynamic
// loader (the VM's first stage has no libraries).
func static(path string) bool {
	f, err := elf.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return !slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP })
}

// moduleOrder reads dir's modules.dep and returns the paths of mods and
// of everything they depend on, each after its dependencies. A module
// built into the kernel (modules.builtin) needs no loading.
func moduleOrder(dir string, mods []string) ([]string, error) {
	dep, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	builtin, _ := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	name := func(path string) string {
		base := filepath.Base(path)
		return strings.ReplaceAll(base[:strings.Index(base, ".ko")], "-", "_")
	}
	deps := map[string][]string{} // module name → its path, then its dependencies' paths
	for _, line := range strings.Split(string(dep), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(mod, ".ko") { // compressed modules would need decompressing
			continue
		}
		deps[name(mod)] = append([]string{mod}, strings.Fields(rest)...)
	}
	isBuiltin := map[string]bool{}
	for _, line := range strings.Split(string(builtin), "\n") {
		if strings.HasSuffix(line, ".ko") {
			isBuiltin[name(line)] = true
		}
	}
	var order []string
	seen := map[string]bool{}
	var visit func(string) error
	visit = func(mod string) error {
		if seen[mod] || isBuiltin[mod] {
			return nil
		}
		seen[mod] = true
		d, ok := deps[mod]
		if !ok {
			return fmt.Errorf("module %s: not in %s", mod, dir)
		}
		for _, p := range d[1:] {
			if err := visit(name(p)); err != nil {
				return err
			}
		}
		order = append(order, filepath.Join(dir, d[0]))
		return nil
	}
	for _, m := range mods {
		if err := visit(m); err != nil {
			return nil, err
		}
	}
	return order, nil
}

// writeInitramfs writes the VM's first stage to path, an uncompressed
// "newc" cpio archive: busybox, the modules and an init that loads them,
// mounts the host's root and switches to it to run script with the
// host's /bin/sh.
func (vm vmParts) writeInitramfs(path, script string) error {
	var init strings.Builder
	init.WriteString("#!/bin/busybox sh\n/bin/busybox --install -s /bin\nexport PATH=/bin\n")
	init.WriteString("mount -t proc proc /proc\nmount -t sysfs sysfs /sys\nmount -t devtmpfs devtmpfs /dev\n")
	for i := range vm.modules {
		fmt.Fprintf(&init, "insmod /modules/%d.ko || poweroff -f\n", i)
	}
	init.WriteString("mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,ro,cache=loose hostroot /root || poweroff -f\n")
	init.WriteString("umount /proc /sys\nmount --move /dev /root/dev\n")
	init.WriteString("exec switch_root /root /bin/sh -c " + shellQuote(script) + "\n")

	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := &cpioWriter{w: bufio.NewWriter(f)}
	for _, d := range []string{"bin", "dev", "modules", "proc", "root", "sys"} {
		w.entry(d, unix.S_IFDIR|0o755, 0, nil)
	}
	w.entry("dev/console", unix.S_IFCHR|0o600, unix.Mkdev(5, 1), nil)
	w.entry("init", unix.S_IFREG|0o755, 0, []byte(init.String()))
	if err := w.file("bin/busybox", vm.busybox, 0o755); err != nil {
		return err
	}
	for i, m := range vm.modules {
		if err := w.file(fmt.Sprintf("modules/%d.ko", i), m, 0o644); err != nil {
			return err
		}
	}
	w.entry("TRAILER!!!", 0, 0, nil)
	if w.err != nil {
		return w.err
	}
	if err := w.w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// cpioWriter writes the "newc" (070701) cpio format the kernel unpacks.
type cpioWriter struct {
	w   *bufio.Writer
	ino int
	off int
	err error
}

func (c *cpioWriter) file(name, src string, perm uint32) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	c.entry(name, unix.S_IFREG|perm, 0, b)
	return c.err
}

func (c *cpioWriter) entry(name string, mode uint32, rdev uint64, data []byte) {
	if c.err != nil {
		return
	}
	c.ino++
	nlink := 1
	if mode&unix.S_IFMT == unix.S_IFDIR {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, unix.Major(rdev), unix.Minor(rdev), len(name)+1, 0)
	c.write([]byte(hdr))
	c.write(append([]byte(name), 0))
	c.pad()
	c.write(data)
	c.pad()
}

func (c *cpioWriter) write(b []byte) {
	if c.err == nil {
		var n int
		n, c.err = c.w.Write(b)
		c.off += n
	}
}

func (c *cpioWriter) pad() { c.write(make([]byte, (4-c.off%4)%4)) }
