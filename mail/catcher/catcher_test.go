package catcher

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// start runs a catcher on a free loopback port for the duration of the test.
func start(t *testing.T, opt Options) *Catcher {
	t.Helper()
	opt.Logger = quiet
	c := New(opt)
	if err := c.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return c
}

func dial(t *testing.T, c *Catcher) *smtp.Client {
	t.Helper()
	cl, err := smtp.Dial(c.Addr())
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { _ = cl.Close() })
	return cl
}

func testTLS(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	server, roots, err := TestTLS()
	if err != nil {
		t.Fatalf("TestTLS: %v", err)
	}
	return server, roots
}

const sample = "From: \"Sender\" <from@example.com>\r\n" +
	"To: to@example.com\r\n" +
	"Subject: =?utf-8?q?Reset_=E2=80=93_<script>?=\r\n" +
	"MIME-Version: 1.0\r\n" +
	"Content-Type: multipart/alternative; boundary=\"b1\"\r\n" +
	"\r\n" +
	"--b1\r\n" +
	"Content-Type: text/plain; charset=\"utf-8\"\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Open this link:\r\n" +
	"https://erp.example.com/web/reset_password?db=3Dx&token=3DAAAAAAAAAAAAAAAAAAA=\r\n" +
	"BBBBBBBBBB\r\n" +
	"--b1\r\n" +
	"Content-Type: text/html; charset=\"utf-8\"\r\n" +
	"\r\n" +
	"<p>hi</p>\r\n" +
	"--b1--\r\n"

const sampleLink = "https://erp.example.com/web/reset_password?db=x&token=" +
	"AAAAAAAAAAAAAAAAAAABBBBBBBBBB"

// send delivers sample from from to to over cl.
func send(t *testing.T, cl *smtp.Client, to string) {
	t.Helper()
	if err := cl.SendMail("from@example.com", []string{to}, strings.NewReader(sample)); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

func TestAuthRequired(t *testing.T) {
	c := start(t, Options{Users: map[string]string{"tu": "s3cret"}})
	cl := dial(t, c)

	if err := cl.Mail("from@example.com", nil); smtpCode(err) != 530 {
		t.Fatalf("Mail before AUTH = %v, want 530", err)
	}
	if err := cl.Auth(sasl.NewPlainClient("", "tu", "wrong")); smtpCode(err) != 535 {
		t.Fatalf("Auth(wrong password) = %v, want 535", err)
	}
	if err := cl.Auth(sasl.NewPlainClient("", "tu", "s3cret")); err != nil {
		t.Fatalf("Auth: %v", err)
	}
	send(t, cl, "to@example.com")

	msgs := c.Messages()
	if len(msgs) != 1 || msgs[0].User != "tu" || msgs[0].TLS {
		t.Fatalf("Messages() = %+v, want one from user tu without TLS", msgs)
	}
}

func TestAuthLogin(t *testing.T) {
	c := start(t, Options{Users: map[string]string{"tu": "s3cret"}, Mechanisms: []string{"LOGIN"}})
	cl := dial(t, c)

	if cl.SupportsAuth("PLAIN") || !cl.SupportsAuth("LOGIN") {
		t.Fatalf("AUTH advertised wrong mechanisms")
	}
	if err := cl.Auth(sasl.NewLoginClient("tu", "s3cret")); err != nil {
		t.Fatalf("Auth(LOGIN): %v", err)
	}
	send(t, cl, "to@example.com")
	if got := c.Messages()[0].User; got != "tu" {
		t.Errorf("User = %q, want tu", got)
	}
}

func TestStartTLS(t *testing.T) {
	server, roots := testTLS(t)
	c := start(t, Options{TLS: server, Users: map[string]string{"tu": "s3cret"}})

	plain := dial(t, c)
	if ok, _ := plain.Extension("STARTTLS"); !ok {
		t.Fatal("STARTTLS not advertised")
	}
	if ok, _ := plain.Extension("AUTH"); ok {
		t.Fatal("AUTH advertised before STARTTLS")
	}

	cl, err := smtp.DialStartTLS(c.Addr(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("DialStartTLS: %v", err)
	}
	defer cl.Close()
	if err := cl.Auth(sasl.NewPlainClient("", "tu", "s3cret")); err != nil {
		t.Fatalf("Auth after STARTTLS: %v", err)
	}
	send(t, cl, "to@example.com")
	if m := c.Messages()[0]; !m.TLS || m.User != "tu" {
		t.Errorf("message TLS=%v User=%q, want true, tu", m.TLS, m.User)
	}
}

func TestImplicitTLS(t *testing.T) {
	server, roots := testTLS(t)
	c := start(t, Options{TLS: server, ImplicitTLS: true})

	cl, err := smtp.DialTLS(c.Addr(), &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("DialTLS: %v", err)
	}
	defer cl.Close()
	if ok, _ := cl.Extension("STARTTLS"); ok {
		t.Error("STARTTLS advertised on an implicit TLS connection")
	}
	send(t, cl, "to@example.com")
	if m := c.Messages()[0]; !m.TLS || m.Conn != 1 {
		t.Errorf("message TLS=%v Conn=%d, want true, 1", m.TLS, m.Conn)
	}
}

func TestHooks(t *testing.T) {
	refuse := func(code int) error {
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 0, 0},
			Message: "refused"}
	}
	tests := []struct {
		name string
		opt  Options
		want int
	}{
		{"mail", Options{OnMail: func(string) error { return refuse(451) }}, 451},
		{"rcpt", Options{OnRcpt: func(string) error { return refuse(550) }}, 550},
		{"data", Options{OnData: func([]byte) error { return refuse(554) }}, 554},
		{"rcpt plain error", Options{OnRcpt: func(string) error { return errors.New("no") }}, 451},
		{"data plain error", Options{OnData: func([]byte) error { return errors.New("no") }}, 554},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := start(t, tt.opt)
			cl := dial(t, c)
			err := cl.SendMail("from@example.com", []string{"to@example.com"},
				strings.NewReader(sample))
			if got := smtpCode(err); got != tt.want {
				t.Fatalf("SendMail = %v, want code %d", err, tt.want)
			}
			if n := len(c.Messages()); n != 0 {
				t.Errorf("%d messages recorded, want 0", n)
			}
		})
	}
}

