package mail

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Each failure a real server can stage gets Odoo's Test Connection text and the plain-words
// diagnosis check-mail prints.
func TestTestConnection(t *testing.T) {
	serverTLS, roots := testTLS(t)
	users := map[string]string{testUser: testPassword}
	refuse := func(code int, ec smtp.EnhancedCode, msg string) func(string) error {
		return func(string) error { return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg} }
	}
	tests := []struct {
		name       string
		opt        *catcher.Options // nil: a closed port
		encryption string
		password   string
		auth       string
		token      string
		untrusted  bool
		outcome    string // Odoo's text starts so
		hint       string // the diagnosis contains this
	}{
		{name: "ok", opt: &catcher.Options{}, outcome: TestOK},
		{name: "refused", outcome: "Connection Test Failed! Here is what we got instead:\n " +
			"connect to", hint: "nothing accepts connections"},
		{name: "421 greeting", opt: &catcher.Options{OnConnect: func(int) *smtp.SMTPError {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2},
				Message: "Service not available"}
		}}, outcome: "Server replied with following exception:\n (421, b'4.3.2 Service",
			hint: "temporary failure"},
		{name: "554 greeting", opt: &catcher.Options{OnConnect: func(int) *smtp.SMTPError {
			return &smtp.SMTPError{Code: 554, Message: "No SMTP service here"}
		}}, outcome: "Server replied with following exception:\n (554, b'No SMTP"},
		{name: "stalled", opt: &catcher.Options{GreetingDelay: 3 * time.Second},
			outcome: "No response received. Check server address and port number.",
			hint:    "did not answer in time"},
		{name: "STARTTLS on an implicit TLS port", opt: &catcher.Options{TLS: serverTLS,
			ImplicitTLS: true}, encryption: "starttls",
			outcome: "No response received.", hint: "did not answer in time"},
		{name: "SSL on a plain port", opt: &catcher.Options{}, encryption: "ssl",
			outcome: "An SSL exception occurred. Check connection security type.",
			hint:    "465 uses SSL/TLS, 587 and 25 use TLS (STARTTLS)"},
		{name: "no STARTTLS offered", opt: &catcher.Options{}, encryption: "starttls",
			outcome: "An option is not supported by the server:\n STARTTLS extension",
			hint:    "offers no STARTTLS"},
		{name: "untrusted certificate", opt: &catcher.Options{TLS: serverTLS},
			encryption: "starttls", untrusted: true,
			outcome: "An SSL exception occurred.", hint: "mail.insecure_servers"},
		{name: "AUTH only after STARTTLS", opt: &catcher.Options{TLS: serverTLS, Users: users},
			password: testPassword, outcome: "An option is not supported by the server:\n " +
				"SMTP AUTH extension not supported", hint: "many servers offer AUTH only after"},
		{name: "535 login rejected", opt: &catcher.Options{Users: users}, password: "wrong",
			outcome: "Server replied with following exception:\n (535, b'5.7.8 ",
			hint:    "Gmail and Google Workspace take a 16-character App Password"},
		{name: "534 App Password needed", opt: &catcher.Options{Users: users,
			AuthError: &smtp.SMTPError{Code: 534, EnhancedCode: smtp.EnhancedCode{5, 7, 9},
				Message: "Application-specific password required."}}, password: "wrong",
			outcome: "Server replied with following exception:\n (534, b'5.7.9 Application",
			hint:    "needs an App Password"},
		{name: "XOAUTH2 token rejected", opt: &catcher.Options{
			Tokens: map[string]string{testUser: "good"}}, auth: models.AuthGmail, token: "bad",
			outcome: "Server replied with following exception:\n (535, ",
			hint:    "rejected the login"},
		{name: "XOAUTH2 accepted", opt: &catcher.Options{
			Tokens: map[string]string{testUser: "good"}}, auth: models.AuthGmail, token: "good",
			outcome: TestOK},
		{name: "sender refused", opt: &catcher.Options{OnMail: refuse(553,
			smtp.EnhancedCode{5, 7, 1}, "Sender address rejected: not owned by user")},
			outcome: "The server refused the sender address (tu@pesantren-contoh.sch.id) with " +
				"error (553, b'5.7.1 Sender address rejected",
			hint: "does not accept this sender"},
		{name: "recipient refused", opt: &catcher.Options{OnRcpt: refuse(550,
			smtp.EnhancedCode{5, 1, 1}, "No such user")},
			outcome: "The server refused the test recipient (noreply@odoo.com) with error " +
				"(550, b'5.1.1 No such user')", hint: "refused the recipient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := closedAddr(t)
			if tt.opt != nil {
				addr = startCatcher(t, *tt.opt).Addr()
			}
			srv := serverAt(t, addr, cmpOr(tt.encryption, "none"))
			if tt.password != "" || tt.auth != "" {
				srv.User, srv.Password = testUser, tt.password
			}
			if tt.auth != "" {
				srv.Authentication, srv.AccessToken = tt.auth, tt.token
			}
			s := testSender(roots)
			s.Timeout = 700 * time.Millisecond
			if tt.untrusted {
				s.RootCAs = nil
			}

			r := s.Test(context.Background(), srv, testUser)
			if !strings.HasPrefix(r.Message, tt.outcome) || r.OK != (tt.outcome == TestOK) {
				t.Fatalf("outcome %q; want it to start %q", r.Message, tt.outcome)
			}
			if tt.hint != "" && (r.Err == nil || !strings.Contains(r.Err.Hint(), tt.hint)) {
				t.Errorf("diagnosis %q; want %q", hintOf(r), tt.hint)
			}
		})
	}
}

