package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // PostgreSQL driver
)

// DBInfo describes the Odoo database a Store serves.
type DBInfo struct {
	Name         string // current_database()
	BaseVersion  string // latest_version of the base module, e.g. "18.0.1.3"
	Major, Minor int    // Odoo series, e.g. 18 and 0
	StoredTokens bool   // Odoo <= 17: the token lives in res_partner.signup_token
	KeyExpiry    bool   // res_users_apikeys has expiration_date (Odoo 18+)
	TOTP         bool   // auth_totp is installed and res_users has totp_secret
	// PersonalServers: ir_mail_server has Odoo 19's owner_user_id (per-user servers).
	PersonalServers bool
	// OAuthFlags: the Odoo 15 booleans of ir_mail_server that switch a server to OAuth
	// before smtp_authentication had gmail and outlook values (16+), each column under the
	// authentication it stands for (AuthGmail: "use_google_gmail_service"). Empty on other
	// versions, where a column left behind by an upgrade is not read.
	OAuthFlags map[string]string
	// MaxEmailSize: ir_mail_server has Odoo 18's max_email_size (MB).
	MaxEmailSize bool
	Modules      map[string]bool
}

// Serie returns the Odoo series as Odoo prints it, e.g. "18.0".
func (i DBInfo) Serie() string { return fmt.Sprintf("%d.%d", i.Major, i.Minor) }

// Settings are the Store's dependencies and the few choices Odoo leaves to odoo.conf.
type Settings struct {
	Hasher   *Hasher
	Mailer   Mailer
	Now      func() time.Time // nil means time.Now
	Logger   *slog.Logger
	Fallback MailServer // odoo.conf smtp_* settings, used when no ir_mail_server row exists
	// EmailFrom is odoo.conf's email_from, Odoo's last-resort notifications address.
	EmailFrom string
	// BaseURL, when set, replaces web.base.url in the links odoo-shim mails.
	BaseURL      string
	MaxOpenConns int
	Outbox       OutboxSettings
	// MessageID makes the Message-Id of a mail when it is queued; nil leaves it to the
	// Mailer, which then makes a new one for every attempt.
	MessageID func() string
	// Tokens refreshes expired Gmail and Outlook access tokens; nil means OAuth servers
	// are tried with the stored token as it is.
	Tokens TokenRefresher
}

// Store is odoo-shim's access to one Odoo database.
type Store struct {
	db       *sqlx.DB
	info     DBInfo
	set      Settings
	log      *slog.Logger
	creds    *credCache
	throttle *throttle
	work     sendWorker
	cat      catalogState // the fields of res.users and res.partner, read on first use
	stmts    outboxStmts
}

// outboxStmts are the statements every mail of a batch runs. Prepared once, each costs
// one round trip instead of lib/pq's two for a parameterised query.
type outboxStmts struct {
	handOver *sql.Stmt // just before a mail's end of data
	outcome  *sql.Stmt // a mail sent, requeued or unconfirmed
}

func (st *outboxStmts) prepare(ctx context.Context, db *sqlx.DB) error {
	var err error
	if st.handOver, err = db.PrepareContext(ctx, handOverSQL); err != nil {
		return fmt.Errorf("prepare outbox statements: %w", err)
	}
	if st.outcome, err = db.PrepareContext(ctx, outcomeSQL); err != nil {
		return fmt.Errorf("prepare outbox statements: %w", err)
	}
	return nil
}

func (st *outboxStmts) close() {
	for _, stmt := range []*sql.Stmt{st.handOver, st.outcome} {
		if stmt != nil {
			_ = stmt.Close()
		}
	}
}

