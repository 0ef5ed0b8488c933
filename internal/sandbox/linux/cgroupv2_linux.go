package linux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// v2 is the unified cgroup layout: <node's cgroup>/updraft/<driver>/<env>,
// with the memory, cpu and pids controllers enabled down the tree.
type v2 struct {
	base string // the driver's group directory
	cpu  bool   // the cpu controller is available
}

// v2Controllers are enabled for environments; cpu only when the host
// offers it.
var v2Controllers = []string{"memory", "pids", "cpu"}

// newV2 makes the driver's group name below parent (Config.CgroupParent).
func newV2(mount, name, parent string) (*v2, error) {
	self, err := selfCgroups()
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	own := filepath.Join(mount, parentPath(self[""], parent))
	// The node's processes are in own (else it may not move itself).
	nodeInside := own == filepath.Join(mount, self[""])
	avail := strings.Fields(readString(filepath.Join(own, "cgroup.controllers")))
	c := &v2{}
	var enable []string
	for _, ctrl := range v2Controllers {
		switch {
		case contains(avail, ctrl):
			enable = append(enable, "+"+ctrl)
			c.cpu = c.cpu || ctrl == "cpu"
		case ctrl != "cpu":
			return nil, fmt.Errorf("cgroups: the %s controller is not available in %s", ctrl, own)
		}
	}
	// A cgroup with processes may not hand controllers to children (the
	// "no internal processes" rule): move the node into a leaf first.
	if err := enableControllers(own, enable); errors.Is(err, syscall.EBUSY) && own != mount && nodeInside {
		leaf := filepath.Join(own, "updraft-node")
		if err := os.MkdirAll(leaf, 0o755); err != nil {
			return nil, cgroupError(err)
		}
		if err := writeFile(filepath.Join(leaf, "cgroup.procs"), strconv.Itoa(os.Getpid())); err != nil {
			return nil, err
		}
		if err := enableControllers(own, enable); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	group := filepath.Join(own, "updraft")
	if err := os.MkdirAll(group, 0o755); err != nil {
		return nil, cgroupError(err)
	}
	if err := enableControllers(group, enable); err != nil {
		return nil, err
	}
	entries, _ := os.ReadDir(group)
	for _, e := range entries {
		if e.IsDir() && staleDriverGroup(e.Name()) {
			removeTree(filepath.Join(group, e.Name()), func(dir string) {
				if writeFile(filepath.Join(dir, "cgroup.kill"), "1") != nil {
					killProcs(dir)
				}
			})
		}
	}
	c.base = filepath.Join(group, name)
	if err := os.Mkdir(c.base, 0o755); err != nil {
		return nil, cgroupError(err)
	}
	if err := enableControllers(c.base, enable); err != nil {
		return nil, err
	}
	return c, nil
}

func enableControllers(dir string, enable []string) error {
	if len(enable) == 0 {
		return nil
	}
	err := os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0)
	if errors.Is(err, os.ErrPermission) {
		return cgroupError(err)
	}
	if err != nil {
		return fmt.Errorf("cgroups: enable %s in %s: %w", strings.Join(enable, " "), dir, err)
	}
	return nil
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (c *v2) version() string { return "v2" }

func (c *v2) close() error { return rmdir(c.base) }

func (c *v2) create(id string, pidsMax int) (group, error) {
	dir := filepath.Join(c.base, id)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	g := &v2Group{dir: dir, fdesc: -1, cpu: c.cpu}
	err := writeFile(g.path("pids.max"), strconv.Itoa(pidsMax))
	if err == nil {
		g.fdesc, err = unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			err = fmt.Errorf("cgroups: open %s: %w", dir, err)
		}
	}
	if err != nil {
		_ = g.remove()
		return nil, err
	}
	return g, nil
}

type v2Group struct {
	dir   string
	fdesc int
	cpu   bool
	peak  int64 // highest memory.current seen, where memory.peak is missing
}

func (g *v2Group) path(file string) string { return filepath.Join(g.dir, file) }

func (g *v2Group) fd() int { return g.fdesc }

// join is done by the clone itself (CLONE_INTO_CGROUP).
func (g *v2Group) join(int) error { return nil }

func (g *v2Group) limitMemory(memoryMB int) error {
	if err := writeFile(g.path("memory.max"), strconv.FormatInt(int64(memoryMB)<<20, 10)); err != nil {
		return err
	}
	if err := writeFile(g.path("memory.swap.max"), "0"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (g *v2Group) limitCPU(memoryMB int) error {
	if !g.cpu {
		return nil
	}
	return writeFile(g.path("cpu.max"), fmt.Sprintf("%d %d", cpuQuota(memoryMB).Microseconds(), cpuPeriod.Microseconds()))
}

func (g *v2Group) freeze(frozen bool) error {
	v := "0"
	if frozen {
		v = "1"
	}
	return writeFile(g.path("cgroup.freeze"), v)
}

func (g *v2Group) oomKilled() bool { return keyed(g.path("memory.events"), "oom_kill") > 0 }

func (g *v2Group) memory() (int64, int64) {
	cur := readInt(g.path("memory.current"))
	if peak := readInt(g.path("memory.peak")); peak > 0 {
		return cur, peak
	}
	g.peak = max(g.peak, cur)
	return cur, g.peak
}

func (g *v2Group) resetPeak() {}

func (g *v2Group) kill() bool { return writeFile(g.path("cgroup.kill"), "1") == nil }

func (g *v2Group) remove() error {
	if g.fdesc >= 0 {
		unix.Close(g.fdesc)
		g.fdesc = -1
	}
	return rmdir(g.dir)
}
