package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
)

// Odoo 15-17 keep a random token on the partner (res_partner.signup_token) with its type
// and expiry, instead of signing one: 20 characters drawn uniformly from A-Z a-z 0-9, about
// 119 bits, redrawn until no other partner holds it. A reset link lives one day; an
// invitation link never expires. A new reset overwrites the token, so only the newest link
// works; setting the password clears all three columns.
const (
	storedTokenLen      = 20
	storedTokenAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	storedTokenLifetime = 24 * time.Hour
	// maxStoredTokenLen bounds what a page visitor can make odoo-shim look up.
	maxStoredTokenLen = 256
)

// newStoredToken draws one token as Odoo 15-17's signup_prepare does.
func newStoredToken() (string, error) {
	n := big.NewInt(int64(len(storedTokenAlphabet)))
	b := make([]byte, storedTokenLen)
	for i := range b {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("draw a signup token: %w", err)
		}
		b[i] = storedTokenAlphabet[k.Int64()]
	}
	return string(b), nil
}

// storedRow is a partner's stored signup state.
type storedRow struct {
	ID         int64          `db:"id"`
	Token      sql.NullString `db:"signup_token"`
	Type       sql.NullString `db:"signup_type"`
	Expiration sql.NullTime   `db:"signup_expiration"`
	WriteUID   sql.NullInt64  `db:"write_uid"`
	WriteDate  sql.NullTime   `db:"write_date"`
}

// valid is Odoo's signup_valid: a token, and no expiry or one not yet passed.
func (r storedRow) valid(now time.Time) bool {
	return r.Token.String != "" && (!r.Expiration.Valid || !now.After(r.Expiration.Time))
}

// prepareStored is Odoo 15-17's signup_prepare for the users' partners: a reset gives each
// a new token valid one day; an invitation keeps a partner's token that is still valid and
// gives the others a token that never expires. The type is "reset" either way. It returns
// what it overwrote, and each partner's token.
func (s *Store) prepareStored(ctx context.Context, tx *sqlx.Tx, caller int64, users []User,
	invitation bool) (*priorState, map[int64]string, error) {
	now := s.now().Truncate(time.Microsecond)
	prior := &priorState{stamp: now, caller: caller, partners: map[int64]partnerRow{}}

	var rows []storedRow
	err := tx.SelectContext(ctx, &rows, `
		SELECT id, signup_token, signup_type, signup_expiration, write_uid, write_date
		FROM res_partner WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE`,
		int64Array(partnerIDs(users)))
	if err != nil {
		return nil, nil, fmt.Errorf("read signup tokens: %w", err)
	}

	tokens := make(map[int64]string, len(rows))
	var renew []storedRow
	for _, r := range rows {
		if invitation && r.valid(now) {
			tokens[r.ID] = r.Token.String
			continue
		}
		renew = append(renew, r)
	}
	if len(renew) == 0 {
		return prior, tokens, nil
	}

	fresh, err := uniqueTokens(ctx, tx, len(renew))
	if err != nil {
		return nil, nil, err
	}
	var expiry any // NULL: an invitation link does not expire
	if !invitation {
		expiry = now.Add(storedTokenLifetime)
	}
	ids := make([]int64, len(renew))
	for i, r := range renew {
		ids[i] = r.ID
		tokens[r.ID] = fresh[i]
		prior.partners[r.ID] = partnerRow{ID: r.ID, SignupType: r.Type, WriteUID: r.WriteUID,
			WriteDate: r.WriteDate, SignupToken: r.Token, SignupExpiration: r.Expiration}
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE res_partner p
		SET signup_token = v.token, signup_type = 'reset', signup_expiration = $3,
			write_uid = $4, write_date = $5
		FROM unnest($1::bigint[], $2::text[]) AS v(id, token)
		WHERE p.id = v.id`, int64Array(ids), stringArray(fresh), expiry, caller, now)
	if err != nil {
		return nil, nil, fmt.Errorf("write signup tokens: %w", err)
	}
	return prior, tokens, nil
}

// uniqueTokens draws n tokens that no partner holds, drawing again on a collision as Odoo
// does. With 119 bits a collision is not expected to happen, so a few rounds are plenty.
func uniqueTokens(ctx context.Context, q sqlx.QueryerContext, n int) ([]string, error) {
	for range 5 {
		tokens := make([]string, n)
		seen := make(map[string]bool, n)
		for i := range tokens {
			t, err := newStoredToken()
			if err != nil {
				return nil, err
			}
			tokens[i], seen[t] = t, true
		}
		var taken bool
		err := sqlx.GetContext(ctx, q, &taken, `
			SELECT EXISTS (SELECT 1 FROM res_partner WHERE signup_token = ANY($1::text[]))`,
			stringArray(tokens))
		if err != nil {
			return nil, fmt.Errorf("check signup tokens: %w", err)
		}
		if !taken && len(seen) == n {
			return tokens, nil
		}
	}
	return nil, errors.New("could not draw an unused signup token")
}

// storedSignupInfo is Odoo 15-17's signup_retrieve_info: the active partner holding token.
// An unknown token is ErrBadToken; an expired one is found, marked Expired and nameless,
// so that the page still shows its form and the error comes when it is posted, as in Odoo.
func (s *Store) storedSignupInfo(ctx context.Context, q sqlx.QueryerContext, token string,
	lock bool) (*SignupInfo, error) {
	// Odoo looks up any text; one that Odoo cannot have written (too long, not UTF-8, a
	// NUL byte PostgreSQL would refuse) matches no partner.
	if token == "" || len(token) > maxStoredTokenLen || !utf8.ValidString(token) ||
		strings.ContainsRune(token, 0) {
		return nil, ErrBadToken
	}
	var r storedRow
	err := sqlx.GetContext(ctx, q, &r, `
		SELECT id, signup_token, signup_type, signup_expiration, write_uid, write_date
		FROM res_partner WHERE signup_token = $1 AND active ORDER BY id LIMIT 1`, token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrBadToken
	}
	if err != nil {
		return nil, fmt.Errorf("find signup token: %w", err)
	}

	info, err := partnerInfo(ctx, q, r.ID, lock)
	if err != nil {
		return nil, err
	}
	if !r.valid(s.now()) {
		info.Expired, info.Name = true, ""
	}
	return info, nil
}

// spendStored clears the partner's token, type and expiry, as Odoo 15-17's signup does
// before writing the password.
func spendStored(ctx context.Context, tx *sqlx.Tx, writer any, now time.Time,
	partner int64) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE res_partner
		SET signup_token = NULL, signup_type = NULL, signup_expiration = NULL,
			write_uid = $1, write_date = $2
		WHERE id = $3`, writer, now, partner)
	if err != nil {
		return fmt.Errorf("spend token of partner %d: %w", partner, err)
	}
	return nil
}
