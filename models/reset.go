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
	if contextFlag(req.Context, "install_mode") ||
		(s.info.Major >= 17 && contextFlag(req.Context, "import_file")) {
		return nil, nil
	}

	plan := s.planReset(req.Context)
	if len(uniqueIDs(req.IDs)) == 0 {
		// Odoo 15-17 loop over no user and return None. Odoo 18 sets its message inside
		// that loop, so an empty call fails with Python's error for the unset variable
		// instead of claiming a mail was sent.
		if s.info.StoredTokens {
			return nil, nil
		}
		return nil, NewError(KindUnboundLocalError, "cannot access local variable "+
			"'message' where it is not associated with a value")
	}

	if err := s.checkRule(ctx, req.Caller, req.Context, "res.users", req.IDs); err != nil {
		return nil, err
	}
	queued, err := s.resetUsers(ctx, req, c, plan)
	if err != nil {
		return nil, err
	}
	if s.info.StoredTokens {
		// Odoo 15-17 return None, queued mail or not: see rpc for what each protocol
		// makes of it.
		return nil, nil
	}
	if queued != "" {
		// A deliberate deviation: Odoo would claim the mail was sent (issue #5).
		return &Notification{Title: "Notification", Message: queued, Sticky: true}, nil
	}
	return &Notification{Title: "Notification", Message: T(c.lang, plan.sent)}, nil
}

// resetPlan is what one call of action_reset_password does in the database's version.
type resetPlan struct {
	signupType string // the partners' new signup_type
	invitation bool   // invitation mode: the context's create_user
	mailKind   string // "reset", or "signup" for the invitation mail
	sent       string // the msgid of the notification (Odoo 18+)
}

// planReset reads the invitation flag as the version does: Odoo 18+ compare create_user
// with 1 and write signup_type "signup"; 15-17 test it for truth and write "reset" anyway.
func (s *Store) planReset(callCtx map[string]any) resetPlan {
	p := resetPlan{signupType: "reset", mailKind: "reset", sent: MsgResetSent}
	if s.info.Major >= 19 {
		p.sent = MsgResetSent19
	}
	if s.info.StoredTokens {
		if contextFlag(callCtx, "create_user") {
			p.invitation, p.mailKind = true, "signup"
		}
		return p
	}
	if contextIsOne(callCtx, "create_user") {
		p = resetPlan{signupType: "signup", invitation: true, mailKind: "signup",
			sent: MsgSignupSent}
		if s.info.Major >= 19 {
			p.sent = MsgSignupSent19
		}
	}
	return p
}

// resetUsers writes the signup state and queues the mails in one transaction, commits,
// then waits a bounded time for the first delivery attempt, so no row lock or pooled
// connection waits on a mail server. It returns the queued notice when some mail has not
// gone out yet but may still, and a fault when some mail cannot go out at all; the
// partners of those mails have their previous state back.
func (s *Store) resetUsers(ctx context.Context, req ResetRequest, c caller,
	plan resetPlan) (string, error) {
	jobs, err := s.prepareReset(ctx, req, c, plan)
	if err != nil || len(jobs) == 0 {
		return "", err
	}
	results, done := s.firstAttempt(ctx, jobs)
	queued, err := answer(c.lang, results, done)
	return queued, s.versionFault(err, jobs)
}

// versionFault gives a delivery fault the class Odoo 15 and 16 raise: they let the
// MailDeliveryException through, naming the server, where 17+ raise a UserError.
func (s *Store) versionFault(err error, jobs []*job) error {
	var df *deliveryFault
	if s.info.Major >= 17 || !errors.As(err, &df) {
		return err
	}
	host := ""
	if jobs[0].server != nil {
		host = jobs[0].server.Host
	}
	f := *df.fault
	f.Kind, f.Message = KindMailDelivery, fmt.Sprintf(MsgMailFailed16, host, df.cause)
	return &deliveryFault{fault: &f, cause: df.cause}
}

