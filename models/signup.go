package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// SignupInfo is what the reset page shows for a valid token: the account it resets.
type SignupInfo struct {
	PartnerID int64
	UserID    int64 // 0 when the partner has no active user (an invitation to sign up)
	Login     string
	Name      string
	Lang      string
	// Expired is set for an Odoo 15-17 token that still exists but has expired: the page
	// shows its form, and setting the password fails, as in Odoo.
	Expired bool
}

// SignupInfo checks token against the database as its Odoo version does and describes its
// account. From Odoo 18 a malformed, forged, expired or spent token, or one whose partner
// changed since it was signed (a login, a reset, a change of users), gives ErrBadToken. In
// 15-17 a token no active partner holds gives ErrBadToken, and an expired one is Expired.
func (s *Store) SignupInfo(ctx context.Context, token string) (*SignupInfo, error) {
	return s.signupInfo(ctx, s.db, token, false)
}

func (s *Store) signupInfo(ctx context.Context, q sqlx.QueryerContext, token string,
	lock bool) (*SignupInfo, error) {
	if s.info.StoredTokens {
		return s.storedSignupInfo(ctx, q, token, lock)
	}
	secret, err := param(ctx, q, "database.secret", "")
	if err != nil {
		return nil, err
	}
	parts, err := VerifyToken(secret, token, s.now())
	if err != nil {
		return nil, err
	}

	pid := parts.Payload.PartnerID
	info, err := partnerInfo(ctx, q, pid, lock)
	if err != nil {
		return nil, err
	}
	states, err := partnerStates(ctx, q, []int64{pid})
	if err != nil {
		return nil, err
	}
	if !states[pid].Equal(parts.Payload) {
		return nil, ErrBadToken
	}
	return info, nil
}

func partnerInfo(ctx context.Context, q sqlx.QueryerContext, pid int64,
	lock bool) (*SignupInfo, error) {
	query := `
		SELECT p.id, COALESCE(p.name, '') AS name, COALESCE(p.email, '') AS email,
			COALESCE(p.lang, '') AS lang,
			COALESCE(u.id, 0) AS uid, COALESCE(u.login, '') AS login
		FROM res_partner p
		LEFT JOIN LATERAL (
			SELECT id, login FROM res_users
			WHERE partner_id = p.id AND active ORDER BY login LIMIT 1) u ON true
		WHERE p.id = $1`
	if lock {
		query += ` FOR UPDATE OF p`
	}

	var r struct {
		ID    int64  `db:"id"`
		Name  string `db:"name"`
		Email string `db:"email"`
		Lang  string `db:"lang"`
		UID   int64  `db:"uid"`
		Login string `db:"login"`
	}
	err := sqlx.GetContext(ctx, q, &r, query, pid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("read partner %d: %w", pid, err)
	}

	info := &SignupInfo{PartnerID: r.ID, UserID: r.UID, Login: r.Login, Name: r.Name,
		Lang: r.Lang}
	if info.UserID == 0 {
		info.Login = r.Email
	}
	return info, nil
}

// CompleteSignup sets the password of the account token resets, in one transaction that
// also spends the token as Odoo does: signup_type is cleared (in 15-17 with the stored
// token and its expiry) and the sign-in that follows is recorded, which in 18+ ends every
// other link of the account. The password must meet the
// database's minimum length.
func (s *Store) CompleteSignup(ctx context.Context, token, password string) (*SignupInfo,
	error) {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()

	info, err := s.signupInfo(ctx, tx, token, true)
	if err != nil {
		return nil, err
	}
	if info.Expired {
		return nil, NewError(KindUserError, T(info.Lang, MsgTokenNoLonger, token))
	}
	if info.UserID == 0 {
		return nil, NewError(KindUserError, "odoo-shim does not create accounts from "+
			"invitations yet (issue #3)")
	}
	if err := s.checkPolicy(ctx, tx, password); err != nil {
		return nil, err
	}

	hash, err := s.hashPassword(ctx, tx, password)
	if err != nil {
		return nil, err
	}
	if err := s.spendToken(ctx, tx, info, hash); err != nil {
		return nil, err
	}
	// Odoo signs the user in right after the reset, and that login is what ends, for good,
	// every other link mailed to the account: it changes the login date the links sign.
	// Without it, a later reset would bring the spent link back to life.
	if err := s.recordLogin(ctx, tx, info.UserID); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit password: %w", err)
	}
	s.ForgetCredentials(info.UserID)
	return info, nil
}

