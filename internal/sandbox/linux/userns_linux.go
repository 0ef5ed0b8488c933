package linux

import (
	"fmt"
	"os"
	"syscall"
)

// When the node is not root, each environment gets a user namespace too.
// Its maps are the two an unprivileged process may write: Config.UID to
// the node's effective uid and Config.GID to its effective gid, with
// setgroups denied. The function therefore sees itself as 993:990 (and
// every other host id as the overflow id, 65534), while on the host it is
// the node's user: it keeps that user's supplementary groups, and any
// process of that user it could reach would be its peer. What keeps it
// from the node is the rest of the sandbox: its own mount, PID, IPC and
// UTS namespaces (so no host path but read-only ones, and no host process,
// is visible), no capabilities, no_new_privs and the seccomp filter. See
// docs/design.md.

// HostIdentity says who the driver's functions are on the host.
func (d *Driver) HostIdentity() Identity {
	if !d.userNS {
		return Identity{UID: d.cfg.UID, GID: d.cfg.GID}
	}
	id := Identity{UserNS: true, UID: os.Geteuid(), GID: os.Getegid()}
	groups, _ := os.Getgroups()
	for _, g := range groups {
		if g != id.GID {
			id.Groups = append(id.Groups, g)
		}
	}
	return id
}

// ownDirs makes the directories (the first holding the others) unless
// they exist, and refuses a first one that belongs to another user: it
// may be in a directory every user shares.
func ownDirs(dirs ...string) error {
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	fi, err := os.Stat(dirs[0])
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !fi.IsDir() || !ok {
		return fmt.Errorf("state dir %s: not a directory", dirs[0])
	}
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Errorf("state dir %s belongs to uid %d, not to this process's uid %d", dirs[0], st.Uid, euid)
	}
	return nil
}
