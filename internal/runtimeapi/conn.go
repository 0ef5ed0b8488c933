package runtimeapi

import (
	"bufio"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits of a request, as net/http's server has them.
const (
	maxHeaderBytes = http.DefaultMaxHeaderBytes + 4096
	// maxDiscard is how much of a body the handler did not read is
	// skipped to keep the connection; with more left it is closed.
	maxDiscard = 256 << 10
	// goneWait bounds writing the 410 to a runtime when the server closes.
	goneWait = time.Second
	// minWriteWait is the least time an invocation's answer may take to
	// write, whatever its deadline.
	minWriteWait = time.Second
)

// conn is one runtime connection. Its goroutine reads and answers
// requests in turn; an invocation/next it cannot answer at once parks the
// connection on the server's waiting list, and whoever takes it from
// there (Submit, Close) writes that answer while the goroutine already
// reads the next request.
type conn struct {
	s  *Server
	nc net.Conn
	lr limitReader
	br *bufio.Reader

	// nextDone is set when invocation/next is parked and closed once it
	// has been answered; the runtime may not send another request first.
	nextDone chan struct{}
	// continued records that 100 Continue was sent for this request.
	continued bool
	hdr       []byte // answer being built
}

func newConn(s *Server, nc net.Conn) *conn {
	c := &conn{s: s, nc: nc}
	c.lr.r = nc
	c.br = bufio.NewReader(&c.lr)
	return c
}

// limitReader is io.LimitedReader with a limit reset per request: the
// header of a request is bounded, its body is not (handlers bound it).
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errHeaderTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

var errHeaderTooLarge = errors.New("request header too large")

func (c *conn) serve() {
	defer func() {
		c.s.drop(c)
		_ = c.nc.Close()
		c.s.serving.Done()
	}()
	for {
		c.lr.n = maxHeaderBytes
		req, err := http.ReadRequest(c.br)
		if c.nextDone != nil {
			select {
			case <-c.nextDone:
			default:
				if c.s.unpark(c) {
					// The runtime sent another request, or hung up,
					// before its invocation/next was answered.
					return
				}
				<-c.nextDone // being answered now
			}
			c.nextDone = nil
		}
		if err != nil {
			c.badRequest(err)
			return
		}
		c.lr.n = math.MaxInt64
		if !c.handle(req) {
			return
		}
	}
}

// badRequest answers a request that could not be read, as net/http's
// server does; a connection that ended or failed gets nothing.
func (c *conn) badRequest(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, errHeaderTooLarge):
		c.reply(http.StatusRequestHeaderFieldsTooLarge, []byte("431 Request Header Fields Too Large"), true)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.As(err, &ne):
	default:
		c.reply(http.StatusBadRequest, []byte("400 Bad Request"), true)
	}
}

// handle answers one request; false when the connection must close.
func (c *conn) handle(req *http.Request) bool {
	c.continued = false
	keep := !req.Close
	rest, ok := strings.CutPrefix(req.URL.Path, "/"+Version+"/runtime/")
	if !ok {
		c.reply(http.StatusNotFound, []byte("404 page not found"), !keep)
		return c.finish(req, keep)
	}
	switch {
	case rest == "invocation/next":
		if req.Method != http.MethodGet {
			return c.notAllowed(req, keep, http.MethodGet)
		}
		if !c.finish(req, keep) {
			if keep || req.Body != http.NoBody {
				return false
			}
			// Connection: close; it closes once answered.
			c.s.next(c)
			if c.nextDone != nil {
				<-c.nextDone
			}
			return false
		}
		c.s.next(c)
		return true
	case rest == "init/error":
		if req.Method != http.MethodPost {
			return c.notAllowed(req, keep, http.MethodPost)
		}
		c.s.initError(c, req, keep)
	case strings.HasPrefix(rest, "invocation/"):
		id, kind, ok := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		if !ok || id == "" || (kind != "response" && kind != "error") {
			c.reply(http.StatusNotFound, []byte("404 page not found"), !keep)
			break
		}
		if req.Method != http.MethodPost {
			return c.notAllowed(req, keep, http.MethodPost)
		}
		if kind == "response" {
			c.s.response(c, req, id, keep)
		} else {
			c.s.invocationError(c, req, id, keep)
		}
	default:
		c.reply(http.StatusNotFound, []byte("404 page not found"), !keep)
	}
	return c.finish(req, keep)
}

func (c *conn) notAllowed(req *http.Request, keep bool, allow string) bool {
	c.hdr = append(c.hdr[:0], "HTTP/1.1 405 Method Not Allowed\r\nAllow: "...)
	c.hdr = append(c.hdr, allow...)
	c.hdr = append(c.hdr, "\r\n"...)
	c.writeReply(c.hdr, []byte("Method Not Allowed"), "text/plain; charset=utf-8", !keep)
	return c.finish(req, keep)
}

