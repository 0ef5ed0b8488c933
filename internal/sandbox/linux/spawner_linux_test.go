package linux

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/updraft/updraft/internal/sandbox"
)

// newSpawnerDriver returns a driver with a spawner, or skips.
func newSpawnerDriver(t *testing.T) *Driver {
	t.Helper()
	if !nativeChild {
		t.Skip("built without cgo: no spawner")
	}
	d, err := New(Config{Spares: -1})
	if err != nil {
		t.Skipf("linux sandbox unavailable: %v", err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if d.sp == nil {
		t.Fatal("a driver built with cgo has no spawner")
	}
	return d
}

// TestSpawner_ChildIsTheNodes: a child the spawner forks is the node's
// child, which the node reaps and whose exit status it reads.
func TestSpawner_ChildIsTheNodes(t *testing.T) {
	d := newSpawnerDriver(t)
	s, err := d.spawnStub()
	if err != nil {
		t.Fatal(err)
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(s.proc.Pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// pid (comm) state ppid …; comm has no spaces here.
	if f := strings.Fields(string(stat)); len(f) < 4 || f[3] != strconv.Itoa(os.Getpid()) {
		t.Errorf("child's stat %q: want parent %d", stat, os.Getpid())
	}
	if s.proc.Pid == d.sp.proc.Pid {
		t.Error("the spawner answered with its own pid")
	}
	s.discard()

	code := t.TempDir()
	os.Chmod(code, 0o755)
	if err := os.WriteFile(code+"/bootstrap", []byte("#!/bin/sh\nexit 7\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e, err := d.Start(context.Background(), sandbox.Spec{ID: "status", CodeDir: code, Args: []string{"./bootstrap"}, Env: []string{"PATH=/bin:/usr/bin"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Err(); err == nil || err.Error() != "exit status 7" {
		t.Errorf("got %v, want exit status 7", err)
	}
}

// TestSpawner_Gone: when the spawner dies, the driver re-executes its
// binary for each child instead.
func TestSpawner_Gone(t *testing.T) {
	d := newSpawnerDriver(t)
	if err := d.sp.proc.Kill(); err != nil {
		t.Fatal(err)
	}
	code := t.TempDir()
	os.Chmod(code, 0o755)
	if err := os.WriteFile(code+"/bootstrap", []byte("#!/bin/sh\necho up\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		var out strings.Builder
		e, err := d.Start(context.Background(), sandbox.Spec{ID: "gone", CodeDir: code, Args: []string{"./bootstrap"}, Env: []string{"PATH=/bin:/usr/bin"}, Stdout: &out})
		if err != nil {
			t.Fatalf("start %d after the spawner died: %v", i, err)
		}
		if err := e.Err(); err != nil || out.String() != "up\n" {
			t.Errorf("start %d: got %v and %q, want up", i, err, out.String())
		}
	}
	if _, err := d.sp.spawn(d.devNull, 0, -1, nil); !errors.Is(err, errSpawnerGone) {
		t.Errorf("spawn after the spawner died: got %v, want errSpawnerGone", err)
	}
}
