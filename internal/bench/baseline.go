package bench

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// proc is one running baseline server.
type proc struct {
	cmd *exec.Cmd
	url string
}

// startBaseline starts the baseline server on a new loopback listener,
// which it inherits already listening: a request sent right away waits in
// the accept queue until the server answers it.
func startBaseline(path string) (*proc, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start baseline: %w", err)
	}
	f, err := ln.(*net.TCPListener).File()
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	if err != nil {
		return nil, fmt.Errorf("start baseline: %w", err)
	}
	defer f.Close()
	cmd := exec.Command(path)
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	cmd.ExtraFiles = []*os.File{f}
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start baseline: %w", err)
	}
	return &proc{cmd: cmd, url: url}, nil
}

// stop kills the server and waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

// coldBaseline times starting a baseline server until it has answered
// its first request, on a new connection as a client of a fresh server
// must.
func coldBaseline(ctx context.Context, path string, payload []byte) (time.Duration, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	var buf bytes.Buffer
	start := time.Now()
	p, err := startBaseline(path)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	if _, err := post(ctx, c, p.url, payload, &buf, nil); err != nil {
		return 0, fmt.Errorf("baseline: %w", err)
	}
	return time.Since(start), nil
}
