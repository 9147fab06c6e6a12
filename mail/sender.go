package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/models"
)

// DefaultTimeout is the dial and per-command timeout when Sender.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Sender delivers reset mails through one ir_mail_server configuration with go-smtp. The
// zero value is ready to use.
type Sender struct {
	Timeout  time.Duration  // dial and per-command timeout; 0 means DefaultTimeout
	HeloName string         // EHLO name; "" means os.Hostname()
	RootCAs  *x509.CertPool // nil means the system pool
	// InsecureSkipVerify accepts any server certificate, as Odoo 18 and older do for ssl and
	// starttls. The *_strict encryption modes verify regardless.
	InsecureSkipVerify bool
	// InsecureServers accepts any certificate from the servers it names, by ir_mail_server
	// id ("3") or name, or "odoo.conf" for the fallback: Odoo's leniency for those alone.
	InsecureServers map[string]bool
	Hostname        string           // for Message-Id; "" means os.Hostname()
	Now             func() time.Time // nil means time.Now
	// Logger receives connection events; nil means slog.Default(). Message bodies, links,
	// tokens and passwords are never logged.
	Logger *slog.Logger
	// KeepAlive keeps a connection open this long after a batch, for the next batch to the
	// same server and login; 0 closes it at once. A reset then costs no TCP, TLS and AUTH
	// exchange when another one follows soon.
	KeepAlive time.Duration
	// NoPipelining sends MAIL, RCPT and DATA one at a time even to a server that offers
	// PIPELINING (RFC 2920), which otherwise go out as one group: 2 round trips per mail
	// instead of 4.
	NoPipelining bool

	pool pool
}

var _ models.Mailer = (*Sender)(nil)

