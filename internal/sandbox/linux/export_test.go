package linux

// Hooks for the tests of package linux_test.
var (
	V1Mounts    = v1Mounts
	SelfCgroups = selfCgroups
)
