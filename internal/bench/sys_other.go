//go:build !linux

package bench

import "syscall"

func childAttr() *syscall.SysProcAttr { return nil }

// RaiseFileLimit is a no-op off Linux; it returns 0 (unknown).
func RaiseFileLimit(need uint64) (uint64, error) { return 0, nil }

func rssBytes(pid int) int64 { return 0 }