// Send delivers mails over one connection to srv, in order. A failure that stops the whole
// batch before any mail (connect, TLS, AUTH, an unsupported authentication kind) is returned
// as err, with nil results. Otherwise results has one entry per mail: nil when the server
// accepted it, else a *models.DeliveryError; after a refusal the next mail is still tried,
// but once the connection breaks the remaining mails all get that error. Send dials nothing
// for an empty batch. With KeepAlive set, the connection may come from, and go back to, the
// Sender's idle connections.
func (s *Sender) Send(ctx context.Context, srv models.MailServer, mails []models.ResetMail) (
	[]error, error) {
	results := make([]error, len(mails))
	err := s.SendEach(ctx, srv, mails, models.SendHooks{Report: func(i int, err error) bool {
		results[i] = err
		return true
	}})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// SendEach is Send reporting each mail's outcome to hooks.Report as soon as the server has
// answered for it, before the next mail goes out; Report is called once per mail, in
// order, until it returns false. hooks.Committing is called before each end of data. The
// error is a failure that stopped the batch before any mail.
func (s *Sender) SendEach(ctx context.Context, srv models.MailServer,
	mails []models.ResetMail, hooks models.SendHooks) error {
	if len(mails) == 0 {
		return nil
	}
	if err := checkAuthentication(srv); err != nil {
		return err
	}

	key := poolKey(srv)
	sess, reused, err := s.session(ctx, key, srv)
	if err != nil {
		return err
	}
	// An idle connection the server has meanwhile closed, or left out of step with a reply
	// nobody asked for, would fail the first mail; one NOOP finds out, and a fresh
	// connection takes the batch.
	if reused && (sess.outOfStep() || sess.client.Noop() != nil || sess.outOfStep()) {
		sess.close()
		if sess, err = s.open(ctx, srv); err != nil {
			return err
		}
	}
	sess.sendAll(ctx, mails, hooks)
	s.release(key, sess)
	return nil
}

// checkAuthentication refuses the authentication kinds Send does not implement, before any
// connection is made.
func checkAuthentication(srv models.MailServer) error {
	switch srv.Authentication {
	case "", AuthLogin, AuthCertificate, models.AuthGmail, models.AuthOutlook:
		return nil
	}
	return &models.DeliveryError{
		Server: srv.Label(),
		Stage:  models.StageAuth,
		Err:    fmt.Errorf("%q: %w", srv.Authentication, ErrAuthUnsupported),
	}
}

func (s *Sender) timeout() time.Duration {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return DefaultTimeout
}

func (s *Sender) helo() string {
	if s.HeloName != "" {
		return s.HeloName
	}
	return hostname()
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// session is one open, authenticated SMTP connection.
type session struct {
	label  string
	client *smtp.Client
	conn   *deadlineConn
	wire   *wire // what client reads and writes: conn, or TLS over it
	ext    extensions
	stop   func() bool
	broken bool // the connection can no longer be used
	// lost, when set, is why the connection broke during the current mail, for the mails
	// after it, when the current mail has an outcome of its own (a refusal).
	lost      error
	delivered int // mails the server accepted in the current batch
	now       func() time.Time
	hostname  string
	log       *slog.Logger
}

// open connects, secures and authenticates a connection to srv.
func (s *Sender) open(ctx context.Context, srv models.MailServer) (*session, error) {
	label := srv.Label()

	cfg, err := s.tlsConfig(srv)
	if err != nil {
		return nil, classify(ctx, label, models.StageAuth, err)
	}

	raw, err := dial(ctx, srv.Host, srv.Port, s.timeout())
	if err != nil {
		return nil, classify(ctx, label, models.StageConnect, err)
	}
	conn, stop := newDeadlineConn(ctx, raw, s.timeout())

	client, w, err := s.hello(ctx, conn, srv, cfg)
	if err != nil {
		stop()
		_ = conn.Close()
		return nil, err
	}

	sess := s.newSession(label, client, stop)
	sess.conn, sess.wire = conn, w
	mech, err := sess.login(ctx, srv)
	if err != nil {
		sess.close()
		return nil, err
	}
	sess.ext = extensionsOf(client, !s.NoPipelining)

	// Knowing that a certificate went unchecked matters when debugging TLS trouble (C17).
	sess.log.Debug("smtp_connected", "server", label, "encryption", srv.Encryption,
		"certificate_verified", !cfg.InsecureSkipVerify && srv.Encryption != "" &&
			srv.Encryption != "none",
		"auth_mechanism", mech, "pipelining", sess.ext.pipelining)
	return sess, nil
}

// newSession wraps an authenticated client with what delivering needs.
func (s *Sender) newSession(label string, c *smtp.Client, stop func() bool) *session {
	now := s.Now
	if now == nil {
		now = time.Now
	}
	host := s.Hostname
	if host == "" {
		host = hostname()
	}
	return &session{label: label, client: c, stop: stop, now: now, hostname: host,
		log: s.logger()}
}

// tlsConfig returns the TLS settings for srv, with the client certificate of "certificate"
// authentication.
func (s *Sender) tlsConfig(srv models.MailServer) (*tls.Config, error) {
	strict := strings.HasSuffix(srv.Encryption, "_strict")
	cfg := &tls.Config{
		ServerName: srv.Host,
		RootCAs:    s.RootCAs,
		// Only on the operator's explicit request, to match Odoo's "encryption only" modes
		// (cases.md C17); the *_strict modes exist precisely to verify.
		InsecureSkipVerify: s.lenient(srv) && !strict,
	}
	if srv.Authentication != AuthCertificate {
		return cfg, nil
	}

	// Odoo 18 forbids this combination with a constraint; older rows may still hold it.
	if srv.Encryption == "" || srv.Encryption == "none" {
		return nil, errors.New("certificate authentication needs SSL/TLS or STARTTLS")
	}
	pair, err := clientCertificate(srv.Certificate, srv.PrivateKey)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{pair}
	return cfg, nil
}

// lenient reports whether srv's certificate goes unchecked, as Odoo 18 leaves it.
func (s *Sender) lenient(srv models.MailServer) bool {
	if s.InsecureSkipVerify {
		return true
	}
	if srv.ID == 0 {
		return s.InsecureServers["odoo.conf"]
	}
	return s.InsecureServers[strconv.FormatInt(srv.ID, 10)] || s.InsecureServers[srv.Name]
}

// hello brings the connection to the point where AUTH or MAIL may follow: TLS as srv's
// encryption says, then EHLO (again, after STARTTLS). The client runs over the returned
// wire, which pipelined transactions share with it.
func (s *Sender) hello(ctx context.Context, conn net.Conn, srv models.MailServer,
	cfg *tls.Config) (*smtp.Client, *wire, error) {

	label, helo := srv.Label(), s.helo()
	var w *wire
	switch srv.Encryption {
	case "", "none":
		w = newWire(conn)
	case "ssl", "ssl_strict":
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			err = explainTLS(srv.Host, srv.Port, err)
			return nil, nil, classify(ctx, label, models.StageTLS, err)
		}
		w = newWire(tc)
	case "starttls", "starttls_strict":
		tc, err := startTLS(ctx, conn, helo, cfg)
		if err != nil {
			return nil, nil, classifyStartTLS(ctx, srv, err)
		}
		w = newWire(&greetedConn{Conn: tc, pending: []byte("220 TLS started\r\n")})
	default:
		err := fmt.Errorf("unknown encryption %q", srv.Encryption)
		return nil, nil, classify(ctx, label, models.StageTLS, err)
	}

	c := smtp.NewClient(w)
	c.CommandTimeout = s.timeout()
	c.SubmissionTimeout = s.timeout()
	if err := c.Hello(helo); err != nil {
		_ = c.Close()
		return nil, nil, classify(ctx, label, models.StageConnect, explainGreeting(srv, err))
	}
	return c, w, nil
}

// classifyStartTLS files an error of the STARTTLS exchange under the right stage.
func classifyStartTLS(ctx context.Context, srv models.MailServer, err error) error {
	var ts tlsStage
	if !errors.As(err, &ts) {
		return classify(ctx, srv.Label(), models.StageConnect, explainGreeting(srv, err))
	}

	err = ts.err
	var se *smtp.SMTPError
	if !errors.Is(err, ErrNoStartTLS) && !errors.As(err, &se) && !isNetFailure(err) {
		err = explainTLS(srv.Host, srv.Port, err)
	}
	return classify(ctx, srv.Label(), models.StageTLS, err)
}

// explainGreeting marks a server that stays silent while we wait in clear text: a server
// expecting SSL/TLS from the first byte waits for a handshake that a clear-text or STARTTLS
// client never starts (cases.md C16). Port 465 is where that is the rule, but any port can
// be set up so.
func explainGreeting(srv models.MailServer, err error) error {
	var ne net.Error
	if strings.HasPrefix(srv.Encryption, "ssl") || !errors.As(err, &ne) || !ne.Timeout() {
		return err
	}
	if srv.Port == 465 {
		return fmt.Errorf("%w; port 465 normally expects SSL/TLS: %w", models.ErrNoGreeting,
			err)
	}
	return fmt.Errorf("%w; port %d may expect SSL/TLS from the first byte: %w",
		models.ErrNoGreeting, srv.Port, err)
}

// login authenticates as srv says and returns the mechanism used ("" for none).
func (ss *session) login(ctx context.Context, srv models.MailServer) (string, error) {
	if srv.Authentication == models.AuthGmail || srv.Authentication == models.AuthOutlook {
		if err := authenticateOAuth(ss.client, srv.User, srv.AccessToken); err != nil {
			return "", classify(ctx, ss.label, models.StageAuth, err)
		}
		return mechXOAuth2, nil
	}
	if srv.Authentication == AuthCertificate || srv.User == "" {
		return "", nil
	}
	mech, err := authenticate(ss.client, srv.User, srv.Password)
	if err != nil {
		return "", classify(ctx, ss.label, models.StageAuth, err)
	}
	return mech, nil
}

// sendAll delivers each mail in turn and reports each outcome.
func (ss *session) sendAll(ctx context.Context, mails []models.ResetMail,
	hooks models.SendHooks) {
	report := hooks.Report
	failed := 0
	for i, m := range mails {
		var commit func() error
		if hooks.Committing != nil {
			commit = func() error { return hooks.Committing(i) }
		}
		broken, err := ss.deliver(ctx, m, commit)
		more := report(i, err)
		if err == nil && more {
			continue
		}
		if err == nil {
			break
		}

		failed++
		if broken {
			ss.broken = true
			rest := ss.notSent(err)
			for j := i + 1; j < len(mails) && more; j++ {
				more = report(j, rest)
				failed++
			}
			break
		}
		if !more {
			break
		}
	}

	ss.log.Debug("smtp_batch_done", "server", ss.label, "mails", len(mails), "failed", failed)
}

// deliver runs one mail transaction, calling commit (when set) just before the end of data.
// broken reports whether the connection is unusable afterwards.
func (ss *session) deliver(ctx context.Context, m models.ResetMail, commit func() error) (
	broken bool, err error) {
	msg, err := BuildMessage(m, BuildOptions{Now: ss.now(), Hostname: ss.hostname})
	if err != nil {
		return false, classify(ctx, ss.label, models.StageData, err)
	}
	from, to, opts, bad := ss.envelope(m, len(msg))
	if bad != nil {
		return false, classify(ctx, ss.label, bad.stage, bad.err)
	}

	ss.lost = nil
	begin := ss.beginStepwise
	if ss.ext.pipelining {
		begin = ss.beginPipelined
	}
	w, broken, err := begin(ctx, from, to, opts)
	if err != nil {
		return broken, err
	}
	if _, err := w.Write(msg); err != nil {
		ss.hangUp()
		return true, classify(ctx, ss.label, models.StageData, err)
	}
	if ss.outOfStep() {
		// The server said something nobody asked for: its replies no longer match our
		// commands. Dropped before the end of data, the mail cannot have been taken.
		ss.hangUp()
		return true, &models.DeliveryError{Server: ss.label, Stage: models.StageData,
			Temporary: true, Err: errOutOfStep}
	}
	if commit != nil {
		if err := commit(); err != nil {
			ss.hangUp()
			return true, &models.DeliveryError{Server: ss.label, Stage: models.StageData,
				Temporary: true, Err: fmt.Errorf("not sent, the outbox could not record "+
					"the attempt: %w", err)}
		}
	}
	return ss.endData(ctx, w)
}

// beginStepwise starts a mail transaction one command at a time, as go-smtp's client does:
// MAIL, each RCPT, DATA. It returns the writer for the message's data, or the mail's
// outcome and whether the connection is unusable.
func (ss *session) beginStepwise(ctx context.Context, from string, to []string,
	opts *smtp.MailOptions) (io.WriteCloser, bool, error) {
	if err := ss.client.Mail(from, opts); err != nil {
		broken, err := ss.abort(ctx, models.StageSender, err)
		return nil, broken, err
	}
	rcpt := func(addr string) error { return ss.client.Rcpt(addr, nil) }
	if err := ss.recipients(to, rcpt); err != nil {
		broken, err := ss.abort(ctx, models.StageRcpt, err)
		return nil, broken, err
	}
	w, err := ss.client.Data()
	if err != nil {
		broken, err := ss.abort(ctx, models.StageData, err)
		return nil, broken, err
	}
	return w, false, nil
}

// hangUp drops the connection in the middle of a message's data. The server then has to
// discard what it received; any later command (a polite QUIT, say) would first end the
// data and make it take a message we gave up on.
func (ss *session) hangUp() {
	ss.delivered = -1
	_ = ss.conn.Close()
}

// errOutOfStep is the failure of a connection whose server sent replies nobody asked for.
var errOutOfStep = errors.New("the server sent replies that match no command; the " +
	"connection was dropped")

// outOfStep reports whether the server has sent something no command waits for.
func (ss *session) outOfStep() bool { return ss.wire != nil && ss.wire.r.Buffered() > 0 }

// endData ends the message's data and reads the server's verdict. When the end of data
// went out and no reply came, the server may have taken the mail: the error says so.
func (ss *session) endData(ctx context.Context, w io.Closer) (bool, error) {
	failed := ss.conn.failedWrites.Load()
	err := w.Close()
	if err == nil && ss.outOfStep() {
		// More came than the one reply: which of them was the verdict is unknown.
		ss.hangUp()
		return true, &models.DeliveryError{Server: ss.label, Stage: models.StageData,
			Temporary: true, Unconfirmed: true, Err: errOutOfStep}
	}
	if err == nil {
		ss.delivered++
		return false, nil
	}

	var se *smtp.SMTPError
	if errors.As(err, &se) || ss.conn.failedWrites.Load() != failed {
		return ss.abort(ctx, models.StageData, err)
	}
	ss.delivered = -1
	de := classify(ctx, ss.label, models.StageData, err)
	de.Unconfirmed = true
	return true, de
}

// envelope returns MAIL FROM, RCPT TO and the MAIL options for m: SIZE (go-smtp sends it only
// when advertised) and SMTPUTF8 only when an address needs it.
func (ss *session) envelope(m models.ResetMail, size int) (string, []string,
	*smtp.MailOptions, *stageError) {

	sender := m.Envelope
	if strings.TrimSpace(sender) == "" {
		sender = m.From
	}
	from, err := envelopeAddress(bareAddress(sender))
	if err != nil {
		return "", nil, nil, &stageError{models.StageSender, fmt.Errorf("envelope sender: %w", err)}
	}
	to, err := bareAddresses(m.To)
	for i := 0; err == nil && i < len(to); i++ {
		_, err = envelopeAddress(to[i], nil)
	}
	if err != nil {
		return "", nil, nil, &stageError{models.StageRcpt, fmt.Errorf("recipient: %w", err)}
	}

	opts := &smtp.MailOptions{Size: int64(size)}
	if !isASCII(from) || !isASCII(strings.Join(to, "")) {
		if !ss.ext.smtpUTF8 {
			return "", nil, nil, &stageError{models.StageSender, ErrNoSMTPUTF8}
		}
		opts.UTF8 = true
	}
	return from, to, opts, nil
}

// recipients runs rcpt for each address: one RCPT, or the reading of its pipelined reply.
// As with Odoo (smtplib), the mail goes out when at least one recipient is accepted; only
// when all are refused does it fail.
func (ss *session) recipients(to []string, rcpt func(addr string) error) error {
	var first error
	accepted := 0
	for _, addr := range to {
		err := rcpt(addr)
		if err == nil {
			accepted++
			continue
		}
		if connectionBroken(err) {
			return err
		}
		ss.log.Debug("smtp_recipient_refused", "server", ss.label, "error", err)
		if first == nil {
			first = err
		}
	}
	if accepted == 0 {
		return first
	}
	return nil
}

// envelopeAddress passes on an addr-spec that can go between the < and > of MAIL FROM or
// RCPT TO as it is. net/mail lets no CR, LF or other control character through, but it
// returns a quoted local part unquoted, so "a>b"@example.com arrives as a>b@example.com:
// such an address, which no reset mail needs, is refused rather than quoted.
func envelopeAddress(addr string, err error) (string, error) {
	if err != nil {
		return "", err
	}
	if i := strings.IndexFunc(addr, func(r rune) bool {
		return r < 0x21 || r == 0x7f || strings.ContainsRune(`<>"\`, r)
	}); i >= 0 {
		return "", fmt.Errorf("%q: %q cannot appear in an SMTP envelope address", addr,
			addr[i])
	}
	return addr, nil
}

// stageError is a failure found before a command was sent, with the stage it belongs to.
type stageError struct {
	stage string
	err   error
}

// abort ends a refused transaction with RSET so the next MAIL starts clean, and reports
// whether the connection is still usable.
func (ss *session) abort(ctx context.Context, stage string, err error) (bool, error) {
	broken := connectionBroken(err)
	if !broken {
		if rerr := ss.client.Reset(); rerr != nil {
			ss.log.Debug("smtp_reset_failed", "server", ss.label, "error", rerr)
			broken = true
			// The mails after this one were never tried: they fail with the lost
			// connection, for another attempt, not with this mail's refusal.
			lost := classify(ctx, ss.label, stage, fmt.Errorf("the connection was lost "+
				"after a refusal of an earlier mail: %w", rerr))
			lost.Code, lost.Text, lost.Temporary = 0, "", true
			ss.lost = lost
		}
	}
	return broken, classify(ctx, ss.label, stage, err)
}

// notSent is the outcome of the mails after one whose connection broke: the connection's
// failure. When that mail was refused, the refusal is its own; when its answer was lost,
// the mails after it still never went out.
func (ss *session) notSent(err error) error {
	if ss.lost != nil {
		return ss.lost
	}
	var de *models.DeliveryError
	if errors.As(err, &de) && de.Unconfirmed {
		rest := *de
		rest.Unconfirmed = false
		return &rest
	}
	return err
}

// quit ends the session politely; a failure here changes nothing for the mails.
func (ss *session) quit() {
	if err := ss.client.Quit(); err != nil {
		ss.log.Debug("smtp_quit_failed", "server", ss.label, "error", err)
	}
}

func (ss *session) close() {
	ss.stop()
	// After a successful QUIT the connection is already closed; that error is expected.
	_ = ss.client.Close()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
