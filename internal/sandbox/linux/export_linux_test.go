package linux

// Hooks for the tests of package linux_test.
var (
	V1Mounts    = v1Mounts
	SelfCgroups = selfCgroups
)

// NewGoChild is New for a driver whose children run their plan in Go,
// as in builds without cgo, so that tests cover that path too.
func NewGoChild(cfg Config) (*Driver, error) { return newDriver(cfg, true) }
