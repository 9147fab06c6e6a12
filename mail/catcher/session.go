package catcher

import (
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// errAuthRequired is the reply to MAIL before AUTH (RFC 4954 §6).
var errAuthRequired = &smtp.SMTPError{
	Code:         530,
	EnhancedCode: smtp.EnhancedCode{5, 7, 0},
	Message:      "Authentication required",
}

// session is one SMTP session. go-smtp starts a new one after STARTTLS.
type session struct {
	c    *Catcher
	nc   net.Conn
	conn int
	tls  bool
	user string

	from string
	to   []string
	size int64
	utf8 bool
}

var _ smtp.AuthSession = (*session)(nil)

func (c *Catcher) newSession(conn *smtp.Conn) (smtp.Session, error) {
	_, isTLS := conn.TLSConnectionState()
	return &session{c: c, nc: conn.Conn(), conn: connSeq(conn.Conn()), tls: isTLS}, nil
}

// AuthMechanisms implements smtp.AuthSession.
func (s *session) AuthMechanisms() []string {
	if !s.c.authRequired() {
		return nil
	}
	return s.c.opt.Mechanisms
}

// Auth implements smtp.AuthSession.
func (s *session) Auth(mech string) (sasl.Server, error) {
	if !slices.Contains(s.AuthMechanisms(), mech) {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(identity, user, password string) error {
			if identity != "" && identity != user {
				return smtp.ErrAuthFailed
			}
			return s.check(user, password)
		}), nil
	case sasl.Login:
		return &loginServer{check: s.check}, nil
	case mechXOAuth2:
		return &xoauth2Server{check: s.checkToken}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) check(user, password string) error {
	want, ok := s.c.opt.Users[user]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		if s.c.opt.AuthError != nil {
			return s.c.opt.AuthError
		}
		return smtp.ErrAuthFailed
	}
	s.user = user
	return nil
}

func (s *session) checkToken(user, token string) error {
	want, ok := s.c.opt.Tokens[user]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(token)) != 1 {
		return smtp.ErrAuthFailed
	}
	s.user = user
	return nil
}

// Mail implements smtp.Session.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if s.c.authRequired() && s.user == "" {
		return errAuthRequired
	}
	if hook := s.c.opt.OnMail; hook != nil {
		if err := hook(from); err != nil {
			return err
		}
	}

	s.from, s.to = from, nil
	if opts != nil {
		s.size, s.utf8 = opts.Size, opts.UTF8
	}
	return nil
}

// Rcpt implements smtp.Session.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if hook := s.c.opt.OnRcpt; hook != nil {
		if err := hook(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

// Data implements smtp.Session.
func (s *session) Data(r io.Reader) error {
	if drop := s.c.opt.DropData; drop != nil && drop() {
		_, _ = io.ReadFull(r, make([]byte, 64))
		_ = s.nc.Close()
		return errors.New("connection dropped in DATA, as staged")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if hook := s.c.opt.OnData; hook != nil {
		if err := hook(data); err != nil {
			return err
		}
	}

	s.c.add(Message{
		From: s.from, To: s.to, Data: data, Received: time.Now(),
		TLS: s.tls, User: s.user, Conn: s.conn, Size: s.size, UTF8: s.utf8,
	})
	if drop := s.c.opt.DropAfterData; drop != nil && drop() {
		_ = s.nc.Close()
		return errors.New("connection dropped after the message was taken, as staged")
	}
	return nil
}

// Reset implements smtp.Session.
func (s *session) Reset() {
	s.from, s.to, s.size, s.utf8 = "", nil, 0, false
}

// Logout implements smtp.Session.
func (s *session) Logout() error { return nil }

// loginServer is the server side of the LOGIN mechanism, which go-sasl lacks. It accepts
// the user name as an initial response, as smtplib and go-sasl's client send it.
type loginServer struct {
	check func(user, password string) error
	user  string
	step  int
}

// Next implements sasl.Server.
func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		return l.Next(response)
	case 1:
		l.user = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.check(l.user, string(response))
	}
	return nil, true, errors.New("login: unexpected response")
}

// mechXOAuth2 is Google's and Microsoft's SASL mechanism for OAuth 2.0 bearer tokens.
const mechXOAuth2 = "XOAUTH2"

// xoauth2Server is the server side of XOAUTH2: the initial response is
// "user=U\x01auth=Bearer T\x01\x01". A bad token gets a 334 challenge with a JSON error, and
// the client's (empty) answer to it a 535, as Gmail replies.
type xoauth2Server struct {
	check  func(user, token string) error
	failed bool
}

// Next implements sasl.Server.
func (x *xoauth2Server) Next(response []byte) ([]byte, bool, error) {
	if x.failed {
		return nil, true, smtp.ErrAuthFailed
	}
	if response == nil {
		return []byte{}, false, nil
	}
	var user, token string
	for _, field := range strings.Split(string(response), "\x01") {
		switch {
		case strings.HasPrefix(field, "user="):
			user = field[len("user="):]
		case strings.HasPrefix(field, "auth=Bearer "):
			token = field[len("auth=Bearer "):]
		}
	}
	if x.check(user, token) == nil {
		return nil, true, nil
	}
	x.failed = true
	return []byte(`{"status":"401","schemes":"Bearer","scope":"https://mail.google.com/"}`),
		false, nil
}

// normalize makes addresses comparable for the inbox's recipient lookup.
func normalize(addr string) string {
	return strings.ToLower(strings.TrimSpace(addr))
}
