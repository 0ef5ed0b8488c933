// Package sandbox defines how Updraft starts execution environments: a
// Driver turns a Spec (code directory, command, environment) into a
// running, isolated process tree, an Env. Drivers live in subpackages
// (process, linux) and all pass the conformance suite in sandboxtest.
//
// Some drivers can do more than every driver must; they say so through
// optional interfaces (TaskRooter on a Driver, Freezer and InitEnder on
// an Env) that callers test for.
//
// Drivers and Envs are safe for concurrent use.
package sandbox

import (
	"context"
	"errors"
	"io"
)

// TaskRootDefault is where isolating drivers show the function code, as
// Lambda does.
const TaskRootDefault = "/var/task"

// MemoryPerVCPU is the memory, in MB, that comes with one vCPU, as on
// Lambda: "at 1,769 MB, a function has the equivalent of one vCPU".
const MemoryPerVCPU = 1769

// Spec describes one execution environment to start.
type Spec struct {
	// ID names the environment in logs and process titles.
	ID string
	// CodeDir is the function code, seen by the function as its task root
	// (/var/task in isolating drivers). Read-only to the function.
	CodeDir string
	// Args is the program and its arguments; Args[0] is resolved in
	// CodeDir when relative (for example "./bootstrap").
	Args []string
	// Env is the environment, "KEY=value" entries.
	Env []string
	// Stdout and Stderr receive the function's output. Either may be nil.
	Stdout, Stderr io.Writer
	// MemoryMB is the function's memory size; drivers that can enforce it
	// do, and those that limit CPU give it MemoryMB/MemoryPerVCPU of one.
	MemoryMB int
	// CPUs is how many CPUs the environment runs on (its scheduling
	// affinity), so that runtimes sizing themselves by the CPU count
	// (Go's GOMAXPROCS, thread pools) size themselves for the function's
	// share of the host; 0 is every CPU of the node. Drivers that can
	// choose the CPUs with internal/sandbox/affinity.
	CPUs int
	// TmpMB is the size of the writable /tmp; drivers that can enforce it do.
	TmpMB int
	// OptDir, when set, holds the function's layers merged in order; the
	// function sees it read-only at /opt in isolating drivers. Drivers
	// that cannot mount it point the runtime's search paths at it.
	OptDir string
	// ReadOnly lists host paths, files or directories, the program needs
	// besides its code: an interpreter's installation, a runtime client.
	// Isolating drivers show each read-only at the same path; the others
	// need do nothing.
	ReadOnly []string
	// Network, when not nil, cuts the environment off the network: it
	// gets a network namespace of its own with only loopback, where the
	// listed forwards are the only way out. Drivers that cannot do this
	// refuse the Spec with ErrNetworkIsolation.
	Network *Network
}

// Network is an environment's own network: loopback only, plus forwards
// to addresses of the node.
type Network struct {
	Forwards []Forward
}

// Forward makes a TCP address of the node reachable inside an isolated
// environment: connections to Listen there reach Dial on the node.
type Forward struct {
	// Listen is a loopback host:port inside the environment
	// ("127.0.0.1:9001").
	Listen string
	// Dial is the host:port on the node the connections are relayed to.
	Dial string
}

// ErrNetworkIsolation is returned (wrapped) by Driver.Start for a Spec
// with Network set when the driver cannot isolate the network.
var ErrNetworkIsolation = errors.New("network isolation is not supported by this sandbox driver")

// Driver starts environments.
type Driver interface {
	// Name is the driver's name ("process", "linux").
	Name() string
	// Start launches the environment. The returned Env is running; ctx
	// bounds only the start itself.
	Start(ctx context.Context, spec Spec) (Env, error)
}

// Env is a running execution environment.
type Env interface {
	// PID is the process id of the environment's main process (as seen by
	// the host).
	PID() int
	// Done is closed once the environment has exited and its output has
	// been fully delivered.
	Done() <-chan struct{}
	// Err is why the environment exited (nil for exit status 0); valid
	// after Done is closed.
	Err() error
	// Kill ends the environment and every process it started. It returns
	// once they are gone. Safe to call more than once.
	Kill() error
	// MaxMemoryBytes is the peak resident memory of the environment so
	// far, or 0 when unknown.
	MaxMemoryBytes() int64
	// MemoryBytes is the current resident memory, or 0 when unknown.
	MemoryBytes() int64
}

// OutOfMemoryError is Env.Err for an environment that ended because it
// used more memory than Spec.MemoryMB allowed. Its message is how the
// main process ended ("signal: killed"), as Lambda words it.
type OutOfMemoryError struct {
	// Err is how the main process ended.
	Err error
}

func (e *OutOfMemoryError) Error() string { return e.Err.Error() }
func (e *OutOfMemoryError) Unwrap() error { return e.Err }

// TaskRooter is implemented by drivers that show the function its code
// somewhere other than Spec.CodeDir.
type TaskRooter interface {
	// TaskRoot is where environments see the code directory.
	TaskRoot() string
}

// TaskRoot is where environments of d see their code: d's TaskRoot, or
// codeDir itself for drivers that do not move it.
func TaskRoot(d Driver, codeDir string) string {
	if r, ok := d.(TaskRooter); ok {
		return r.TaskRoot()
	}
	return codeDir
}

// Freezer is implemented by environments that can be suspended while
// idle, so that they use no CPU between invocations. A frozen
// environment must be thawed before it is given work; Kill works in
// either state. Freeze and Thaw are idempotent.
type Freezer interface {
	Freeze() error
	Thaw() error
}

// InitEnder is implemented by environments that run their INIT phase
// with more CPU than their invocations, as Lambda does. EndInit applies
// the invocation limits; call it once INIT has finished.
type InitEnder interface {
	EndInit() error
}