// Open connects to the Odoo database at dsn, checks that it is an Odoo database odoo-shim
// can serve, and detects its version. Errors name what is missing.
func Open(ctx context.Context, dsn string, set Settings) (*Store, error) {
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if set.MaxOpenConns > 0 {
		db.SetMaxOpenConns(set.MaxOpenConns)
		db.SetMaxIdleConns(set.MaxOpenConns)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}

	s := newStore(db, set)
	if s.info, err = detect(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.stmts.prepare(ctx, db); err != nil {
		s.stmts.close()
		db.Close()
		return nil, err
	}
	return s, nil
}

func newStore(db *sqlx.DB, set Settings) *Store {
	if set.Now == nil {
		set.Now = time.Now
	}
	if set.Logger == nil {
		set.Logger = slog.Default()
	}
	if set.Hasher == nil {
		set.Hasher = NewHasher(2)
	}
	set.Outbox = set.Outbox.withDefaults()
	return &Store{db: db, set: set, log: set.Logger, creds: newCredCache(10000),
		throttle: newThrottle(), work: sendWorker{kick: make(chan struct{}, 1)}}
}

// Info returns what Open learnt about the database.
func (s *Store) Info() DBInfo { return s.info }

// Close waits for the delivery attempts still running, which end within the outbox's
// lease, so that each outcome is recorded; then it closes the connection pool.
func (s *Store) Close() error {
	s.work.wg.Wait()
	s.stmts.close()
	return s.db.Close()
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

func (s *Store) now() time.Time { return s.set.Now().UTC() }

// ErrUnsupported reports a database odoo-shim cannot serve; the message says why.
var ErrUnsupported = errors.New("unsupported database")

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrUnsupported}, args...)...)
}

func detect(ctx context.Context, db *sqlx.DB) (DBInfo, error) {
	var info DBInfo
	if err := db.GetContext(ctx, &info.Name, `SELECT current_database()`); err != nil {
		return info, fmt.Errorf("read database name: %w", err)
	}

	for _, table := range []string{"ir_module_module", "ir_config_parameter", "res_users",
		"res_partner", "res_users_log", "ir_model_data", "res_groups_users_rel"} {
		ok, err := hasTable(ctx, db, table)
		if err != nil {
			return info, err
		}
		if !ok {
			return info, unsupported("database %q is not an Odoo database: table %s is missing",
				info.Name, table)
		}
	}

	if err := readModules(ctx, db, &info); err != nil {
		return info, err
	}
	return info, readShape(ctx, db, &info)
}

func readModules(ctx context.Context, db *sqlx.DB, info *DBInfo) error {
	var rows []struct {
		Name    string         `db:"name"`
		Version sql.NullString `db:"latest_version"`
	}
	err := db.SelectContext(ctx, &rows, `
		SELECT name, latest_version
		FROM ir_module_module
		WHERE state IN ('installed', 'to upgrade')`)
	if err != nil {
		return fmt.Errorf("read installed modules: %w", err)
	}

	info.Modules = make(map[string]bool, len(rows))
	for _, r := range rows {
		info.Modules[r.Name] = true
		if r.Name == "base" {
			info.BaseVersion = r.Version.String
		}
	}
	if info.BaseVersion == "" {
		return unsupported("database %q has no installed base module in ir_module_module, "+
			"so its Odoo version is unknown", info.Name)
	}

	info.Major, info.Minor = parseSeries(info.BaseVersion)
	if info.Major < 15 || info.Major > 19 {
		return unsupported("database %q runs Odoo %s; odoo-shim serves Odoo 15 to 19",
			info.Name, info.BaseVersion)
	}
	if !info.Modules["auth_signup"] {
		return unsupported("database %q (Odoo %s) does not have the auth_signup module "+
			"installed, which password reset needs; install \"Signup\" in Odoo's Apps",
			info.Name, info.Serie())
	}
	return nil
}

