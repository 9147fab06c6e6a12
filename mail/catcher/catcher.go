// Package catcher is an in-process SMTP server that keeps every message it receives in
// memory. Tests use it as the far end of mail.Sender; the demo mode serves its inbox over
// HTTP so that reset links can be followed without a real mailbox.
package catcher

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Defaults for Options.
const (
	DefaultDomain          = "localhost"
	DefaultMaxMessageBytes = 10 << 20
	// maxRecipients is generous for reset mails (one recipient each) and still bounds memory.
	maxRecipients = 100
	ioTimeout     = 30 * time.Second
)

// Options configures a Catcher.
type Options struct {
	Domain      string      // EHLO domain; "" means DefaultDomain
	TLS         *tls.Config // enables STARTTLS, or implicit TLS with ImplicitTLS
	ImplicitTLS bool
	// Users, when non-empty, makes AUTH required; the map is user name to password.
	Users map[string]string
	// Mechanisms are the AUTH mechanisms offered when Users is set, among "PLAIN" and
	// "LOGIN"; nil means both.
	Mechanisms      []string
	MaxMessageBytes int64 // 0 means DefaultMaxMessageBytes; < 0 no limit, a bare SIZE

	// Hooks to stage failures: a non-nil error refuses the command. Return an
	// *smtp.SMTPError to choose the reply; any other error becomes a 451 (554 for OnData).
	OnMail func(from string) error
	OnRcpt func(to string) error
	OnData func(msg []byte) error
	// OnConnect, when it returns a reply, greets the n-th connection (from 1) with it and
	// hangs up, as a server that is overloaded (421) or refuses the client (554) does.
	OnConnect func(n int) *smtp.SMTPError
	// GreetingDelay holds the greeting back this long: a server that stalls.
	GreetingDelay time.Duration
	// DropData, when it returns true, drops the connection in the middle of the message.
	DropData func() bool
	// DropAfterData, when it returns true, keeps the message it received whole and drops
	// the connection without a reply: a server that took the mail while its answer was
	// lost on the way back.
	DropAfterData func() bool
	// AuthError, when set, is the reply to a rejected login instead of 535 5.7.8 (Gmail's
	// 534 5.7.9 for an account that needs an App Password, say).
	AuthError *smtp.SMTPError
	// Tokens, when non-empty, offers XOAUTH2 (as Gmail and Outlook do): the map is user
	// name to the one access token accepted for it.
	Tokens map[string]string

	Logger *slog.Logger // go-smtp's internal errors, at debug level; nil means slog.Default()
}

// Message is one message as received.
type Message struct {
	From     string   // MAIL FROM
	To       []string // RCPT TO, in order
	Data     []byte   // the message as sent, CRLF line ends, dot-stuffing removed
	Received time.Time
	TLS      bool   // the transaction ran over TLS
	User     string // the authenticated user, "" without AUTH
	Conn     int    // connection sequence number, from 1
	Size     int64  // the SIZE given with MAIL FROM, 0 when absent
	UTF8     bool   // MAIL FROM carried SMTPUTF8
}

// Catcher is an SMTP server recording messages in memory. Its methods are safe for
// concurrent use.
type Catcher struct {
	opt    Options
	server *smtp.Server
	ln     net.Listener
	served chan struct{}

	mu      sync.Mutex
	msgs    []Message
	conns   int
	changed chan struct{} // closed and replaced whenever a message arrives
}

