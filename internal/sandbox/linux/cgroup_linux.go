package linux

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/updraft/updraft/internal/sandbox"
)

// cpuPeriod is the CFS period CPU quotas are expressed in.
const cpuPeriod = 100 * time.Millisecond

// cpuQuota is the CFS quota per cpuPeriod for memoryMB of memory.
func cpuQuota(memoryMB int) time.Duration {
	q := time.Duration(int64(cpuPeriod) * int64(memoryMB) / sandbox.MemoryPerVCPU)
	return max(q, time.Millisecond)
}

// cgroups is one of the two cgroup layouts; it makes the groups of a
// driver (below the node's own cgroup) and of each environment.
type cgroups interface {
	// version is "v1" or "v2".
	version() string
	// create makes the group of one environment with its pids limit;
	// memory and CPU are left unlimited until limitMemory and limitCPU.
	create(id string, pidsMax int) (group, error)
	// close removes the driver's group; it fails while environments
	// remain.
	close() error
}

// group is the cgroup (one per controller with v1) of one environment.
type group interface {
	// join moves pid into the group (v1); with v2 the child is cloned
	// into it (fd).
	join(pid int) error
	fd() int // an O_PATH descriptor for CLONE_INTO_CGROUP, or -1
	limitMemory(memoryMB int) error
	limitCPU(memoryMB int) error
	freeze(frozen bool) error
	oomKilled() bool
	memory() (current, peak int64)
	resetPeak()
	// kill signals every process of the group (v2), or does nothing.
	kill() bool
	remove() error
}

// detectCgroups finds the cgroup layout of this host and makes the
// driver's own group, named name, below parent (Config.CgroupParent).
func detectCgroups(name, parent string) (cgroups, error) {
	if parent != "" && (filepath.Clean(parent) != parent || parent == ".." || strings.HasPrefix(parent, "../")) {
		return nil, fmt.Errorf("cgroups: parent %q: want a clean path such as /updraft-alice, or below the node's own cgroup such as updraft-alice", parent)
	}
	var st unix.Statfs_t
	if err := unix.Statfs("/sys/fs/cgroup", &st); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	if st.Type == unix.CGROUP2_SUPER_MAGIC {
		return newV2("/sys/fs/cgroup", name, parent)
	}
	return newV1(name, parent)
}

// parentPath is the path, from the root of a hierarchy, of the cgroup
// the driver's groups go below: parent when absolute, else parent below
// self, the node's own cgroup.
func parentPath(self, parent string) string {
	if filepath.IsAbs(parent) {
		return parent
	}
	return filepath.Join(self, parent)
}

// cgroupError is err from making or writing a cgroup, marked with
// ErrNotDelegated when it is a permission this process lacks for not
// being root.
func cgroupError(err error) error {
	if errors.Is(err, os.ErrPermission) && os.Geteuid() != 0 {
		return fmt.Errorf("cgroups: %w (uid %d): %w", ErrNotDelegated, os.Geteuid(), err)
	}
	return fmt.Errorf("cgroups: %w", err)
}

// selfCgroups reads /proc/self/cgroup: controller (or "" for v2) → path.
func selfCgroups() (map[string]string, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

func writeFile(path, value string) error {
	if err := os.WriteFile(path, []byte(value), 0); err != nil {
		return fmt.Errorf("cgroup write %s: %w", path, err)
	}
	return nil
}

func readInt(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.ParseInt(string(bytes.TrimSpace(b)), 10, 64)
	return n
}

// keyed reads "key value" lines (memory.events, memory.oom_control).
func keyed(path, key string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), " "); ok && k == key {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// rmdir removes a cgroup directory, retrying while the kernel still
// counts a process that has just exited.
func rmdir(dir string) error {
	var err error
	for i := 0; i < 100; i++ {
		err = syscall.Rmdir(dir)
		if err == nil || errors.Is(err, syscall.ENOENT) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return fmt.Errorf("remove cgroup %s: %w", dir, err)
}

// pidAlive reports whether a process with this id exists.
func pidAlive(pid int) bool {
	return syscall.Kill(pid, 0) == nil || errors.Is(syscall.Kill(pid, 0), syscall.EPERM)
}

// staleDriverGroup reports whether a driver group named d<pid>-… belongs
// to a process that is gone.
func staleDriverGroup(name string) bool {
	rest, ok := strings.CutPrefix(name, "d")
	if !ok {
		return false
	}
	pidText, _, ok := strings.Cut(rest, "-")
	if !ok {
		return false
	}
	pid, err := strconv.Atoi(pidText)
	return err == nil && !pidAlive(pid)
}

// removeTree kills what is left in a cgroup tree and removes it, leaves
// first; for groups a crashed node left behind.
func removeTree(dir string, killAll func(dir string)) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.IsDir() {
			removeTree(filepath.Join(dir, e.Name()), killAll)
		}
	}
	killAll(dir)
	_ = rmdir(dir)
}

// killProcs SIGKILLs every process listed in dir/cgroup.procs.
func killProcs(dir string) {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	for _, f := range strings.Fields(string(b)) {
		if pid, err := strconv.Atoi(f); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
