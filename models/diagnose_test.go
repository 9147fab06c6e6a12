package models

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// The diagnosis follows what the reply's code says before any loose word of its text: a
// size refusal mentions a limit, a relay refusal names a recipient, a client certificate
// problem mentions a certificate.
func TestHint(t *testing.T) {
	reply := func(stage string, code int, text string) *DeliveryError {
		return &DeliveryError{Server: "ir_mail_server 1 (x)", Stage: stage, Code: code,
			Text: text, Temporary: code < 500}
	}
	failure := func(stage string, temporary bool, err error) *DeliveryError {
		return &DeliveryError{Server: "ir_mail_server 1 (x)", Stage: stage,
			Temporary: temporary, Err: err}
	}
	const (
		size  = "too large for the server"
		quota = "sending limit is reached"
		relay = "will not relay"
		full  = "mailbox is full"
	)
	tests := []struct {
		name string
		err  *DeliveryError
		want string // the hint contains this
		not  string // and not this
	}{
		{"Postfix size at end of data", reply(StageData, 552,
			"5.3.4 Message size exceeds fixed limit"), size, quota},
		{"Postfix size at MAIL FROM", reply(StageSender, 552,
			"5.3.4 Message size exceeds fixed limit"), size, "does not accept this sender"},
		{"Gmail size", reply(StageData, 552, "5.3.4 Your message exceeded Google's message "+
			"size limits. Please visit https://support.google.com/mail/?p=MaxSizeError to "+
			"view our size guidelines."), size, quota},
		{"too big for system", reply(StageData, 554, "5.3.4 Message too big for system"),
			size, "policy"},
		{"administrative length limit", reply(StageData, 552,
			"5.2.3 Message length exceeds administrative limit"), size, quota},
		{"size without enhanced code", reply(StageData, 552,
			"Message size exceeds maximum permitted"), size, quota},
		{"size in plain words", reply(StageData, 554, "Message too big"), size, "policy"},
		{"Gmail daily limit", reply(StageSender, 550, "5.4.5 Daily user sending limit "+
			"exceeded. For more information on Gmail\nsending limits go to\n"+
			"https://support.google.com/a/answer/166852 - gsmtp"), quota, "sender"},
		{"rate", reply(StageSender, 421, "4.7.0 Our system has detected an unusual rate "+
			"of unsolicited mail originating from your IP address."), quota, ""},
		{"quota", reply(StageData, 550, "5.7.1 Daily sending quota exceeded"), quota, ""},
		{"recipient mailbox full", reply(StageRcpt, 552, "5.2.2 The email account that "+
			"you tried to reach is over quota."), full, quota},
		{"recipient mailbox full, temporary", reply(StageRcpt, 452,
			"4.2.2 Mailbox full"), full, quota},
		{"Postfix relay", reply(StageRcpt, 554,
			"5.7.1 <noreply@odoo.com>: Relay access denied"), relay, "user's e-mail"},
		{"relaying denied", reply(StageRcpt, 550, "5.7.1 Relaying denied"), relay,
			"user's e-mail"},
		{"relay not permitted", reply(StageRcpt, 550, "relay not permitted"), relay,
			"user's e-mail"},
		{"relay at MAIL FROM", reply(StageSender, 550, "5.7.1 Relaying denied"), relay,
			"from_filter"},
		{"no such user", reply(StageRcpt, 550, "5.1.1 No such user"),
			"refused the recipient", relay},
		{"sender not owned", reply(StageSender, 553,
			"5.7.1 Sender address rejected: not owned by user"),
			"does not accept this sender", relay},
		{"spam filter", reply(StageData, 554, "5.7.1 Message rejected as spam"),
			"policy or spam filter", size},
		{"421 busy", reply(StageConnect, 421, "4.3.2 Service not available"),
			"refusing work for now", quota},
		{"App Password", reply(StageAuth, 534,
			"5.7.9 Application-specific password required."), "App Password", ""},
		{"login rejected", reply(StageAuth, 535, "5.7.8 Username and Password not accepted"),
			"rejected the login", ""},
		{"unusable client certificate", failure(StageAuth, false,
			fmt.Errorf("%w: smtp_ssl_private_key: missing", ErrClientCertificate)),
			"client certificate or key cannot be used", "install the CA"},
		{"client certificate refused by the server", failure(StageConnect, true,
			errors.New("read tcp 127.0.0.1:1->127.0.0.1:2: remote error: tls: bad certificate")),
			"refused odoo-shim's client certificate", "install the CA"},
		{"untrusted server certificate", failure(StageTLS, false, errors.New("tls: failed "+
			"to verify certificate: x509: certificate signed by unknown authority")),
			"install the CA", "client certificate"},
		{"no greeting", failure(StageConnect, true,
			fmt.Errorf("%w; the port may expect SSL/TLS: i/o timeout", ErrNoGreeting)),
			"smtp_encryption to ssl", ""},
		{"connect timeout", failure(StageConnect, true,
			errors.New("dial tcp 192.0.2.1:587: i/o timeout")), "did not answer in time",
			"smtp_encryption to ssl"},
		{"refused", &DeliveryError{Stage: StageConnect, Refused: true,
			Err: errors.New("connection refused")}, "nothing accepts connections", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.err.Hint()
			if !strings.Contains(h, tt.want) || (tt.not != "" && strings.Contains(h, tt.not)) {
				t.Errorf("Hint() = %q; want %q, without %q", h, tt.want, tt.not)
			}
		})
	}
}