// finish skips what the handler left of the body; false when the
// connection cannot be kept.
func (c *conn) finish(req *http.Request, keep bool) bool {
	if !keep {
		return false
	}
	if req.Body == nil || req.Body == http.NoBody {
		return true
	}
	if hasExpect(req) && !c.continued {
		// The client waits for 100 Continue before sending the body.
		return false
	}
	_, err := io.CopyN(io.Discard, req.Body, maxDiscard)
	return err == io.EOF
}

func hasExpect(req *http.Request) bool {
	return strings.EqualFold(req.Header.Get("Expect"), "100-continue")
}

// body returns a request's body for reading, having sent 100 Continue
// when the client asked for it.
func (c *conn) body(req *http.Request) io.Reader {
	if hasExpect(req) && !c.continued {
		c.continued = true
		_, _ = c.nc.Write([]byte("HTTP/1.1 100 Continue\r\n\r\n"))
	}
	return req.Body
}

// park readies c for an invocation/next answered later; the server's lock
// is held.
func (c *conn) park() { c.nextDone = make(chan struct{}) }

// answerNext writes inv as the answer to c's parked invocation/next.
func (c *conn) answerNext(inv *Invocation) error {
	err := c.writeNext(inv)
	close(c.nextDone)
	return err
}

// answerGone answers c's parked invocation/next with 410 Gone: the
// server is closing.
func (c *conn) answerGone() {
	_ = c.nc.SetWriteDeadline(time.Now().Add(goneWait))
	c.reply(http.StatusGone, []byte("shutting down"), true)
	if c.nextDone != nil {
		close(c.nextDone)
	}
}

// writeNext writes the answer to an invocation/next carrying inv. The
// write is bounded by the invocation's deadline (minWriteWait at least):
// a runtime that does not read it in that time has timed out anyway.
func (c *conn) writeNext(inv *Invocation) error {
	b := append(c.hdr[:0], "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"...)
	b = appendHeader(b, HeaderRequestID, inv.RequestID)
	b = appendHeader(b, HeaderDeadlineMS, strconv.FormatInt(inv.Deadline.UnixMilli(), 10))
	b = appendHeader(b, HeaderFunctionARN, inv.FunctionARN)
	if inv.TraceID != "" {
		b = appendHeader(b, HeaderTraceID, inv.TraceID)
	}
	if inv.ClientContext != "" {
		b = appendHeader(b, HeaderClientContext, inv.ClientContext)
	}
	if inv.CognitoIdentity != "" {
		b = appendHeader(b, HeaderCognitoIdentity, inv.CognitoIdentity)
	}
	if inv.TenantID != "" {
		b = appendHeader(b, HeaderTenantID, inv.TenantID)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(inv.Payload)), 10)
	b = append(b, "\r\n\r\n"...)
	c.hdr = b
	until := time.Now().Add(minWriteWait)
	if inv.Deadline.After(until) {
		until = inv.Deadline
	}
	_ = c.nc.SetWriteDeadline(until)
	var err error
	if len(inv.Payload) <= 4096 {
		b = append(b, inv.Payload...)
		c.hdr = b
		_, err = c.nc.Write(b)
	} else {
		bufs := net.Buffers{b, inv.Payload}
		_, err = bufs.WriteTo(c.nc)
	}
	if err != nil {
		// A partly written answer leaves the connection unusable.
		_ = c.nc.Close()
		return err
	}
	return c.nc.SetWriteDeadline(time.Time{})
}

// appendHeader appends "key: value\r\n"; line breaks in the value, which
// would end the header early, become spaces as net/http writes them.
func appendHeader(b []byte, key, value string) []byte {
	b = append(b, key...)
	b = append(b, ": "...)
	if strings.ContainsAny(value, "\r\n") {
		value = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(value)
	}
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// reply writes a status with a body: JSON for the API's own answers,
// plain text for protocol errors. closing adds Connection: close.
func (c *conn) reply(code int, body []byte, closing bool) {
	contentType := "text/plain; charset=utf-8"
	if len(body) > 0 && body[0] == '{' {
		contentType = "application/json"
	}
	c.hdr = append(c.hdr[:0], "HTTP/1.1 "...)
	c.hdr = strconv.AppendInt(c.hdr, int64(code), 10)
	c.hdr = append(c.hdr, ' ')
	c.hdr = append(c.hdr, http.StatusText(code)...)
	c.hdr = append(c.hdr, "\r\n"...)
	c.writeReply(c.hdr, body, contentType, closing)
}

// writeReply ends the status line and headers in b and writes them with
// body in one write.
func (c *conn) writeReply(b, body []byte, contentType string, closing bool) {
	b = appendHeader(b, "Content-Type", contentType)
	if closing {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, body...)
	c.hdr = b
	_, _ = c.nc.Write(b)
}
