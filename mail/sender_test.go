package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const (
	testUser     = "tu@pesantren-contoh.sch.id"
	testPassword = "app-password-5f2c"
)

// startCatcher runs a catcher on a free loopback port for the duration of the test.
func startCatcher(t testing.TB, opt catcher.Options) *catcher.Catcher {
	t.Helper()
	opt.Logger = quiet
	c := catcher.New(opt)
	if err := c.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("catcher Start: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// serverAt describes an ir_mail_server row pointing at addr.
func serverAt(t testing.TB, addr, encryption string) models.MailServer {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	var p int
	if _, err := fmt.Sscan(port, &p); err != nil {
		t.Fatal(err)
	}
	return models.MailServer{ID: 1, Name: "catcher", Host: host, Port: p,
		Authentication: AuthLogin, Encryption: encryption}
}

func testSender(roots *x509.CertPool) *Sender {
	return &Sender{Timeout: 10 * time.Second, HeloName: "shim.test", RootCAs: roots,
		Hostname: "shim.test", Logger: quiet}
}

// paths names the two ways a transaction goes out, by Sender.NoPipelining.
var paths = []struct {
	name         string
	noPipelining bool
}{{"pipelined", false}, {"stepwise", true}}

// eachPath runs test as a subtest for each path, with a test Sender set for it.
func eachPath(t *testing.T, test func(t *testing.T, s *Sender)) {
	t.Helper()
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			s := testSender(nil)
			s.NoPipelining = p.noPipelining
			test(t, s)
		})
	}
}

func testTLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	server, roots, err := catcher.TestTLS("127.0.0.1", "localhost")
	if err != nil {
		t.Fatalf("TestTLS: %v", err)
	}
	return server, roots
}

// mailTo returns the recorded reset mail, sent to addr.
func mailTo(addr string) models.ResetMail {
	m := recordedMail()
	m.To = addr
	return m
}

// deliveryError returns err as a *models.DeliveryError or fails the test.
func deliveryError(t *testing.T, err error) *models.DeliveryError {
	t.Helper()
	var de *models.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *models.DeliveryError", err, err)
	}
	return de
}

func TestSendModes(t *testing.T) {
	users := map[string]string{testUser: testPassword}
	tests := []struct {
		name       string
		encryption string
		implicit   bool
		mechs      []string
		user       string
	}{
		{"none without auth", "none", false, nil, ""},
		{"none with PLAIN", "none", false, []string{"PLAIN"}, testUser},
		{"none with LOGIN", "none", false, []string{"LOGIN"}, testUser},
		{"starttls with PLAIN", "starttls", false, []string{"PLAIN", "LOGIN"}, testUser},
		{"starttls with LOGIN", "starttls", false, []string{"LOGIN"}, testUser},
		{"ssl with PLAIN", "ssl", true, []string{"PLAIN"}, testUser},
		{"ssl with LOGIN", "ssl", true, []string{"LOGIN"}, testUser},
		{"ssl_strict", "ssl_strict", true, nil, ""},
		{"starttls_strict", "starttls_strict", false, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, roots := testTLS(t)
			opt := catcher.Options{ImplicitTLS: tt.implicit, Mechanisms: tt.mechs}
			if tt.encryption != "none" {
				opt.TLS = server
			}
			if tt.user != "" {
				opt.Users = users
			}
			c := startCatcher(t, opt)
			srv := serverAt(t, c.Addr(), tt.encryption)
			srv.User, srv.Password = tt.user, testPassword

			results, err := testSender(roots).Send(context.Background(), srv,
				[]models.ResetMail{recordedMail()})
			if err != nil || len(results) != 1 || results[0] != nil {
				t.Fatalf("Send = %v, %v; want one nil result", results, err)
			}

			m := c.Messages()[0]
			if m.TLS != (tt.encryption != "none") || m.User != tt.user || m.Conn != 1 {
				t.Errorf("message TLS=%v User=%q Conn=%d", m.TLS, m.User, m.Conn)
			}
			if m.From != "tu@pesantren-contoh.sch.id" || len(m.To) != 1 ||
				m.To[0] != "ahmad.fauzi@example.com" {
				t.Errorf("envelope %q -> %q", m.From, m.To)
			}
			if m.Size != int64(len(m.Data)) || m.UTF8 {
				t.Errorf("SIZE=%d for %d bytes, SMTPUTF8=%v", m.Size, len(m.Data), m.UTF8)
			}
			if !strings.Contains(string(m.Data), "Subject: Reset Kata sandi\r\n") {
				t.Errorf("delivered message lacks the subject:\n%s", m.Data)
			}
		})
	}
}

