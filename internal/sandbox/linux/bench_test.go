//go:build linux

package linux_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/updraft/updraft/internal/sandbox"
)

// BenchmarkStart measures starting an environment up to the execve of
// its program, and until it has exited and been cleaned up.
func BenchmarkStart(b *testing.B) {
	d := newDriverB(b)
	code := b.TempDir()
	os.Chmod(code, 0o755)
	if err := os.WriteFile(filepath.Join(code, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		b.Fatal(err)
	}
	var startTotal time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		e, err := d.Start(context.Background(), sandbox.Spec{ID: "bench", CodeDir: code, Args: []string{"/bin/true"}})
		if err != nil {
			b.Fatal(err)
		}
		startTotal += time.Since(t0)
		<-e.Done()
	}
	b.ReportMetric(float64(startTotal.Microseconds())/float64(b.N), "µs-to-exec/op")
}

// BenchmarkFreezeThaw measures freezing and thawing an idle environment.
func BenchmarkFreezeThaw(b *testing.B) {
	d := newDriverB(b)
	code := b.TempDir()
	os.Chmod(code, 0o755)
	e, err := d.Start(context.Background(), sandbox.Spec{ID: "bench", CodeDir: code, Args: []string{"/bin/sleep", "600"}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Kill()
	f := e.(sandbox.Freezer)
	var thaw time.Duration
	for b.Loop() {
		if err := f.Freeze(); err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := f.Thaw(); err != nil {
			b.Fatal(err)
		}
		thaw += time.Since(t0)
	}
	b.ReportMetric(float64(thaw.Microseconds())/float64(b.N), "µs-thaw/op")
}

// BenchmarkStartParallel starts 200 environments at once, each running
// until all have started, as a burst does.
func BenchmarkStartParallel(b *testing.B) {
	d := newDriverB(b)
	code := b.TempDir()
	os.Chmod(code, 0o755)
	const n = 200
	for b.Loop() {
		envs := make(chan sandbox.Env, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				e, err := d.Start(context.Background(), sandbox.Spec{ID: "burst", CodeDir: code, Args: []string{"/bin/sleep", "60"}})
				if err != nil {
					errs <- err
					return
				}
				envs <- e
			}()
		}
		for range n {
			select {
			case err := <-errs:
				b.Fatal(err)
			case e := <-envs:
				defer e.Kill()
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/200-envs")
}
