package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Browser sessions live in odoo_shim.session, so that every odoo-shim instance on the
// database knows every session. A row holds the SHA-256 of the session id, never the id:
// whoever reads the table cannot take over a session. Odoo keeps its sessions in files
// of its own; the two stores are separate.

// DefaultSessionLifetime is how long an unused session lives when the database does not
// set sessions.max_inactivity_seconds: a week, as in Odoo.
const DefaultSessionLifetime = 7 * 24 * time.Hour

// sessionTouchEvery bounds the writes a busy session causes: its last use is recorded at
// most once a minute.
const sessionTouchEvery = time.Minute

// pruneBatch bounds the expired rows one new session removes.
const pruneBatch = 100

// sessionIDPattern is Odoo's session id format: 84 characters of URL-safe base64 from 18
// on, 40 lowercase hex characters in 15 to 17.
var sessionIDPattern = regexp.MustCompile(`^(?:[A-Za-z0-9_-]{84}|[a-f0-9]{40})$`)

// ErrSecondFactor reports a correct password for a user with two-factor authentication:
// Odoo would now ask for the code, which odoo-shim cannot, so no session is opened.
var ErrSecondFactor = errors.New("two-factor authentication pending")

// Session is a signed-in browser session.
type Session struct {
	UserID   int64
	Login    string
	Created  time.Time
	LastSeen time.Time
	// Lifetime is how long the session lives unused: the session cookie's Max-Age.
	Lifetime time.Duration
}

