package models

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// OutboxEntry is what an operator sees of one queued mail: never its body or link.
type OutboxEntry struct {
	ID          int64          `db:"id"`
	State       string         `db:"state"`
	Kind        string         `db:"kind"`
	UserID      int64          `db:"user_id"`
	Recipient   string         `db:"recipient"`
	Subject     string         `db:"subject"`
	Server      string         `db:"server_label"`
	Attempts    int            `db:"attempts"`
	NextAttempt time.Time      `db:"next_attempt_at"`
	LastCode    sql.NullInt64  `db:"last_code"`
	LastError   sql.NullString `db:"last_error"`
	CreatedAt   time.Time      `db:"created_at"`
	SentAt      sql.NullTime   `db:"sent_at"`
	HandedAt    sql.NullTime   `db:"handed_at"` // when its end of data went out, if it did
	LeasedBy    sql.NullString `db:"leased_by"`
	Leased      bool           `db:"leased"`
}

// OutboxEntries lists the outbox, newest first, at most limit rows, in one state or all
// ("").
func (s *Store) OutboxEntries(ctx context.Context, state string, limit int) ([]OutboxEntry,
	error) {
	// A mail whose sender died after handing it over is unconfirmed, not queued: say so
	// even when no sender has run since.
	if err := s.settle(ctx); err != nil {
		return nil, err
	}
	var out []OutboxEntry
	err := s.db.SelectContext(ctx, &out, `
		SELECT id, state, kind, user_id, recipient, subject, server_label, attempts,
			next_attempt_at, last_code, last_error, created_at, sent_at, handed_at, leased_by,
			COALESCE(lease_until > now() AT TIME ZONE 'UTC', false) AS leased
		FROM odoo_shim.outbox
		WHERE $1 = '' OR state = $1
		ORDER BY id DESC
		LIMIT $2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// ErrNoSuchMail is returned for an outbox id that does not exist.
var ErrNoSuchMail = errors.New("no such mail in the outbox")

// RetryMail sends a mail again. A queued mail becomes due now, with its attempts counted
// afresh; so does an unconfirmed one that still has its body, sent again with its own
// Message-Id. A failed or dropped mail no longer has its body (its link was live): the
// user is reset again, as the original caller did, which queues a new mail; its notice is
// returned.
func (s *Store) RetryMail(ctx context.Context, id int64) (string, error) {
	settled, err := s.settleOne(ctx, id)
	if err != nil {
		return "", err
	}
	if settled {
		return "", fmt.Errorf("mail %d may have been delivered: its whole content went out "+
			"just before its sender stopped. It is now unconfirmed; ask the user, and run "+
			"--retry %d again to send it anyway", id, id)
	}

	var row struct {
		State   string `db:"state"`
		UserID  int64  `db:"user_id"`
		Caller  int64  `db:"caller_uid"`
		Kind    string `db:"kind"`
		HasBody bool   `db:"has_body"`
		Leased  bool   `db:"leased"`
	}
	err = s.db.GetContext(ctx, &row, `SELECT state, user_id, caller_uid, kind,
			body IS NOT NULL AS has_body,
			COALESCE(lease_until > now() AT TIME ZONE 'UTC', false) AS leased
		FROM odoo_shim.outbox WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("mail %d: %w", id, ErrNoSuchMail)
	}
	if err != nil {
		return "", fmt.Errorf("read mail %d: %w", id, err)
	}

	switch {
	case row.Leased:
		return "", fmt.Errorf("mail %d is being sent right now; try again in a moment", id)
	case row.State == StateQueued || row.State == StateUnconfirmed && row.HasBody:
		res, err := s.db.ExecContext(ctx, `UPDATE odoo_shim.outbox
			SET state = 'queued', handed_at = NULL, counted_at = NULL,
				next_attempt_at = now() AT TIME ZONE 'UTC', attempts = 0,
				updated_at = now() AT TIME ZONE 'UTC'
			WHERE id = $1 AND state = $2
				AND (lease_until IS NULL OR lease_until < now() AT TIME ZONE 'UTC')`,
			id, row.State)
		if err == nil {
			err = leaseHeld(res, nil)
		}
		if err != nil {
			return "", fmt.Errorf("retry mail %d: %w", id, err)
		}
		s.kick()
		return fmt.Sprintf("mail %d is due now", id), nil
	case row.State == StateSent:
		return "", fmt.Errorf("mail %d was sent already", id)
	}
	callCtx := map[string]any{}
	if row.Kind == "signup" {
		callCtx["create_user"] = true
	}
	n, err := s.ActionResetPassword(ctx, ResetRequest{Caller: row.Caller,
		IDs: []int64{row.UserID}, Context: callCtx})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("user %d reset again: %s", row.UserID, n.Message), nil
}