func TestSendWrongPassword(t *testing.T) {
	server, roots := testTLS(t)
	c := startCatcher(t, catcher.Options{TLS: server, Users: map[string]string{testUser: "right"}})
	srv := serverAt(t, c.Addr(), "starttls")
	srv.User, srv.Password = testUser, testPassword

	results, err := testSender(roots).Send(context.Background(), srv,
		[]models.ResetMail{recordedMail()})
	de := deliveryError(t, err)
	if results != nil || de.Stage != models.StageAuth || de.Code != 535 || de.Temporary {
		t.Fatalf("Send = %v, %+v; want nil results, auth 535 permanent", results, de)
	}
	if de.Text != "5.7.8 Authentication failed" || de.Server != "ir_mail_server 1 (catcher)" {
		t.Errorf("Text %q, Server %q", de.Text, de.Server)
	}
	if strings.Contains(fmt.Sprintf("%v %+v", err, de), testPassword) {
		t.Error("error text contains the password")
	}
	if len(c.Messages()) != 0 {
		t.Error("a message was delivered")
	}
}

func TestSendConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()

	_, err = testSender(nil).Send(context.Background(), serverAt(t, addr, "none"),
		[]models.ResetMail{recordedMail()})
	de := deliveryError(t, err)
	if !de.Refused || de.Stage != models.StageConnect || de.Temporary || de.Code != 0 {
		t.Fatalf("DeliveryError = %+v, want refused at connect", de)
	}
}

func TestSendStartTLSNotOffered(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	_, err := testSender(nil).Send(context.Background(), serverAt(t, c.Addr(), "starttls"),
		[]models.ResetMail{recordedMail()})
	de := deliveryError(t, err)
	if de.Stage != models.StageTLS || !errors.Is(err, ErrNoStartTLS) {
		t.Fatalf("DeliveryError = %+v, want ErrNoStartTLS at tls", de)
	}
	if !strings.Contains(err.Error(), "STARTTLS extension not supported by server.") {
		t.Errorf("Error() = %q", err.Error())
	}
}

func TestSendNoAuthAdvertised(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	srv := serverAt(t, c.Addr(), "none")
	srv.User, srv.Password = testUser, testPassword
	_, err := testSender(nil).Send(context.Background(), srv, []models.ResetMail{recordedMail()})
	if de := deliveryError(t, err); de.Stage != models.StageAuth || !errors.Is(err, ErrNoAuth) {
		t.Fatalf("DeliveryError = %+v, want ErrNoAuth at auth", de)
	}
}

func TestSendUnsupportedAuthentication(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	// gmail and outlook are XOAUTH2 (TestTestConnection); cli lives in Odoo's command line.
	for _, kind := range []string{"cli", "kerberos"} {
		srv := serverAt(t, c.Addr(), "starttls")
		srv.Authentication = kind
		_, err := testSender(nil).Send(context.Background(), srv,
			[]models.ResetMail{recordedMail()})
		de := deliveryError(t, err)
		if de.Stage != models.StageAuth || !errors.Is(err, ErrAuthUnsupported) {
			t.Errorf("%s: DeliveryError = %+v, want ErrAuthUnsupported", kind, de)
		}
	}
	if n := c.Connections(); n != 0 {
		t.Errorf("%d connections opened, want none", n)
	}
}

func TestSendCertificateVerification(t *testing.T) {
	server, roots := testTLS(t)
	_, otherRoots := testTLS(t)
	tests := []struct {
		name       string
		encryption string
		roots      *x509.CertPool
		insecure   bool
		ok         bool
	}{
		{"starttls unknown CA", "starttls", otherRoots, false, false},
		{"ssl unknown CA", "ssl", otherRoots, false, false},
		{"ssl system pool", "ssl", nil, false, false},
		{"starttls insecure", "starttls", nil, true, true},
		{"ssl insecure", "ssl", nil, true, true},
		{"ssl_strict ignores insecure", "ssl_strict", nil, true, false},
		{"starttls_strict ignores insecure", "starttls_strict", nil, true, false},
		{"ssl_strict trusted", "ssl_strict", roots, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			implicit := strings.HasPrefix(tt.encryption, "ssl")
			c := startCatcher(t, catcher.Options{TLS: server, ImplicitTLS: implicit})
			s := testSender(tt.roots)
			s.InsecureSkipVerify = tt.insecure

			results, err := s.Send(context.Background(), serverAt(t, c.Addr(), tt.encryption),
				[]models.ResetMail{recordedMail()})
			if tt.ok {
				if err != nil || results[0] != nil {
					t.Fatalf("Send = %v, %v; want success", results, err)
				}
				return
			}

			de := deliveryError(t, err)
			var unknown x509.UnknownAuthorityError
			if de.Stage != models.StageTLS || !errors.As(err, &unknown) {
				t.Fatalf("DeliveryError = %+v, want an unknown authority at tls", de)
			}
			if !strings.Contains(err.Error(), "certificate of 127.0.0.1 could not be verified") {
				t.Errorf("Error() = %q does not explain the certificate problem", err)
			}
		})
	}
}

