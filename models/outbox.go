package models

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
)

// outboxSchema is odoo-shim's mail queue. It lives in odoo-shim's own schema: a row in
// Odoo's mail_mail would also be sent by Odoo's own queue. body holds the composed mail,
// with its live link, and is erased as soon as the mail is sent, failed or dropped; the
// other columns stay for operators. The prior_* columns and stamp are what the reset
// overwrote on the partner, to put back when the mail never goes out.
const outboxSchema = `
CREATE TABLE odoo_shim.outbox (
	id bigserial PRIMARY KEY,
	created_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
	updated_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
	state text NOT NULL DEFAULT 'queued'
		CHECK (state IN ('queued', 'sent', 'failed', 'dropped')),
	kind text NOT NULL,
	user_id bigint NOT NULL,
	partner_id bigint NOT NULL,
	caller_uid bigint NOT NULL,
	recipient text NOT NULL,
	subject text NOT NULL,
	message_id text NOT NULL,
	server_id bigint NOT NULL,
	server_label text NOT NULL,
	body jsonb,
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
	lease_until timestamp,
	lease_token text,
	leased_by text,
	last_code integer,
	last_error text,
	sent_at timestamp,
	prior_signup_type varchar,
	prior_write_uid integer,
	prior_write_date timestamp,
	stamp timestamp NOT NULL
);
CREATE INDEX outbox_due ON odoo_shim.outbox (next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX outbox_sent ON odoo_shim.outbox (server_id, sent_at) WHERE state = 'sent'`

// outboxHandOver records when a mail's end of data was about to go out (handed_at). A
// mail whose sender vanished after that point may have been delivered: it becomes
// 'unconfirmed' instead of being sent a second time.
const outboxHandOver = `
ALTER TABLE odoo_shim.outbox
	ADD COLUMN handed_at timestamp,
	DROP CONSTRAINT outbox_state_check,
	ADD CONSTRAINT outbox_state_check
		CHECK (state IN ('queued', 'sent', 'failed', 'dropped', 'unconfirmed'))`

// outboxDoubtAndQuota adds doubted, set once a mail may have been delivered (it was
// unconfirmed at some point): giving it up then leaves the partner's signup state alone,
// since its link may be in the mailbox. counted_at marks the mails a server's rate limit
// and daily quota count: reserved under a lock before they are sent, kept once sent.
const outboxDoubtAndQuota = `
ALTER TABLE odoo_shim.outbox
	ADD COLUMN doubted boolean NOT NULL DEFAULT false,
	ADD COLUMN counted_at timestamp;
UPDATE odoo_shim.outbox SET counted_at = sent_at WHERE state = 'sent';
DROP INDEX odoo_shim.outbox_sent;
CREATE INDEX outbox_counted ON odoo_shim.outbox (server_id, counted_at)
	WHERE counted_at IS NOT NULL`

// outboxHandedIndex lets every sender round find the mails to settle (handed over, still
// queued: almost always none) without reading the whole queue, which an outage can fill.
const outboxHandedIndex = `
CREATE INDEX outbox_handed ON odoo_shim.outbox (id)
	WHERE state = 'queued' AND handed_at IS NOT NULL`

// Outbox states.
const (
	StateQueued  = "queued"
	StateSent    = "sent"
	StateFailed  = "failed"
	StateDropped = "dropped"
	// StateUnconfirmed is a mail whose whole content went out without a reply from the
	// server, or whose sender stopped right then: the server may have taken it. It keeps
	// its body until an operator retries or drops it, or unconfirmedKeep passes.
	StateUnconfirmed = "unconfirmed"
)

// OutboxSettings tune the mail queue. Zero values take the defaults below.
type OutboxSettings struct {
	// Wait is how long a reset call waits for the first delivery attempt before it answers
	// that the mail is queued.
	Wait        time.Duration
	MaxAttempts int           // attempts before a temporarily failing mail is given up
	RetryBase   time.Duration // delay after the first failed attempt; doubles each time
	RetryMax    time.Duration // longest delay between attempts
	// Lease is how long a claimed mail is reserved for one sender. A sender that dies
	// loses its claim after this; every send is bounded to finish well within it.
	Lease time.Duration
	Poll  time.Duration // how often the sender looks for due mails
	Batch int           // mails claimed, and sent over one connection, at a time
	// RatePerMinute and DailyQuota limit the mails sent through one server (0: no limit),
	// counted over every instance sharing the outbox. Gmail allows about 2,000 a day.
	RatePerMinute int
	DailyQuota    int
	Instance      string // names this instance in leased_by; "" means a random name
	// Keep is how long the metadata of sent, failed and dropped mails stays; the sender
	// deletes older rows. Queued mails are never deleted.
	Keep time.Duration
	// ResendUnconfirmed sends a mail again when its whole content went out without a
	// reply (or its sender died right then), with the same Message-Id: a mail is then never
	// left in doubt, but may arrive twice. By default such a mail is kept as
	// StateUnconfirmed for an operator instead.
	ResendUnconfirmed bool
}

