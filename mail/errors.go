package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/models"
)

// Conditions callers may test with errors.Is on a *models.DeliveryError. The texts of the
// first three are Odoo's (Python smtplib's), kept verbatim because users and support know
// them.
var (
	ErrNoStartTLS      = errors.New("STARTTLS extension not supported by server.")
	ErrNoAuth          = errors.New("SMTP AUTH extension not supported by server.")
	ErrNoAuthMechanism = errors.New("No suitable authentication method found.")
	ErrNoSMTPUTF8      = errors.New("server lacks SMTPUTF8, needed for a non-ASCII address")
	// ErrAuthUnsupported is returned for Odoo 17's cli authentication, whose settings live
	// in Odoo's command line, and for unknown kinds.
	ErrAuthUnsupported = errors.New("authentication kind not supported")
	ErrNoXOAuth2       = errors.New("the server does not offer XOAUTH2, which gmail and " +
		"outlook authentication need (is the encryption TLS/STARTTLS?)")
)

// classify turns err into a *models.DeliveryError for the given stage. It copies the SMTP
// reply, marks refused connections and temporary failures, and adds ctx's error when the
// context ended the exchange.
func classify(ctx context.Context, label, stage string, err error) *models.DeliveryError {
	var de *models.DeliveryError
	if errors.As(err, &de) {
		return de
	}

	if cerr := contextErr(ctx); cerr != nil && !errors.Is(err, cerr) && isNetFailure(err) {
		err = fmt.Errorf("%w: %w", cerr, err)
	}
	de = &models.DeliveryError{Server: label, Stage: stage, Err: err}

	var se *smtp.SMTPError
	if errors.As(err, &se) {
		de.Code = se.Code
		de.Text = replyText(se)
		// A 2xx or 3xx read as a failure is a reply out of step: the connection is
		// dropped and the mail tried again.
		de.Temporary = se.Temporary() || se.Code < 400
	}
	de.Refused = errors.Is(err, syscall.ECONNREFUSED)
	if isNetFailure(err) && !de.Refused {
		de.Temporary = true
	}
	return de
}

// contextErr is ctx.Err(), or DeadlineExceeded once ctx's deadline has passed: the
// connection deadline is set to it and may fire a moment before ctx notices.
func contextErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// isNetFailure reports whether err is a timeout, a cancelled context or a connection that
// dropped, as opposed to a reply from the server.
func isNetFailure(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return true
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}

// replyText is the server's reply text with its enhanced status code, as servers send it
// and as Odoo shows it (e.g. "5.7.8 Username and Password not accepted").
func replyText(se *smtp.SMTPError) string {
	ec := se.EnhancedCode
	if ec == smtp.NoEnhancedCode || ec == smtp.EnhancedCodeNotSet {
		return se.Message
	}
	return fmt.Sprintf("%d.%d.%d %s", ec[0], ec[1], ec[2], se.Message)
}

// connectionBroken reports whether err leaves the SMTP connection unusable for the next
// mail: anything but an ordinary refusal, or a 421 (the server is closing the channel).
func connectionBroken(err error) bool {
	var se *smtp.SMTPError
	if !errors.As(err, &se) {
		return true
	}
	// A success or intermediate code where a refusal is read means the replies no longer
	// match the commands.
	return se.Code == 421 || se.Code < 400
}

// explainTLS adds what a handshake failure most likely means to err.
func explainTLS(host string, port int, err error) error {
	var (
		cve *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &cve):
		return fmt.Errorf("certificate of %s could not be verified (Odoo 18 and older accept "+
			"it without checking; mail.insecure_skip_verify or mail.insecure_servers does "+
			"the same): %w", host, err)
	case errors.As(err, &rhe):
		return fmt.Errorf("%s:%d did not answer in TLS; the port probably expects STARTTLS "+
			"or no encryption (587 and 25 use STARTTLS, 465 uses SSL/TLS): %w", host, port, err)
	}
	return fmt.Errorf("tls handshake with %s: %w", host, err)
}