func TestSendClientCertificate(t *testing.T) {
	server, roots := testTLS(t)
	certPEM, keyPEM := clientCertPEM(t, "odoo-client")

	var mu sync.Mutex
	var seen string
	cfg := server.Clone()
	cfg.ClientAuth = tls.RequireAnyClientCert
	cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
		cert, err := x509.ParseCertificate(raw[0])
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		seen = cert.Subject.CommonName
		return nil
	}
	c := startCatcher(t, catcher.Options{TLS: cfg})

	srv := serverAt(t, c.Addr(), "starttls")
	srv.Authentication = AuthCertificate
	// Odoo stores the certificate base64-encoded; the key is given as plain PEM.
	srv.Certificate = []byte(base64.StdEncoding.EncodeToString(certPEM))
	srv.PrivateKey = keyPEM
	results, err := testSender(roots).Send(context.Background(), srv,
		[]models.ResetMail{recordedMail()})
	if err != nil || results[0] != nil {
		t.Fatalf("Send = %v, %v", results, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if seen != "odoo-client" {
		t.Errorf("server saw client certificate %q", seen)
	}

	srv.Encryption = "none"
	_, err = testSender(roots).Send(context.Background(), srv, []models.ResetMail{recordedMail()})
	if de := deliveryError(t, err); de.Stage != models.StageAuth {
		t.Errorf("certificate without TLS: %+v, want an auth error", de)
	}
}

// clientCertPEM returns a self-signed client certificate and its key, PEM-encoded.
func clientCertPEM(t *testing.T, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(time.Hour),
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
}

// refuse returns a hook refusing addr (or every address when addr is "") with code.
func refuse(addr string, code int) func(string) error {
	return func(a string) error {
		if addr != "" && a != addr {
			return nil
		}
		return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{code / 100, 1, 1},
			Message: "refused by test"}
	}
}

func TestSendBatchRecipientRefused(t *testing.T) {
	eachPath(t, testSendBatchRecipientRefused)
}

func testSendBatchRecipientRefused(t *testing.T, s *Sender) {
	c := startCatcher(t, catcher.Options{OnRcpt: refuse("b@example.com", 550)})
	mails := []models.ResetMail{mailTo("a@example.com"), mailTo("b@example.com"),
		mailTo("c@example.com")}

	results, err := s.Send(context.Background(), serverAt(t, c.Addr(), "none"), mails)
	if err != nil || len(results) != 3 || results[0] != nil || results[2] != nil {
		t.Fatalf("Send = %v, %v; want only the second mail refused", results, err)
	}
	de := deliveryError(t, results[1])
	if de.Stage != models.StageRcpt || de.Code != 550 || de.Temporary {
		t.Errorf("results[1] = %+v, want rcpt 550", de)
	}

	msgs := c.Messages()
	if len(msgs) != 2 || c.Connections() != 1 || msgs[0].Conn != 1 || msgs[1].Conn != 1 {
		t.Fatalf("%d messages over %d connections, want 2 over 1", len(msgs), c.Connections())
	}
	if msgs[0].To[0] != "a@example.com" || msgs[1].To[0] != "c@example.com" {
		t.Errorf("delivered to %v and %v", msgs[0].To, msgs[1].To)
	}
}

func TestSendPerMailFailures(t *testing.T) {
	dataRefusal := func(msg []byte) error {
		if strings.Contains(string(msg), "To: b@example.com\r\n") {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
				Message: "content rejected"}
		}
		return nil
	}
	tests := []struct {
		name      string
		opt       func() catcher.Options // fresh for each path: failSecond counts
		stage     string
		code      int
		temporary bool
		delivered int
	}{
		{"mail 451", func() catcher.Options { return catcher.Options{OnMail: failSecond(451)} },
			models.StageSender, 451, true, 2},
		{"rcpt 452", func() catcher.Options {
			return catcher.Options{OnRcpt: refuse("b@example.com", 452)}
		}, models.StageRcpt, 452, true, 2},
		{"data 554", func() catcher.Options { return catcher.Options{OnData: dataRefusal} },
			models.StageData, 554, false, 2},
		{"rcpt 421 closes", func() catcher.Options {
			return catcher.Options{OnRcpt: refuse("b@example.com", 421)}
		}, models.StageRcpt, 421, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachPath(t, func(t *testing.T, s *Sender) {
				c := startCatcher(t, tt.opt())
				mails := []models.ResetMail{mailTo("a@example.com"), mailTo("b@example.com"),
					mailTo("c@example.com")}
				results, err := s.Send(context.Background(), serverAt(t, c.Addr(), "none"),
					mails)
				if err != nil || results[0] != nil {
					t.Fatalf("Send = %v, %v", results, err)
				}

				de := deliveryError(t, results[1])
				if de.Stage != tt.stage || de.Code != tt.code || de.Temporary != tt.temporary {
					t.Errorf("results[1] = %+v, want %s %d temporary=%v", de, tt.stage,
						tt.code, tt.temporary)
				}
				if broken := tt.delivered == 1; broken != (results[2] != nil) {
					t.Errorf("results[2] = %v", results[2])
				}
				if n := len(c.Messages()); n != tt.delivered || c.Connections() != 1 {
					t.Errorf("%d messages over %d connections, want %d over 1", n,
						c.Connections(), tt.delivered)
				}
			})
		})
	}
}