// Outbox defaults.
const (
	DefaultMailWait    = 10 * time.Second
	DefaultMaxAttempts = 8
	DefaultRetryBase   = 30 * time.Second
	DefaultRetryMax    = time.Hour
	DefaultLease       = 5 * time.Minute
	DefaultPoll        = time.Second
	DefaultBatch       = 50
	DefaultKeep        = 90 * 24 * time.Hour
	// sweepEvery is how often a sender deletes rows older than Keep.
	sweepEvery = time.Hour
	// unconfirmedKeep is how long an unconfirmed mail keeps its body (and live link) for a
	// retry; after that a retry resets the user again, as for a failed mail.
	unconfirmedKeep = 24 * time.Hour
)

func (o OutboxSettings) withDefaults() OutboxSettings {
	set := func(d *time.Duration, def time.Duration) {
		if *d <= 0 {
			*d = def
		}
	}
	set(&o.Wait, DefaultMailWait)
	set(&o.RetryBase, DefaultRetryBase)
	set(&o.RetryMax, DefaultRetryMax)
	set(&o.Lease, DefaultLease)
	set(&o.Poll, DefaultPoll)
	set(&o.Keep, DefaultKeep)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Instance == "" {
		o.Instance = "odoo-shim-" + randomToken()[:8]
	}
	return o
}

// sendBudget is how long one attempt may take: it ends before the lease does, so that no
// other sender can claim a mail that is still being sent. No new mail is started after
// half of it (softBudget): the rest of a long batch is handed back to the queue rather
// than cut in the middle of a transaction, where the server may have taken the mail.
func (o OutboxSettings) sendBudget() time.Duration { return o.Lease * 9 / 10 }

func (o OutboxSettings) softBudget() time.Duration { return o.Lease / 2 }

func randomToken() string {
	var b [16]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// job is one queued mail in the hands of a sender.
type job struct {
	id       int64
	token    string // the lease token; writes check it so a lost claim changes nothing
	userID   int64
	serverID int64
	server   *MailServer // known when the mail was just composed; else read again
	mail     ResetMail
	attempts int       // attempts made before this one
	leasedAt time.Time // before the lease was taken: the lease ends Lease after this
	handed   bool      // this attempt recorded the hand-over of its end of data
}

// result is what one attempt did to one mail.
type result struct {
	job   *job
	state string        // StateSent, StateQueued or StateFailed
	err   error         // the delivery error, nil when sent
	delay time.Duration // for StateQueued: until the next attempt
}

// enqueue writes one outbox row per mail inside the reset's transaction, so that the
// signup state and its mail exist together or not at all. The rows are leased to the
// caller's first attempt. However many mails, it costs two statements: the ids are drawn
// first, then every row goes in as one JSON array.
func (s *Store) enqueue(ctx context.Context, tx *sqlx.Tx, mails []*outgoing,
	prior *priorState) ([]*job, error) {
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `
		SELECT nextval('odoo_shim.outbox_id_seq') FROM generate_series(1, $1)`,
		len(mails)); err != nil {
		return nil, fmt.Errorf("queue mail: %w", err)
	}

	token, leasedAt := randomToken(), time.Now()
	rows := make([]outboxRow, len(mails))
	jobs := make([]*job, len(mails))
	for i, o := range mails {
		if o.mail.MessageID == "" && s.set.MessageID != nil {
			o.mail.MessageID = s.set.MessageID()
		}
		body, err := json.Marshal(o.mail)
		if err != nil {
			return nil, fmt.Errorf("queue mail: %w", err)
		}
		rows[i] = newOutboxRow(ids[i], o, body, prior.partners[o.partnerID])
		srv := o.server
		jobs[i] = &job{id: ids[i], token: token, userID: o.userID, serverID: srv.ID,
			server: &srv, mail: o.mail, leasedAt: leasedAt}
	}
	batch, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("queue mail: %w", err)
	}

	_, err = tx.ExecContext(ctx, `
		INSERT INTO odoo_shim.outbox (id, kind, user_id, partner_id, caller_uid, recipient,
			subject, message_id, server_id, server_label, body, lease_until, lease_token,
			leased_by, prior_signup_type, prior_write_uid, prior_write_date, stamp,
			prior_signup_token, prior_signup_expiration)
		SELECT r.id, r.kind, r.user_id, r.partner_id, $2, r.recipient, r.subject,
			r.message_id, r.server_id, r.server_label, r.body,
			(clock_timestamp() AT TIME ZONE 'UTC') + $3 * interval '1 millisecond', $4, $5,
			r.prior_signup_type, r.prior_write_uid, r.prior_write_date, $6,
			r.prior_signup_token, r.prior_signup_expiration
		FROM jsonb_to_recordset($1::jsonb) AS r(id bigint, kind text, user_id bigint,
			partner_id bigint, recipient text, subject text, message_id text,
			server_id bigint, server_label text, body jsonb, prior_signup_type varchar,
			prior_write_uid integer, prior_write_date timestamp, prior_signup_token varchar,
			prior_signup_expiration timestamp)`,
		string(batch), prior.caller, s.set.Outbox.Lease.Milliseconds(), token,
		s.set.Outbox.Instance, prior.stamp)
	if err != nil {
		return nil, fmt.Errorf("queue mail: %w", err)
	}
	return jobs, nil
}

