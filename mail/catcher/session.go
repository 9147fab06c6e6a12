package catcher

import (
	"crypto/subtle"
	"errors"
	"io"
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
	return &session{c: c, conn: connSeq(conn.Conn()), tls: isTLS}, nil
}

// AuthMechanisms implements smtp.AuthSession.
func (s *session) AuthMechanisms() []string {
	if len(s.c.opt.Users) == 0 {
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
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) check(user, password string) error {
	want, ok := s.c.opt.Users[user]
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(password)) != 1 {
		return smtp.ErrAuthFailed
	}
	s.user = user
	return nil
}

// Mail implements smtp.Session.
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if len(s.c.opt.Users) > 0 && s.user == "" {
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

// normalize makes addresses comparable for the inbox's recipient lookup.
func normalize(addr string) string {
	return strings.ToLower(strings.TrimSpace(addr))
}