// The connection test sends nothing: it hangs up at the 354.
func TestTestConnectionSendsNothing(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	srv := serverAt(t, c.Addr(), "none")
	if r := testSender(nil).Test(context.Background(), srv, testUser); !r.OK {
		t.Fatalf("test failed: %s", r.Message)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(c.Messages()); n != 0 {
		t.Errorf("%d messages arrived", n)
	}
}

func hintOf(r TestResult) string {
	if r.Err == nil {
		return ""
	}
	return r.Err.Hint()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Replies and drops during delivery are told apart as the outbox needs: temporary ones are
// retried, permanent ones fail the mail.
func TestStagedDeliveryFailures(t *testing.T) {
	reply := func(code int, ec smtp.EnhancedCode, msg string) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
	}
	tests := []struct {
		name      string
		opt       catcher.Options
		stage     string
		code      int
		temporary bool
	}{
		{"450 at MAIL", catcher.Options{OnMail: func(string) error {
			return reply(450, smtp.EnhancedCode{4, 2, 0}, "Mailbox busy")
		}}, models.StageSender, 450, true},
		{"451 at RCPT", catcher.Options{OnRcpt: func(string) error {
			return reply(451, smtp.EnhancedCode{4, 3, 0}, "Local error")
		}}, models.StageRcpt, 451, true},
		{"452 at RCPT", catcher.Options{OnRcpt: func(string) error {
			return reply(452, smtp.EnhancedCode{4, 5, 3}, "Too many recipients")
		}}, models.StageRcpt, 452, true},
		{"550 at RCPT", catcher.Options{OnRcpt: func(string) error {
			return reply(550, smtp.EnhancedCode{5, 1, 1}, "No such user")
		}}, models.StageRcpt, 550, false},
		{"552 at DATA", catcher.Options{OnData: func([]byte) error {
			return reply(552, smtp.EnhancedCode{5, 3, 4}, "Message too big")
		}}, models.StageData, 552, false},
		{"554 at DATA", catcher.Options{OnData: func([]byte) error {
			return reply(554, smtp.EnhancedCode{5, 7, 1}, "Message rejected as spam")
		}}, models.StageData, 554, false},
		{"dropped in DATA", catcher.Options{DropData: func() bool { return true }},
			models.StageData, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startCatcher(t, tt.opt)
			srv := serverAt(t, c.Addr(), "none")
			s := testSender(nil)
			s.Timeout = 2 * time.Second
			results, err := s.Send(context.Background(), srv, []models.ResetMail{recordedMail()})
			if err != nil {
				t.Fatal(err)
			}
			de := deliveryError(t, results[0])
			if de.Stage != tt.stage || de.Code != tt.code ||
				models.IsTemporary(de) != tt.temporary {
				t.Errorf("got %s %d temporary %v (%v); want %s %d temporary %v", de.Stage,
					de.Code, models.IsTemporary(de), de, tt.stage, tt.code, tt.temporary)
			}
		})
	}
}
