package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// maxOrderTerms bounds an order specification; Odoo sets none.
const maxOrderTerms = 32

// parseOrder turns an order specification such as "name asc, id desc" into SQL. Field
// names come from the model's whitelist; the rest must match Odoo's order syntax.
func parseOrder(m *modelDef, order string) (string, error) {
	if strings.TrimSpace(order) == "" {
		return m.order, nil
	}
	bad := Errorf(KindUserError, msgOrderSyntax, order)
	parts := strings.Split(order, ",")
	if len(parts) > maxOrderTerms {
		return "", bad
	}

	out := make([]string, 0, len(parts))
	for _, part := range parts {
		words := strings.Fields(part)
		if len(words) == 0 || !orderName(words[0]) {
			return "", bad
		}
		suffix, ok := orderSuffix(words[1:])
		if !ok {
			return "", bad
		}
		sql, err := orderField(m, strings.Trim(words[0], `"`), suffix)
		if err != nil {
			return "", err
		}
		out = append(out, sql)
	}
	return strings.Join(out, ", "), nil
}

// orderName reports whether w is a field name as Odoo's order syntax allows it:
// [a-z0-9_]+, optionally quoted, optionally followed by .name.
func orderName(w string) bool {
	if strings.HasPrefix(w, `"`) {
		end := strings.Index(w[1:], `"`)
		if end < 0 {
			return false
		}
		w = w[1:end+1] + w[end+2:]
	}
	name, sub, dotted := strings.Cut(w, ".")
	return identifier(name) && (!dotted || identifier(sub))
}

func identifier(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range strings.ToLower(s) {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// orderSuffix reads [asc|desc] [nulls first|nulls last].
func orderSuffix(words []string) (string, bool) {
	var out []string
	if len(words) > 0 {
		switch d := strings.ToUpper(words[0]); d {
		case "ASC", "DESC":
			out = append(out, d)
			words = words[1:]
		}
	}
	if len(words) == 2 && strings.EqualFold(words[0], "nulls") {
		switch n := strings.ToUpper(words[1]); n {
		case "FIRST", "LAST":
			out = append(out, "NULLS "+n)
			words = nil
		}
	}
	if len(words) > 0 {
		return "", false
	}
	return strings.Join(out, " "), true
}

// orderField is the SQL for one field; a many2one sorts by the target's display name.
func orderField(m *modelDef, name, suffix string) (string, error) {
	f, ok := m.fields[name]
	if !ok || f.rel != nil || f.private || strings.Contains(name, ".") {
		return "", Errorf(KindValueError, msgReadField, pyRepr(name), pyRepr(m.name))
	}
	dir := ""
	if suffix != "" {
		dir = " " + suffix
	}
	if f.ftype == typeMany2one {
		return f.nameExpr + dir + ", " + f.expr + dir, nil
	}
	return f.expr + dir, nil
}

// NameSearch is name_search: the records whose name fields match name with operator,
// within domain, as [id, display_name] pairs in the model's order.
func (s *Store) NameSearch(ctx context.Context, q Query, name, operator string) ([]any,
	error) {
	_, m, err := s.readModel(ctx, q.Model)
	if err != nil {
		return nil, err
	}
	terms, err := domainTerms(q.Domain)
	if err != nil {
		return nil, err
	}
	q.Domain = append(nameDomain(m, name, operator), terms...)
	q.Order = ""

	ids, err := s.Search(ctx, q)
	if err != nil || len(ids) == 0 {
		return []any{}, err
	}
	recs, err := s.Read(ctx, ids, ReadOptions{Caller: q.Caller, Model: q.Model,
		Fields: []string{"display_name"}, Context: q.Context})
	if err != nil {
		return nil, err
	}
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = []any{r.Get("id"), r.Get("display_name")}
	}
	return out, nil
}

// nameDomain is the condition name_search adds: any name field matches (all of them fail
// to match, for a negative operator). An empty name with a positive pattern operator
// matches every record, as in Odoo.
func nameDomain(m *modelDef, name, operator string) []any {
	_, negative := negativeOps[operator]
	if name == "" && !negative && strings.HasSuffix(operator, "like") {
		return nil
	}
	var leaves []any
	for _, f := range m.recNames {
		if _, ok := m.fields[f]; ok {
			leaves = append(leaves, []any{f, operator, name})
		}
	}
	join := "|"
	if negative {
		join = "&"
	}
	out := make([]any, 0, 2*len(leaves))
	for i := 1; i < len(leaves); i++ {
		out = append(out, join)
	}
	return append(out, leaves...)
}

// fieldAttributes are the attributes fields_get describes, in Odoo's order.
var fieldAttributes = []string{"type", "string", "help", "name", "readonly", "required",
	"store", "searchable", "sortable", "groupable", "manual", "exportable", "relation",
	"selection", "context", "domain", "translate", "company_dependent", "change_default"}

// FieldsGet describes the fields odoo-shim serves for the model: all, or those named in
// names; with only the attributes listed in attrs when it is not empty.
// NOTE: labels and help texts are Odoo's English ones; the context's lang does not
// translate them (#4).
func (s *Store) FieldsGet(ctx context.Context, model string, names, attrs []string) (Record,
	error) {
	_, m, err := s.readModel(ctx, model)
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		names = m.names
	}
	out := make(Record, 0, len(names))
	for _, n := range names {
		f, ok := m.fields[n]
		if !ok {
			continue // Odoo leaves out the names it does not know
		}
		out = append(out, Value{n, describeField(f, attrs)})
	}
	return out, nil
}

