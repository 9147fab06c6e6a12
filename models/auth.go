package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/jmoiron/sqlx"
)

// SuperuserID is Odoo's superuser (base.user_root); it bypasses access rules.
const SuperuserID = 1

// apiKeyIndexLen is how many leading characters of an API key Odoo stores in clear to find
// the candidate rows before checking their hashes.
const apiKeyIndexLen = 8

// credRow is what a credential check reads of a user, and what a cached check compares.
type credRow struct {
	ID       int64          `db:"id"`
	Login    string         `db:"login"`
	Password string         `db:"password"`
	Active   bool           `db:"active"`
	TwoFA    bool           `db:"two_fa"`   // two-factor authentication is on
	KeyHash  sql.NullString `db:"key_hash"` // the cached API key's hash, still valid
}

// Authenticate checks login and password (or an API key given as the password) as Odoo's
// common.authenticate does: the login must match exactly an active user. On success it
// records the login in res_users_log, as Odoo does, and returns the uid. Bad credentials
// give ErrAccessDenied.
func (s *Store) Authenticate(ctx context.Context, login, password string) (int64, error) {
	if login == "" || password == "" {
		return 0, ErrAccessDenied
	}
	// Unlike an object call's check, a login always passes the cooldown first, cached
	// credentials included, as Odoo's _login does.
	a, err := s.admit(ctx)
	if err != nil {
		return 0, err
	}
	defer a.abandon()

	uid, err := s.userByLogin(ctx, login)
	if errors.Is(err, ErrAccessDenied) {
		a.finish(false)
	}
	if err != nil {
		return 0, err
	}

	err = s.check(ctx, uid, password, a)
	if errors.Is(err, ErrAccessDenied) || err == nil {
		a.finish(err == nil)
	}
	if err != nil {
		return 0, err
	}
	return uid, s.recordLogin(ctx, s.db, uid)
}

// Check verifies that password (or an API key) belongs to the active user uid, as Odoo's
// res.users.check does for every object call. Successful checks are cached, so a script
// making many calls pays for PBKDF2 once; the cache entry dies as soon as the user's
// password, login or active flag changes, or the key is removed or expires.
func (s *Store) Check(ctx context.Context, uid int64, password string) error {
	return s.check(ctx, uid, password, nil)
}

// check is Check within an attempt the caller has already admitted, or nil to admit one
// here when the password must be verified.
func (s *Store) check(ctx context.Context, uid int64, password string, a *attempt) error {
	if uid <= 0 || password == "" {
		return ErrAccessDenied
	}

	key := s.creds.key(uid, password)
	cached, hit := s.creds.get(key)
	row, err := s.credRow(ctx, uid, cached.keyID)
	if err != nil {
		return err
	}
	if !row.Active {
		return ErrAccessDenied
	}
	if hit && cached.matches(row) {
		return nil
	}

	if a == nil {
		if a, err = s.admit(ctx); err != nil {
			return err
		}
		defer a.abandon()
	}
	entry, err := s.verify(ctx, row, password)
	a.finish(err == nil)
	if err != nil {
		return err
	}
	s.creds.put(key, entry)
	return nil
}

func (s *Store) credRow(ctx context.Context, uid, keyID int64) (credRow, error) {
	if uid > math.MaxInt32 {
		return credRow{}, ErrAccessDenied // no such row: res_users.id is an integer
	}
	twoFA := "false"
	if s.info.TOTP {
		twoFA = "u.totp_secret IS NOT NULL AND u.totp_secret <> ''"
	}
	expiry := ""
	args := []any{uid, keyID}
	if s.info.KeyExpiry {
		expiry = " AND (k.expiration_date IS NULL OR k.expiration_date >= $3)"
		args = append(args, s.now())
	}
	// The two fragments are fixed strings chosen by the schema, never values.
	query := `
		SELECT u.id, u.login, COALESCE(u.password, '') AS password,
			COALESCE(u.active, false) AS active, ` + twoFA + ` AS two_fa,
			(SELECT k.key FROM res_users_apikeys k
			 WHERE k.id = $2 AND k.user_id = u.id AND (k.scope IS NULL OR k.scope = 'rpc')` +
		expiry + `) AS key_hash
		FROM res_users u WHERE u.id = $1`

	var row credRow
	err := s.db.GetContext(ctx, &row, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return row, ErrAccessDenied
	}
	if err != nil {
		return row, fmt.Errorf("read credentials of user %d: %w", uid, err)
	}
	return row, nil
}

// verify does the expensive part: the password hash, then the user's API keys. Over RPC,
// users with two-factor authentication may use API keys only, as with Odoo's auth_totp.
func (s *Store) verify(ctx context.Context, row credRow, password string) (credEntry, error) {
	entry := credEntry{login: row.Login, hash: row.Password}

	if !row.TwoFA {
		ok, err := s.set.Hasher.Verify(ctx, password, row.Password)
		if err != nil && !errors.Is(err, ErrPasswordTooLong) {
			s.log.Warn("unreadable password hash", "user_id", row.ID, "error", err)
		}
		if ok {
			return entry, nil
		}
	}

	keyID, keyHash, err := s.matchAPIKey(ctx, row.ID, password)
	if err != nil {
		return entry, err
	}
	if keyID == 0 {
		return entry, ErrAccessDenied
	}
	entry.keyID, entry.keyHash = keyID, keyHash
	return entry, nil
}

