package server

import (
	"context"
	"fmt"
	"runtime"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/sandbox/process"
)

// chooseDriver returns the sandbox driver a node uses and why: the one
// asked for, or linux where it works (tried once, by starting a probe
// sandbox) and process otherwise. Asking for linux where it cannot run
// is an error. stateDir is the linux driver's working directory.
func chooseDriver(ctx context.Context, want, stateDir string) (sandbox.Driver, string, error) {
	if want == SandboxProcess {
		return process.New(), "chosen with --sandbox process", nil
	}
	if runtime.GOOS != "linux" {
		if want == SandboxLinux {
			return nil, "", fmt.Errorf("sandbox linux: not available on %s", runtime.GOOS)
		}
		return process.New(), "the linux sandbox needs Linux", nil
	}
	d, err := linux.New(linux.Config{StateDir: stateDir})
	if err == nil {
		if err = d.Probe(ctx); err != nil {
			_ = d.Close()
		}
	}
	if err != nil {
		if want == SandboxLinux {
			return nil, "", fmt.Errorf("sandbox linux: %w", err)
		}
		return process.New(), fmt.Sprintf("the linux sandbox is not usable here: %v", err), nil
	}
	why := "chosen with --sandbox linux"
	if want == "" {
		why = "default on Linux"
	}
	return d, fmt.Sprintf("%s: namespaces, seccomp and cgroup %s limits work", why, d.CgroupVersion()), nil
}
