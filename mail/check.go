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

// TestResult is the outcome of Test.
type TestResult struct {
	OK      bool
	Message string                // Odoo's outcome text
	Err     *models.DeliveryError // the failure, nil when OK
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
