package models

import (
	"context"
	"fmt"
)

// MailServer is one outgoing mail server: an ir_mail_server row, or the odoo.conf fallback
// Odoo uses when the database has no usable row (ID 0).
type MailServer struct {
	ID             int64
	Name           string
	Sequence       int
	FromFilter     string
	Host           string
	Port           int
	Authentication string // login, certificate, cli, gmail or outlook
	User           string
	Password       string
	Encryption     string // none, starttls, ssl (Odoo 19 adds starttls_strict, ssl_strict)
	Certificate    []byte // PEM client certificate (smtp_ssl_certificate)
	PrivateKey     []byte // PEM private key (smtp_ssl_private_key)
	// AccessToken is the OAuth bearer token of gmail and outlook authentication, fresh
	// when the Store hands the server to a Mailer.
	AccessToken string
	Active      bool
	// WholeFilter reads FromFilter as one value, as Odoo 15 and 16 do; from 17 it is a
	// comma-separated list.
	WholeFilter bool
}

// Label names the server for logs and messages without exposing credentials.
func (s MailServer) Label() string {
	if s.ID == 0 {
		return fmt.Sprintf("odoo.conf %s:%d", s.Host, s.Port)
	}
	return fmt.Sprintf("ir_mail_server %d (%s)", s.ID, s.Name)
}

// ResetMail is everything needed to build and deliver one reset or invitation e-mail.
// Header values are final: the From rewriting and the envelope choice have been made.
type ResetMail struct {
	Kind        string // "reset" or "signup"
	Lang        string // language the mail is written in, e.g. id_ID or en_US
	Subject     string // translated subject
	From        string // header From, already formatted ("Name" <addr>)
	ReplyTo     string
	To          string // recipient address, normalised
	ReturnPath  string // header Return-Path; Odoo 18 writes it empty without a bounce address
	Envelope    string // SMTP MAIL FROM
	UserName    string // the recipient's display name
	Login       string
	CompanyName string
	Link        string // the reset or signup URL, carrying a live token
	ValidHours  string // link lifetime as stored in ir_config_parameter
	// MessageID, when set, is the Message-Id header. The outbox fixes it when it queues a
	// mail, so that a mail sent again after a crash is recognisably the same message.
	MessageID string
}

// Mailer delivers reset mails over one connection to server for the whole batch. It
// reports each mail's outcome as soon as the server has answered for it, so that the outbox
// records a delivered mail before the next one goes out. Before it ends a message's data,
// the step after which the server may hold the mail, it calls hooks.Committing, so that
// the outbox knows which mails a crash leaves in doubt. The error is a failure that stopped
// the batch before any mail (connection, TLS, authentication). Errors should be, or wrap,
// a *DeliveryError.
type Mailer interface {
	SendEach(ctx context.Context, server MailServer, mails []ResetMail, hooks SendHooks) error
}

// SendHooks are the calls a Mailer makes while it sends a batch.
type SendHooks struct {
	// Committing, when set, is called for mail i once its whole content has been written,
	// just before the end of data. An error abandons mail i unsent: the connection is
	// closed without ending the data, which makes the server discard it, and Report gets
	// the error.
	Committing func(i int) error
	// Report is called once per mail, in order, as soon as the server has answered for it.
	// When it returns false, SendEach stops there and leaves the remaining mails untried
	// and unreported.
	Report func(i int, err error) bool
}

// Delivery stages reported by DeliveryError.
const (
	StageConnect = "connect" // TCP connection or greeting
	StageTLS     = "tls"     // STARTTLS or implicit TLS handshake
	StageAuth    = "auth"    // SMTP AUTH
	StageSender  = "mail"    // MAIL FROM
	StageRcpt    = "rcpt"    // RCPT TO
	StageData    = "data"    // DATA and the message itself
)

// DeliveryError describes why a mail server did not take a message.
type DeliveryError struct {
	Server    string // MailServer.Label()
	Stage     string // one of the Stage constants
	Code      int    // SMTP reply code, 0 when the server never answered
	Text      string // the server's reply text, if any
	Refused   bool   // the TCP connection was refused
	Temporary bool   // a 4xx reply, a timeout or a dropped connection
	// Unconfirmed reports that the whole message, end of data included, went out and no
	// reply came back: the server may have taken the mail, and sending it again may
	// deliver it twice.
	Unconfirmed bool
	Err         error
}

// Error describes the failure for operators; it never holds a password.
func (e *DeliveryError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("mail server %s: %s: %d %s", e.Server, e.Stage, e.Code, e.Text)
	}
	return fmt.Sprintf("mail server %s: %s: %v", e.Server, e.Stage, e.Err)
}

// Unwrap returns the underlying network, TLS or SMTP error.
func (e *DeliveryError) Unwrap() error { return e.Err }
