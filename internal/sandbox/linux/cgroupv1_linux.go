package linux

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// v1Controllers are the cgroup v1 hierarchies an environment joins.
var v1Controllers = []string{"memory", "cpu", "pids", "freezer"}

// v1 is the cgroup v1 layout: one hierarchy per controller, each holding
// <node's cgroup>/updraft/<driver>/<env>.
type v1 struct {
	base map[string]string // controller → the driver's group directory
}

// newV1 makes the driver's group name in each hierarchy, below parent
// (Config.CgroupParent).
func newV1(name, parent string) (*v1, error) {
	mounts, err := v1Mounts()
	if err != nil {
		return nil, err
	}
	self, err := selfCgroups()
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	c := &v1{base: map[string]string{}}
	for _, ctrl := range v1Controllers {
		m, ok := mounts[ctrl]
		if !ok {
			_ = c.close()
			return nil, fmt.Errorf("cgroups: no v1 %s hierarchy mounted", ctrl)
		}
		group := filepath.Join(m, parentPath(self[ctrl], parent), "updraft")
		if err := os.MkdirAll(group, 0o755); err != nil {
			_ = c.close()
			return nil, cgroupError(err)
		}
		c.removeStale(ctrl, group)
		dir := filepath.Join(group, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			_ = c.close()
			return nil, cgroupError(err)
		}
		c.base[ctrl] = dir
	}
	return c, nil
}

// removeStale removes the groups of drivers whose node is gone.
func (c *v1) removeStale(ctrl, parent string) {
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if !e.IsDir() || !staleDriverGroup(e.Name()) {
			continue
		}
		removeTree(filepath.Join(parent, e.Name()), func(dir string) {
			killProcs(dir)
			if ctrl == "freezer" {
				_ = os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED"), 0)
			}
		})
	}
}

// v1Mounts maps each v1 controller to its hierarchy's mount point.
func v1Mounts() (map[string]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]string{}
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent major:minor root mountpoint opts [optional…] - fstype source superopts
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok {
			continue
		}
		fields, after := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 || len(after) < 3 || after[0] != "cgroup" {
			continue
		}
		for _, opt := range strings.Split(after[2], ",") {
			if _, seen := out[opt]; !seen {
				out[opt] = fields[4]
			}
		}
	}
	return out, s.Err()
}

func (c *v1) version() string { return "v1" }

func (c *v1) close() error {
	var errs []error
	for _, dir := range c.base {
		if err := rmdir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (c *v1) create(id string, pidsMax int) (group, error) {
	g := &v1Group{dirs: map[string]string{}}
	for _, ctrl := range v1Controllers {
		dir := filepath.Join(c.base[ctrl], id)
		if err := os.Mkdir(dir, 0o755); err != nil {
			_ = g.remove()
			return nil, fmt.Errorf("cgroups: %w", err)
		}
		g.dirs[ctrl] = dir
	}
	if err := writeFile(g.path("pids", "pids.max"), strconv.Itoa(pidsMax)); err != nil {
		_ = g.remove()
		return nil, err
	}
	return g, nil
}

type v1Group struct {
	dirs map[string]string
}

func (g *v1Group) path(ctrl, file string) string { return filepath.Join(g.dirs[ctrl], file) }

func (g *v1Group) fd() int { return -1 }

func (g *v1Group) join(pid int) error {
	p := strconv.Itoa(pid)
	for _, ctrl := range v1Controllers {
		if err := writeFile(g.path(ctrl, "cgroup.procs"), p); err != nil {
			return err
		}
	}
	return nil
}

func (g *v1Group) limitMemory(memoryMB int) error {
	mem := strconv.FormatInt(int64(memoryMB)<<20, 10)
	if err := writeFile(g.path("memory", "memory.limit_in_bytes"), mem); err != nil {
		return err
	}
	// Without swap accounting the file is absent; with it, swap must not
	// extend the limit.
	if err := writeFile(g.path("memory", "memory.memsw.limit_in_bytes"), mem); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (g *v1Group) limitCPU(memoryMB int) error {
	if err := writeFile(g.path("cpu", "cpu.cfs_period_us"), strconv.FormatInt(cpuPeriod.Microseconds(), 10)); err != nil {
		return err
	}
	return writeFile(g.path("cpu", "cpu.cfs_quota_us"), strconv.FormatInt(cpuQuota(memoryMB).Microseconds(), 10))
}

func (g *v1Group) freeze(frozen bool) error {
	state := "THAWED"
	if frozen {
		state = "FROZEN"
	}
	return writeFile(g.path("freezer", "freezer.state"), state)
}

func (g *v1Group) oomKilled() bool {
	return keyed(g.path("memory", "memory.oom_control"), "oom_kill") > 0
}

func (g *v1Group) memory() (int64, int64) {
	return readInt(g.path("memory", "memory.usage_in_bytes")), readInt(g.path("memory", "memory.max_usage_in_bytes"))
}

func (g *v1Group) resetPeak() {
	_ = os.WriteFile(g.path("memory", "memory.max_usage_in_bytes"), []byte("0"), 0)
}

// kill is not available with v1: the environment is ended by killing the
// init of its PID namespace, which takes every process in it along.
func (g *v1Group) kill() bool { return false }

func (g *v1Group) remove() error {
	var errs []error
	for _, dir := range g.dirs {
		if err := rmdir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
