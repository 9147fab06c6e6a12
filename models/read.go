package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Texts of the read surface's errors (Odoo 17/18 base). msgBadCompanies and
// msgRecordRule are AccessError texts; the others are ValueError and UserError texts.
const (
	MsgBadCompanies = "Access to unauthorized or invalid companies."
	msgReadField    = "Invalid field %s on model %s"
	msgOrderSyntax  = "Invalid \"order\" specified (%s). A valid \"order\" specification is a " +
		"comma-separated list of valid field names (optionally followed by asc/desc for the " +
		"direction)"
	// msgRecordRule is Odoo 17/18's record-rule refusal for a user outside debug mode.
	// NOTE: Odoo also prints each record's display name; odoo-shim leaves it out, as the
	// caller may not read it. The exact 18.0 text is not in the specs [uncertain].
	msgRecordRule = "Uh-oh! Looks like you have stumbled upon some top-secret records.\n\n" +
		"Sorry, %s (id=%d) doesn't have 'read' access to:\n%s\n\nIf you really, really " +
		"need access, perhaps you can win over your friendly administrator with a batch of " +
		"freshly baked cookies."
)

// Value is one member of a Record.
type Value struct {
	Name  string
	Value any
}

// Record is a result dictionary with its members in Odoo's order. Values are int64, bool,
// float64, string, []any, Record or []Record.
type Record []Value

// Get returns the value of the member name, or nil.
func (r Record) Get(name string) any {
	for _, v := range r {
		if v.Name == name {
			return v.Value
		}
	}
	return nil
}

// Query is a search on one model, as search, search_count and search_read receive it.
type Query struct {
	Caller  int64
	Model   string
	Domain  any    // the decoded domain; nil is []
	Offset  int64  // records to skip
	Limit   int64  // at most this many records; 0 means all
	Order   string // e.g. "name asc, id desc"; "" is the model's order
	Context map[string]any
}

// reader is the calling user as the access rules see them.
type reader struct {
	uid       int64
	name      string
	su        bool    // the superuser: no record rules
	companies []int64 // env.companies: allowed_company_ids, else all the user's companies
}

// readModel returns the model a caller may read: res.users and res.partner. Every
// logged-in user may read both (ir.model.access: user, portal and public read rows in
// 17-19; a row without group in 15); the record rules decide which records.
func (s *Store) readModel(ctx context.Context, name string) (*catalog, *modelDef, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, nil, err
	}
	if name != "res.users" && name != "res.partner" {
		return nil, nil, Errorf(KindUserError, MsgNoModel, name)
	}
	m, _ := cat.model(name)
	return cat, m, nil
}

// reader loads the caller's companies, checking the context's allowed_company_ids
// against them as Odoo's env.companies does.
func (s *Store) reader(ctx context.Context, uid int64, callCtx map[string]any) (reader,
	error) {
	var row struct {
		Name      string        `db:"name"`
		Companies pq.Int64Array `db:"companies"`
	}
	err := s.db.GetContext(ctx, &row, `
		SELECT COALESCE(p.name, '') AS name,
			ARRAY(
				SELECT u.company_id
				UNION
				SELECT r.cid FROM res_company_users_rel r WHERE r.user_id = u.id
			) AS companies
		FROM res_users u JOIN res_partner p ON p.id = u.partner_id
		WHERE u.id = $1`, uid)
	if errors.Is(err, sql.ErrNoRows) {
		return reader{}, ErrAccessDenied
	}
	if err != nil {
		return reader{}, fmt.Errorf("read caller %d: %w", uid, err)
	}
	r := reader{uid: uid, name: row.Name, su: uid == SuperuserID, companies: row.Companies}
	sort.Slice(r.companies, func(i, j int) bool { return r.companies[i] < r.companies[j] })

	allowed, err := allowedCompanies(callCtx)
	if err != nil || allowed == nil {
		return r, err
	}
	for _, c := range allowed {
		if !r.su && !containsID(r.companies, c) {
			return reader{}, NewError(KindAccessError, MsgBadCompanies)
		}
	}
	r.companies = allowed
	return r, nil
}

