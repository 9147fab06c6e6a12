package mail

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
)

// deadlineConn bounds every read and write by the per-command timeout and by a context.
//
// go-smtp predates context: it sets a deadline before each command and clears it afterwards,
// which would leave the DATA transfer and the gaps between commands without any limit. Here a
// cleared deadline means "timeout from now", no deadline may pass the context's, and once the
// context ends every deadline lies in the past, so blocked reads and writes return at once.
type deadlineConn struct {
	net.Conn
	timeout time.Duration
	ctxEnd  time.Time // the context's deadline; zero when it has none

	mu      sync.Mutex
	expired bool

	// failedWrites counts writes that returned an error. Once a message's end of data has
	// been written without one, the server may hold the mail even if no reply comes.
	failedWrites atomic.Int64
}

// newDeadlineConn wraps c for ctx. The returned stop function detaches it from ctx.
func newDeadlineConn(ctx context.Context, c net.Conn, timeout time.Duration) (
	*deadlineConn, func() bool) {

	dc := &deadlineConn{Conn: c, timeout: timeout}
	if d, ok := ctx.Deadline(); ok {
		dc.ctxEnd = d
	}
	_ = dc.SetDeadline(time.Time{})
	return dc, context.AfterFunc(ctx, dc.expire)
}

// bind attaches the connection to a new context, as when an idle connection is taken up
// by the next batch. The returned stop function detaches it again.
func (c *deadlineConn) bind(ctx context.Context) func() bool {
	c.mu.Lock()
	c.expired, c.ctxEnd = false, time.Time{}
	if d, ok := ctx.Deadline(); ok {
		c.ctxEnd = d
	}
	c.mu.Unlock()
	_ = c.SetDeadline(time.Time{})
	return context.AfterFunc(ctx, c.expire)
}

func (c *deadlineConn) expire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.expired = true
	_ = c.Conn.SetDeadline(time.Unix(1, 0))
}

// clamp returns the deadline to use instead of t. The caller holds c.mu.
func (c *deadlineConn) clamp(t time.Time) time.Time {
	if c.expired {
		return time.Unix(1, 0)
	}
	if t.IsZero() {
		t = time.Now().Add(c.timeout)
	}
	if !c.ctxEnd.IsZero() && c.ctxEnd.Before(t) {
		t = c.ctxEnd
	}
	return t
}

// Write implements net.Conn.
func (c *deadlineConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil {
		c.failedWrites.Add(1)
	}
	return n, err
}

// SetDeadline implements net.Conn.
func (c *deadlineConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetDeadline(c.clamp(t))
}

// SetReadDeadline implements net.Conn.
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetReadDeadline(c.clamp(t))
}

// SetWriteDeadline implements net.Conn.
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// greetedConn replays a greeting line before the connection's own data. After STARTTLS the
// server sends no new greeting, but go-smtp's client always waits for one.
type greetedConn struct {
	net.Conn
	pending []byte
}

// Read implements net.Conn.
func (c *greetedConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// tlsStage marks errors of the STARTTLS exchange that belong to StageTLS rather than to
// StageConnect.
type tlsStage struct{ err error }

func (e tlsStage) Error() string { return e.err.Error() }
func (e tlsStage) Unwrap() error { return e.err }

// startTLS runs the clear-text part of a STARTTLS session: greeting, EHLO with our own name,
// STARTTLS, then the handshake. go-smtp's NewClientStartTLS would send "EHLO localhost"
// before the upgrade, and its "not supported" error is not a value we could test for.
func startTLS(ctx context.Context, conn net.Conn, helo string, cfg *tls.Config) (
	*tls.Conn, error) {

	tp := textproto.NewConn(conn)
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, protoErr(err)
	}

	ext, err := ehlo(tp, helo)
	if err != nil {
		return nil, err
	}
	if !ext["STARTTLS"] {
		return nil, tlsStage{ErrNoStartTLS}
	}

	if err := tp.PrintfLine("STARTTLS"); err != nil {
		return nil, err
	}
	if _, _, err := tp.ReadResponse(220); err != nil {
		return nil, tlsStage{protoErr(err)}
	}

	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, tlsStage{err}
	}
	return tc, nil
}

// ehlo sends EHLO and returns the extension keywords the server lists.
func ehlo(tp *textproto.Conn, helo string) (map[string]bool, error) {
	if err := tp.PrintfLine("EHLO %s", helo); err != nil {
		return nil, err
	}
	_, msg, err := tp.ReadResponse(250)
	if err != nil {
		return nil, protoErr(err)
	}

	ext := make(map[string]bool)
	lines := strings.Split(msg, "\n")
	for _, line := range lines[1:] {
		keyword, _, _ := strings.Cut(line, " ")
		ext[strings.ToUpper(keyword)] = true
	}
	return ext, nil
}

// protoErr turns a textproto reply error into the *smtp.SMTPError go-smtp would return.
func protoErr(err error) error {
	if te, ok := err.(*textproto.Error); ok {
		return &smtp.SMTPError{Code: te.Code, EnhancedCode: smtp.NoEnhancedCode, Message: te.Msg}
	}
	return err
}

// dial opens the TCP connection within timeout and ctx.
func dial(ctx context.Context, host string, port int, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	addr := net.JoinHostPort(host, fmt.Sprint(port))
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	return c, nil
}
