package models_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jmoiron/sqlx"

	"github.com/odoo-shim/odoo-shim/mail"
	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/mail/oauth"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// outboxEnv is a database whose mail server row points at a real in-process SMTP server.
type outboxEnv struct {
	dsn, name string
	mails     *catcher.Catcher
	db        *sqlx.DB
}

func newOutboxEnv(t *testing.T, opt catcher.Options) *outboxEnv {
	t.Helper()
	return newOutboxEnvB(t, opt)
}

func newOutboxEnvB(t testing.TB, opt catcher.Options) *outboxEnv {
	t.Helper()
	return newOutboxEnvOn(t, modeltest.Own18, opt)
}

// newOutboxEnvOn is newOutboxEnv on a database of another Odoo version.
func newOutboxEnvOn(t testing.TB, tmpl modeltest.Template, opt catcher.Options) *outboxEnv {
	t.Helper()
	dsn, name := modeltest.NewDatabase(t, tmpl)
	e := &outboxEnv{dsn: dsn, name: name, mails: catcher.New(opt)}
	if err := e.mails.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.mails.Close() })
	host, port, _ := net.SplitHostPort(e.mails.Addr())
	modeltest.Exec(t, name, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_host = '%s',
		smtp_port = %s, smtp_encryption = 'none', smtp_user = NULL, smtp_pass = NULL`,
		host, port))
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	return e
}

// store opens one odoo-shim instance on the environment's database.
func (e *outboxEnv) store(t testing.TB, o models.OutboxSettings) *models.Store {
	t.Helper()
	return e.storeWith(t, o, nil)
}

func (e *outboxEnv) storeWith(t testing.TB, o models.OutboxSettings,
	tokens models.TokenRefresher) *models.Store {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	sender := &mail.Sender{Timeout: 3 * time.Second, Logger: log, KeepAlive: time.Second}
	t.Cleanup(func() { sender.Close() })
	s, err := models.Open(context.Background(), e.dsn, models.Settings{
		Hasher: models.NewHasher(2), Mailer: sender, Logger: log, Outbox: o, Tokens: tokens,
		Fallback:  models.MailServer{Host: "localhost", Port: 25},
		MessageID: func() string { id, _ := mail.NewMessageID(time.Now(), "test"); return id }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// run starts the store's background sender until the test ends.
func run(t *testing.T, s *models.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.RunOutbox(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func (e *outboxEnv) rows(t *testing.T, q string) []string {
	t.Helper()
	var out []string
	if err := e.db.Select(&out, q); err != nil {
		t.Fatal(err)
	}
	return out
}

func messageIDs(msgs []catcher.Message) map[string]int {
	ids := map[string]int{}
	for _, m := range msgs {
		if id := catcher.MessageID(m.Data); id != "" {
			ids[id]++
		}
	}
	return ids
}

// addUsers adds n resettable users from id 1001.
func (e *outboxEnv) addUsers(t testing.TB, n int) []int64 {
	modeltest.Exec(t, e.name, fmt.Sprintf(`
		INSERT INTO res_partner (id, name, email, lang, active)
			SELECT 1000 + i, 'Santri ' || i, 'santri' || i || '@example.org', 'id_ID', true
			FROM generate_series(1, %[1]d) i;
		INSERT INTO res_users (id, login, partner_id, company_id, active, share)
			SELECT 1000 + i, 'santri' || i, 1000 + i, 1, true, false
			FROM generate_series(1, %[1]d) i`, n))
	ids := make([]int64, n)
	for i := range ids {
		ids[i] = int64(1001 + i)
	}
	return ids
}

func reset(t *testing.T, s *models.Store, ids ...int64) (*models.Notification, error) {
	t.Helper()
	return s.ActionResetPassword(context.Background(), models.ResetRequest{Caller: 2, IDs: ids,
		Context: map[string]any{"lang": "en_US"}})
}

// A 4xx reply queues the mail; the background sender delivers it on a later attempt,
// with the Message-Id fixed when it was queued, and then erases the body.
func TestOutboxRetriesTemporaryFailure(t *testing.T) {
	var refusals atomic.Int32
	e := newOutboxEnv(t, catcher.Options{OnRcpt: func(string) error {
		if refusals.Add(1) <= 2 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
				Message: "Try again later"}
		}
		return nil
	}})
	s := e.store(t, models.OutboxSettings{RetryBase: 50 * time.Millisecond, Poll: 20 *
		time.Millisecond})

	n, err := reset(t, s, 6)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Sticky || !strings.Contains(n.Message, models.MsgMailQueued) ||
		!strings.Contains(n.Message, "451 4.3.0 Try again later") {
		t.Fatalf("notice = %+v; want the queued notice with the server's reply", n)
	}
	queuedID := e.rows(t, `SELECT message_id FROM odoo_shim.outbox`)

	run(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := e.mails.Wait(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if ids := messageIDs(msgs); len(queuedID) != 1 || ids[queuedID[0]] != 1 {
		t.Errorf("delivered Message-Ids %v; want the queued one %v", ids, queuedID)
	}
	waitRows(t, e, `SELECT state || ' ' || attempts || ' ' || (body IS NULL) || ' ' ||
		(sent_at IS NOT NULL) FROM odoo_shim.outbox`, "sent 3 true true")
}

// waitRows polls q until its rows, joined, read want.
func waitRows(t *testing.T, e *outboxEnv, q, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var got []string
	for time.Now().Before(deadline) {
		if got = e.rows(t, q); strings.Join(got, "|") == want {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("rows of %s = %v; want %s", q, got, want)
}

// A mail that keeps failing temporarily is given up after MaxAttempts, and the partner's
// signup state is put back.
func TestOutboxGivesUp(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{OnMail: func(string) error {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
			Message: "Try again later, closing connection"}
	}})
	before := e.rows(t, `SELECT COALESCE(signup_type, '-') FROM res_partner WHERE id = 7`)
	s := e.store(t, models.OutboxSettings{MaxAttempts: 3, RetryBase: 20 * time.Millisecond,
		Poll: 20 * time.Millisecond})
	if _, err := reset(t, s, 6); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitRows(t, e, `SELECT state || ' ' || attempts || ' ' || last_code || ' ' ||
		(body IS NULL) FROM odoo_shim.outbox`, "failed 3 421 true")
	after := e.rows(t, `SELECT COALESCE(signup_type, '-') FROM res_partner WHERE id = 7`)
	if before[0] != after[0] {
		t.Errorf("signup_type %s after giving up; want %s back", after[0], before[0])
	}
}

// Two instances on one outbox deliver every queued mail once between them.
func TestOutboxTwoInstances(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	e := newOutboxEnv(t, catcher.Options{OnMail: func(string) error {
		if down.Load() {
			return &smtp.SMTPError{Code: 450, Message: "mailbox busy"}
		}
		// A slow server: one instance cannot empty the queue before the other claims.
		time.Sleep(15 * time.Millisecond)
		return nil
	}})
	ids := e.addUsers(t, 60)
	a := e.store(t, models.OutboxSettings{RetryBase: 10 * time.Millisecond,
		RetryMax: 20 * time.Millisecond, Poll: 10 * time.Millisecond, Batch: 7,
		MaxAttempts: 1000, Instance: "a"})
	b := e.store(t, models.OutboxSettings{RetryBase: 10 * time.Millisecond,
		RetryMax: 20 * time.Millisecond, Poll: 10 * time.Millisecond, Batch: 5,
		MaxAttempts: 1000, Instance: "b"})
	if _, err := reset(t, a, ids...); err != nil {
		t.Fatal(err)
	}
	run(t, a)
	run(t, b)
	time.Sleep(100 * time.Millisecond)
	down.Store(false)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := e.mails.Wait(ctx, len(ids)); err != nil {
		t.Fatal(err)
	}
	waitRows(t, e, `SELECT count(*) FILTER (WHERE state = 'sent') || ' ' ||
		count(DISTINCT leased_by) FROM odoo_shim.outbox`, fmt.Sprintf("%d 2", len(ids)))
	msgs := e.mails.Messages()
	counts := messageIDs(msgs)
	if len(msgs) != len(ids) || len(counts) != len(ids) {
		t.Fatalf("%d messages with %d distinct Message-Ids; want %d of each", len(msgs),
			len(counts), len(ids))
	}
}

// Several users in one call share one connection, and a refused recipient fails only
// that user's mail: the fault names it, the others are sent.
func TestOutboxPerUserOutcome(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{OnRcpt: func(to string) error {
		if to == "santri2@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
				Message: "Mailbox unavailable"}
		}
		return nil
	}})
	ids := e.addUsers(t, 3)
	s := e.store(t, models.OutboxSettings{})
	_, err := reset(t, s, ids...)
	fe, ok := models.AsError(err)
	if !ok || !strings.HasPrefix(fe.Message, "There was an error") ||
		!strings.Contains(fe.Detail, "Santri 2 <santri2@example.org>: mail server") ||
		!strings.Contains(fe.Detail, "550 5.1.1 Mailbox unavailable; the server refused the "+
			"recipient") || !strings.Contains(fe.Detail, "Sent: 2 of 3.") {
		t.Fatalf("error = %#v; want a fault naming santri2's refusal", err)
	}
	if got := e.rows(t, `SELECT state FROM odoo_shim.outbox ORDER BY user_id`); strings.Join(
		got, ",") != "sent,failed,sent" {
		t.Errorf("states %v", got)
	}
	msgs := e.mails.Messages()
	if len(msgs) != 2 || msgs[0].Conn != msgs[1].Conn {
		t.Errorf("%d messages; want 2 over one connection", len(msgs))
	}

	// An Indonesian caller reads the whole answer in Indonesian, the server's reply apart.
	_, err = s.ActionResetPassword(context.Background(), models.ResetRequest{Caller: 2,
		IDs: ids, Context: map[string]any{"lang": "id_ID"}})
	fe, ok = models.AsError(err)
	if !ok || !strings.HasPrefix(fe.Message, "Terdapat error") ||
		!strings.HasPrefix(fe.Detail, "Tidak terkirim:\n") ||
		!strings.Contains(fe.Detail, "Terkirim: 2 dari 3.") {
		t.Errorf("Indonesian error = %#v", err)
	}
}

// The per-server rate limit lets the first mails out and queues the rest for later.
func TestOutboxRateLimit(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{})
	ids := e.addUsers(t, 5)
	s := e.store(t, models.OutboxSettings{RatePerMinute: 3})
	n, err := reset(t, s, ids...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(n.Message, "rate limit") || len(e.mails.Messages()) != 3 {
		t.Errorf("notice %q with %d mails; want 3 sent and the rest queued for the rate "+
			"limit", n.Message, len(e.mails.Messages()))
	}
	got := e.rows(t, `SELECT state || ' ' || attempts FROM odoo_shim.outbox ORDER BY id`)
	if strings.Join(got, ",") != "sent 1,sent 1,sent 1,queued 0,queued 0" {
		t.Errorf("outbox %v", got)
	}
}

// tokenServer is a local OAuth token endpoint that grants access, and counts the grants.
func tokenServer(t *testing.T, access string) (*httptest.Server, *atomic.Int32) {
	var grants atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("refresh_token") != "1//refresh" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		grants.Add(1)
		_, _ = fmt.Fprintf(w, `{"access_token":%q,"expires_in":3599}`, access)
	}))
	t.Cleanup(srv.Close)
	return srv, &grants
}

// A Gmail server with an expired access token: the token is refreshed at the (local)
// endpoint, written back for Odoo, and the mail goes out over XOAUTH2 with it. The next
// reset reuses the stored token.
func TestOutboxGmailOAuth(t *testing.T) {
	const user = "tu@gmail.test"
	e := newOutboxEnv(t, catcher.Options{Tokens: map[string]string{user: "ya29.fresh"},
		Mechanisms: []string{"PLAIN"}, Users: map[string]string{user: "not-this"}})
	modeltest.Exec(t, e.name, `UPDATE ir_mail_server SET smtp_authentication = 'gmail',
		smtp_user = 'tu@gmail.test', google_gmail_access_token = 'ya29.old',
		google_gmail_access_token_expiration = 1000, google_gmail_refresh_token = '1//refresh';
		INSERT INTO ir_config_parameter (key, value) VALUES ('google_gmail_client_id', 'cid'),
			('google_gmail_client_secret', 'secret')`)
	tokens, grants := tokenServer(t, "ya29.fresh")
	s := e.storeWith(t, models.OutboxSettings{}, &oauth.Refresher{GmailURL: tokens.URL})

	for range 2 {
		if _, err := reset(t, s, 6); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.mails.Messages()
	if len(msgs) != 2 || msgs[0].User != user || grants.Load() != 1 {
		t.Fatalf("%d messages (user %q) after %d grants; want 2 as %s after one grant",
			len(msgs), msgs[0].User, grants.Load(), user)
	}
	got := e.rows(t, `SELECT google_gmail_access_token || ' ' ||
		(google_gmail_access_token_expiration > extract(epoch FROM now()) + 3500)
		FROM ir_mail_server`)
	if got[0] != "ya29.fresh true" {
		t.Errorf("stored token %v; want the fresh one, valid for an hour", got)
	}
}

// A revoked refresh token is a permanent failure that says to reconnect the account.
func TestOutboxGmailRevoked(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{Tokens: map[string]string{"tu@gmail.test": "x"}})
	modeltest.Exec(t, e.name, `UPDATE ir_mail_server SET smtp_authentication = 'gmail',
		smtp_user = 'tu@gmail.test', google_gmail_refresh_token = '1//revoked'`)
	tokens, _ := tokenServer(t, "ya29.fresh")
	s := e.storeWith(t, models.OutboxSettings{}, &oauth.Refresher{GmailURL: tokens.URL})
	_, err := reset(t, s, 6)
	fe, ok := models.AsError(err)
	if !ok || !strings.Contains(fe.Detail, "invalid_grant") ||
		!strings.Contains(fe.Detail, "connect the mail server to the account in Odoo again") {
		t.Fatalf("error %#v; want the refused refresh named", err)
	}
}

// On shutdown the mail in flight is finished and recorded; the claimed mails not yet
// tried go back to the queue, untouched, for the next sender.
func TestOutboxShutdown(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	e := newOutboxEnv(t, catcher.Options{OnMail: func(string) error {
		if down.Load() {
			return &smtp.SMTPError{Code: 450, Message: "mailbox busy"}
		}
		return nil
	}, OnData: func([]byte) error {
		time.Sleep(100 * time.Millisecond)
		return nil
	}})
	ids := e.addUsers(t, 20)
	opt := models.OutboxSettings{RetryBase: time.Millisecond, RetryMax: time.Millisecond,
		Poll: 10 * time.Millisecond, Batch: 20, MaxAttempts: 100}
	s := e.store(t, opt)
	if _, err := reset(t, s, ids...); err != nil {
		t.Fatal(err)
	}
	down.Store(false)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.RunOutbox(ctx) }()
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if _, err := e.mails.Wait(wctx, 3); err != nil {
		t.Fatal(err)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("RunOutbox did not stop after the mail in flight")
	}

	sent := len(e.mails.Messages())
	got := e.rows(t, `SELECT count(*) FILTER (WHERE state = 'sent') || ' ' ||
		count(*) FILTER (WHERE state = 'queued' AND body IS NOT NULL) || ' ' ||
		count(lease_token) FROM odoo_shim.outbox`)
	if want := fmt.Sprintf("%d %d 0", sent, len(ids)-sent); got[0] != want || sent >= len(ids) {
		t.Fatalf("sent, queued, leased = %s; want %s with some left", got[0], want)
	}

	run(t, e.store(t, opt))
	if _, err := e.mails.Wait(wctx, len(ids)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	if counts := e.mails.ByMessageID(); len(counts) != len(ids) ||
		len(e.mails.Messages()) != len(ids) {
		t.Errorf("%d messages, %d distinct; want %d once each", len(e.mails.Messages()),
			len(counts), len(ids))
	}
}

// The sender deletes the rows of mails done with for longer than Keep, never queued ones.
func TestOutboxSweep(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{})
	s := e.store(t, models.OutboxSettings{Keep: time.Hour})
	if _, err := reset(t, s, 6, 7); err != nil {
		t.Fatal(err)
	}
	modeltest.Exec(t, e.name, `UPDATE odoo_shim.outbox SET updated_at = updated_at -
		interval '2 hours' WHERE user_id = 6;
		INSERT INTO odoo_shim.outbox (kind, user_id, partner_id, caller_uid, recipient,
			subject, message_id, server_id, server_label, body, stamp, updated_at,
			next_attempt_at)
		VALUES ('reset', 8, 9, 2, 'x@example.org', 's', '<m>', 1, 'l', '{}', now(),
			now() - interval '2 days', now() + interval '1 day')`)
	run(t, s)
	waitRows(t, e, `SELECT user_id || ' ' || state FROM odoo_shim.outbox ORDER BY user_id`,
		"7 sent|8 queued")
}
