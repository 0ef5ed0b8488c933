package linux

// NewGoChild is New for a driver whose children run their plan in Go,
// as in builds without cgo, so that tests cover that path too.
func NewGoChild(cfg Config) (*Driver, error) { return newDriver(cfg, true) }
