//go:build linux

package linux_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) {
	linux.Init()
	if err := joinCgroups(os.Getenv(joinVar)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	code := m.Run()
	if probeBuilt {
		os.RemoveAll(probeDir)
	}
	os.Exit(code)
}

// joinCgroups moves this process into each of the cgroup directories
// dirs lists (separated by ':'), as a user does with the cgroup
// delegated to it before starting a node (userns_test.go).
func joinCgroups(dirs string) error {
	if dirs == "" {
		return nil
	}
	for _, dir := range strings.Split(dirs, ":") {
		if err := os.WriteFile(dir+"/cgroup.procs", []byte(strconv.Itoa(os.Getpid())), 0); err != nil {
			return fmt.Errorf("join delegated cgroup: %w", err)
		}
	}
	return nil
}

// unavailable skips the test on a host where the linux sandbox cannot
// run (not Linux, no cgroups, not permitted); in a test binary
// re-executed as another user to prove that it runs (userns_test.go) it
// fails instead.
func unavailable(t *testing.T, err error) {
	t.Helper()
	if os.Getenv(notRootVar) != "" {
		t.Fatalf("linux sandbox unavailable as uid %d: %v", os.Geteuid(), err)
	}
	t.Skipf("linux sandbox unavailable: %v", err)
}

// newDriver returns a working driver, or skips the test where the linux
// sandbox cannot run.
func newDriver(t *testing.T) *linux.Driver {
	t.Helper()
	return usable(t)(linux.New(linux.Config{CgroupParent: os.Getenv(cgroupParentVar)}))
}

// newGoChildDriver is newDriver for a driver whose children run their
// plan in Go, as in builds without cgo.
func newGoChildDriver(t *testing.T) *linux.Driver {
	t.Helper()
	return usable(t)(linux.NewGoChild(linux.Config{CgroupParent: os.Getenv(cgroupParentVar)}))
}

// usable returns a function that takes what a constructor returned and
// gives back a driver that passed its probe (closed after the test), or
// skips the test (see unavailable).
func usable(t *testing.T) func(*linux.Driver, error) *linux.Driver {
	return func(d *linux.Driver, err error) *linux.Driver {
		t.Helper()
		if err != nil {
			unavailable(t, err)
		}
		t.Cleanup(func() { _ = d.Close() })
		if err := d.Probe(context.Background()); err != nil {
			unavailable(t, err)
		}
		if want := os.Getenv(cgroupVar); want != "" && d.CgroupVersion() != want {
			t.Fatalf("driver uses cgroup %s, want %s", d.CgroupVersion(), want)
		}
		return d
	}
}

// eachChild runs f with the driver, and with one whose children run
// their plan in Go: both paths must build the same sandbox.
func eachChild(t *testing.T, f func(*testing.T, *linux.Driver)) {
	t.Run("Default", func(t *testing.T) { f(t, newDriver(t)) })
	t.Run("GoChild", func(t *testing.T) { f(t, newGoChildDriver(t)) })
}

func newDriverB(b *testing.B) *linux.Driver {
	b.Helper()
	d, err := linux.New(linux.Config{})
	if err != nil {
		b.Skipf("linux sandbox unavailable: %v", err)
	}
	b.Cleanup(func() { _ = d.Close() })
	return d
}

func TestDriver_Conformance(t *testing.T) {
	eachChild(t, func(t *testing.T, d *linux.Driver) { sandboxtest.Run(t, d) })
}
