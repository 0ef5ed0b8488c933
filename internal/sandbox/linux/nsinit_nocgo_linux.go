//go:build !cgo

package linux

// nativeChild: without cgo, children run their plan in Go (Init).
const nativeChild = false

// Unused without cgo: there is no spawner.
const (
	childEnv   = ""
	spawnerEnv = ""
	spawnMagic = 0
)
