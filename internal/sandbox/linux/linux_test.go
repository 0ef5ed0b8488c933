package linux_test

import (
	"context"
	"os"
	"testing"

	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/sandbox/sandboxtest"
)

func TestMain(m *testing.M) {
	linux.Init()
	os.Exit(m.Run())
}

// newDriver returns a working driver, or skips the test on a host where
// the linux sandbox cannot run (not Linux, no cgroups, not permitted).
func newDriver(t *testing.T) *linux.Driver {
	t.Helper()
	d, err := linux.New(linux.Config{})
	if err != nil {
		t.Skipf("linux sandbox unavailable: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := d.Probe(context.Background()); err != nil {
		t.Skipf("linux sandbox unavailable: %v", err)
	}
	return d
}

// newGoChildDriver is newDriver for a driver whose children run their
// plan in Go, as in builds without cgo.
func newGoChildDriver(t *testing.T) *linux.Driver {
	t.Helper()
	d, err := linux.NewGoChild(linux.Config{})
	if err != nil {
		t.Skipf("linux sandbox unavailable: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	return d
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
