package models

import (
	"context"
	"fmt"
	"sync"

	"github.com/jmoiron/sqlx"
)

// Field types, by Odoo's names.
const (
	typeInteger   = "integer"
	typeChar      = "char"
	typeText      = "text"
	typeBoolean   = "boolean"
	typeSelection = "selection"
	typeDatetime  = "datetime"
	typeDate      = "date"
	typeMany2one  = "many2one"
	typeOne2many  = "one2many"
	typeMany2many = "many2many"
)

// field is one field odoo-shim serves. Its SQL comes only from the constants in this file,
// never from a caller: that whitelist is what keeps caller input out of SQL text.
type field struct {
	name     string
	ftype    string
	label    string // Odoo's "string" attribute
	help     string
	relation string // the comodel of relational fields
	readonly bool
	required bool
	store    bool // stored fields can be searched and sorted in SQL
	// expr is the SQL value over the model's table aliases (u = res_users, p = res_partner).
	expr string
	// nameExpr is, for a many2one, the SQL of the target's display name.
	nameExpr string
	// rel lists the (owner, target) pairs of a one2many or many2many.
	rel       *relation
	selection [][2]string
	// private fields are computed as an empty string whatever is stored: Odoo never
	// returns the password hash.
	private bool
}

// relation is the table behind an x2many field: owner and target columns, with an
// optional fixed condition on the table (alias r).
type relation struct {
	table, owner, target, cond string
}

// modelDef is one model odoo-shim can search and read.
type modelDef struct {
	name     string // e.g. res.users
	label    string // Odoo's model description, e.g. User
	from     string // the FROM clause, with the aliases the field expressions use
	id       string // SQL of the record id
	active   string // SQL of the active flag, "" when the model has none
	nameExpr string // SQL of display_name
	order    string // default ORDER BY
	fields   map[string]*field
	names    []string // field names in declaration order
	recNames []string // the fields name_search looks in
	// hierarchy is the parent column child_of and parent_of follow, "" for none.
	hierarchy string
	table     string // the table the hierarchy column lives on
}

func (m *modelDef) add(f *field) {
	if m.fields == nil {
		m.fields = map[string]*field{}
	}
	m.fields[f.name] = f
	m.names = append(m.names, f.name)
}

// catalog is the models of one database, shaped by the columns that database has.
type catalog struct {
	models map[string]*modelDef
}

func (c *catalog) model(name string) (*modelDef, bool) {
	m, ok := c.models[name]
	return m, ok
}

// columns are the optional columns of one database, by table.
type columns map[string]map[string]bool

func (c columns) has(table, column string) bool { return c[table][column] }

// catalogState loads the catalog on first use and keeps it for the Store's life.
type catalogState struct {
	mu  sync.Mutex
	cat *catalog
}

// catalog returns the models of the Store's database.
func (s *Store) catalog(ctx context.Context) (*catalog, error) {
	s.cat.mu.Lock()
	defer s.cat.mu.Unlock()
	if s.cat.cat != nil {
		return s.cat.cat, nil
	}
	cols, err := readColumns(ctx, s.db)
	if err != nil {
		return nil, err
	}
	s.cat.cat = buildCatalog(cols, s.info.Major)
	return s.cat.cat, nil
}

func readColumns(ctx context.Context, db sqlx.QueryerContext) (columns, error) {
	var rows []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	err := sqlx.SelectContext(ctx, db, &rows, `
		SELECT table_name, column_name
		FROM information_schema.columns
		WHERE table_schema = 'public'
			AND table_name IN ('res_users', 'res_partner', 'res_company')`)
	if err != nil {
		return nil, fmt.Errorf("read the columns of res_users and res_partner: %w", err)
	}
	cols := columns{}
	for _, r := range rows {
		if cols[r.Table] == nil {
			cols[r.Table] = map[string]bool{}
		}
		cols[r.Table][r.Column] = true
	}
	return cols, nil
}

// partnerName is the SQL of a partner's display name over alias a: Odoo 17+ store
// complete_name ("Company, Person"), 15 and 16 store display_name.
func partnerName(cols columns, a string) string {
	switch {
	case cols.has("res_partner", "complete_name"):
		return "COALESCE(" + a + ".complete_name, " + a + ".name, '')"
	case cols.has("res_partner", "display_name"):
		return "COALESCE(" + a + ".display_name, " + a + ".name, '')"
	}
	return "COALESCE(" + a + ".name, '')"
}

// The display-name subqueries of many2one targets.
func partnerRef(cols columns, col string) string {
	return "(SELECT " + partnerName(cols, "x") + " FROM res_partner x WHERE x.id = " + col + ")"
}