// New returns a Catcher configured by opt; Start makes it listen.
func New(opt Options) *Catcher {
	if opt.Domain == "" {
		opt.Domain = DefaultDomain
	}
	if opt.MaxMessageBytes == 0 {
		opt.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opt.Mechanisms == nil {
		opt.Mechanisms = []string{"PLAIN", "LOGIN"}
	}
	if len(opt.Tokens) > 0 && !slices.Contains(opt.Mechanisms, mechXOAuth2) {
		opt.Mechanisms = append(slices.Clone(opt.Mechanisms), mechXOAuth2)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Catcher{opt: opt, changed: make(chan struct{})}
}

// Start listens on addr ("127.0.0.1:0" picks a free port) and serves in the background.
func (c *Catcher) Start(addr string) error {
	if c.server != nil {
		return errors.New("catcher already started")
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("catcher listen: %w", err)
	}
	c.ln = ln

	var l net.Listener = &countingListener{Listener: ln, c: c}
	if c.opt.ImplicitTLS {
		if c.opt.TLS == nil {
			_ = ln.Close()
			return errors.New("catcher: ImplicitTLS needs a TLS config")
		}
		l = tls.NewListener(l, c.opt.TLS)
	}

	c.server = c.newServer()
	c.served = make(chan struct{})
	go func() {
		defer close(c.served)
		if err := c.server.Serve(l); err != nil {
			c.opt.Logger.Debug("smtp_catcher_stopped", "error", err)
		}
	}()
	return nil
}

func (c *Catcher) newServer() *smtp.Server {
	s := smtp.NewServer(smtp.BackendFunc(c.newSession))
	s.Domain = c.opt.Domain
	s.ReadTimeout = ioTimeout
	s.WriteTimeout = ioTimeout
	s.MaxMessageBytes = max(c.opt.MaxMessageBytes, 0)
	s.MaxRecipients = maxRecipients
	s.EnableSMTPUTF8 = true
	s.ErrorLog = slogAdapter{c.opt.Logger}
	if !c.opt.ImplicitTLS {
		s.TLSConfig = c.opt.TLS
	}
	// Clear-text AUTH only when the catcher cannot offer TLS at all, so that tests with TLS
	// see what real submission servers do: no AUTH before STARTTLS.
	s.AllowInsecureAuth = c.opt.TLS == nil
	return s
}

func (c *Catcher) authRequired() bool {
	return len(c.opt.Users) > 0 || len(c.opt.Tokens) > 0
}

// Addr returns the host:port the catcher is bound to, "" before Start.
func (c *Catcher) Addr() string {
	if c.ln == nil {
		return ""
	}
	return c.ln.Addr().String()
}

// Close stops the server and drops every open connection.
func (c *Catcher) Close() error {
	if c.server == nil {
		return nil
	}
	err := c.server.Close()
	// go-smtp only closes listeners Serve has registered; when Close comes first, Serve
	// would block in Accept for ever. Closing ours as well ends it either way.
	_ = c.ln.Close()
	<-c.served
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Messages returns a copy of the messages received so far, oldest first.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.copyLocked()
}

func (c *Catcher) copyLocked() []Message {
	out := make([]Message, len(c.msgs))
	for i, m := range c.msgs {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// Connections returns how many TCP connections the catcher has accepted.
func (c *Catcher) Connections() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conns
}

// Wait blocks until at least n messages have arrived and returns them, or returns ctx's
// error.
func (c *Catcher) Wait(ctx context.Context, n int) ([]Message, error) {
	for {
		c.mu.Lock()
		if len(c.msgs) >= n {
			out := c.copyLocked()
			c.mu.Unlock()
			return out, nil
		}
		changed := c.changed
		c.mu.Unlock()

		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("wait for %d messages: %w", n, ctx.Err())
		case <-changed:
		}
	}
}

// ByMessageID counts the messages received per Message-Id header; a message without one
// counts under "".
func (c *Catcher) ByMessageID() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.msgs))
	for _, m := range c.msgs {
		out[MessageID(m.Data)]++
	}
	return out
}

// MessageID returns the Message-Id header of a message as received, "" when it has none.
func MessageID(data []byte) string {
	head, _, _ := strings.Cut(string(data), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.EqualFold(name, "Message-Id") {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// Reset forgets the messages received so far and resets the connection count.
func (c *Catcher) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = nil
	c.conns = 0
}

func (c *Catcher) add(m Message) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgs = append(c.msgs, m)
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Catcher) nextConn() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conns++
	return c.conns
}

// countingListener numbers the connections it accepts.
type countingListener struct {
	net.Listener
	c *Catcher
}

// Accept implements net.Listener. Connections that OnConnect turns away are answered and
// closed here and never reach the SMTP server.
func (l *countingListener) Accept() (net.Conn, error) {
	for {
		nc, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		seq := l.c.nextConn()
		if hook := l.c.opt.OnConnect; hook != nil {
			if reply := hook(seq); reply != nil {
				go turnAway(nc, reply)
				continue
			}
		}
		return &seqConn{Conn: nc, seq: seq, delay: l.c.opt.GreetingDelay}, nil
	}
}

func turnAway(nc net.Conn, reply *smtp.SMTPError) {
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(ioTimeout))
	_, _ = fmt.Fprintf(nc, "%d %s\r\n", reply.Code, replyLine(reply))
}

func replyLine(e *smtp.SMTPError) string {
	ec := e.EnhancedCode
	if ec == smtp.NoEnhancedCode || ec == smtp.EnhancedCodeNotSet {
		return e.Message
	}
	return fmt.Sprintf("%d.%d.%d %s", ec[0], ec[1], ec[2], e.Message)
}

// seqConn is an accepted connection with its sequence number. Its first write, the
// greeting, waits for delay.
type seqConn struct {
	net.Conn
	seq   int
	delay time.Duration
	once  sync.Once
}

// Write implements net.Conn.
func (c *seqConn) Write(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.delay) })
	return c.Conn.Write(p)
}

// connSeq finds the sequence number under the TLS layer, if any.
func connSeq(nc net.Conn) int {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if sc, ok := nc.(*seqConn); ok {
		return sc.seq
	}
	return 0
}

// slogAdapter lets go-smtp's server report its internal errors through slog.
type slogAdapter struct{ log *slog.Logger }

// Printf implements smtp.Logger.
func (a slogAdapter) Printf(format string, v ...any) {
	a.log.Debug("smtp_catcher_error", "detail", fmt.Sprintf(format, v...))
}

// Println implements smtp.Logger.
func (a slogAdapter) Println(v ...any) {
	a.log.Debug("smtp_catcher_error", "detail", fmt.Sprint(v...))
}
