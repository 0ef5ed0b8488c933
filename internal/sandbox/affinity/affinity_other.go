//go:build !linux

package affinity

// Pick returns nil, every CPU: only Linux restricts an environment's CPUs.
func Pick(n int) []int { return nil }

// Drop does nothing.
func Drop(cpus []int) {}

// Run calls start.
func Run(cpus []int, start func() error) error { return start() }
