package server

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"github.com/updraft/updraft/internal/sandbox"
	"github.com/updraft/updraft/internal/sandbox/linux"
	"github.com/updraft/updraft/internal/sandbox/process"
)

// chooseDriver returns the sandbox driver a node uses and why: the one
// asked for, or linux where it works (tried once, by starting a probe
// sandbox) and process otherwise. Asking for linux where it cannot run
// is an error. cfg configures the linux driver.
func chooseDriver(ctx context.Context, want string, cfg linux.Config) (sandbox.Driver, string, error) {
	if want == SandboxProcess {
		return process.New(), "chosen with --sandbox process", nil
	}
	if runtime.GOOS != "linux" {
		if want == SandboxLinux {
			return nil, "", fmt.Errorf("sandbox linux: not available on %s", runtime.GOOS)
		}
		return process.New(), "the linux sandbox needs Linux", nil
	}
	d, err := linux.New(cfg)
	if err == nil {
		if err = d.Probe(ctx); err != nil {
			_ = d.Close()
		}
	}
	if err != nil {
		if errors.Is(err, linux.ErrNotDelegated) {
			err = fmt.Errorf("%w; delegate one and start the node in it, or name it with --cgroup-parent (docs/design.md)", err)
		}
		if want == SandboxLinux {
			return nil, "", fmt.Errorf("sandbox linux: %w", err)
		}
		return process.New(), fmt.Sprintf("the linux sandbox is not usable here: %v", err), nil
	}
	why := "chosen with --sandbox linux"
	if want == "" {
		why = "default on Linux"
	}
	return d, fmt.Sprintf("%s: namespaces, seccomp and cgroup %s limits work; %s", why, d.CgroupVersion(), identity(d.HostIdentity())), nil
}

// identity says who functions are on the host, and what comes of a node
// that is not root.
func identity(id linux.Identity) string {
	if !id.UserNS {
		return fmt.Sprintf("functions run as uid %d gid %d", id.UID, id.GID)
	}
	s := fmt.Sprintf("not root, so functions run in a user namespace as this node's uid %d gid %d", id.UID, id.GID)
	if len(id.Groups) > 0 {
		s += fmt.Sprintf(" and keep its supplementary groups %v, which only root could drop: run the node as a user without them", id.Groups)
	}
	return s
}
