package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

// User is a res.users record with the partner fields Odoo delegates to res.partner.
type User struct {
	ID         int64          `db:"id"`
	Login      string         `db:"login"`
	Active     bool           `db:"active"`
	Share      bool           `db:"share"`
	PartnerID  int64          `db:"partner_id"`
	CompanyID  int64          `db:"company_id"`
	Name       string         `db:"name"`
	Email      sql.NullString `db:"email"`
	Lang       sql.NullString `db:"lang"`
	SignupType sql.NullString `db:"signup_type"`
}

// usersByID reads the users ids, in the order given, locking their partners when forUpdate
// is set. It also returns the ids that do not exist.
func usersByID(ctx context.Context, q sqlx.QueryerContext, ids []int64,
	forUpdate bool) ([]User, []int64, error) {
	query := `
		SELECT u.id, u.login, COALESCE(u.active, false) AS active,
			COALESCE(u.share, false) AS share, u.partner_id, u.company_id,
			COALESCE(p.name, '') AS name, p.email, p.lang, p.signup_type
		FROM res_users u
		JOIN res_partner p ON p.id = u.partner_id
		WHERE u.id = ANY($1::bigint[])`
	if forUpdate {
		query += ` ORDER BY p.id FOR UPDATE OF p`
	}

	var rows []User
	if err := sqlx.SelectContext(ctx, q, &rows, query, int64Array(ids)); err != nil {
		return nil, nil, fmt.Errorf("read users: %w", err)
	}

	byID := make(map[int64]User, len(rows))
	for _, u := range rows {
		byID[u.ID] = u
	}
	users := make([]User, 0, len(ids))
	var missing []int64
	for _, id := range ids {
		if u, ok := byID[id]; ok {
			users = append(users, u)
		} else {
			missing = append(missing, id)
		}
	}
	return users, missing, nil
}

// recordRepr prints ids as Odoo prints a recordset, e.g. res.users(9999,) or res.users(1, 2).
func recordRepr(model string, ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	if len(parts) == 1 {
		return model + "(" + parts[0] + ",)"
	}
	return model + "(" + strings.Join(parts, ", ") + ")"
}

