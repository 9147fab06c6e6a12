package models_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail"
	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// The server takes the first mail of a batch and its answer is lost, which breaks the
// connection. Only that mail is unconfirmed: the next was never sent, so it is queued and
// goes out on the next attempt.
func TestOutboxBatchAfterUnconfirmed(t *testing.T) {
	var taken atomic.Int32
	e := newOutboxEnv(t, catcher.Options{DropAfterData: func() bool {
		return taken.Add(1) == 1
	}})
	s := e.store(t, models.OutboxSettings{RetryBase: 20 * time.Millisecond,
		Poll: 20 * time.Millisecond})
	n, err := reset(t, s, 6, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(n.Message, models.MsgMailUnconfirmed) ||
		!strings.Contains(n.Message, models.MsgMailQueued) {
		t.Errorf("notice %q; want one mail unconfirmed and one queued", n.Message)
	}
	run(t, s)
	waitRows(t, e, `SELECT user_id || ' ' || state FROM odoo_shim.outbox ORDER BY user_id`,
		"6 unconfirmed|7 sent")
	if ids := messageIDs(e.mails.Messages()); len(ids) != 2 || len(e.mails.Messages()) != 2 {
		t.Errorf("received %v; want each mail once", ids)
	}
}

// With resend_unconfirmed, a mail in doubt on its last attempt stays unconfirmed rather
// than failing: it may have been delivered, so the caller gets no fault and its link
// keeps working.
func TestOutboxResendUnconfirmedLastAttempt(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{DropAfterData: func() bool { return true }})
	s := e.store(t, models.OutboxSettings{MaxAttempts: 1, ResendUnconfirmed: true})
	n, err := reset(t, s, 6)
	if err != nil || !strings.Contains(n.Message, models.MsgMailUnconfirmed) {
		t.Fatalf("answer %+v, %v; want the unconfirmed notice", n, err)
	}
	if strings.Contains(n.Message, "tries again later") {
		t.Errorf("notice %q promises a retry", n.Message)
	}
	waitRows(t, e, `SELECT o.state || ' ' || (o.body IS NOT NULL) || ' ' || o.doubted ||
		' ' || COALESCE(p.signup_type, '-') FROM odoo_shim.outbox o
		JOIN res_partner p ON p.id = o.partner_id`, "unconfirmed true true reset")
}