// prepareReset checks the users, writes their partners' signup_type, composes the mails
// and queues them, in one transaction that it commits.
func (s *Store) prepareReset(ctx context.Context, req ResetRequest, c caller,
	plan resetPlan) ([]*job, error) {
	type loaded struct {
		ms  *mailSettings
		err error
	}
	settings := make(chan loaded, 1)
	go func() {
		ms, err := s.loadMailSettings(ctx, s.db, plan.mailKind)
		settings <- loaded{ms, err}
	}()

	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	users, err := s.lockResettable(ctx, tx, req.IDs, c)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	var prior *priorState
	var tokens map[int64]string
	if s.info.StoredTokens {
		prior, tokens, err = s.prepareStored(ctx, tx, req.Caller, users, plan.invitation)
	} else {
		prior, err = s.prepareSignup(ctx, tx, req.Caller, users, plan.signupType)
	}
	if err != nil {
		return nil, err
	}
	ld := <-settings
	if ld.err != nil {
		return nil, ld.err
	}
	if tokens == nil {
		if tokens, err = s.signTokens(ctx, tx, users, ld.ms.link); err != nil {
			return nil, err
		}
	}
	mails := s.composeMails(users, tokens, ld.ms, req.Context, plan)
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
func (s *Store) lockResettable(ctx context.Context, tx *sqlx.Tx, ids []int64,
	c caller) ([]User, error) {
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
		msg := MsgFieldAccess
		if s.info.Major >= 19 {
			msg = MsgFieldAccess19
		}
		return nil, NewError(KindAccessError, T(c.lang, msg, "signup_type",
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
	// Odoo 15-17 only.
	SignupToken      sql.NullString
	SignupExpiration sql.NullTime
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
	mailKind string) (linkSettings, error) {
	hoursKey, def := "auth_signup.reset_password.validity.hours", defaultResetHours
	if mailKind != "reset" {
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
	if s.info.StoredTokens {
		// Odoo 15-17: a reset link lives a day, and the mail says 24 hours; an invitation
		// link does not expire, and its mail names no lifetime.
		ls.hours, ls.hoursN = "", 0
		if mailKind == "reset" {
			ls.hours, ls.hoursN = "24", 24
		}
		return ls, nil
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

// signTokens mints each partner's Odoo 18+ signed token over its current state.
func (s *Store) signTokens(ctx context.Context, q sqlx.QueryerContext, users []User,
	ls linkSettings) (map[int64]string, error) {
	states, err := partnerStates(ctx, q, partnerIDs(users))
	if err != nil {
		return nil, err
	}
	exp := s.now().Add(time.Duration(ls.hoursN) * time.Hour).Unix()
	tokens := make(map[int64]string, len(states))
	for pid, st := range states {
		tokens[pid] = SignToken(ls.secret, st, exp)
	}
	return tokens, nil
}

func (s *Store) composeMails(users []User, tokens map[int64]string, ms *mailSettings,
	callCtx map[string]any, plan resetPlan) []*outgoing {
	out := make([]*outgoing, len(users))
	for i, u := range users {
		out[i] = s.composeOne(u, ms.link, tokens[u.PartnerID], ms.senders[u.CompanyID],
			callCtx, plan)
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
	callCtx map[string]any, plan resetPlan) *outgoing {
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
	if plan.mailKind != "reset" {
		subject = MsgSubjectSignup
	}
	// Odoo 15 translates the subject but ships its mail body in English only.
	bodyLang := lang
	if s.info.Major == 15 {
		bodyLang = DefaultLang
	}
	email := ""
	if plan.invitation && s.info.Major >= 17 {
		email = recipients[0] // invitations name the address in the link from 17
	}
	to := strings.Join(recipients, ", ")
	m := ResetMail{
		Kind: plan.mailKind, Lang: bodyLang, Subject: TVersion(s.info.Major, lang, subject),
		From: header, ReplyTo: from, To: to, ReturnPath: snd.bounce, Envelope: envelope,
		UserName: u.Name, Login: u.Login, CompanyName: snd.company,
		Link:       signupLink(ls.baseURL, s.info.Name, plan.signupType, email, token),
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

// signupLink builds {base}/web/reset_password?db=..&token=.. (or /web/signup for the
// signup type of Odoo 18+ invitations), with the query in Odoo's order; an invitation's
// address, when given, goes in signup_email.
func signupLink(base, db, signupType, email, token string) string {
	path := "/web/reset_password"
	query := "db=" + url.QueryEscape(db)
	if signupType != "reset" {
		path = "/web/signup"
	}
	if email != "" {
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
	// The caller searches: users the record rule hides from it are not found.
	if ids, err = s.visibleIDs(ctx, caller, callCtx, "res.users", ids); err != nil {
		return nil, err
	}
	switch {
	case len(ids) != 1 && s.info.Major == 15:
		return nil, NewError(KindException, T(c.lang, MsgNoAccount15))
	case len(ids) == 0 || (len(ids) > 1 && s.info.Major == 16):
		// Odoo 16 answers the same for several matches as for none.
		return nil, NewError(KindException, T(c.lang, MsgNoAccount))
	case len(ids) > 1:
		return nil, NewError(KindException, T(c.lang, MsgManyAccounts))
	}
	return s.actionResetPassword(ctx, ResetRequest{Caller: caller, IDs: ids, Context: callCtx}, c)
}