func allowedCompanies(callCtx map[string]any) ([]int64, error) {
	v, ok := callCtx["allowed_company_ids"]
	if !ok || v == nil || v == false {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	ids := make([]int64, 0, len(list))
	for _, x := range list {
		id, ok := AsInt64(x)
		if !ok {
			return nil, NewError(KindAccessError, MsgBadCompanies)
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return ids, nil
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// ruleDomain is the global record rule of the model (base.res_users_rule,
// base.res_partner_rule), as a domain over the caller's companies.
func ruleDomain(m *modelDef, r reader) []any {
	companies := make([]any, len(r.companies))
	for i, c := range r.companies {
		companies[i] = c
	}
	switch m.name {
	case "res.users":
		return []any{"|", []any{"share", "=", false}, []any{"company_ids", "in", companies}}
	case "res.partner":
		return []any{"|", "|", []any{"partner_share", "=", false},
			[]any{"company_id", "parent_of", companies}, []any{"company_id", "=", false}}
	}
	return nil
}

// searchSQL builds the WHERE clause of a search: the caller's domain, the implicit active
// filter and the record rule.
func (s *Store) searchSQL(cat *catalog, m *modelDef, q Query, r reader,
	w *sqlWhere) (string, error) {
	where, active, err := compileDomain(cat, m, q.Domain, w)
	if err != nil {
		return "", err
	}
	parts := []string{where}
	if m.active != "" && !active && activeTest(q.Context) {
		sql, _, _ := compileDomain(cat, m, []any{[]any{"active", "=", true}}, w)
		parts = append(parts, sql)
	}
	if !r.su {
		sql, _, err := compileDomain(cat, m, ruleDomain(m, r), w)
		if err != nil {
			return "", err
		}
		parts = append(parts, sql)
	}
	return strings.Join(parts, " AND "), nil
}

// activeTest is the context's active_test, true unless set to a false value.
func activeTest(callCtx map[string]any) bool {
	v, ok := callCtx["active_test"]
	if !ok {
		return true
	}
	switch x := v.(type) {
	case bool:
		return x
	case nil:
		return false
	case int64:
		return x != 0
	}
	return true
}

// Search returns the ids of the records matching q, in q's order.
func (s *Store) Search(ctx context.Context, q Query) ([]int64, error) {
	cat, m, err := s.readModel(ctx, q.Model)
	if err != nil {
		return nil, err
	}
	r, err := s.reader(ctx, q.Caller, q.Context)
	if err != nil {
		return nil, err
	}
	order, err := parseOrder(m, q.Order)
	if err != nil {
		return nil, err
	}

	w := &sqlWhere{}
	where, err := s.searchSQL(cat, m, q, r, w)
	if err != nil {
		return nil, err
	}
	query := "SELECT " + m.id + " FROM " + m.from + " WHERE " + where + " ORDER BY " + order
	if q.Limit > 0 {
		query += " LIMIT " + w.bind(q.Limit)
	}
	if q.Offset > 0 {
		query += " OFFSET " + w.bind(q.Offset)
	}

	ids := []int64{}
	if err := s.db.SelectContext(ctx, &ids, query, w.args...); err != nil {
		return nil, fmt.Errorf("search %s: %w", m.name, err)
	}
	return ids, nil
}

// SearchCount returns how many records match q, at most q.Limit when it is set.
func (s *Store) SearchCount(ctx context.Context, q Query) (int64, error) {
	cat, m, err := s.readModel(ctx, q.Model)
	if err != nil {
		return 0, err
	}
	r, err := s.reader(ctx, q.Caller, q.Context)
	if err != nil {
		return 0, err
	}

	w := &sqlWhere{}
	where, err := s.searchSQL(cat, m, q, r, w)
	if err != nil {
		return 0, err
	}
	query := "SELECT count(*) FROM " + m.from + " WHERE " + where
	if q.Limit > 0 {
		query = "SELECT count(*) FROM (SELECT 1 FROM " + m.from + " WHERE " + where +
			" LIMIT " + w.bind(q.Limit) + ") AS n"
	}

	var n int64
	if err := s.db.GetContext(ctx, &n, query, w.args...); err != nil {
		return 0, fmt.Errorf("count %s: %w", m.name, err)
	}
	return n, nil
}

// ReadOptions are read's arguments other than the ids.
type ReadOptions struct {
	Caller  int64
	Model   string
	Fields  []string // nil or empty: every field
	Classic bool     // load="_classic_read": many2one as [id, display_name], else the id
	Context map[string]any
}

// SearchRead is search followed by read of the ids found, in their order. The field
// names are checked even when nothing matches, as Odoo checks them.
func (s *Store) SearchRead(ctx context.Context, q Query, fields []string) ([]Record, error) {
	ids, err := s.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		if _, _, err := s.readFields(ctx, q.Model, fields); err != nil {
			return nil, err
		}
		return []Record{}, nil
	}
	return s.Read(ctx, ids, ReadOptions{Caller: q.Caller, Model: q.Model, Fields: fields,
		Classic: true, Context: q.Context})
}

// readFields resolves the field names of a read; none means all.
func (s *Store) readFields(ctx context.Context, model string, names []string) (*catalog,
	[]*field, error) {
	cat, m, err := s.readModel(ctx, model)
	if err != nil {
		return nil, nil, err
	}
	if len(names) == 0 {
		names = m.names
	}
	fs := make([]*field, 0, len(names))
	for _, n := range names {
		f, ok := m.fields[n]
		if !ok {
			return nil, nil, Errorf(KindValueError, msgReadField, pyRepr(n), pyRepr(m.name))
		}
		if n != "id" {
			fs = append(fs, f)
		}
	}
	return cat, fs, nil
}

// Read returns the records ids with the fields asked for, in the order of ids. Ids that
// do not exist give Odoo's MissingError, records the rules hide its AccessError.
func (s *Store) Read(ctx context.Context, ids []int64, o ReadOptions) ([]Record, error) {
	cat, fs, err := s.readFields(ctx, o.Model, o.Fields)
	if err != nil {
		return nil, err
	}
	m, _ := cat.model(o.Model)
	r, err := s.reader(ctx, o.Caller, o.Context)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return []Record{}, nil
	}

	rows, err := s.readRows(ctx, cat, m, r, uniqueIDs(ids), fs, o.Classic)
	if err != nil {
		return nil, err
	}
	if err := s.checkRead(ctx, m, r, ids, rows); err != nil {
		return nil, err
	}
	if err := s.readRelations(ctx, uniqueIDs(ids), fs, rows); err != nil {
		return nil, err
	}

	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		out = append(out, rows[id].rec)
	}
	return out, nil
}

// readRow is one record as read, with whether the record rule lets the caller see it.
type readRow struct {
	visible bool
	rec     Record
}

func (s *Store) readRows(ctx context.Context, cat *catalog, m *modelDef, r reader,
	ids []int64, fs []*field, classic bool) (map[int64]*readRow, error) {
	w := &sqlWhere{}
	visible := "TRUE"
	if !r.su {
		var err error
		if visible, _, err = compileDomain(cat, m, ruleDomain(m, r), w); err != nil {
			return nil, err
		}
	}
	cols := []string{m.id, visible}
	for _, f := range fs {
		switch {
		case f.rel != nil:
			cols = append(cols, "NULL")
		case f.ftype == typeMany2one:
			cols = append(cols, f.expr, f.nameExpr)
		default:
			cols = append(cols, f.expr)
		}
	}
	query := "SELECT " + strings.Join(cols, ", ") + " FROM " + m.from + " WHERE " + m.id +
		" = ANY(" + w.bind(sqlArray{"bigint", pq.Int64Array(ids)}) + ")"

	rows, err := s.db.QueryxContext(ctx, query, w.args...)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", m.name, err)
	}
	defer rows.Close()
	out := make(map[int64]*readRow, len(ids))
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", m.name, err)
		}
		id := vals[0].(int64)
		out[id] = &readRow{visible: vals[1] == true, rec: marshalRow(id, vals[2:], fs, classic)}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", m.name, err)
	}
	return out, nil
}