// A sender killed after the hand-over leaves a mail that looks queued. An operator's
// retry does not send it a second time behind their back: it is settled as unconfirmed
// and the operator told, and only a second retry sends it. Dropping such a mail leaves
// the signup state alone. A mail being sent right now is neither retried nor dropped.
func TestOutboxOperatorAfterCrash(t *testing.T) {
	release := make(chan struct{})
	var hold atomic.Bool
	e := newOutboxEnv(t, catcher.Options{OnRcpt: func(string) error {
		return &smtp.SMTPError{Code: 451, Message: "Try again later"}
	}, OnData: func([]byte) error {
		if hold.Load() {
			<-release
		}
		return nil
	}})
	s := e.store(t, models.OutboxSettings{RetryBase: time.Hour, Poll: 20 * time.Millisecond})
	if _, err := reset(t, s, 6, 7); err != nil {
		t.Fatal(err)
	}
	modeltest.Exec(t, e.name, `UPDATE odoo_shim.outbox SET lease_token = 'dead',
		leased_by = 'killed', lease_until = now() AT TIME ZONE 'UTC' - interval '1s',
		handed_at = now() AT TIME ZONE 'UTC'`)
	ids := e.rows(t, `SELECT id FROM odoo_shim.outbox ORDER BY user_id`)
	first, second := mustID(t, ids[0]), mustID(t, ids[1])

	ctx := context.Background()
	if _, err := s.RetryMail(ctx, first); err == nil ||
		!strings.Contains(err.Error(), "may have been delivered") {
		t.Fatalf("retry after the crash = %v; want the mail reported unconfirmed", err)
	}
	if err := s.DropMail(ctx, second); err != nil {
		t.Fatal(err)
	}
	waitRows(t, e, `SELECT o.state || ' ' || COALESCE(p.signup_type, '-')
		FROM odoo_shim.outbox o JOIN res_partner p ON p.id = o.partner_id
		ORDER BY o.user_id`, "unconfirmed reset|dropped reset")

	// A mail in flight, its answer not come yet.
	modeltest.Exec(t, e.name, `UPDATE odoo_shim.outbox SET lease_token = 'busy',
		lease_until = now() AT TIME ZONE 'UTC' + interval '1 hour' WHERE user_id = 6`)
	hold.Store(true)
	defer close(release)
	if _, err := s.RetryMail(ctx, first); err == nil ||
		!strings.Contains(err.Error(), "being sent right now") {
		t.Errorf("retry in flight = %v; want it refused", err)
	}
	if len(e.mails.Messages()) != 0 {
		t.Errorf("%d mails sent; want none", len(e.mails.Messages()))
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// A server slow enough that an attempt outlasts its time: the outcome is still recorded,
// attempts are counted, and after the last one the mail fails and its signup state is
// put back.
func TestOutboxAttemptOutOfTime(t *testing.T) {
	slow := func(string) error { time.Sleep(700 * time.Millisecond); return nil }
	e := newOutboxEnv(t, catcher.Options{GreetingDelay: 700 * time.Millisecond,
		OnMail: slow, OnRcpt: slow})
	s := e.store(t, models.OutboxSettings{Lease: 2 * time.Second, MaxAttempts: 2,
		RetryBase: 20 * time.Millisecond, RetryMax: 20 * time.Millisecond,
		Poll: 20 * time.Millisecond})
	if _, err := reset(t, s, 6); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	waitRows(t, e, `SELECT o.state || ' ' || o.attempts || ' ' || COALESCE(p.signup_type, '-')
		FROM odoo_shim.outbox o JOIN res_partner p ON p.id = o.partner_id`, "failed 2 -")
}

// A content filter that quotes the link in its refusal: the token appears in no log, no
// outbox row and no answer.
func TestOutboxRefusalQuotingTheLink(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{OnData: func(msg []byte) error {
		i := strings.Index(string(msg), "token=")
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1},
			Message: "blocked URL found: http://x/web/reset_password?" + string(msg[i:i+60])}
	}})
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := models.Open(context.Background(), e.dsn, models.Settings{
		Hasher: models.NewHasher(2), Mailer: &mail.Sender{Timeout: 2 * time.Second,
			Logger: log}, Logger: log,
		Fallback:  models.MailServer{Host: "localhost", Port: 25},
		MessageID: func() string { id, _ := mail.NewMessageID(time.Now(), "test"); return id }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	_, err = reset(t, s, 6)
	fault, ok := models.AsError(err)
	if !ok {
		t.Fatalf("reset = %v; want a delivery fault", err)
	}
	stored := e.rows(t, `SELECT last_error FROM odoo_shim.outbox`)
	for what, text := range map[string]string{"fault": fault.Message + fault.Detail,
		"log": logs.String(), "outbox": strings.Join(stored, "")} {
		if !strings.Contains(text, "blocked URL found") ||
			strings.Contains(strings.ReplaceAll(text, "token=[token]", ""), "token=") {
			t.Errorf("%s holds the token or lacks the reply:\n%s", what, text)
		}
	}
}

// Five calls at once against a daily quota of two: two mails go out, the others wait.
func TestOutboxQuotaUnderConcurrency(t *testing.T) {
	e := newOutboxEnv(t, catcher.Options{OnRcpt: func(string) error {
		time.Sleep(100 * time.Millisecond)
		return nil
	}})
	s := e.store(t, models.OutboxSettings{DailyQuota: 2})
	ids := e.addUsers(t, 5)
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := reset(t, s, id); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	waitRows(t, e, `SELECT count(*) FILTER (WHERE state = 'sent') || ' ' ||
		count(*) FILTER (WHERE state = 'queued') FROM odoo_shim.outbox`, "2 3")
	if n := len(e.mails.Messages()); n != 2 {
		t.Errorf("%d mails delivered; want 2", n)
	}
}

// A queued row whose body cannot be read fails alone; the rest of its batch goes out.
func TestOutboxUnreadableRow(t *testing.T) {
	busy, refuse := busyRecipients()
	e := newOutboxEnv(t, catcher.Options{OnRcpt: refuse})
	s := e.store(t, models.OutboxSettings{RetryBase: 20 * time.Millisecond,
		Poll: 20 * time.Millisecond})
	if _, err := reset(t, s, 6); err != nil {
		t.Fatal(err)
	}
	modeltest.Exec(t, e.name, `INSERT INTO odoo_shim.outbox (kind, user_id, partner_id,
			caller_uid, recipient, subject, message_id, server_id, server_label, body, stamp)
		VALUES ('reset', 8, 9, 2, 'x@example.org', 's', '<m>', 1, 'l', '[1]', now())`)
	busy.Store(false)
	run(t, s)
	waitRows(t, e, `SELECT user_id || ' ' || state FROM odoo_shim.outbox ORDER BY user_id`,
		"6 sent|8 failed")
}
