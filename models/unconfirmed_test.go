package models_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// The server takes the whole first mail and its answer is lost. By default the mail is
// kept unconfirmed, not sent again; the caller is told so, and an operator's retry sends
// it again with the same Message-Id. With ResendUnconfirmed the sender sends it again by
// itself.
func TestOutboxUnconfirmed(t *testing.T) {
	tests := []struct {
		name   string
		resend bool
		notice string
	}{
		{"kept for an operator", false, models.MsgMailUnconfirmed},
		{"sent again", true, models.MsgMailQueued},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var taken atomic.Int32
			e := newOutboxEnv(t, catcher.Options{DropAfterData: func() bool {
				return taken.Add(1) == 1
			}})
			s := e.store(t, models.OutboxSettings{RetryBase: 20 * time.Millisecond,
				Poll: 20 * time.Millisecond, ResendUnconfirmed: tt.resend})

			n, err := reset(t, s, 6)
			if err != nil {
				t.Fatal(err)
			}
			if !n.Sticky || !strings.Contains(n.Message, tt.notice) {
				t.Fatalf("notice = %+v; want %q", n, tt.notice)
			}
			run(t, s)
			if tt.resend {
				waitRows(t, e, `SELECT state || ' ' || attempts FROM odoo_shim.outbox`,
					"sent 2")
				assertCopies(t, e, 2)
				return
			}

			time.Sleep(200 * time.Millisecond) // several rounds of the sender
			waitRows(t, e, `SELECT state || ' ' || (body IS NOT NULL) || ' ' ||
				(handed_at IS NOT NULL) FROM odoo_shim.outbox`, "unconfirmed true true")
			assertCopies(t, e, 1)

			id := mustID(t, e.rows(t, `SELECT id FROM odoo_shim.outbox`)[0])
			if _, err := s.RetryMail(context.Background(), id); err != nil {
				t.Fatal(err)
			}
			waitRows(t, e, `SELECT state || ' ' || (body IS NULL) FROM odoo_shim.outbox`,
				"sent true")
			assertCopies(t, e, 2)
		})
	}
}

// assertCopies checks that the catcher holds n copies of one and the same message.
func assertCopies(t *testing.T, e *outboxEnv, n int) {
	t.Helper()
	msgs := e.mails.Messages()
	ids := messageIDs(msgs)
	if len(msgs) != n || len(ids) != 1 {
		t.Fatalf("%d messages with Message-Ids %v; want %d copies of one", len(msgs), ids, n)
	}
}

// A sender that lost its lease after handing a mail's end of data over (it was killed,
// say) leaves that mail unconfirmed for the next sender, which does not send it; a mail
// whose sender died before that point is simply sent.
func TestOutboxInterruptedSender(t *testing.T) {
	for _, resend := range []bool{false, true} {
		t.Run("resend="+strconv.FormatBool(resend), func(t *testing.T) {
			busy, refuse := busyRecipients()
			e := newOutboxEnv(t, catcher.Options{OnRcpt: refuse})
			s := e.store(t, models.OutboxSettings{RetryBase: time.Hour,
				Poll: 20 * time.Millisecond, ResendUnconfirmed: resend})
			if _, err := reset(t, s, 6, 7); err != nil {
				t.Fatal(err)
			}
			// What a sender killed in the middle leaves: both mails leased, long expired;
			// user 6's end of data had been handed over, user 7's not.
			modeltest.Exec(t, e.name, `UPDATE odoo_shim.outbox SET lease_token = 'dead',
				leased_by = 'killed', lease_until = now() AT TIME ZONE 'UTC' - interval '1s',
				next_attempt_at = now() AT TIME ZONE 'UTC',
				handed_at = CASE WHEN user_id = 6 THEN now() AT TIME ZONE 'UTC' END`)
			busy.Store(false)
			run(t, s)

			want := "6 unconfirmed true|7 sent false"
			if resend {
				want = "6 sent false|7 sent false"
			}
			waitRows(t, e, `SELECT user_id || ' ' || state || ' ' || (body IS NOT NULL)
				FROM odoo_shim.outbox ORDER BY user_id`, want)
			if got, want := len(e.mails.Messages()), map[bool]int{false: 1, true: 2}[resend]; got != want {
				t.Errorf("%d mails delivered; want %d", got, want)
			}
		})
	}
}

// busyRecipients returns a flag, set, and a RCPT hook that answers 451 while it stays set:
// a server turning mails away for a while.
func busyRecipients() (*atomic.Bool, func(string) error) {
	busy := new(atomic.Bool)
	busy.Store(true)
	return busy, func(string) error {
		if busy.Load() {
			return &smtp.SMTPError{Code: 451, Message: "Try again later"}
		}
		return nil
	}
}
