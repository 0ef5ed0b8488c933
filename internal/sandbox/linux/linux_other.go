//go:build !linux

package linux

import (
	"context"
	"errors"
	"runtime"

	"github.com/updraft/updraft/internal/sandbox"
)

// Init does nothing off Linux.
func Init() {}

// Driver is unavailable off Linux.
type Driver struct{}

// New fails off Linux.
func New(Config) (*Driver, error) {
	return nil, errors.New("linux sandbox: not available on " + runtime.GOOS)
}

func (*Driver) Name() string                { return "linux" }
func (*Driver) TaskRoot() string            { return taskRoot }
func (*Driver) CgroupVersion() string       { return "" }
func (*Driver) HostIdentity() Identity      { return Identity{} }
func (*Driver) Probe(context.Context) error { return errors.New("linux sandbox: not available") }
func (*Driver) Close() error                { return nil }
func (*Driver) Start(context.Context, sandbox.Spec) (sandbox.Env, error) {
	return nil, errors.New("linux sandbox: not available on " + runtime.GOOS)
}