// outboxRow is one outbox row as enqueue sends it; nil pointers are SQL NULLs.
type outboxRow struct {
	ID               int64           `json:"id"`
	Kind             string          `json:"kind"`
	UserID           int64           `json:"user_id"`
	PartnerID        int64           `json:"partner_id"`
	Recipient        string          `json:"recipient"`
	Subject          string          `json:"subject"`
	MessageID        string          `json:"message_id"`
	ServerID         int64           `json:"server_id"`
	ServerLabel      string          `json:"server_label"`
	Body             json.RawMessage `json:"body"`
	SignupType       *string         `json:"prior_signup_type"`
	WriteUID         *int64          `json:"prior_write_uid"`
	WriteDate        *string         `json:"prior_write_date"`
	SignupToken      *string         `json:"prior_signup_token"`
	SignupExpiration *string         `json:"prior_signup_expiration"`
}

func newOutboxRow(id int64, o *outgoing, body []byte, old partnerRow) outboxRow {
	r := outboxRow{ID: id, Kind: o.mail.Kind, UserID: o.userID, PartnerID: o.partnerID,
		Recipient: o.mail.To, Subject: o.mail.Subject, MessageID: o.mail.MessageID,
		ServerID: o.server.ID, ServerLabel: o.server.Label(), Body: body}
	if old.SignupType.Valid {
		r.SignupType = &old.SignupType.String
	}
	if old.WriteUID.Valid {
		r.WriteUID = &old.WriteUID.Int64
	}
	r.WriteDate = sqlTimestamp(old.WriteDate)
	if old.SignupToken.Valid {
		r.SignupToken = &old.SignupToken.String
	}
	r.SignupExpiration = sqlTimestamp(old.SignupExpiration)
	return r
}

// sqlTimestamp writes a timestamp without time zone to the microsecond, as stored.
func sqlTimestamp(t sql.NullTime) *string {
	if !t.Valid {
		return nil
	}
	v := t.Time.Format("2006-01-02 15:04:05.999999")
	return &v
}

// attempt sends the jobs, grouped by server, and records each outcome. It runs detached
// from the caller's context, bounded by the lease, so that a caller going away never cuts
// a mail transaction in half.
func (s *Store) attempt(ctx context.Context, jobs []*job) []result {
	// The budget counts from before the lease was taken (clock_timestamp() in SQL), so it
	// ends before the lease does however long the reset's transaction took.
	start := jobs[0].leasedAt
	ctx, cancel := context.WithDeadline(context.WithoutCancel(ctx),
		start.Add(s.set.Outbox.sendBudget()))
	defer cancel()
	soft := start.Add(s.set.Outbox.softBudget())
	more := func() bool { return !s.work.stopping.Load() && time.Now().Before(soft) }

	var out []result
	for _, group := range jobsByServer(jobs) {
		if !more() {
			out = append(out, s.handBack(group)...)
			continue
		}
		out = append(out, s.attemptServer(ctx, group, more)...)
	}
	return out
}

// handBack returns jobs to the queue untried, for this or another sender's next round.
func (s *Store) handBack(jobs []*job) []result {
	s.release(jobs)
	out := make([]result, len(jobs))
	for i, j := range jobs {
		out[i] = result{job: j, state: StateQueued, err: errHandedBack}
	}
	return out
}

// attemptServer sends one server's jobs over one connection, within its rate limit,
// starting each mail only while more says so.
func (s *Store) attemptServer(ctx context.Context, jobs []*job, more func() bool) []result {
	// Until the row is read again, the server is known by its id (for the log).
	srv := MailServer{ID: jobs[0].serverID}
	if s.set.Mailer == nil {
		return s.finishAll(ctx, jobs, srv, errors.New("no mailer configured"))
	}
	srv, err := s.serverFor(ctx, jobs[0])
	if err != nil {
		return s.finishAll(ctx, jobs, MailServer{ID: jobs[0].serverID}, err)
	}

	allowed, wait, err := s.allowance(ctx, srv.ID, jobs)
	if err != nil {
		return s.finishAll(ctx, jobs, srv, err)
	}
	var out []result
	for _, j := range jobs[allowed:] {
		out = append(out, s.defer_(ctx, j, wait))
	}
	jobs = jobs[:allowed]
	if len(jobs) == 0 {
		return out
	}

	return append(out, s.stream(ctx, srv, jobs, more)...)
}

func jobMails(jobs []*job) []ResetMail {
	mails := make([]ResetMail, len(jobs))
	for i, j := range jobs {
		mails[i] = j.mail
	}
	return mails
}

// stream sends jobs through the Mailer. Each mail's hand-over is recorded before its end of data
// goes out, and its outcome as soon as the server has answered.
func (s *Store) stream(ctx context.Context, srv MailServer, jobs []*job,
	more func() bool) []result {
	var out []result
	record := func(i int, err error) { out = append(out, s.finish(ctx, jobs[i], srv, err)) }
	wait := func() {}
	if len(jobs) > 1 {
		// Outcomes are recorded by a second goroutine while the next mail goes out, so a
		// batch costs the slower of SMTP and PostgreSQL rather than both. The hand-over is
		// unbuffered: at most one accepted mail waits to be recorded besides the one being
		// recorded, which bounds what a crash leaves unconfirmed.
		outcomes := make(chan outcome)
		recorded := make(chan []result)
		go func() {
			var rs []result
			for o := range outcomes {
				rs = append(rs, s.finish(ctx, jobs[o.i], srv, o.err))
			}
			recorded <- rs
		}()
		record = func(i int, err error) { outcomes <- outcome{i, err} }
		wait = func() { close(outcomes); out = <-recorded }
	}

	reported := 0
	err := s.set.Mailer.SendEach(ctx, srv, jobMails(jobs), SendHooks{
		Committing: func(i int) error { return s.handOver(ctx, jobs[i]) },
		Report: func(i int, err error) bool {
			record(i, err)
			reported++
			return more()
		},
	})
	wait()
	switch {
	case err != nil:
		out = append(out, s.finishAll(ctx, jobs[reported:], srv, err)...)
	case reported < len(jobs):
		// Shutting down, or out of time: the mail in flight was finished, the rest
		// wait for the next round.
		out = append(out, s.handBack(jobs[reported:])...)
	}
	return out
}

const handOverSQL = `
	UPDATE odoo_shim.outbox SET handed_at = clock_timestamp() AT TIME ZONE 'UTC'
	WHERE id = $1 AND lease_token = $2`

// handOver records that j's end of data is about to go out, while j's lease still holds.
// From here on a sender that disappears leaves j unconfirmed rather than due again.
func (s *Store) handOver(ctx context.Context, j *job) error {
	if err := leaseHeld(s.stmts.handOver.ExecContext(ctx, j.id, j.token)); err != nil {
		return fmt.Errorf("record hand-over of mail %d: %w", j.id, err)
	}
	j.handed = true
	return nil
}

// outcome is what the mail server said about mail i of a batch.
type outcome struct {
	i   int
	err error
}

// serverFor returns the server a job goes through: the one it was composed for, else the
// row as it is now (a fixed password or a refreshed token then takes effect).
func (s *Store) serverFor(ctx context.Context, j *job) (MailServer, error) {
	srv := s.set.Fallback
	switch {
	case j.server != nil:
		srv = *j.server
	case j.serverID != 0:
		servers, err := s.mailServersByID(ctx, s.db, j.serverID)
		if err != nil {
			return MailServer{}, err
		}
		if len(servers) == 0 {
			return MailServer{}, &DeliveryError{Server: fmt.Sprintf("ir_mail_server %d",
				j.serverID), Stage: StageConnect, Err: errors.New("the mail server row was " +
				"deleted or archived after the mail was queued")}
		}
		srv = servers[0]
	}
	return s.authorize(ctx, srv)
}

func (s *Store) finishAll(ctx context.Context, jobs []*job, srv MailServer,
	err error) []result {
	out := make([]result, len(jobs))
	for i, j := range jobs {
		out[i] = s.finish(ctx, j, srv, err)
	}
	return out
}

const outcomeSQL = `
	UPDATE odoo_shim.outbox
	SET state = $3, attempts = attempts + 1, last_code = $4, last_error = $5,
		lease_until = NULL, lease_token = NULL,
		updated_at = now() AT TIME ZONE 'UTC',
		next_attempt_at = (now() AT TIME ZONE 'UTC') + $6 * interval '1 millisecond',
		sent_at = CASE WHEN $3 = 'sent' THEN now() AT TIME ZONE 'UTC' END,
		body = CASE WHEN $3 IN ('queued', 'unconfirmed') THEN body END,
		handed_at = CASE WHEN $3 <> 'queued' THEN handed_at END,
		doubted = doubted OR $7,
		counted_at = CASE WHEN $3 = 'sent' THEN COALESCE(counted_at, now() AT TIME ZONE 'UTC')
			WHEN $3 = 'unconfirmed' THEN counted_at END
	WHERE id = $1 AND lease_token = $2`

// leaseHeld turns the result of a write guarded by a lease token into errLeaseLost when
// it changed nothing.
func leaseHeld(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errLeaseLost
	}
	return nil
}

// finish records one attempt's outcome: sent (the body is erased), queued again after a
// backoff, unconfirmed, or failed for good (the body is erased and the partner's signup
// state put back).
func (s *Store) finish(ctx context.Context, j *job, srv MailServer, err error) result {
	err = redactLink(err, j.mail.Link)
	r := result{job: j, err: err, state: StateSent}
	var de *DeliveryError
	// Only a mail whose hand-over this attempt recorded can be in doubt: the others of a
	// batch cut short by the connection were never sent.
	doubt := errors.As(err, &de) && de.Unconfirmed && j.handed
	last := j.attempts+1 >= s.set.Outbox.MaxAttempts
	switch {
	case err == nil:
	case doubt && (!s.set.Outbox.ResendUnconfirmed || last):
		r.state = StateUnconfirmed
	case (doubt || IsTemporary(err)) && !last:
		r.state, r.delay = StateQueued, s.backoff(j.attempts+1)
	default:
		r.state = StateFailed
	}
	s.logOutcome(j, srv, r)

	// The attempt may have used up its time; its outcome is recorded all the same.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	code, text := errorSummary(err)
	args := []any{j.id, j.token, r.state, code, text, r.delay.Milliseconds(), doubt}
	var werr error
	if r.state != StateFailed {
		// Only a failure writes two tables; a sent or requeued mail is one prepared
		// statement, one round trip on every mail of a large batch.
		werr = leaseHeld(s.stmts.outcome.ExecContext(ctx, args...))
	} else {
		werr = s.inTx(ctx, func(tx sqlx.ExtContext) error {
			if err := leaseHeld(tx.ExecContext(ctx, outcomeSQL, args...)); err != nil {
				return err
			}
			return restoreSignup(ctx, tx, j.id, s.info.StoredTokens)
		})
	}
	if werr != nil {
		s.log.Error("record mail outcome", "outbox_id", j.id, "state", r.state, "error", werr)
	}
	return r
}

var errLeaseLost = errors.New("the mail's lease was lost to another sender")

// recordTimeout bounds the write of one attempt's outcome, which runs even when the
// attempt has used up its own time.
const recordTimeout = 15 * time.Second

// defer_ puts a job back without counting an attempt: the server's rate limit is reached.
func (s *Store) defer_(ctx context.Context, j *job, wait time.Duration) result {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	_, err := s.db.ExecContext(ctx, `
		UPDATE odoo_shim.outbox
		SET lease_until = NULL, lease_token = NULL, updated_at = now() AT TIME ZONE 'UTC',
			counted_at = NULL,
			next_attempt_at = (now() AT TIME ZONE 'UTC') + $3 * interval '1 millisecond',
			last_error = 'waiting for the mail server''s rate limit'
		WHERE id = $1 AND lease_token = $2`, j.id, j.token, wait.Milliseconds())
	if err != nil {
		s.log.Error("defer mail", "outbox_id", j.id, "error", err)
	}
	return result{job: j, state: StateQueued, delay: wait, err: errRateLimited}
}

var errHandedBack = errors.New("not tried yet (the batch ran long, or odoo-shim is " +
	"shutting down); it goes out in the next round")

var errRateLimited = errors.New("the mail server's rate limit is reached; it goes out later")

// restoreSignup puts back the signup state a failed mail's reset wrote, unless the partner
// was written since (by Odoo or by another reset): its new state is not ours; or unless
// the mail may have been delivered once (doubted): its link must keep working.
// With Odoo 15-17's stored tokens the token and its expiry go back too.
func restoreSignup(ctx context.Context, tx sqlx.ExecerContext, id int64, stored bool) error {
	token := ""
	if stored {
		token = `, signup_token = o.prior_signup_token,
			signup_expiration = o.prior_signup_expiration`
	}
	// The fragment is a fixed string chosen by the database's version, never a value.
	_, err := tx.ExecContext(ctx, `
		UPDATE res_partner p
		SET signup_type = o.prior_signup_type, write_uid = o.prior_write_uid,
			write_date = o.prior_write_date`+token+`
		FROM odoo_shim.outbox o
		WHERE o.id = $1 AND p.id = o.partner_id AND p.write_date = o.stamp
			AND p.write_uid = o.caller_uid AND NOT o.doubted`, id)
	if err != nil {
		return fmt.Errorf("restore signup state: %w", err)
	}
	return nil
}

// backoff is the delay before attempt n+1: RetryBase doubled per attempt, capped at
// RetryMax, with jitter over its second half so that retries of many mails spread out.
func (s *Store) backoff(n int) time.Duration {
	d := s.set.Outbox.RetryBase
	for i := 1; i < n && d < s.set.Outbox.RetryMax; i++ {
		d *= 2
	}
	d = min(d, s.set.Outbox.RetryMax)
	return d/2 + rand.N(d/2+1)
}

// allowance returns how many of n mails the server's rate limit lets out now, and when
// the rest may go.
func (s *Store) allowance(ctx context.Context, serverID int64, jobs []*job) (int,
	time.Duration, error) {
	o := s.set.Outbox
	if o.RatePerMinute <= 0 && o.DailyQuota <= 0 {
		return len(jobs), 0, nil
	}

	allowed, wait := 0, time.Duration(0)
	err := s.inTx(ctx, func(tx sqlx.ExtContext) error {
		// One sender at a time counts and reserves for a server, so that batches sent at
		// once by several calls or instances cannot all see the same room.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, $2::int)`,
			quotaLock, serverID); err != nil {
			return err
		}
		var c struct {
			Minute int `db:"minute"`
			Day    int `db:"day"`
		}
		if err := sqlx.GetContext(ctx, tx, &c, `
			SELECT count(*) FILTER (WHERE counted_at > (now() AT TIME ZONE 'UTC') -
					interval '1 minute') AS minute,
				count(*) AS day
			FROM odoo_shim.outbox
			WHERE server_id = $1
				AND counted_at > (now() AT TIME ZONE 'UTC') - interval '1 day'`,
			serverID); err != nil {
			return err
		}
		allowed, wait = quotaRoom(o, len(jobs), c.Minute, c.Day)
		return reserve(ctx, tx, jobs[:allowed])
	})
	if err != nil {
		return 0, 0, fmt.Errorf("read mail rate: %w", err)
	}
	return allowed, wait, nil
}

// quotaLock is the first key of the advisory lock taken while a server's quota is
// counted; the server's id is the second.
const quotaLock = 0x0d005e

// quotaRoom returns how many of n mails a server may send now, having sent (or reserved)
// minute mails in the last minute and day in the last day, and how long the others wait.
func quotaRoom(o OutboxSettings, n, minute, day int) (int, time.Duration) {
	allowed, wait := n, time.Duration(0)
	if o.RatePerMinute > 0 && minute+allowed > o.RatePerMinute {
		allowed, wait = max(0, o.RatePerMinute-minute), time.Minute
	}
	if o.DailyQuota > 0 && day+allowed > o.DailyQuota {
		allowed, wait = max(0, o.DailyQuota-day), time.Hour
	}
	return allowed, wait
}

// reserve counts jobs against their server's limits before they are sent.
func reserve(ctx context.Context, tx sqlx.ExtContext, jobs []*job) error {
	if len(jobs) == 0 {
		return nil
	}
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.id
	}
	_, err := tx.ExecContext(ctx, `
		UPDATE odoo_shim.outbox SET counted_at = now() AT TIME ZONE 'UTC'
		WHERE id = ANY($1::bigint[]) AND lease_token = $2`, int64Array(ids), jobs[0].token)
	return err
}

func (s *Store) logOutcome(j *job, srv MailServer, r result) {
	switch r.state {
	case StateSent:
		s.log.Info("reset mail sent", "outbox_id", j.id, "user_id", j.userID,
			"mail_server", srv.Label(), "kind", j.mail.Kind)
	case StateUnconfirmed:
		s.log.Warn("reset mail unconfirmed", "outbox_id", j.id, "user_id", j.userID,
			"mail_server", srv.Label(), "attempt", j.attempts+1, "error", r.err)
	case StateQueued:
		s.log.Warn("reset mail queued for retry", "outbox_id", j.id, "user_id", j.userID,
			"mail_server", srv.Label(), "attempt", j.attempts+1, "retry_in", r.delay,
			"error", r.err)
	default:
		s.log.Error("reset mail failed", "outbox_id", j.id, "user_id", j.userID,
			"mail_server", srv.Label(), "attempt", j.attempts+1, "error", r.err)
	}
}

func jobsByServer(jobs []*job) [][]*job {
	index := map[int64]int{}
	var groups [][]*job
	for _, j := range jobs {
		i, ok := index[j.serverID]
		if !ok {
			i = len(groups)
			index[j.serverID] = i
			groups = append(groups, nil)
		}
		groups[i] = append(groups[i], j)
	}
	return groups
}

func (s *Store) inTx(ctx context.Context, fn func(sqlx.ExtContext) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// IsTemporary reports whether a delivery failure may pass by itself: a refused or dropped
// connection, a timeout, a 4xx reply. Anything else needs someone to change something.
func IsTemporary(err error) bool {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Temporary || de.Refused
	}
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errRateLimited) ||
		errors.Is(err, errHandedBack)
}

func errorSummary(err error) (any, any) {
	if err == nil {
		return nil, nil
	}
	var de *DeliveryError
	if errors.As(err, &de) && de.Code != 0 {
		return de.Code, err.Error()
	}
	return nil, err.Error()
}

// sendWorker is the outbox's background sender.
type sendWorker struct {
	wg       sync.WaitGroup // first attempts still running
	kick     chan struct{}
	stopping atomic.Bool // RunOutbox's context has ended: finish the mail in flight only
}

// RunOutbox delivers due mails from the outbox until ctx ends. Several instances may run
// it on one database: each claims mails with a lease under FOR UPDATE SKIP LOCKED, so no
// mail is in two senders' hands. When ctx ends, the mails being sent are finished and the
// ones claimed but not yet started go back to the queue.
func (s *Store) RunOutbox(ctx context.Context) error {
	s.work.stopping.Store(false)
	stop := context.AfterFunc(ctx, func() { s.work.stopping.Store(true) })
	defer stop()
	defer s.work.wg.Wait()
	var swept time.Time
	for {
		if time.Since(swept) >= sweepEvery {
			swept = time.Now()
			s.sweepOutbox(ctx)
		}
		n, err := s.outboxRound(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.Error("outbox round failed", "error", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if n == s.set.Outbox.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.set.Outbox.Poll):
		case <-s.work.kick:
		}
	}
}

// sweepOutbox deletes the rows of mails done with for longer than Keep, and erases the
// bodies of mails unconfirmed for longer than unconfirmedKeep.
func (s *Store) sweepOutbox(ctx context.Context) {
	if _, err := s.db.ExecContext(ctx, `
		UPDATE odoo_shim.outbox SET body = NULL
		WHERE state = 'unconfirmed' AND body IS NOT NULL
			AND updated_at < (now() AT TIME ZONE 'UTC') - $1 * interval '1 second'`,
		int64(unconfirmedKeep.Seconds())); err != nil && ctx.Err() == nil {
		s.log.Error("sweep unconfirmed mails", "error", err)
	}
	res, err := s.db.ExecContext(ctx, `
		DELETE FROM odoo_shim.outbox
		WHERE state <> 'queued' AND (state <> 'unconfirmed' OR body IS NULL)
			AND updated_at < (now() AT TIME ZONE 'UTC') - $1 * interval '1 second'`,
		int64(s.set.Outbox.Keep.Seconds()))
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("sweep outbox", "error", err)
		}
		return
	}
	if n, _ := res.RowsAffected(); n > 0 {
		s.log.Info("old outbox rows deleted", "rows", n, "older_than", s.set.Outbox.Keep)
	}
}

// outboxRound claims one batch of due mails and sends it; it returns how many it claimed.
func (s *Store) outboxRound(ctx context.Context) (int, error) {
	if err := s.settle(ctx); err != nil {
		return 0, err
	}
	jobs, err := s.claim(ctx, s.set.Outbox.Batch)
	if err != nil || len(jobs) == 0 {
		return 0, err
	}
	for _, group := range jobsByServer(jobs) {
		if ctx.Err() != nil {
			s.release(group)
			continue
		}
		s.attempt(ctx, group)
	}
	return len(jobs), nil
}

// settle decides the mails whose sender lost its lease after handing their end of data
// over, as when it was killed: they may have been delivered. They become unconfirmed,
// or due again with ResendUnconfirmed.
func (s *Store) settle(ctx context.Context) error {
	_, err := s.settleWhere(ctx, 0)
	return err
}

// settleOne settles mail id alone, and reports whether it had to.
func (s *Store) settleOne(ctx context.Context, id int64) (bool, error) {
	ids, err := s.settleWhere(ctx, id)
	return len(ids) > 0 && !s.set.Outbox.ResendUnconfirmed, err
}

// settleWhere settles mail id, or every mail when id is 0.
func (s *Store) settleWhere(ctx context.Context, id int64) ([]int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, `
		UPDATE odoo_shim.outbox
		SET state = CASE WHEN $1 THEN 'queued' ELSE 'unconfirmed' END,
			handed_at = CASE WHEN $1 THEN NULL ELSE handed_at END,
			counted_at = CASE WHEN $1 THEN NULL ELSE counted_at END, doubted = true,
			attempts = attempts + 1, lease_until = NULL, lease_token = NULL,
			updated_at = now() AT TIME ZONE 'UTC', last_code = NULL,
			last_error = 'the sender stopped after the whole mail went out; the server ' ||
				'may have taken it'
		WHERE state = 'queued' AND handed_at IS NOT NULL AND ($2 = 0 OR id = $2)
			AND (lease_until IS NULL OR lease_until < clock_timestamp() AT TIME ZONE 'UTC')
		RETURNING id`, s.set.Outbox.ResendUnconfirmed, id)
	if err != nil {
		return nil, fmt.Errorf("settle interrupted mails: %w", err)
	}
	for _, id := range ids {
		s.log.Warn("interrupted reset mail settled", "outbox_id", id,
			"resent", s.set.Outbox.ResendUnconfirmed)
	}
	return ids, nil
}

// claim leases up to n due mails to this instance.
func (s *Store) claim(ctx context.Context, n int) ([]*job, error) {
	token, leasedAt := randomToken(), time.Now()
	var rows []struct {
		ID       int64  `db:"id"`
		UserID   int64  `db:"user_id"`
		ServerID int64  `db:"server_id"`
		Body     []byte `db:"body"`
		Attempts int    `db:"attempts"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		UPDATE odoo_shim.outbox o
		SET lease_until = (clock_timestamp() AT TIME ZONE 'UTC') +
				$1 * interval '1 millisecond',
			lease_token = $2, leased_by = $3
		FROM (SELECT id FROM odoo_shim.outbox
			WHERE state = 'queued' AND body IS NOT NULL AND handed_at IS NULL
				AND next_attempt_at <= clock_timestamp() AT TIME ZONE 'UTC'
				AND (lease_until IS NULL OR lease_until < clock_timestamp() AT TIME ZONE 'UTC')
			ORDER BY next_attempt_at, id
			LIMIT $4
			FOR UPDATE SKIP LOCKED) due
		WHERE o.id = due.id
		RETURNING o.id, o.user_id, o.server_id, o.body, o.attempts`,
		s.set.Outbox.Lease.Milliseconds(), token, s.set.Outbox.Instance, n)
	if err != nil {
		return nil, fmt.Errorf("claim queued mails: %w", err)
	}

	jobs := make([]*job, 0, len(rows))
	for _, r := range rows {
		j := &job{id: r.ID, token: token, userID: r.UserID, serverID: r.ServerID,
			attempts: r.Attempts, leasedAt: leasedAt}
		if err := json.Unmarshal(r.Body, &j.mail); err != nil {
			// One unreadable row must not hold up the batch, round after round.
			s.finish(ctx, j, MailServer{ID: r.ServerID}, fmt.Errorf("the queued mail "+
				"cannot be read: %w", err))
			continue
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// release gives claimed mails back to the queue untouched.
func (s *Store) release(jobs []*job) {
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.id
	}
	_, err := s.db.Exec(`
		UPDATE odoo_shim.outbox SET lease_until = NULL, lease_token = NULL
		WHERE id = ANY($1::bigint[]) AND lease_token = $2`, int64Array(ids), jobs[0].token)
	if err != nil {
		s.log.Error("release claimed mails", "mails", len(ids), "error", err)
	}
}

// Kick wakes the background sender, as after a mail was queued for it.
func (s *Store) kick() {
	select {
	case s.work.kick <- struct{}{}:
	default:
	}
}
