package scheduler

import (
	"bytes"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// logPipe reads an environment's output pipe (stdout and stderr together)
// and hands each line to emit. A background goroutine reads whatever
// arrives; Sync reads what is left in the pipe right now, so that every
// line a function printed before it answered is handled before the
// invocation's END line. Both read under one lock, in order.
type logPipe struct {
	f    *os.File
	rc   syscall.RawConn
	emit func(line string)
	done chan struct{}

	mu      sync.Mutex
	buf     []byte
	partial []byte
	eof     bool
}

func newLogPipe(r *os.File, emit func(string)) (*logPipe, error) {
	rc, err := r.SyscallConn()
	if err != nil {
		return nil, err
	}
	return &logPipe{f: r, rc: rc, emit: emit, done: make(chan struct{}), buf: make([]byte, 16<<10)}, nil
}

// run reads until the last writer closes the pipe or Close is called.
func (p *logPipe) run() {
	defer close(p.done)
	_ = p.rc.Read(func(fd uintptr) bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.drain(int(fd))
	})
	p.mu.Lock()
	p.flush()
	p.mu.Unlock()
}

// drain reads until the pipe is empty and reports whether it has ended.
// p.mu must be held.
func (p *logPipe) drain(fd int) (eof bool) {
	for !p.eof {
		n, err := syscall.Read(fd, p.buf)
		switch {
		case n > 0:
			p.partial = append(p.partial, p.buf[:n]...)
			p.lines()
			if n < len(p.buf) {
				return false // the pipe held less than a buffer: it is empty now
			}
		case err == nil: // n == 0: every writer has closed the pipe
			p.eof = true
			p.flush()
		case errors.Is(err, syscall.EINTR):
		default: // EAGAIN: empty for now
			return false
		}
	}
	return true
}

// lines emits every complete line held.
func (p *logPipe) lines() {
	start := 0
	for {
		i := bytes.IndexByte(p.partial[start:], '\n')
		if i < 0 {
			break
		}
		p.emit(string(p.partial[start : start+i]))
		start += i + 1
	}
	if start > 0 {
		p.partial = append(p.partial[:0], p.partial[start:]...)
	}
}

// flush emits an unfinished last line.
func (p *logPipe) flush() {
	if len(p.partial) > 0 {
		p.emit(string(p.partial))
		p.partial = p.partial[:0]
	}
}

// Sync handles everything written to the pipe before it was called.
func (p *logPipe) Sync() {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.rc.Control(func(fd uintptr) { p.drain(int(fd)) })
}

// Wait waits for the pipe's end (after the process is gone), at most timeout.
func (p *logPipe) Wait(timeout time.Duration) {
	select {
	case <-p.done:
	case <-time.After(timeout):
	}
}

// Close stops reading.
func (p *logPipe) Close() error { return p.f.Close() }