func companyRef(col string) string {
	return "(SELECT x.name FROM res_company x WHERE x.id = " + col + ")"
}

func userRef(col string) string {
	return "(SELECT COALESCE(xp.name, '') FROM res_users x " +
		"JOIN res_partner xp ON xp.id = x.partner_id WHERE x.id = " + col + ")"
}

func buildCatalog(cols columns, major int) *catalog {
	return &catalog{models: map[string]*modelDef{
		"res.users":   usersModel(cols),
		"res.partner": partnerModel(cols, major),
		"res.company": companyModel(cols),
	}}
}

// langSelection and tzSelection are shown without their labels: Odoo builds them from
// res_lang and pytz at run time. NOTE: fields_get lists no selection values for them.
var noSelection = [][2]string{}

// partnerFields are the res.partner fields res.users also serves through its partner_id
// (Odoo's _inherits), over alias p.
func partnerFields(cols columns) []*field {
	fs := []*field{
		{name: "name", ftype: typeChar, label: "Name", store: true, expr: "p.name"},
		{name: "email", ftype: typeChar, label: "Email", store: true, expr: "p.email"},
		{name: "lang", ftype: typeSelection, label: "Language", store: true, expr: "p.lang",
			help: "All the emails and documents sent to this contact will be translated " +
				"in this language.", selection: noSelection},
		{name: "tz", ftype: typeSelection, label: "Timezone", store: true, expr: "p.tz",
			selection: noSelection},
	}
	for _, c := range []struct{ col, label string }{
		{"phone", "Phone"}, {"mobile", "Mobile"}, {"ref", "Reference"}, {"vat", "Tax ID"},
		{"function", "Job Position"}, {"street", "Street"}, {"city", "City"},
		{"zip", "Zip"}, {"website", "Website Link"},
	} {
		if cols.has("res_partner", c.col) {
			fs = append(fs, &field{name: c.col, ftype: typeChar, label: c.label, store: true,
				expr: "p." + c.col})
		}
	}
	if cols.has("res_partner", "parent_id") {
		fs = append(fs, &field{name: "parent_id", ftype: typeMany2one, label: "Related Company",
			relation: "res.partner", store: true, expr: "p.parent_id",
			nameExpr: partnerRef(cols, "p.parent_id")})
	}
	return append(fs,
		&field{name: "is_company", ftype: typeBoolean, label: "Is a Company", store: true,
			expr: "p.is_company"},
	)
}

func usersModel(cols columns) *modelDef {
	m := &modelDef{name: "res.users", label: "User",
		from: "res_users u JOIN res_partner p ON p.id = u.partner_id", id: "u.id",
		active: "u.active", nameExpr: "COALESCE(p.name, '')", order: "p.name, u.login",
		recNames: []string{"name", "login"}}
	m.add(&field{name: "id", ftype: typeInteger, label: "ID", readonly: true, store: true,
		expr: "u.id"})
	m.add(&field{name: "login", ftype: typeChar, label: "Login", required: true, store: true,
		expr: "u.login", help: "Used to log into the system"})
	m.add(&field{name: "password", ftype: typeChar, label: "Password", private: true,
		expr: "''", help: "Keep empty if you don't want the user to be able to connect on " +
			"the system."})
	m.add(&field{name: "active", ftype: typeBoolean, label: "Active", store: true,
		expr: "u.active"})
	m.add(&field{name: "display_name", ftype: typeChar, label: "Display Name", readonly: true,
		expr: m.nameExpr})
	for _, f := range partnerFields(cols) {
		m.add(f)
	}
	m.add(&field{name: "partner_id", ftype: typeMany2one, label: "Related Partner",
		relation: "res.partner", required: true, store: true, expr: "u.partner_id",
		nameExpr: partnerRef(cols, "u.partner_id"), help: "Partner-related data of the user"})
	m.add(&field{name: "company_id", ftype: typeMany2one, label: "Company",
		relation: "res.company", required: true, store: true, expr: "u.company_id",
		nameExpr: companyRef("u.company_id"),
		help:     "The default company for this user."})
	m.add(&field{name: "company_ids", ftype: typeMany2many, label: "Companies",
		relation: "res.company", store: true,
		rel: &relation{table: "res_company_users_rel", owner: "user_id", target: "cid"}})
	m.add(&field{name: "groups_id", ftype: typeMany2many, label: "Groups",
		relation: "res.groups", store: true,
		rel: &relation{table: "res_groups_users_rel", owner: "uid", target: "gid"}})
	m.add(&field{name: "share", ftype: typeBoolean, label: "Share User", readonly: true,
		store: true, expr: "u.share", help: "External user with limited access, created " +
			"only for the purpose of sharing data."})
	m.add(&field{name: "login_date", ftype: typeDatetime, label: "Latest authentication",
		readonly: true, expr: "(SELECT max(l.create_date) FROM res_users_log l " +
			"WHERE l.create_uid = u.id)"})
	m.add(&field{name: "create_date", ftype: typeDatetime, label: "Created on",
		readonly: true, store: true, expr: "u.create_date"})
	m.add(&field{name: "write_date", ftype: typeDatetime, label: "Last Updated on",
		readonly: true, store: true, expr: "u.write_date"})
	if cols.has("res_users", "notification_type") {
		m.add(&field{name: "notification_type", ftype: typeSelection, label: "Notification",
			required: true, store: true, expr: "u.notification_type",
			selection: [][2]string{{"email", "Handle by Emails"}, {"inbox", "Handle in Odoo"}}})
	}
	return m
}