func TestMaxMessageBytes(t *testing.T) {
	c := start(t, Options{MaxMessageBytes: 100})
	cl := dial(t, c)
	err := cl.SendMail("from@example.com", []string{"to@example.com"}, strings.NewReader(sample))
	if smtpCode(err) != 552 {
		t.Fatalf("SendMail(too large) = %v, want 552", err)
	}
}

func TestConnectionsWaitReset(t *testing.T) {
	c := start(t, Options{})
	send(t, dial(t, c), "a@example.com")
	send(t, dial(t, c), "b@example.com")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msgs, err := c.Wait(ctx, 2)
	if err != nil {
		t.Fatalf("Wait: %v", err)
	}
	if c.Connections() != 2 || msgs[0].Conn != 1 || msgs[1].Conn != 2 {
		t.Fatalf("Connections() = %d, Conn = %d, %d; want 2, 1, 2",
			c.Connections(), msgs[0].Conn, msgs[1].Conn)
	}
	if msgs[0].Size != 0 || msgs[0].To[0] != "a@example.com" {
		t.Errorf("message 1 = %+v", msgs[0])
	}

	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := c.Wait(short, 3); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait(3) = %v, want DeadlineExceeded", err)
	}

	c.Reset()
	if len(c.Messages()) != 0 || c.Connections() != 0 {
		t.Errorf("Reset left %d messages, %d connections", len(c.Messages()), c.Connections())
	}
}

func TestParse(t *testing.T) {
	p := parse([]byte(sample))
	if p.Subject != "Reset – <script>" {
		t.Errorf("Subject = %q", p.Subject)
	}
	if len(p.Links) != 1 || p.Links[0] != sampleLink {
		t.Errorf("Links = %q, want [%q]", p.Links, sampleLink)
	}
	if p.HTML != "<p>hi</p>" {
		t.Errorf("HTML = %q", p.HTML)
	}
	if len(p.Header) != 5 || p.Header[4].Name != "Content-Type" {
		t.Errorf("Header = %+v", p.Header)
	}
}