// DropMail gives up a queued mail: its body is erased and the partner's signup state put
// back. A mail a sender holds right now cannot be dropped until that attempt ends. An
// unconfirmed mail loses its body only: its link may be in the user's mailbox.
func (s *Store) DropMail(ctx context.Context, id int64) error {
	if _, err := s.settleOne(ctx, id); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx sqlx.ExtContext) error {
		var state string
		var leased bool
		err := tx.QueryRowxContext(ctx, `SELECT state,
				COALESCE(lease_until > now() AT TIME ZONE 'UTC', false)
			FROM odoo_shim.outbox WHERE id = $1 FOR UPDATE`, id).Scan(&state, &leased)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("mail %d: %w", id, ErrNoSuchMail)
		case err != nil:
			return fmt.Errorf("read mail %d: %w", id, err)
		case state != StateQueued && state != StateUnconfirmed:
			return fmt.Errorf("mail %d is %s, not queued: nothing to drop", id, state)
		case leased:
			return fmt.Errorf("mail %d is being sent right now; try again in a moment", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE odoo_shim.outbox
			SET state = 'dropped', body = NULL, updated_at = now() AT TIME ZONE 'UTC'
			WHERE id = $1`, id); err != nil {
			return fmt.Errorf("drop mail %d: %w", id, err)
		}
		if state == StateUnconfirmed {
			return nil
		}
		return restoreSignup(ctx, tx, id, s.info.StoredTokens)
	})
}

// PrepareServer returns srv ready for a connection: with a fresh OAuth access token for
// gmail and outlook authentication.
func (s *Store) PrepareServer(ctx context.Context, srv MailServer) (MailServer, error) {
	return s.authorize(ctx, srv)
}

// FallbackServer is the odoo.conf server Odoo uses when the database has no row.
func (s *Store) FallbackServer() MailServer { return s.set.Fallback }

// MsgTestNoEmail is Odoo's answer when a connection test has no sender address to use.
const MsgTestNoEmail = "Please configure an email on the current user to simulate " +
	"sending an email message via this outgoing server"

// TestFrom returns the sender address Odoo's Test Connection uses for srv: an address in
// its from_filter, else an address at the filter's first domain (the notifications
// address when it fits), else userEmail, the address of whoever runs the test.
func (s *Store) TestFrom(ctx context.Context, srv MailServer, userEmail string) (string,
	error) {
	srv.WholeFilter = s.info.Major < 17
	parts := srv.filterParts()
	for _, p := range parts {
		if strings.Contains(p, "@") {
			return p, nil
		}
	}
	if len(parts) == 0 {
		if userEmail == "" {
			return "", NewError(KindUserError, MsgTestNoEmail)
		}
		return userEmail, nil
	}
	return s.testFromDomain(ctx, srv, parts[0])
}

func (s *Store) testFromDomain(ctx context.Context, srv MailServer, domain string) (string,
	error) {
	local := "noreply"
	switch {
	case s.info.Major >= 19:
		local = "odoo"
	case s.info.Major == 15:
		p, err := params(ctx, s.db, "mail.default.from")
		if err != nil {
			return "", err
		}
		return cmp.Or(p["mail.default.from"], "odoo") + "@" + domain, nil
	}

	senders, err := s.companySenders(ctx, s.db)
	if err != nil {
		return "", err
	}
	for _, id := range slices.Sorted(maps.Keys(senders)) {
		if n := senders[id].notifications; n != "" && partsMatch(srv.filterParts(), n) {
			return bareAddress(n), nil
		}
	}
	return local + "@" + domain, nil
}

// UserEmail returns the e-mail address of a user, "" when it has none.
func (s *Store) UserEmail(ctx context.Context, uid int64) (string, error) {
	var email sql.NullString
	err := s.db.GetContext(ctx, &email, `SELECT p.email FROM res_users u
		JOIN res_partner p ON p.id = u.partner_id WHERE u.id = $1`, uid)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("read user %d: %w", uid, err)
	}
	return bareAddress(email.String), nil
}