// matchAPIKey finds the RPC API key of uid equal to key, as Odoo's apikeys check does.
func (s *Store) matchAPIKey(ctx context.Context, uid int64, key string) (int64, string, error) {
	if len(key) < apiKeyIndexLen {
		return 0, "", nil
	}

	var rows []struct {
		ID   int64  `db:"id"`
		Hash string `db:"key"`
	}
	query := `
		SELECT k.id, k.key FROM res_users_apikeys k
		WHERE k.user_id = $1 AND k.index = $2 AND (k.scope IS NULL OR k.scope = 'rpc')`
	args := []any{uid, key[:apiKeyIndexLen]}
	if s.info.KeyExpiry {
		query += ` AND (k.expiration_date IS NULL OR k.expiration_date >= $3)`
		args = append(args, s.now())
	}
	if err := s.db.SelectContext(ctx, &rows, query, args...); err != nil {
		return 0, "", fmt.Errorf("read API keys of user %d: %w", uid, err)
	}

	for _, r := range rows {
		ok, err := s.set.Hasher.Verify(ctx, key, r.Hash)
		if err != nil && !errors.Is(err, ErrPasswordTooLong) {
			return 0, "", fmt.Errorf("check API key %d: %w", r.ID, err)
		}
		if ok {
			return r.ID, r.Hash, nil
		}
	}
	return 0, "", nil
}

// recordLogin adds the res_users_log row Odoo writes at every successful login. In Odoo 18
// it changes the user's login_date, which ends every reset link already mailed to them.
func (s *Store) recordLogin(ctx context.Context, q sqlx.ExecerContext, uid int64) error {
	now := s.now()
	_, err := q.ExecContext(ctx, `
		INSERT INTO res_users_log (create_uid, write_uid, create_date, write_date)
		VALUES ($1, $1, $2, $2)`, uid, now)
	if err != nil {
		return fmt.Errorf("record login of user %d: %w", uid, err)
	}
	return nil
}

// ForgetCredentials drops every cached credential of uid.
func (s *Store) ForgetCredentials(uid int64) { s.creds.forget(uid) }

type credKey struct {
	uid    int64
	digest [sha256.Size]byte
}

type credEntry struct {
	login, hash string
	keyID       int64
	keyHash     string
}

// matches reports whether the user row still holds what the entry was verified against.
func (e credEntry) matches(row credRow) bool {
	if e.login != row.Login {
		return false
	}
	if e.keyID != 0 {
		return row.KeyHash.Valid && row.KeyHash.String == e.keyHash
	}
	return e.hash == row.Password && !row.TwoFA
}

// credCache remembers successful checks. Passwords are kept only as an HMAC under a key
// that lives in this process's memory.
type credCache struct {
	mu      sync.Mutex
	secret  []byte
	max     int
	entries map[credKey]credEntry
}

func newCredCache(max int) *credCache {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		panic(fmt.Sprintf("credential cache key: %v", err)) // crypto/rand never fails on Linux
	}
	return &credCache{secret: secret, max: max, entries: make(map[credKey]credEntry)}
}

func (c *credCache) key(uid int64, password string) credKey {
	m := hmac.New(sha256.New, c.secret)
	m.Write([]byte(password))
	k := credKey{uid: uid}
	copy(k.digest[:], m.Sum(nil))
	return k
}

func (c *credCache) get(k credKey) (credEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	return e, ok
}

func (c *credCache) put(k credKey, e credEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for old := range c.entries { // evict an arbitrary entry: the cache only saves work
			delete(c.entries, old)
			break
		}
	}
	c.entries[k] = e
}

func (c *credCache) forget(uid int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		if k.uid == uid {
			delete(c.entries, k)
		}
	}
}

// APIKeyUser returns the active user owning key, an RPC API key, as Odoo 19's bearer
// authentication checks it: keys of scope NULL or 'rpc' that have not expired. A password
// is never accepted here. An unknown key gives ErrAccessDenied.
func (s *Store) APIKeyUser(ctx context.Context, key string) (int64, error) {
	if len(key) < apiKeyIndexLen || len(key) > maxPasswordLen {
		return 0, ErrAccessDenied
	}

	var rows []struct {
		UserID int64  `db:"user_id"`
		Hash   string `db:"key"`
	}
	query := `
		SELECT k.user_id, k.key
		FROM res_users_apikeys k JOIN res_users u ON u.id = k.user_id AND u.active
		WHERE k.index = $1 AND (k.scope IS NULL OR k.scope = 'rpc')`
	args := []any{key[:apiKeyIndexLen]}
	if s.info.KeyExpiry {
		query += ` AND (k.expiration_date IS NULL OR k.expiration_date >= $2)`
		args = append(args, s.now())
	}
	if err := s.db.SelectContext(ctx, &rows, query+` ORDER BY k.id`, args...); err != nil {
		return 0, fmt.Errorf("read API keys: %w", err)
	}

	for _, r := range rows {
		ok, err := s.set.Hasher.Verify(ctx, key, r.Hash)
		if err != nil && !errors.Is(err, ErrPasswordTooLong) {
			return 0, fmt.Errorf("check API key of user %d: %w", r.UserID, err)
		}
		if ok {
			return r.UserID, nil
		}
	}
	return 0, ErrAccessDenied
}
