package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/models"
)

// TestRecipient is the address Odoo's Test Connection button offers in RCPT TO.
const TestRecipient = "noreply@odoo.com"

// Odoo's Test Connection outcomes (mail.md §3.7), kept verbatim: operators and support
// compare them.
const (
	TestOK            = "Connection Test Successful!"
	testSenderText    = "The server refused the sender address (%s) with error %s"
	testRecipientText = "The server refused the test recipient (%s) with error %s"
	testDataText      = "The server refused the test connection with error %s"
	testNoAnswer      = "No response received. Check server address and port number.\n %s"
	testClosed        = "The server has closed the connection unexpectedly. Check configuration " +
		"served on this port number.\n %s"
	testReplied     = "Server replied with following exception:\n %s"
	testUnsupported = "An option is not supported by the server:\n %s"
	testSSL         = "An SSL exception occurred. Check connection security type.\n %s"
	testFailed      = "Connection Test Failed! Here is what we got instead:\n %s"
)

// Odoo 18's texts for its button that reads the server's ESMTP SIZE into max_email_size
// (mail.md §3.7), kept verbatim. The details are "<server name>: <HumanSize>".
const (
	SizeMissingText = `The server "%s" doesn't return the maximum email size.`
	SizeUpdatedText = "Email maximum size updated (%s)."
)

// TestResult is the outcome of Test.
type TestResult struct {
	OK      bool
	Message string                // Odoo's outcome text
	Err     *models.DeliveryError // the failure, nil when OK
	// Greeted: the connection got as far as EHLO and login, so SizeOK and MaxSize are
	// known even when a later step failed.
	Greeted bool
	// SizeOK: the server announced a maximum message size (ESMTP SIZE with a number), of
	// MaxSize bytes; 0 means it sets no fixed limit (RFC 1870).
	SizeOK  bool
	MaxSize int64
}

// Test does what Odoo's Test Connection button does: connect, secure and log in as srv
// says, then MAIL FROM:<from>, RCPT TO:<noreply@odoo.com> and DATA; on the 354 it hangs up
// without QUIT, so nothing is sent.
func (s *Sender) Test(ctx context.Context, srv models.MailServer, from string) TestResult {
	if err := checkAuthentication(srv); err != nil {
		return testOutcome(err, from)
	}
	sess, err := s.open(ctx, srv)
	if err != nil {
		return testOutcome(err, from)
	}
	defer func() {
		sess.stop()
		_ = sess.conn.Close() // no QUIT: the server must not take the unfinished message
	}()

	r := testTransaction(ctx, sess, from)
	r.Greeted = true
	r.SizeOK, r.MaxSize = announcedSize(sess.client)
	return r
}

// testTransaction runs MAIL FROM, RCPT TO and DATA up to the server's 354.
func testTransaction(ctx context.Context, sess *session, from string) TestResult {
	if err := sess.client.Mail(from, nil); err != nil {
		return testOutcome(classify(ctx, sess.label, models.StageSender, err), from)
	}
	if err := sess.client.Rcpt(TestRecipient, nil); err != nil {
		return testOutcome(classify(ctx, sess.label, models.StageRcpt, err), from)
	}
	if _, err := sess.client.Data(); err != nil {
		return testOutcome(classify(ctx, sess.label, models.StageData, err), from)
	}
	return TestResult{OK: true, Message: TestOK}
}

// announcedSize reads the ESMTP SIZE of the last EHLO reply (after STARTTLS, the second
// one). Like Odoo, a SIZE without a value counts as none; so does one that is not a number.
func announcedSize(c *smtp.Client) (bool, int64) {
	ok, param := c.Extension("SIZE")
	if !ok {
		return false, 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(param), 10, 64)
	if err != nil || n < 0 {
		return false, 0
	}
	return true, n
}

// HumanSize writes a byte count as Odoo's human_size does in its messages: two decimals
// and a binary unit ("10.00 Mb"), and Python's False for zero.
func HumanSize(bytes float64) string {
	if bytes == 0 {
		return "False"
	}
	units := []string{"bytes", "Kb", "Mb", "Gb", "Tb"}
	i := 0
	for bytes >= 1024 && i < len(units)-1 {
		bytes /= 1024
		i++
	}
	return strconv.FormatFloat(bytes, 'f', 2, 64) + " " + units[i]
}

// testOutcome picks Odoo's text for a failure, as its exception handlers do.
func testOutcome(err error, from string) TestResult {
	var de *models.DeliveryError
	if !errors.As(err, &de) {
		de = &models.DeliveryError{Stage: models.StageConnect, Err: err}
	}
	r := TestResult{Err: de}
	repl := de.Error()
	if de.Code != 0 {
		repl = smtpRepr(de)
	}

	var (
		se  *smtp.SMTPError
		ne  net.Error
		dns *net.DNSError
	)
	switch {
	case de.Stage == models.StageSender && de.Code != 0:
		r.Message = fmt.Sprintf(testSenderText, from, repl)
	case de.Stage == models.StageRcpt && de.Code != 0:
		r.Message = fmt.Sprintf(testRecipientText, TestRecipient, repl)
	case de.Stage == models.StageData && de.Code != 0:
		r.Message = fmt.Sprintf(testDataText, repl)
	case errors.Is(err, ErrNoStartTLS), errors.Is(err, ErrNoAuth),
		errors.Is(err, ErrNoAuthMechanism), errors.Is(err, ErrNoXOAuth2):
		r.Message = fmt.Sprintf(testUnsupported, innerText(de))
	case errors.As(err, &se):
		r.Message = fmt.Sprintf(testReplied, repl)
	case isTLSFailure(err):
		r.Message = fmt.Sprintf(testSSL, innerText(de))
	case errors.As(err, &dns), errors.As(err, &ne) && ne.Timeout():
		r.Message = fmt.Sprintf(testNoAnswer, innerText(de))
	case de.Temporary && !de.Refused:
		r.Message = fmt.Sprintf(testClosed, innerText(de))
	default:
		r.Message = fmt.Sprintf(testFailed, innerText(de))
	}
	return r
}

// smtpRepr writes a reply the way Python prints smtplib's (code, b'text') pair.
func smtpRepr(de *models.DeliveryError) string {
	return "(" + strconv.Itoa(de.Code) + ", b'" + strings.ReplaceAll(de.Text, "'", `\'`) + "')"
}

func innerText(de *models.DeliveryError) string {
	if de.Err != nil {
		return de.Err.Error()
	}
	return de.Error()
}

func isTLSFailure(err error) bool {
	var (
		cve *tls.CertificateVerificationError
		rhe tls.RecordHeaderError
		ae  tls.AlertError
		he  x509.HostnameError
		ue  x509.UnknownAuthorityError
	)
	return errors.As(err, &cve) || errors.As(err, &rhe) || errors.As(err, &ae) ||
		errors.As(err, &he) || errors.As(err, &ue) || strings.Contains(err.Error(), "tls:")
}
