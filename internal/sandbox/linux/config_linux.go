package linux

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

func (c *Config) setDefaults() {
	if c.UID == 0 {
		c.UID = UIDDefault
	}
	if c.GID == 0 {
		c.GID = GIDDefault
	}
	if c.PidsMax == 0 {
		c.PidsMax = PidsMaxDefault
	}
	if c.Spares == 0 {
		c.Spares = SparesDefault
	}
	if c.HostDirs == nil {
		c.HostDirs = HostDirsDefault
	}
	if c.Etc == nil {
		c.Etc = EtcDefault
	}
	if c.StateDir == "" {
		// One per user: the system's temporary directory is shared.
		c.StateDir = filepath.Join(os.TempDir(), "updraft-sandbox-"+strconv.Itoa(os.Geteuid()))
	}
}

func runtimeArch() string { return runtime.GOARCH }

// Capabilities the child keeps across its own execve in a user namespace.
const (
	capSetGID    = 6
	capSetUID    = 7
	capSetPCap   = 8
	capSysChroot = 18
	capSysAdmin  = 21
	// For an isolated network: loopback up, forwards on low ports.
	capNetBindService = 10
	capNetAdmin       = 12
)

// userNamespacesAllowed reports whether this kernel lets an unprivileged
// process create a user namespace.
func userNamespacesAllowed() bool {
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return false
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return false
	}
	return true
}