// NewSessionID returns a fresh session id in Odoo 18's format: 63 random bytes as 84
// characters of URL-safe base64 (Odoo hashes time and randomness into the same shape).
func NewSessionID() string {
	buf := make([]byte, 63)
	if _, err := rand.Read(buf); err != nil {
		panic(fmt.Sprintf("session id: %v", err)) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(buf)
}

// ValidSessionID reports whether sid has the format of an Odoo session id (18+, or the
// 40-hex ids of 15 to 17, which an upstream Odoo in front proxy mode may have issued: the
// reset page must keep such a cookie, not replace it). Cookies of any other shape are
// ignored, as Odoo ignores them. odoo-shim itself always issues the 18+ format.
func ValidSessionID(sid string) bool { return sessionIDPattern.MatchString(sid) }

// sessionKey is what the table stores in place of the id.
func sessionKey(sid string) []byte {
	sum := sha256.Sum256([]byte(sid))
	return sum[:]
}

// SignIn checks login and password as Odoo's web login does (interactive: a password,
// never an API key), records the login, and opens a session. Bad credentials give
// ErrAccessDenied (or the cooldown refusal); a user with two-factor authentication gives
// ErrSecondFactor.
func (s *Store) SignIn(ctx context.Context, login, password string) (string, *Session,
	error) {
	if login == "" || password == "" {
		return "", nil, ErrAccessDenied
	}
	a, err := s.admit(ctx)
	if err != nil {
		return "", nil, err
	}
	defer a.abandon()
	uid, err := s.userByLogin(ctx, login)
	if errors.Is(err, ErrAccessDenied) {
		a.finish(false)
	}
	if err != nil {
		return "", nil, err
	}

	row, err := s.credRow(ctx, uid, 0)
	if err != nil {
		return "", nil, err
	}
	ok, err := s.set.Hasher.Verify(ctx, password, row.Password)
	if err != nil && !errors.Is(err, ErrPasswordTooLong) {
		s.log.Warn("unreadable password hash", "user_id", row.ID, "error", err)
	}
	a.finish(ok && row.Active)
	if !ok || !row.Active {
		return "", nil, ErrAccessDenied
	}
	if row.TwoFA {
		return "", nil, ErrSecondFactor
	}

	if err := s.recordLogin(ctx, s.db, uid); err != nil {
		return "", nil, err
	}
	return s.StartSession(ctx, uid)
}

// StartSession opens a session for uid without checking a password: for a caller that has
// just proved the user's identity, such as the reset page that set the password. A user
// with two-factor authentication gets ErrSecondFactor instead. It also
// removes a batch of expired sessions, which keeps the table small.
func (s *Store) StartSession(ctx context.Context, uid int64) (string, *Session, error) {
	sid := NewSessionID()
	f, err := s.tokenFields(ctx, s.db, uid)
	if err != nil {
		return "", nil, err
	}
	if !f.Active.Valid || !f.Active.Bool {
		return "", nil, ErrAccessDenied
	}
	// Proving the password is not proving the second factor: a user with two-factor
	// authentication gets no session here, whatever the caller proved.
	row, err := s.credRow(ctx, uid, 0)
	if err != nil {
		return "", nil, err
	}
	if row.TwoFA {
		return "", nil, ErrSecondFactor
	}

	now := s.now()
	_, err = s.db.ExecContext(ctx, `
		INSERT INTO odoo_shim.session (id_hash, uid, login, session_token, created_at,
			last_seen)
		VALUES ($1, $2, $3, $4, $5, $5)`,
		sessionKey(sid), uid, f.Login, f.token(s.info.Major, sid), now)
	if err != nil {
		return "", nil, fmt.Errorf("store session of user %d: %w", uid, err)
	}
	s.pruneSessions(ctx, now.Add(-f.lifetime()))
	return sid, &Session{UserID: uid, Login: f.Login, Created: now, LastSeen: now,
		Lifetime: f.lifetime()}, nil
}

// Session returns the signed-in session sid, as Odoo checks one on every request: it must
// exist, have been used within the session lifetime, and its session token must still
// match the user's row. Otherwise the session is removed and ErrSessionExpired returned.
func (s *Store) Session(ctx context.Context, sid string) (*Session, error) {
	if !ValidSessionID(sid) {
		return nil, ErrSessionExpired
	}
	key := sessionKey(sid)
	var row struct {
		UID      int64     `db:"uid"`
		Login    string    `db:"login"`
		Token    string    `db:"session_token"`
		Created  time.Time `db:"created_at"`
		LastSeen time.Time `db:"last_seen"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT uid, login, session_token, created_at, last_seen
		FROM odoo_shim.session WHERE id_hash = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSessionExpired
	}
	if err != nil {
		return nil, fmt.Errorf("read session: %w", err)
	}

	f, err := s.tokenFields(ctx, s.db, row.UID)
	if errors.Is(err, ErrAccessDenied) {
		return nil, s.expire(ctx, key)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	fresh := subtle.ConstantTimeCompare([]byte(row.Token),
		[]byte(f.token(s.info.Major, sid))) == 1
	if !fresh || now.Sub(row.LastSeen) > f.lifetime() {
		return nil, s.expire(ctx, key)
	}

	sess := &Session{UserID: row.UID, Login: row.Login, Created: row.Created,
		LastSeen: row.LastSeen, Lifetime: f.lifetime()}
	if now.Sub(row.LastSeen) >= sessionTouchEvery {
		if err := s.touchSession(ctx, key, now); err != nil {
			return nil, err
		}
		sess.LastSeen = now
	}
	return sess, nil
}

// EndSession removes session sid (signing out). Ending a session that does not exist is
// not an error.
func (s *Store) EndSession(ctx context.Context, sid string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM odoo_shim.session WHERE id_hash = $1`,
		sessionKey(sid))
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SessionLifetime returns sessions.max_inactivity_seconds, else a week.
func (s *Store) SessionLifetime(ctx context.Context) (time.Duration, error) {
	v, err := s.Param(ctx, "sessions.max_inactivity_seconds", "")
	if err != nil {
		return 0, err
	}
	return parseLifetime(v), nil
}

func parseLifetime(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return DefaultSessionLifetime
	}
	return time.Duration(n) * time.Second
}

func (s *Store) expire(ctx context.Context, key []byte) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM odoo_shim.session WHERE id_hash = $1`,
		key); err != nil {
		return fmt.Errorf("remove expired session: %w", err)
	}
	return ErrSessionExpired
}

func (s *Store) touchSession(ctx context.Context, key []byte, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `
		UPDATE odoo_shim.session SET last_seen = $2 WHERE id_hash = $1`, key, now)
	if err != nil {
		return fmt.Errorf("touch session: %w", err)
	}
	return nil
}

// pruneSessions removes a bounded batch of sessions unused since before. A failure only
// leaves rows for the next try, so it is logged, not returned.
func (s *Store) pruneSessions(ctx context.Context, before time.Time) {
	_, err := s.db.ExecContext(ctx, `
		DELETE FROM odoo_shim.session WHERE id_hash IN (
			SELECT id_hash FROM odoo_shim.session WHERE last_seen < $1 LIMIT $2)`,
		before, pruneBatch)
	if err != nil {
		s.log.Warn("prune expired sessions", "error", err)
	}
}

// userByLogin finds the active user whose login is exactly login, as Odoo's _login does.
func (s *Store) userByLogin(ctx context.Context, login string) (int64, error) {
	var uid int64
	err := s.db.GetContext(ctx, &uid, `
		SELECT id FROM res_users WHERE login = $1 AND active ORDER BY id LIMIT 1`, login)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrAccessDenied
	}
	if err != nil {
		return 0, fmt.Errorf("find user: %w", err)
	}
	return uid, nil
}

// tokenFields are the values Odoo's session token is computed from.
type tokenFields struct {
	Secret      string         `db:"secret"`
	ID          int64          `db:"id"`
	Login       string         `db:"login"`
	Password    sql.NullString `db:"password"`
	Active      sql.NullBool   `db:"active"`
	TOTP        sql.NullString `db:"totp_secret"`
	HasTOTP     bool           `db:"has_totp"`
	MaxInactive sql.NullString `db:"max_inactive"`
}

func (s *Store) tokenFields(ctx context.Context, q sqlx.QueryerContext,
	uid int64) (tokenFields, error) {
	totp := "NULL::varchar"
	if s.info.TOTP {
		totp = "u.totp_secret"
	}
	// The fragment is one of two fixed strings chosen by the schema, never a value.
	query := `
		SELECT COALESCE((SELECT value FROM ir_config_parameter
				WHERE key = 'database.secret'), '') AS secret,
			u.id, u.login, u.password, u.active, ` + totp + ` AS totp_secret,
			` + strconv.FormatBool(s.info.TOTP) + ` AS has_totp,
			(SELECT value FROM ir_config_parameter
				WHERE key = 'sessions.max_inactivity_seconds') AS max_inactive
		FROM res_users u WHERE u.id = $1`

	var f tokenFields
	err := sqlx.GetContext(ctx, q, &f, query, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return f, ErrAccessDenied
	}
	if err != nil {
		return f, fmt.Errorf("read session fields of user %d: %w", uid, err)
	}
	if f.Secret == "" {
		return f, errors.New("database.secret is not set")
	}
	return f, nil
}

func (f tokenFields) lifetime() time.Duration { return parseLifetime(f.MaxInactive.String) }

// token is Odoo's session token for session sid: a hex HMAC-SHA256 over the sid, keyed by
// the Python text of a tuple of the user's id, login, password hash, active flag (and TOTP
// secret when auth_totp is installed) with database.secret. Any change to those fields
// changes the token, which is what ends a user's sessions. The tuple's layout follows the
// database's Odoo version, so the value equals the one Odoo computes.
func (f tokenFields) token(major int, sid string) string {
	fields := []string{pyBool(f.Active), strconv.FormatInt(f.ID, 10), pyRepr(f.Login),
		pyNullString(f.Password)}
	names := []string{"active", "id", "login", "password"}
	if f.HasTOTP {
		fields = append(fields, pyNullString(f.TOTP))
		names = append(names, "totp_secret")
	}

	var key string
	switch {
	case major <= 17:
		key = pyTuple(append(fields, pyRepr(f.Secret)))
	case major == 18:
		key = pyTuple(append([]string{pyRepr(f.Secret)}, fields...))
	default:
		// 19 names each value and leaves out the ones that are None.
		pairs := []string{pyTuple([]string{pyRepr("database_secret"), pyRepr(f.Secret)})}
		for i, v := range fields {
			if v != "None" {
				pairs = append(pairs, pyTuple([]string{pyRepr(names[i]), v}))
			}
		}
		key = pyTuple(pairs)
	}

	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(sid))
	return hex.EncodeToString(m.Sum(nil))
}

// pyTuple writes Python's str() of a tuple whose items are already repr'd.
func pyTuple(items []string) string {
	if len(items) == 1 {
		return "(" + items[0] + ",)"
	}
	return "(" + strings.Join(items, ", ") + ")"
}

func pyBool(b sql.NullBool) string {
	switch {
	case !b.Valid:
		return "None"
	case b.Bool:
		return "True"
	}
	return "False"
}

func pyNullString(s sql.NullString) string {
	if !s.Valid {
		return "None"
	}
	return pyRepr(s.String)
}

// WebUser is what the web client's session_info tells about the signed-in user.
type WebUser struct {
	ID           int64     `db:"id"`
	Login        string    `db:"login"`
	Name         string    `db:"name"`
	PartnerID    int64     `db:"partner_id"`
	PartnerWrite time.Time `db:"partner_write"`
	Lang         string    `db:"lang"`
	TZ           string    `db:"tz"`
	Share        bool      `db:"share"`
	IsSystem     bool      `db:"is_system"` // base.group_system (Settings)
	IsAdmin      bool      `db:"is_admin"`  // base.group_erp_manager (Access Rights)
	CompanyID    int64     `db:"company_id"`
	Companies    []Company
}

// Company is one of a user's allowed companies.
type Company struct {
	ID       int64  `db:"id"`
	Name     string `db:"name"`
	Sequence int    `db:"sequence"`
	ParentID int64  `db:"parent_id"`
}

// WebUser reads the user uid for the web client's session_info.
func (s *Store) WebUser(ctx context.Context, uid int64) (*WebUser, error) {
	var u WebUser
	err := s.db.GetContext(ctx, &u, `
		SELECT u.id, u.login, COALESCE(p.name, '') AS name, u.partner_id,
			COALESCE(p.write_date, p.create_date, now() AT TIME ZONE 'UTC') AS partner_write,
			COALESCE(p.lang, '') AS lang, COALESCE(p.tz, '') AS tz,
			COALESCE(u.share, false) AS share, u.company_id,
			`+groupMember("u.id", "group_system")+` AS is_system,
			`+groupMember("u.id", "group_erp_manager")+` AS is_admin
		FROM res_users u JOIN res_partner p ON p.id = u.partner_id
		WHERE u.id = $1`, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrSessionExpired
	}
	if err != nil {
		return nil, fmt.Errorf("read user %d: %w", uid, err)
	}

	err = s.db.SelectContext(ctx, &u.Companies, `
		SELECT c.id, c.name, COALESCE(c.sequence, 10) AS sequence,
			COALESCE(c.parent_id, 0) AS parent_id
		FROM res_company c JOIN res_company_users_rel r ON r.cid = c.id
		WHERE r.user_id = $1 ORDER BY c.sequence, c.name`, uid)
	if err != nil {
		return nil, fmt.Errorf("read companies of user %d: %w", uid, err)
	}
	return &u, nil
}

// groupMember is an SQL test that the user in column uid belongs to the base group name;
// both are fixed strings from this package. Odoo 15-18 keep res_groups_users_rel closed
// under implication, so a direct lookup suffices.
func groupMember(uid, name string) string {
	return `EXISTS (
		SELECT 1 FROM res_groups_users_rel g
		JOIN ir_model_data d ON d.model = 'res.groups' AND d.res_id = g.gid
		WHERE g.uid = ` + uid + ` AND d.module = 'base' AND d.name = '` + name + `')`
}