// marshalRow converts column values to Odoo's read values: False for NULL, many2one as
// [id, name], dates as strings.
func marshalRow(id int64, vals []any, fs []*field, classic bool) Record {
	rec := make(Record, 0, len(fs)+1)
	rec = append(rec, Value{"id", id})
	i := 0
	for _, f := range fs {
		v := vals[i]
		i++
		var out any
		switch {
		case f.rel != nil:
			out = []any{}
		case f.ftype == typeMany2one:
			name := vals[i]
			i++
			out = many2oneValue(v, name, classic)
		default:
			out = scalarValue(f, v)
		}
		rec = append(rec, Value{f.name, out})
	}
	return rec
}

func many2oneValue(id, name any, classic bool) any {
	n, ok := id.(int64)
	if !ok {
		return false
	}
	if !classic {
		return n
	}
	return []any{n, textOf(name)}
}

func textOf(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return ""
}

func scalarValue(f *field, v any) any {
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch f.ftype {
	case typeBoolean:
		return v == true
	case typeInteger:
		if v == nil {
			return int64(0)
		}
		return v
	}
	switch x := v.(type) {
	case nil:
		if f.private {
			return ""
		}
		return false
	case time.Time:
		if f.ftype == typeDate {
			return x.Format("2006-01-02")
		}
		return x.Format("2006-01-02 15:04:05")
	}
	return v
}