func partnerModel(cols columns, major int) *modelDef {
	m := &modelDef{name: "res.partner", label: "Contact", from: "res_partner p", id: "p.id",
		active: "p.active", nameExpr: partnerName(cols, "p"), hierarchy: "parent_id",
		table: "res_partner"}
	m.order = m.nameExpr + " ASC, p.id DESC"
	m.recNames = []string{"display_name", "email", "ref", "vat"}
	if major <= 16 {
		m.recNames = []string{"display_name", "email", "ref"}
	}
	if !cols.has("res_partner", "parent_id") {
		m.hierarchy = ""
	}

	m.add(&field{name: "id", ftype: typeInteger, label: "ID", readonly: true, store: true,
		expr: "p.id"})
	m.add(&field{name: "display_name", ftype: typeChar, label: "Display Name", readonly: true,
		store: true, expr: m.nameExpr})
	for _, f := range partnerFields(cols) {
		m.add(f)
	}
	m.add(&field{name: "active", ftype: typeBoolean, label: "Active", store: true,
		expr: "p.active"})
	m.add(&field{name: "company_id", ftype: typeMany2one, label: "Company",
		relation: "res.company", store: true, expr: "p.company_id",
		nameExpr: companyRef("p.company_id")})
	m.add(&field{name: "type", ftype: typeSelection, label: "Address Type", store: true,
		expr: "p.type", selection: [][2]string{{"contact", "Contact"}, {"invoice",
			"Invoice Address"}, {"delivery", "Delivery Address"}, {"other", "Other Address"}}})
	m.add(&field{name: "partner_share", ftype: typeBoolean, label: "Share Partner",
		readonly: true, store: true, expr: "p.partner_share"})
	m.add(&field{name: "user_ids", ftype: typeOne2many, label: "Users", relation: "res.users",
		store: true, rel: &relation{table: "res_users", owner: "partner_id", target: "id",
			cond: "r.active"}})
	if cols.has("res_partner", "parent_id") {
		m.add(&field{name: "child_ids", ftype: typeOne2many, label: "Contact",
			relation: "res.partner", store: true, rel: &relation{table: "res_partner",
				owner: "parent_id", target: "id", cond: "r.active"}})
	}
	if cols.has("res_partner", "commercial_partner_id") {
		m.add(&field{name: "commercial_partner_id", ftype: typeMany2one,
			label: "Commercial Entity", relation: "res.partner", readonly: true, store: true,
			expr:     "p.commercial_partner_id",
			nameExpr: partnerRef(cols, "p.commercial_partner_id")})
	}
	m.add(&field{name: "create_date", ftype: typeDatetime, label: "Created on",
		readonly: true, store: true, expr: "p.create_date"})
	m.add(&field{name: "write_date", ftype: typeDatetime, label: "Last Updated on",
		readonly: true, store: true, expr: "p.write_date"})
	return m
}

// companyModel is res.company as far as domains need it (company_id.name, child_of on a
// company); it is not served to RPC callers.
func companyModel(cols columns) *modelDef {
	m := &modelDef{name: "res.company", label: "Companies", from: "res_company c",
		id: "c.id", nameExpr: "c.name", order: "c.sequence, c.name", recNames: []string{"name"}}
	if cols.has("res_company", "parent_id") {
		m.hierarchy, m.table = "parent_id", "res_company"
	}
	m.add(&field{name: "id", ftype: typeInteger, label: "ID", store: true, expr: "c.id"})
	m.add(&field{name: "name", ftype: typeChar, label: "Company Name", store: true,
		expr: "c.name"})
	m.add(&field{name: "display_name", ftype: typeChar, label: "Display Name", expr: "c.name"})
	if cols.has("res_company", "active") {
		m.active = "c.active"
	}
	return m
}