// uniqueIDs drops repeated ids, keeping the first occurrence.
func uniqueIDs(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// caller is what a call needs to know about the user making it.
type caller struct {
	uid  int64
	lang string // the language of the caller's messages
	// resetter reports membership of base.group_erp_manager (Access Rights), the group
	// that may write signup_type. Odoo 15-18 keep res_groups_users_rel closed under group
	// implication, so a direct lookup suffices there; 19 needs the closure.
	resetter bool
}

// caller reads the calling user's language and rights in one query. The language is the
// context's lang when it is en_US or an active language, else the user's own when active,
// else en_US.
func (s *Store) caller(ctx context.Context, uid int64, contextLang string) (caller, error) {
	var r struct {
		Lang      string `db:"lang"`
		CtxLangOK bool   `db:"ctx_lang_ok"`
		LangOK    bool   `db:"lang_ok"`
		Resetter  bool   `db:"resetter"`
	}
	// Odoo 19 keeps only the groups given explicitly: membership is their closure under
	// res_groups_implied_rel. Both fragments are fixed strings chosen by version.
	groups := `SELECT gid FROM res_groups_users_rel WHERE uid = u.id`
	if s.info.Major >= 19 {
		groups = `
				WITH RECURSIVE member(gid) AS (
					SELECT gid FROM res_groups_users_rel WHERE uid = u.id
					UNION
					SELECT i.hid FROM res_groups_implied_rel i JOIN member m ON m.gid = i.gid)
				SELECT gid FROM member`
	}
	err := s.db.GetContext(ctx, &r, `
		SELECT COALESCE(p.lang, '') AS lang,
			EXISTS (SELECT 1 FROM res_lang WHERE code = $2 AND active) AS ctx_lang_ok,
			EXISTS (SELECT 1 FROM res_lang WHERE code = p.lang AND active) AS lang_ok,
			EXISTS (
				SELECT 1
				FROM ir_model_data d
				WHERE d.model = 'res.groups' AND d.module = 'base'
					AND d.name = 'group_erp_manager' AND d.res_id IN (`+groups+`)
			) AS resetter
		FROM res_users u JOIN res_partner p ON p.id = u.partner_id
		WHERE u.id = $1`, uid, contextLang)
	if errors.Is(err, sql.ErrNoRows) {
		return caller{uid: uid, lang: DefaultLang}, nil
	}
	if err != nil {
		return caller{}, fmt.Errorf("read caller %d: %w", uid, err)
	}

	c := caller{uid: uid, lang: DefaultLang, resetter: r.Resetter || uid == SuperuserID}
	switch {
	case contextLang == DefaultLang || r.CtxLangOK:
		// en_US is the language of Odoo's source texts: it needs no installed translation.
		c.lang = contextLang
	case r.LangOK:
		c.lang = r.Lang
	}
	return c, nil
}

// partnerStates computes, in one query, what an Odoo 18 signup token signs for each
// partner: its active users in res.users order (name, login) and their latest login date.
// A user's login_date is the create_date of its newest res_users_log row.
func partnerStates(ctx context.Context, q sqlx.QueryerContext,
	partners []int64) (map[int64]SignupPayload, error) {
	var rows []struct {
		PartnerID  int64          `db:"partner_id"`
		UserID     int64          `db:"id"`
		SignupType sql.NullString `db:"signup_type"`
		LoginDate  sql.NullTime   `db:"login_date"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		WITH logins AS (
			SELECT DISTINCT ON (l.create_uid) l.create_uid, l.create_date
			FROM res_users_log l
			JOIN res_users u ON u.id = l.create_uid
			WHERE u.partner_id = ANY($1::bigint[]) AND l.create_date IS NOT NULL
			ORDER BY l.create_uid, l.id DESC)
		SELECT p.id AS partner_id, COALESCE(u.id, 0) AS id, p.signup_type,
			g.create_date AS login_date
		FROM res_partner p
		LEFT JOIN res_users u ON u.partner_id = p.id AND u.active
		LEFT JOIN logins g ON g.create_uid = u.id
		WHERE p.id = ANY($1::bigint[])
		ORDER BY p.id, p.name, u.login`, int64Array(partners))
	if err != nil {
		return nil, fmt.Errorf("read partner users: %w", err)
	}

	states := make(map[int64]SignupPayload, len(partners))
	for _, r := range rows {
		st := states[r.PartnerID]
		st.PartnerID, st.SignupType = r.PartnerID, r.SignupType.String
		if r.UserID != 0 {
			st.UserIDs = append(st.UserIDs, r.UserID)
		}
		if r.LoginDate.Valid {
			// Odoo reads the naive UTC timestamp as UTC and truncates to whole seconds.
			ts := r.LoginDate.Time.Unix()
			if st.LoginDate == nil || ts > *st.LoginDate {
				st.LoginDate = &ts
			}
		}
		states[r.PartnerID] = st
	}
	return states, nil
}

// FindByLogin returns the ids of the active users whose login is exactly login, else of
// those whose e-mail is exactly login: the lookup of Odoo's res.users.reset_password.
func (s *Store) FindByLogin(ctx context.Context, login string) ([]int64, error) {
	var ids []int64
	err := s.db.SelectContext(ctx, &ids, `
		SELECT id FROM res_users WHERE login = $1 AND active ORDER BY id`, login)
	if err != nil {
		return nil, fmt.Errorf("find users by login: %w", err)
	}
	if len(ids) > 0 {
		return ids, nil
	}

	err = s.db.SelectContext(ctx, &ids, `
		SELECT u.id
		FROM res_users u JOIN res_partner p ON p.id = u.partner_id
		WHERE p.email = $1 AND u.active ORDER BY u.id`, login)
	if err != nil {
		return nil, fmt.Errorf("find users by e-mail: %w", err)
	}
	return ids, nil
}
