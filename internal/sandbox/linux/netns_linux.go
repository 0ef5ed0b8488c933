package linux

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An environment with an isolated network (sandbox.Spec.Network) runs in
// a network namespace of its own, made by the child (the steps of
// planner.isolateNetwork) with unshare(CLONE_NEWNET) on the thread that
// later executes the function, so spare children (which serve either
// kind) pay nothing for it. In the
// new namespace the child brings loopback up, listens on each forward's
// loopback address there, and hands the listening sockets to the node
// over the control socket. The node accepts on them (a socket stays in
// the namespace it was made in, whoever holds it) and relays each
// connection to the forward's address on its own side. Nothing runs in
// the environment for this, and no route leads anywhere else.

// listenersMark is the payload of the child's message that carries the
// listening sockets; a failure starts with failedMark instead.
const listenersMark = "\x00listeners"

// loopbackUp sets the IFF_UP flag of "lo" in the current network
// namespace, which gives it 127.0.0.1 (and ::1 where IPv6 is enabled).
func loopbackUp() error {
	s, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(s)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(s, unix.SIOCGIFFLAGS, ifr); err != nil {
		return err
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP | unix.IFF_RUNNING)
	return unix.IoctlIfreq(s, unix.SIOCSIFFLAGS, ifr)
}

// listenRaw returns a listening TCP socket bound to sa, a struct
// sockaddr_in or sockaddr_in6 (sockaddr). Raw system calls, so that it is
// made on this thread, in its network namespace.
func listenRaw(sa []byte) (int, error) {
	if len(sa) < 2 {
		return -1, unix.EPROTO
	}
	family := int(*(*uint16)(unsafe.Pointer(&sa[0])))
	if family != unix.AF_INET && family != unix.AF_INET6 {
		return -1, unix.EPROTO
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if _, _, e := unix.RawSyscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(&sa[0])), uintptr(len(sa))); e != 0 {
		unix.Close(fd)
		return -1, e
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// sendListeners sends the listening sockets fds, in order, to the parent,
// and closes them.
func sendListeners(fds []int) error {
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	var rights []byte
	if len(fds) > 0 {
		rights = unix.UnixRights(fds...)
	}
	return unix.Sendmsg(fdControl, []byte(listenersMark), rights, nil, 0)
}

// loopbackAddr parses a forward's Listen address, which must be a
// loopback IP literal and a port.
func loopbackAddr(addr string) (netip.AddrPort, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return ap, err
	}
	if !ap.Addr().Unmap().IsLoopback() {
		return ap, fmt.Errorf("%s is not a loopback address", addr)
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), nil
}

// relay accepts connections on listeners inside an environment's network
// namespace and joins each to a new connection to its address on the
// node. It runs until close.
type relay struct {
	wg     sync.WaitGroup
	mu     sync.Mutex
	lns    []net.Listener
	conns  map[net.Conn]struct{}
	closed bool
}

// newRelay takes ownership of the listening sockets fds and serves
// fds[i] by dialling dials[i].
func newRelay(fds []int, dials []string) (*relay, error) {
	r := &relay{conns: map[net.Conn]struct{}{}}
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "forward")
		ln, err := net.FileListener(f)
		f.Close()
		if err != nil {
			for _, fd := range fds[i+1:] {
				unix.Close(fd)
			}
			r.close()
			return nil, fmt.Errorf("forward %s: %w", dials[i], err)
		}
		r.lns = append(r.lns, ln)
	}
	for i, ln := range r.lns {
		r.wg.Add(1)
		go r.serve(ln, dials[i])
	}
	return r, nil
}

func (r *relay) serve(ln net.Listener, dial string) {
	defer r.wg.Done()
	for {
		in, err := ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return // closed
		}
		if !r.track(in) {
			return
		}
		r.wg.Add(1)
		go r.join(in, dial)
	}
}

// join relays in to a new connection to dial until both directions end.
func (r *relay) join(in net.Conn, dial string) {
	defer r.wg.Done()
	defer r.untrack(in)
	out, err := net.Dial("tcp", dial)
	if err != nil {
		return
	}
	if !r.track(out) {
		return
	}
	defer r.untrack(out)
	done := make(chan struct{})
	go func() {
		pipe(out, in)
		close(done)
	}()
	pipe(in, out)
	<-done
}

// pipe copies src to dst, then passes the end of src on to dst.
func pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	if c, ok := dst.(*net.TCPConn); ok {
		_ = c.CloseWrite()
	} else {
		_ = dst.Close()
	}
}

func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

// close stops accepting, cuts every relayed connection and waits for the
// goroutines. The network namespace goes away with its last socket.
func (r *relay) close() {
	r.mu.Lock()
	r.closed = true
	for _, ln := range r.lns {
		ln.Close()
	}
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}