func (s *Store) spendToken(ctx context.Context, tx *sqlx.Tx, info *SignupInfo,
	hash string) error {
	// Odoo runs the reset as the public user with superuser rights; its writes carry the
	// public user's id.
	writer, err := xmlID(ctx, tx, "base", "public_user")
	if err != nil {
		return err
	}
	now := s.now()

	_, err = tx.ExecContext(ctx, `
		UPDATE res_users SET password = $1, write_uid = $2, write_date = $3
		WHERE id = $4`, hash, nullID(writer), now, info.UserID)
	if err != nil {
		return fmt.Errorf("write password of user %d: %w", info.UserID, err)
	}
	if s.info.StoredTokens {
		return spendStored(ctx, tx, nullID(writer), now, info.PartnerID)
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE res_partner SET signup_type = NULL, write_uid = $1, write_date = $2
		WHERE id = $3`, nullID(writer), now, info.PartnerID)
	if err != nil {
		return fmt.Errorf("spend token of partner %d: %w", info.PartnerID, err)
	}
	return nil
}

// MinPasswordLength returns auth_password_policy.minlength when set, else 8.
func (s *Store) MinPasswordLength(ctx context.Context) (int, error) {
	return s.minLength(ctx, s.db)
}

func (s *Store) minLength(ctx context.Context, q sqlx.QueryerContext) (int, error) {
	v, err := param(ctx, q, "auth_password_policy.minlength", "")
	if err != nil {
		return 0, err
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n >= 0 {
		return n, nil
	}
	return defaultMinLength, nil
}

func (s *Store) checkPolicy(ctx context.Context, q sqlx.QueryerContext, password string) error {
	min, err := s.minLength(ctx, q)
	if err != nil {
		return err
	}
	// Odoo counts characters (Python len), not bytes.
	if n := utf8.RuneCountInString(password); n < min {
		return Errorf(KindUserError, MsgPasswordShort, min, n)
	}
	// Odoo sets no upper bound; odoo-shim bounds what one request may make it hash.
	if len(password) > maxPasswordLen {
		return Errorf(KindUserError, "The password is too long: at most %d bytes.",
			maxPasswordLen)
	}
	return nil
}

// hashPassword hashes with the round count the database's Odoo writes: 600 000 from 17,
// 350 000 in 16 and passlib's 25 000 in 15, or more when password.hashing.rounds says so.
func (s *Store) hashPassword(ctx context.Context, q sqlx.QueryerContext,
	password string) (string, error) {
	rounds := 600_000
	switch s.info.Major {
	case 15:
		return s.set.Hasher.Hash(ctx, password, 25_000)
	case 16:
		rounds = 350_000
	}

	v, err := param(ctx, q, "password.hashing.rounds", "0")
	if err != nil {
		return "", err
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > rounds &&
		n <= maxHashRounds {
		rounds = n
	}
	return s.set.Hasher.Hash(ctx, password, rounds)
}

// ResetEnabled reports whether the self-service page is on: auth_signup.reset_password is
// the string "True", exactly as Odoo compares it.
func (s *Store) ResetEnabled(ctx context.Context) (bool, error) {
	v, err := s.Param(ctx, "auth_signup.reset_password", "False")
	return v == "True", err
}

// ResetLinkHours returns how long a mailed reset link works:
// auth_signup.reset_password.validity.hours, else Odoo's 4.
func (s *Store) ResetLinkHours(ctx context.Context) (int, error) {
	ls, err := s.linkSettings(ctx, s.db, "reset")
	return ls.hoursN, err
}

// WebSettings returns, in one query, what every reset page needs: database.secret, the
// key of Odoo's CSRF tokens, and web.base.url, the base of its links.
func (s *Store) WebSettings(ctx context.Context) (secret, baseURL string, err error) {
	p, err := params(ctx, s.db, "database.secret", "web.base.url")
	if err != nil {
		return "", "", err
	}
	if p["database.secret"] == "" {
		return "", "", errors.New("database.secret is not set")
	}
	return p["database.secret"], p["web.base.url"], nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}