func readShape(ctx context.Context, db *sqlx.DB, info *DBInfo) error {
	var err error
	if info.StoredTokens, err = hasColumn(ctx, db, "res_partner", "signup_token"); err != nil {
		return err
	}
	info.KeyExpiry, err = hasColumn(ctx, db, "res_users_apikeys", "expiration_date")
	if err != nil {
		return err
	}
	if info.TOTP, err = hasColumn(ctx, db, "res_users", "totp_secret"); err != nil {
		return err
	}
	info.TOTP = info.TOTP && info.Modules["auth_totp"]
	info.PersonalServers, err = hasColumn(ctx, db, "ir_mail_server", "owner_user_id")
	if err != nil {
		return err
	}
	if err = readOAuthFlags(ctx, db, info); err != nil {
		return err
	}
	info.MaxEmailSize, err = hasColumn(ctx, db, "ir_mail_server", "max_email_size")
	if err != nil {
		return err
	}
	if info.Major >= 18 && info.StoredTokens {
		info.StoredTokens = false // a leftover column from an upgrade; 18 signs its tokens
	}
	return nil
}

// readOAuthFlags finds the Odoo 15 OAuth flags of ir_mail_server (oauthFlags15). Upgrading
// to 16 moves a flag into smtp_authentication but leaves its column behind; Odoo 16+ no
// longer reads it, so neither may odoo-shim.
func readOAuthFlags(ctx context.Context, db *sqlx.DB, info *DBInfo) error {
	info.OAuthFlags = map[string]string{}
	if info.Major != 15 {
		return nil
	}
	for _, f := range oauthFlags15 {
		ok, err := hasColumn(ctx, db, "ir_mail_server", f.column)
		if err != nil {
			return err
		}
		if ok {
			info.OAuthFlags[f.auth] = f.column
		}
	}
	return nil
}

// parseSeries reads "18.0.1.3" or "saas~17.4.1.0" as (18, 0) or (17, 4).
func parseSeries(v string) (major, minor int) {
	v = strings.TrimPrefix(v, "saas~")
	parts := strings.SplitN(v, ".", 3)
	major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(parts[1])
	}
	return major, minor
}

func hasTable(ctx context.Context, db *sqlx.DB, table string) (bool, error) {
	var ok bool
	err := db.GetContext(ctx, &ok, `SELECT to_regclass($1) IS NOT NULL`, "public."+table)
	if err != nil {
		return false, fmt.Errorf("look for table %s: %w", table, err)
	}
	return ok, nil
}

func hasColumn(ctx context.Context, db *sqlx.DB, table, column string) (bool, error) {
	var ok bool
	err := db.GetContext(ctx, &ok, `
		SELECT EXISTS (
			SELECT 1 FROM information_schema.columns
			WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2)`,
		table, column)
	if err != nil {
		return false, fmt.Errorf("look for column %s.%s: %w", table, column, err)
	}
	return ok, nil
}

// Param returns the ir_config_parameter value of key, or def when it is not set.
func (s *Store) Param(ctx context.Context, key, def string) (string, error) {
	return param(ctx, s.db, key, def)
}

func param(ctx context.Context, q sqlx.QueryerContext, key, def string) (string, error) {
	var v string
	err := sqlx.GetContext(ctx, q, &v, `SELECT value FROM ir_config_parameter WHERE key = $1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	if err != nil {
		return "", fmt.Errorf("read parameter %s: %w", key, err)
	}
	return v, nil
}

// params reads several parameters in one query; absent keys are missing from the map.
func params(ctx context.Context, q sqlx.QueryerContext, keys ...string) (map[string]string,
	error) {
	var rows []struct {
		Key   string `db:"key"`
		Value string `db:"value"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT key, value FROM ir_config_parameter WHERE key = ANY($1)`, stringArray(keys))
	if err != nil {
		return nil, fmt.Errorf("read parameters: %w", err)
	}
	m := make(map[string]string, len(rows))
	for _, r := range rows {
		m[r.Key] = r.Value
	}
	return m, nil
}

// xmlID returns the res_id of the ir_model_data record module.name, or 0.
func xmlID(ctx context.Context, q sqlx.QueryerContext, module, name string) (int64, error) {
	var id int64
	err := sqlx.GetContext(ctx, q, &id, `
		SELECT res_id FROM ir_model_data WHERE module = $1 AND name = $2`, module, name)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("resolve %s.%s: %w", module, name, err)
	}
	return id, nil
}
