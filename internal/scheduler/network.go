package scheduler

import (
	"net"
	"net/netip"
	"net/url"
	"strings"

	"github.com/updraft/updraft/internal/fault"
	"github.com/updraft/updraft/internal/function"
	"github.com/updraft/updraft/internal/sandbox"
)

// NetworkVar is the environment variable, reserved for Updraft, by which a
// function opts out of the network: with NetworkVar=NetworkNone its
// environments get a network namespace of their own with only loopback,
// where the Runtime API and AWS_ENDPOINT_URL are the only addresses that
// answer. Lambda has no field for this; see docs/compatibility.md.
const (
	NetworkVar  = "UPDRAFT_NETWORK"
	NetworkNone = "none"
)

// network is the sandbox network of an environment of c, or nil for the
// node's. runtimeAPI is the Runtime API's host:port; the returned
// endpoint is AWS_ENDPOINT_URL as the environment must see it.
func (s *Scheduler) network(c *function.Config, runtimeAPI string) (*sandbox.Network, string, error) {
	var mode string
	if c.Environment != nil {
		mode = c.Environment.Variables[NetworkVar]
	}
	switch mode {
	case "":
		return nil, s.cfg.Endpoint, nil
	case NetworkNone:
	default:
		return nil, "", fault.New(fault.InvalidParameter, "Environment variable %s=%q is not supported: the only value is %q (no network but the Runtime API and AWS_ENDPOINT_URL).", NetworkVar, mode, NetworkNone)
	}
	n := &sandbox.Network{Forwards: []sandbox.Forward{{Listen: runtimeAPI, Dial: runtimeAPI}}}
	endpoint := s.cfg.Endpoint
	if u, err := url.Parse(endpoint); err == nil && u.Host != "" {
		dial := u.Host
		if u.Port() == "" {
			port := "80"
			if u.Scheme == "https" {
				port = "443"
			}
			dial = net.JoinHostPort(u.Hostname(), port)
		}
		listen := dial
		// Inside, only loopback exists: an endpoint elsewhere on the node
		// is shown on 127.0.0.1 at its port.
		if ap, err := netip.ParseAddrPort(dial); err != nil || !ap.Addr().Unmap().IsLoopback() {
			_, port, _ := net.SplitHostPort(dial)
			listen = net.JoinHostPort("127.0.0.1", port)
			u.Host = listen
			endpoint = u.String()
		}
		if listen != runtimeAPI {
			n.Forwards = append(n.Forwards, sandbox.Forward{Listen: listen, Dial: dial})
		}
	}
	return n, endpoint, nil
}

// withEndpoint replaces AWS_ENDPOINT_URL in env.
func withEndpoint(env []string, endpoint string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") {
			env[i] = "AWS_ENDPOINT_URL=" + endpoint
		}
	}
	return env
}
