package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

// Replies that mention a limit, a relay or a certificate get the diagnosis of what they
// say, from servers that really send them; Odoo's outcome texts stay as they are.
func TestTestConnectionDiagnosis(t *testing.T) {
	serverTLS, roots := testTLS(t)
	certPEM, keyPEM := clientCertPEM(t, "odoo-client")
	_, otherKey := clientCertPEM(t, "other")
	strictTLS := serverTLS.Clone()
	strictTLS.ClientAuth = tls.RequireAndVerifyClientCert
	strictTLS.ClientCAs = x509.NewCertPool() // trusts no client
	refuse := func(code int, ec smtp.EnhancedCode, msg string) func(string) error {
		return func(string) error {
			return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: msg}
		}
	}
	tests := []struct {
		name       string
		opt        *catcher.Options  // nil: scripted answers these replies
		scripted   map[string]string // verb to reply
		encryption string
		cert, key  []byte // certificate authentication when set
		outcome    string // Odoo's text starts so
		hint       string // the diagnosis contains this
		not        string // and not this
	}{
		{name: "Postfix size", opt: &catcher.Options{OnMail: refuse(552,
			smtp.EnhancedCode{5, 3, 4}, "Message size exceeds fixed limit")},
			outcome: "The server refused the sender address (tu@pesantren-contoh.sch.id) with " +
				"error (552, b'5.3.4 Message size exceeds fixed limit')",
			hint: "too large for the server", not: "sending limit"},
		{name: "Gmail daily limit", scripted: map[string]string{"MAIL": "550-5.4.5 Daily " +
			"user sending limit exceeded. For more information on Gmail\r\n550-5.4.5 " +
			"sending limits go to\r\n550 5.4.5  https://support.google.com/a/answer/166852 " +
			"- gsmtp"}, outcome: "The server refused the sender address " +
			"(tu@pesantren-contoh.sch.id) with error (550, b'5.4.5 Daily user sending limit",
			hint: "sending limit is reached", not: "from_filter"},
		{name: "rate", opt: &catcher.Options{OnMail: refuse(421, smtp.EnhancedCode{4, 7, 0},
			"Our system has detected an unusual rate of unsolicited mail")},
			outcome: "The server refused the sender address", hint: "sending limit is reached"},
		{name: "Postfix relay", opt: &catcher.Options{OnRcpt: refuse(554,
			smtp.EnhancedCode{5, 7, 1}, "<noreply@odoo.com>: Relay access denied")},
			outcome: "The server refused the test recipient (noreply@odoo.com) with error " +
				"(554, b'5.7.1 <noreply@odoo.com>: Relay access denied')",
			hint: "will not relay", not: "user's e-mail"},
		{name: "relaying denied", opt: &catcher.Options{OnRcpt: refuse(550,
			smtp.EnhancedCode{5, 7, 1}, "Relaying denied")},
			outcome: "The server refused the test recipient", hint: "smtp_user and smtp_pass",
			not: "user's e-mail"},
		{name: "client certificate not PEM", opt: &catcher.Options{TLS: serverTLS},
			encryption: "starttls", cert: []byte("not a certificate"), key: keyPEM,
			hint: "client certificate or key cannot be used", not: "install the CA"},
		{name: "client key of another certificate", opt: &catcher.Options{TLS: serverTLS},
			encryption: "starttls", cert: certPEM, key: otherKey,
			hint: "client certificate or key cannot be used", not: "install the CA"},
		{name: "client certificate refused", opt: &catcher.Options{TLS: strictTLS},
			encryption: "starttls", cert: certPEM, key: keyPEM,
			outcome: "An SSL exception occurred.",
			hint:    "refused odoo-shim's client certificate", not: "install the CA"},
		{name: "STARTTLS on an implicit TLS port", opt: &catcher.Options{TLS: serverTLS,
			ImplicitTLS: true}, encryption: "starttls", outcome: "No response received.",
			hint: "SSL/TLS from the first byte"},
		{name: "no encryption on an implicit TLS port", opt: &catcher.Options{TLS: serverTLS,
			ImplicitTLS: true}, encryption: "none", outcome: "No response received.",
			hint: "set smtp_encryption to ssl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var addr string
			if tt.opt != nil {
				addr = startCatcher(t, *tt.opt).Addr()
			} else {
				addr = scriptedServer(t, tt.scripted)
			}
			srv := serverAt(t, addr, cmpOr(tt.encryption, "none"))
			if tt.cert != nil {
				srv.Authentication, srv.Certificate, srv.PrivateKey = AuthCertificate,
					tt.cert, tt.key
			}
			s := testSender(roots)
			s.Timeout = 700 * time.Millisecond

			r := s.Test(context.Background(), srv, testUser)
			if r.OK || !strings.HasPrefix(r.Message, tt.outcome) {
				t.Fatalf("outcome %q; want a failure starting %q", r.Message, tt.outcome)
			}
			h := hintOf(r)
			if !strings.Contains(h, tt.hint) || (tt.not != "" && strings.Contains(h, tt.not)) {
				t.Errorf("diagnosis %q; want %q, without %q (%v)", h, tt.hint, tt.not, r.Err)
			}
		})
	}
}

// A delivery refused for its size or for relaying carries the same diagnosis as
// check-mail's, which callers see in their fault.
func TestDeliveryDiagnosis(t *testing.T) {
	tests := []struct {
		name string
		opt  catcher.Options
		hint string
		not  string
	}{
		{"Postfix size at end of data", catcher.Options{OnData: func([]byte) error {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4},
				Message: "Message size exceeds fixed limit"}
		}}, "too large for the server", "sending limit"},
		{"relay refused", catcher.Options{OnRcpt: func(string) error {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
				Message: "<ahmad.fauzi@example.com>: Relay access denied"}
		}}, "will not relay", "user's e-mail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := serverAt(t, startCatcher(t, tt.opt).Addr(), "none")
			s := testSender(nil)
			s.Timeout = 2 * time.Second
			results, err := s.Send(context.Background(), srv, []models.ResetMail{recordedMail()})
			if err != nil {
				t.Fatal(err)
			}
			h := deliveryError(t, results[0]).Hint()
			if !strings.Contains(h, tt.hint) || strings.Contains(h, tt.not) {
				t.Errorf("diagnosis %q; want %q, without %q", h, tt.hint, tt.not)
			}
		})
	}
}

// An unusable client certificate is recognisable by errors.Is, whatever is wrong with it.
func TestClientCertificateUnusable(t *testing.T) {
	certPEM, keyPEM := clientCertPEM(t, "odoo-client")
	_, otherKey := clientCertPEM(t, "other")
	tests := []struct {
		name      string
		cert, key []byte
	}{
		{"certificate missing", nil, keyPEM},
		{"key missing", certPEM, nil},
		{"certificate neither PEM nor base64", []byte("%%%"), keyPEM},
		{"key of another certificate", certPEM, otherKey},
		{"certificate given as key", certPEM, certPEM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := clientCertificate(tt.cert, tt.key)
			if !errors.Is(err, models.ErrClientCertificate) {
				t.Errorf("clientCertificate = %v; want ErrClientCertificate", err)
			}
		})
	}
	if _, err := clientCertificate(certPEM, keyPEM); err != nil {
		t.Errorf("a good pair: %v", err)
	}
}
