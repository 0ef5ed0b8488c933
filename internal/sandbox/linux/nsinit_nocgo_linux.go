//go:build !cgo

package linux

// nativeChild: without cgo, children run their plan in Go (Init).
const nativeChild = false

// childEnv is unused without cgo.
const childEnv = ""
