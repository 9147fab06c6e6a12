package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

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
		WHERE u.id = ANY($1)`
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

// inGroup reports whether uid belongs to the group with XML id module.name. Odoo 15-18
// keep res_groups_users_rel closed under group implication, so one lookup suffices.
func inGroup(ctx context.Context, q sqlx.QueryerContext, uid int64, module,
	name string) (bool, error) {
	var ok bool
	err := sqlx.GetContext(ctx, q, &ok, `
		SELECT EXISTS (
			SELECT 1
			FROM res_groups_users_rel r
			JOIN ir_model_data d ON d.model = 'res.groups' AND d.res_id = r.gid
			WHERE r.uid = $1 AND d.module = $2 AND d.name = $3)`, uid, module, name)
	if err != nil {
		return false, fmt.Errorf("check group %s.%s of user %d: %w", module, name, uid, err)
	}
	return ok, nil
}

// UserLang returns the language Odoo would translate a caller's messages into: the
// context's lang when it is en_US or an active language, else the user's own, else en_US.
func (s *Store) UserLang(ctx context.Context, uid int64, contextLang string) (string, error) {
	// en_US is the language of Odoo's source texts: it needs no installed translation.
	if contextLang == DefaultLang {
		return DefaultLang, nil
	}

	var langs []struct {
		Code string `db:"code"`
		Mine bool   `db:"mine"`
	}
	err := s.db.SelectContext(ctx, &langs, `
		SELECT l.code, l.code = p.lang AS mine
		FROM res_lang l
		LEFT JOIN res_users u ON u.id = $1
		LEFT JOIN res_partner p ON p.id = u.partner_id
		WHERE l.active AND (l.code = $2 OR l.code = p.lang)`, uid, contextLang)
	if err != nil {
		return "", fmt.Errorf("read language of user %d: %w", uid, err)
	}

	lang := DefaultLang
	for _, l := range langs {
		if l.Code == contextLang {
			return l.Code, nil
		}
		if l.Mine {
			lang = l.Code
		}
	}
	return lang, nil
}

// loginDates returns, per user, the create_date of its newest res_users_log row: Odoo's
// computed res.users.login_date.
func loginDates(ctx context.Context, q sqlx.QueryerContext, uids []int64) (map[int64]time.Time,
	error) {
	var rows []struct {
		UID  int64     `db:"create_uid"`
		Date time.Time `db:"create_date"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT DISTINCT ON (create_uid) create_uid, create_date
		FROM res_users_log
		WHERE create_uid = ANY($1) AND create_date IS NOT NULL
		ORDER BY create_uid, id DESC`, int64Array(uids))
	if err != nil {
		return nil, fmt.Errorf("read login dates: %w", err)
	}
	m := make(map[int64]time.Time, len(rows))
	for _, r := range rows {
		m[r.UID] = r.Date
	}
	return m, nil
}

// partnerStates computes, for each partner, what an Odoo 18 signup token signs: its active
// users in res.users order (name, login) and their latest login date.
func partnerStates(ctx context.Context, q sqlx.QueryerContext,
	partners []int64) (map[int64]SignupPayload, error) {
	var rows []struct {
		PartnerID  int64          `db:"partner_id"`
		UserID     int64          `db:"id"`
		SignupType sql.NullString `db:"signup_type"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT p.id AS partner_id, COALESCE(u.id, 0) AS id, p.signup_type
		FROM res_partner p
		LEFT JOIN res_users u ON u.partner_id = p.id AND u.active
		WHERE p.id = ANY($1)
		ORDER BY p.id, p.name, u.login`, int64Array(partners))
	if err != nil {
		return nil, fmt.Errorf("read partner users: %w", err)
	}

	states := make(map[int64]SignupPayload, len(partners))
	var uids []int64
	for _, r := range rows {
		st := states[r.PartnerID]
		st.PartnerID, st.SignupType = r.PartnerID, r.SignupType.String
		if r.UserID != 0 {
			st.UserIDs = append(st.UserIDs, r.UserID)
			uids = append(uids, r.UserID)
		}
		states[r.PartnerID] = st
	}

	dates, err := loginDates(ctx, q, uids)
	if err != nil {
		return nil, err
	}
	for pid, st := range states {
		st.LoginDate = latestLogin(st.UserIDs, dates)
		states[pid] = st
	}
	return states, nil
}

func latestLogin(uids []int64, dates map[int64]time.Time) *int64 {
	var best *int64
	for _, uid := range uids {
		d, ok := dates[uid]
		if !ok {
			continue
		}
		// Odoo reads the naive UTC timestamp as UTC and truncates to whole seconds.
		ts := d.Unix()
		if best == nil || ts > *best {
			best = &ts
		}
	}
	return best
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

func sortedKeys(m map[int64]bool) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

var errNotFound = errors.New("not found")