// failSecond refuses the second MAIL FROM it sees.
func failSecond(code int) func(string) error {
	var mu sync.Mutex
	n := 0
	return func(string) error {
		mu.Lock()
		defer mu.Unlock()
		if n++; n == 2 {
			return refuse("", code)("")
		}
		return nil
	}
}

func TestSendUTF8Address(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	results, err := testSender(nil).Send(context.Background(), serverAt(t, c.Addr(), "none"),
		[]models.ResetMail{mailTo("siti.nurhalizà@contoh.id")})
	if err != nil || results[0] != nil {
		t.Fatalf("Send = %v, %v", results, err)
	}
	if m := c.Messages()[0]; !m.UTF8 || m.To[0] != "siti.nurhalizà@contoh.id" {
		t.Errorf("SMTPUTF8=%v To=%v", m.UTF8, m.To)
	}
}

func TestSendEmptyBatch(t *testing.T) {
	c := startCatcher(t, catcher.Options{})
	results, err := testSender(nil).Send(context.Background(), serverAt(t, c.Addr(), "none"), nil)
	if err != nil || len(results) != 0 || c.Connections() != 0 {
		t.Fatalf("Send(no mails) = %v, %v with %d connections", results, err, c.Connections())
	}
}

// stallServer accepts connections and never says anything.
func stallServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return ln.Addr().String()
}

func TestSendStalledServer(t *testing.T) {
	const limit = 300 * time.Millisecond
	tests := []struct {
		name       string
		encryption string
		timeout    time.Duration // Sender.Timeout
		ctx        func() (context.Context, context.CancelFunc)
		want       error
	}{
		{"ctx deadline", "none", time.Minute, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), limit)
		}, context.DeadlineExceeded},
		{"ctx cancel", "starttls", time.Minute, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(limit, cancel)
			return ctx, cancel
		}, context.Canceled},
		{"ctx deadline in handshake", "ssl", time.Minute,
			func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), limit)
			}, context.DeadlineExceeded},
		{"sender timeout", "none", limit, func() (context.Context, context.CancelFunc) {
			return context.Background(), func() {}
		}, nil},
		{"sender timeout in handshake", "ssl", limit,
			func() (context.Context, context.CancelFunc) {
				return context.Background(), func() {}
			}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachPath(t, func(t *testing.T, s *Sender) {
				srv := serverAt(t, stallServer(t), tt.encryption)
				s.Timeout = tt.timeout
				ctx, cancel := tt.ctx()
				defer cancel()

				begin := time.Now()
				_, err := s.Send(ctx, srv, []models.ResetMail{recordedMail()})
				elapsed := time.Since(begin)

				if elapsed > limit+2*time.Second {
					t.Errorf("Send returned after %v, want about %v", elapsed, limit)
				}
				de := deliveryError(t, err)
				if !de.Temporary || (tt.want != nil && !errors.Is(err, tt.want)) {
					t.Errorf("DeliveryError = %+v, want temporary, wrapping %v", de, tt.want)
				}
			})
		})
	}
}

func TestSendGreetingHintOn465(t *testing.T) {
	srv := serverAt(t, stallServer(t), "starttls")
	srv.Port = 465
	s := testSender(nil)
	s.Timeout = 200 * time.Millisecond
	// Port 465 on a loopback address nobody listens on would be refused, so only the hint
	// text is checked here, through the helper.
	err := explainGreeting(srv, &net.OpError{Op: "read", Err: timeoutError{}})
	if !strings.Contains(err.Error(), "port 465 normally expects SSL/TLS") {
		t.Errorf("explainGreeting = %v", err)
	}
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }
