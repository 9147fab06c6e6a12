package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Defaults of the ir_config_parameter keys auth_signup reads.
const (
	defaultResetHours  = 4
	defaultSignupHours = 144
	defaultMinLength   = 8
)

// Notification is the client action Odoo 18 returns from action_reset_password: the web
// client shows it as a toast.
type Notification struct {
	Title   string
	Message string
	Sticky  bool
}

// ResetRequest is one call of res.users.action_reset_password.
type ResetRequest struct {
	Caller  int64          // the calling user's id
	IDs     []int64        // the users to reset
	Context map[string]any // the call's context: lang, create_user, install_mode, import_file
}

// contextFlag reads a context key the way Python's truth test would.
func contextFlag(c map[string]any, key string) bool {
	switch v := c[key].(type) {
	case bool:
		return v
	case int64:
		return v != 0
	case float64:
		return v != 0
	case string:
		return v != ""
	case nil:
		return false
	}
	return true
}

// contextIsOne reports whether c[key] == 1 in Python's sense (True == 1 holds there).
func contextIsOne(c map[string]any, key string) bool {
	switch v := c[key].(type) {
	case bool:
		return v
	case int64:
		return v == 1
	case float64:
		return v == 1
	}
	return false
}

// ContextLang returns the context's lang as a string, or "".
func ContextLang(c map[string]any) string {
	s, _ := c["lang"].(string)
	return s
}

// ActionResetPassword does what Odoo's res.users.action_reset_password does: it prepares
// the partners' signup state, mails every user a link, and returns the notification the
// web client shows. A nil Notification stands for Odoo's None (install_mode, import_file).
// Every user is checked before anything is written or sent, so a bad user in a batch
// leaves no partial change.
func (s *Store) ActionResetPassword(ctx context.Context, req ResetRequest) (*Notification,
	error) {
	c, err := s.caller(ctx, req.Caller, ContextLang(req.Context))
	if err != nil {
		return nil, err
	}
	return s.actionResetPassword(ctx, req, c)
}

func (s *Store) actionResetPassword(ctx context.Context, req ResetRequest,
	c caller) (*Notification, error) {
	if contextFlag(req.Context, "install_mode") || contextFlag(req.Context, "import_file") {
		return nil, nil
	}

	// Odoo 18 sets its message inside the loop over the users, so an empty call fails
	// with Python's error for the unset variable instead of claiming a mail was sent.
	if len(uniqueIDs(req.IDs)) == 0 {
		return nil, NewError(KindUnboundLocalError, "cannot access local variable "+
			"'message' where it is not associated with a value")
	}

	signupType, sent := "reset", MsgResetSent
	if contextIsOne(req.Context, "create_user") {
		signupType, sent = "signup", MsgSignupSent
	}
	queued, err := s.resetUsers(ctx, req, c, signupType)
	if err != nil {
		return nil, err
	}
	if queued != "" {
		// A deliberate deviation: Odoo would claim the mail was sent (issue #5).
		return &Notification{Title: "Notification", Message: queued, Sticky: true}, nil
	}
	return &Notification{Title: "Notification", Message: T(c.lang, sent)}, nil
}

// resetUsers writes the signup state and queues the mails in one transaction, commits,
// then waits a bounded time for the first delivery attempt, so no row lock or pooled
// connection waits on a mail server. It returns the queued notice when some mail has not
// gone out yet but may still, and a fault when some mail cannot go out at all; the
// partners of those mails have their previous state back.
func (s *Store) resetUsers(ctx context.Context, req ResetRequest, c caller,
	signupType string) (string, error) {
	// 15-17 store the token in res_partner.signup_token; 19 computes group membership
	// from res_groups_implied_rel. Neither is implemented yet.
	if s.info.Major != 18 {
		return "", Errorf(KindUserError, "odoo-shim does not reset passwords on Odoo %s "+
			"databases yet (issue #4)", s.info.Serie())
	}

	jobs, err := s.prepareReset(ctx, req, c, signupType)
	if err != nil || len(jobs) == 0 {
		return "", err
	}
	results, done := s.firstAttempt(ctx, jobs)
	return answer(c.lang, results, done)
}

// prepareReset checks the users, writes their partners' signup_type, composes the mails
// and queues them, in one transaction that it commits.
func (s *Store) prepareReset(ctx context.Context, req ResetRequest, c caller,
	signupType string) ([]*job, error) {
	type loaded struct {
		ms  *mailSettings
		err error
	}
	settings := make(chan loaded, 1)
	go func() {
		ms, err := s.loadMailSettings(ctx, s.db, signupType)
		settings <- loaded{ms, err}
	}()

	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	users, err := lockResettable(ctx, tx, req.IDs, c)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	prior, err := s.prepareSignup(ctx, tx, req.Caller, users, signupType)
	if err != nil {
		return nil, err
	}
	states, err := partnerStates(ctx, tx, partnerIDs(users))
	if err != nil {
		return nil, err
	}
	ld := <-settings
	if ld.err != nil {
		return nil, ld.err
	}
	mails := s.composeMails(users, states, ld.ms, req.Context, signupType)
	for _, m := range mails {
		if m.server.Host == "" {
			return nil, NewError(KindUserError, T(c.lang, MsgMissingSMTP))
		}
	}
	jobs, err := s.enqueue(ctx, tx, mails, prior)
	if err != nil {
		return nil, err
	}

	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit reset: %w", err)
	}
	return jobs, nil
}

// lockResettable reads and locks the users, checking them in Odoo's order: missing
// records, archived users, the caller's right to write signup_type, then e-mail addresses.
func lockResettable(ctx context.Context, tx *sqlx.Tx, ids []int64, c caller) ([]User, error) {
	users, missing, err := usersByID(ctx, tx, uniqueIDs(ids), true)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		if len(missing) > 6 {
			missing = missing[:6]
		}
		return nil, Errorf(KindMissingError, MsgRecordMissing,
			recordRepr("res.users", missing), c.uid)
	}

	for _, u := range users {
		if !u.Active {
			return nil, NewError(KindUserError, T(c.lang, MsgArchivedUser))
		}
	}
	// Only Access Rights members may write signup_type, so only they may reset others.
	// Odoo names the group by its full name, untranslated, in this message.
	if !c.resetter {
		return nil, NewError(KindAccessError, T(c.lang, MsgFieldAccess, "signup_type",
			"Contact", "res.partner", "write", c.uid, "signup_type",
			"'Administration / Access Rights'"))
	}
	// An address odoo-shim cannot use counts as none: Odoo would accept the call and then
	// fail to deliver, without telling the caller.
	for _, u := range users {
		if len(emailList(u.Email.String)) == 0 {
			return nil, NewError(KindUserError, T(c.lang, MsgNoEmail, u.Name))
		}
	}
	return users, nil
}

// priorState is what prepareSignup overwrote, to put back if the mail cannot go out.
type priorState struct {
	stamp    time.Time // the write_date prepareSignup wrote
	caller   int64
	partners map[int64]partnerRow
}

type partnerRow struct {
	ID         int64          `db:"id"`
	SignupType sql.NullString `db:"signup_type"`
	WriteUID   sql.NullInt64  `db:"write_uid"`
	WriteDate  sql.NullTime   `db:"write_date"`
}

// prepareSignup writes signup_type as Odoo's signup_prepare does and returns what was there.
func (s *Store) prepareSignup(ctx context.Context, tx *sqlx.Tx, caller int64, users []User,
	signupType string) (*priorState, error) {
	partners := partnerIDs(users)
	// PostgreSQL keeps microseconds; the stamp must compare equal once stored.
	prior := &priorState{stamp: s.now().Truncate(time.Microsecond), caller: caller,
		partners: make(map[int64]partnerRow, len(users))}

	var rows []partnerRow
	err := tx.SelectContext(ctx, &rows, `
		UPDATE res_partner p
		SET signup_type = $1, write_uid = $2, write_date = $3
		FROM (SELECT id, signup_type, write_uid, write_date
			FROM res_partner WHERE id = ANY($4::bigint[]) FOR UPDATE) old
		WHERE p.id = old.id
		RETURNING old.id, old.signup_type, old.write_uid, old.write_date`,
		signupType, caller, prior.stamp, int64Array(partners))
	if err != nil {
		return nil, fmt.Errorf("prepare signup: %w", err)
	}
	for _, r := range rows {
		prior.partners[r.ID] = r
	}
	return prior, nil
}

// linkSettings are the database values every link and mail of one call share.
type linkSettings struct {
	secret, baseURL, hours string
	hoursN                 int
	fromFilter             string // mail.default.from_filter, for the odoo.conf server
}

func (s *Store) linkSettings(ctx context.Context, q sqlx.QueryerContext,
	signupType string) (linkSettings, error) {
	hoursKey, def := "auth_signup.reset_password.validity.hours", defaultResetHours
	if signupType != "reset" {
		hoursKey, def = "auth_signup.signup.validity.hours", defaultSignupHours
	}
	p, err := params(ctx, q, "database.secret", "web.base.url", hoursKey,
		"mail.default.from_filter")
	if err != nil {
		return linkSettings{}, err
	}

	ls := linkSettings{secret: p["database.secret"], baseURL: p["web.base.url"],
		fromFilter: s.set.Fallback.FromFilter}
	if f, ok := p["mail.default.from_filter"]; ok {
		ls.fromFilter = f
	}
	if ls.secret == "" {
		return ls, errors.New("database.secret is not set: Odoo cannot sign links either")
	}
	if s.set.BaseURL != "" {
		ls.baseURL = s.set.BaseURL
	}
	ls.hours, ls.hoursN = p[hoursKey], def
	if n, err := strconv.Atoi(strings.TrimSpace(ls.hours)); err == nil {
		ls.hoursN = n
	} else {
		ls.hours = strconv.Itoa(def)
	}
	return ls, nil
}

// outgoing is one composed mail and the server that will carry it.
type outgoing struct {
	server    MailServer
	mail      ResetMail
	userID    int64
	partnerID int64
}

func (s *Store) composeMails(users []User, states map[int64]SignupPayload, ms *mailSettings,
	callCtx map[string]any, signupType string) []*outgoing {
	exp := s.now().Add(time.Duration(ms.link.hoursN) * time.Hour).Unix()
	out := make([]*outgoing, len(users))
	for i, u := range users {
		token := SignToken(ms.link.secret, states[u.PartnerID], exp)
		out[i] = s.composeOne(u, ms.link, token, ms.senders[u.CompanyID], callCtx, signupType)
	}
	return out
}

func partnerIDs(users []User) []int64 {
	ids := make([]int64, len(users))
	for i, u := range users {
		ids[i] = u.PartnerID
	}
	return ids
}

func (s *Store) composeOne(u User, ls linkSettings, token string, snd sender,
	callCtx map[string]any, signupType string) *outgoing {
	lang := u.Lang.String
	if lang == "" {
		lang = ContextLang(callCtx)
	}
	if lang == "" {
		lang = DefaultLang
	}

	recipients := emailList(u.Email.String)
	from := snd.from
	if from == "" {
		from = formatAddr(u.Name, recipients[0])
	}
	fallback := s.set.Fallback
	fallback.WholeFilter = s.info.Major < 17
	r := chooseServer(snd.servers, from, snd.notifications, fallback, snd.fallbackFilter)
	header, envelope := rewriteSender(from, r, snd.notifications, snd.bounce)

	subject := MsgSubjectReset
	if signupType != "reset" {
		subject = MsgSubjectSignup
	}
	to := strings.Join(recipients, ", ")
	m := ResetMail{
		Kind: signupType, Lang: lang, Subject: T(lang, subject),
		From: header, ReplyTo: from, To: to, ReturnPath: snd.bounce, Envelope: envelope,
		UserName: u.Name, Login: u.Login, CompanyName: snd.company,
		Link:       signupLink(ls.baseURL, s.info.Name, signupType, recipients[0], token),
		ValidHours: ls.hours,
	}
	return &outgoing{server: r.server, mail: m, userID: u.ID, partnerID: u.PartnerID}
}

// rewriteSender applies Odoo's From rewriting and envelope choice for a mail sent from
// "from" through route r: it returns the header From and the SMTP MAIL FROM.
func rewriteSender(from string, r route, notifications, bounce string) (string, string) {
	smtpFrom := r.smtpFrom
	if smtpFrom == "" {
		smtpFrom = from
	}
	if notifications != "" && normalizeEmail(smtpFrom) == normalizeEmail(notifications) &&
		normalizeEmail(from) != normalizeEmail(notifications) {
		smtpFrom = encapsulate(from, notifications)
	}

	header := from
	if normalizeEmail(header) != normalizeEmail(smtpFrom) {
		header = smtpFrom
	}

	envelope := smtpFrom
	if bounce == "" {
		bounce = header
	}
	if partsMatch(r.server.filterParts(), bounce) {
		envelope = bounce
	}
	return header, bareAddress(envelope)
}

// signupLink builds {base}/web/reset_password?db=..&token=.. (or /web/signup for
// invitations, which also carry signup_email), with the query in Odoo's order.
func signupLink(base, db, signupType, email, token string) string {
	path := "/web/reset_password"
	query := "db=" + url.QueryEscape(db)
	if signupType != "reset" {
		path = "/web/signup"
		query += "&signup_email=" + url.QueryEscape(email)
	}
	query += "&token=" + url.QueryEscape(token)

	u, err := url.Parse(strings.TrimSpace(base))
	if err != nil || u.Host == "" {
		return path + "?" + query
	}
	u.Path, u.RawPath, u.RawQuery, u.Fragment = path, "", query, ""
	return u.String()
}

// ResetPassword does what Odoo's res.users.reset_password(login) does: it finds the one
// active user whose login, else whose e-mail, is exactly login, and resets that user as
// caller. Finding none or several is a plain Exception in Odoo.
func (s *Store) ResetPassword(ctx context.Context, caller int64, login string,
	callCtx map[string]any) (*Notification, error) {
	c, err := s.caller(ctx, caller, ContextLang(callCtx))
	if err != nil {
		return nil, err
	}

	ids, err := s.FindByLogin(ctx, login)
	if err != nil {
		return nil, err
	}
	switch {
	case len(ids) == 0:
		return nil, NewError(KindException, T(c.lang, MsgNoAccount))
	case len(ids) > 1:
		return nil, NewError(KindException, T(c.lang, MsgManyAccounts))
	}
	return s.actionResetPassword(ctx, ResetRequest{Caller: caller, IDs: ids, Context: callCtx}, c)
}