func describeField(f *field, attrs []string) Record {
	all := map[string]any{
		"type": f.ftype, "string": f.label, "name": f.name, "readonly": f.readonly,
		"required": f.required, "store": f.store, "searchable": !f.private,
		"sortable": f.store && f.rel == nil, "groupable": f.store && f.rel == nil,
		"manual": false, "exportable": true, "translate": false,
		"company_dependent": false, "change_default": false,
	}
	if f.help != "" {
		all["help"] = f.help
	}
	if f.relation != "" {
		all["relation"], all["context"], all["domain"] = f.relation, Record{}, []any{}
	}
	if f.selection != nil {
		sel := make([]any, len(f.selection))
		for i, p := range f.selection {
			sel[i] = []any{p[0], p[1]}
		}
		all["selection"] = sel
	}

	rec := Record{}
	for _, a := range fieldAttributes {
		v, ok := all[a]
		if ok && (len(attrs) == 0 || contains(attrs, a)) {
			rec = append(rec, Value{a, v})
		}
	}
	return rec
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ContextGet is res.users.context_get: the caller's lang (when installed, else the
// company's, else en_US), tz and uid.
func (s *Store) ContextGet(ctx context.Context, uid int64) (Record, error) {
	var row struct {
		Lang string         `db:"lang"`
		TZ   sql.NullString `db:"tz"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT COALESCE(
				(SELECT l.code FROM res_lang l WHERE l.code = p.lang AND l.active),
				(SELECT l.code FROM res_lang l
					JOIN res_partner cp ON cp.lang = l.code
					JOIN res_company c ON c.partner_id = cp.id
					WHERE c.id = u.company_id AND l.active),
				(SELECT l.code FROM res_lang l WHERE l.code = 'en_US' AND l.active),
				(SELECT l.code FROM res_lang l WHERE l.active ORDER BY l.id LIMIT 1),
				'en_US') AS lang,
			p.tz
		FROM res_users u JOIN res_partner p ON p.id = u.partner_id
		WHERE u.id = $1`, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrAccessDenied
	}
	if err != nil {
		return nil, fmt.Errorf("read context of user %d: %w", uid, err)
	}
	var tz any = false
	if row.TZ.Valid && row.TZ.String != "" {
		tz = row.TZ.String
	}
	return Record{{"lang", row.Lang}, {"tz", tz}, {"uid", uid}}, nil
}