// checkRead refuses the read when an id does not exist (MissingError) or the record rule
// hides it (AccessError), as Odoo checks them.
func (s *Store) checkRead(ctx context.Context, m *modelDef, r reader, ids []int64,
	rows map[int64]*readRow) error {
	var missing, hidden []int64
	for _, id := range uniqueIDs(ids) {
		row, ok := rows[id]
		switch {
		case !ok:
			missing = append(missing, id)
		case !row.visible:
			hidden = append(hidden, id)
		}
	}
	if len(missing) > 0 {
		return Errorf(KindMissingError, MsgRecordMissing, recordRepr(m.name, missing), r.uid)
	}
	if len(hidden) > 0 {
		lines := make([]string, len(hidden))
		for i, id := range hidden {
			lines[i] = fmt.Sprintf("- %s (%s: %d)", m.label, m.name, id)
		}
		return Errorf(KindAccessError, msgRecordRule, r.name, r.uid, strings.Join(lines, "\n"))
	}
	return nil
}

// readRelations fills the one2many and many2many fields with the linked ids.
// NOTE: the ids come in id order; Odoo sorts them by the comodel's order.
func (s *Store) readRelations(ctx context.Context, ids []int64, fs []*field,
	rows map[int64]*readRow) error {
	for _, f := range fs {
		if f.rel == nil {
			continue
		}
		links, err := s.links(ctx, f.rel, ids)
		if err != nil {
			return err
		}
		for id, row := range rows {
			for i := range row.rec {
				if row.rec[i].Name == f.name {
					row.rec[i].Value = idList(links[id])
				}
			}
		}
	}
	return nil
}

func (s *Store) links(ctx context.Context, rel *relation, ids []int64) (map[int64][]int64,
	error) {
	query := "SELECT r." + rel.owner + ", r." + rel.target + " FROM " + rel.table +
		" r WHERE r." + rel.owner + " = ANY($1::bigint[])" + relCond(rel) +
		" ORDER BY r." + rel.owner + ", r." + rel.target
	rows, err := s.db.QueryContext(ctx, query, pq.Int64Array(ids))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel.table, err)
	}
	defer rows.Close()

	out := make(map[int64][]int64, len(ids))
	for rows.Next() {
		var owner, target int64
		if err := rows.Scan(&owner, &target); err != nil {
			return nil, fmt.Errorf("read %s: %w", rel.table, err)
		}
		out[owner] = append(out[owner], target)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", rel.table, err)
	}
	return out, nil
}

func idList(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}
