package models

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// l builds a leaf the way a decoded XML-RPC array looks.
func l(field, op string, v any) []any { return []any{field, op, v} }

func d(terms ...any) []any { return terms }

func ids(v ...int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}

// allActive are the active users of the Own18 demo data, by id.
var allActive = ids(2, 6, 7, 8, 10, 11, 12, 13)

func TestSearchDomains(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	tests := []struct {
		name   string
		domain any
		ctx    map[string]any
		want   []int64
	}{
		{"empty", d(), nil, allActive},
		{"nil", nil, nil, allActive},
		{"false", false, nil, allActive},
		{"login", d(l("login", "=", "admin")), nil, ids(2)},
		{"email ilike", d(l("email", "ilike", "example.org")), nil, ids(6, 7, 10, 11, 12, 13)},
		{"email like is case-sensitive", d(l("email", "like", "example.org")), nil,
			ids(6, 10, 11, 12, 13)},
		{"upper-case operator", d(l("email", "LIKE", "example.org")), nil,
			ids(6, 10, 11, 12, 13)},
		{"email unset", d(l("email", "=", false)), nil, ids(8)},
		{"email set", d(l("email", "!=", false)), nil, ids(2, 6, 7, 10, 11, 12, 13)},
		{"or", d("|", l("login", "=", "admin"), l("login", "=", "budi")), nil, ids(2, 8)},
		{"and", d("&", l("login", "ilike", "a"), l("email", "=", false)), nil, ids()},
		{"implicit and", d(l("login", "ilike", "a"), l("share", "=", false)), nil,
			ids(2, 6, 7, 10, 11, 12)},
		{"not", d("!", l("login", "=", "admin")), nil, ids(6, 7, 8, 10, 11, 12, 13)},
		{"nested", d("|", "&", l("login", "=", "admin"), l("active", "=", true), "!",
			l("id", "<", 12)), nil, ids(2, 12, 13)},
		{"archived", d(l("active", "=", false)), nil, ids(1, 4, 9)},
		{"active either", d(l("active", "in", []any{true, false})), nil,
			ids(1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13)},
		{"active_test off", d(), map[string]any{"active_test": false},
			ids(1, 2, 4, 6, 7, 8, 9, 10, 11, 12, 13)},
		{"share", d(l("share", "=", true)), nil, ids(13)},
		{"id in", d(l("id", "in", []any{int64(2), int64(6), int64(999)})), nil, ids(2, 6)},
		{"id in empty", d(l("id", "in", []any{})), nil, ids()},
		{"id not in empty", d(l("id", "not in", []any{})), nil, allActive},
		{"id not in", d(l("id", "not in", []any{int64(2)})), nil, allActive[1:]},
		{"id = list", d(l("id", "=", []any{int64(2), int64(6)})), nil, ids(2, 6)},
		{"id in scalar", d(l("id", "in", int64(7))), nil, ids(7)},
		{"id >", d(l("id", ">", int64(10))), nil, ids(11, 12, 13)},
		{"id <=", d(l("id", "<=", int64(6))), nil, ids(2, 6)},
		{"id beyond int32", d(l("id", "=", int64(1)<<40)), nil, ids()},
		{"float id", d(l("id", "=", 2.0)), nil, ids(2)},
		{"<>", d(l("login", "<>", "admin")), nil, allActive[1:]},
		{"=like", d(l("login", "=like", "a%")), nil, ids(2, 6)},
		{"=ilike", d(l("login", "=ilike", "A%")), nil, ids(2, 6)},
		{"not ilike", d(l("name", "not ilike", "ust")), nil, ids(2, 6, 7, 8, 10, 12, 13)},
		{"ilike empty matches all", d(l("email", "ilike", "")), nil, allActive},
		{"=? False", d(l("email", "=?", false)), nil, allActive},
		{"=? value", d(l("email", "=?", "operator@example.org")), nil, ids(12)},
		{"in with False", d(l("email", "in", []any{"operator@example.org", false})), nil,
			ids(8, 12)},
		{"not in keeps NULL", d(l("email", "not in", []any{"admin@pesantren-demo.test"})),
			nil, ids(6, 7, 8, 10, 11, 12, 13)},
		{"lang", d(l("lang", "=", "en_US")), nil, ids(10)},
		{"many2one id", d(l("partner_id", "=", int64(7))), nil, ids(6)},
		{"many2one unset", d(l("partner_id", "=", false)), nil, ids()},
		{"many2one by name", d(l("partner_id", "=", "Ahmad Santoso")), nil, ids(6)},
		{"many2one ilike", d(l("partner_id", "ilike", "ahmad")), nil, ids(6)},
		{"many2one names in", d(l("partner_id", "in", []any{"Ahmad Santoso", int64(8)})), nil,
			ids(6, 7)},
		{"many2one not ilike", d(l("partner_id", "not ilike", "a")), nil, ids()},
		{"dotted", d(l("partner_id.email", "=", "wali@example.org")), nil, ids(13)},
		{"dotted company", d(l("company_id.name", "=", "Pondok Pesantren Demo")), nil,
			allActive},
		{"any", d(l("partner_id", "any", d(l("email", "=", "wali@example.org")))), nil,
			ids(13)},
		{"not any", d(l("partner_id", "not any", d(l("email", "ilike", "example")))), nil,
			ids(2, 8)},
		{"many2many in", d(l("company_ids", "in", []any{int64(1)})), nil, allActive},
		{"many2many unset", d(l("company_ids", "=", false)), nil, ids()},
		{"many2many not in", d(l("company_ids", "not in", []any{int64(1)})), nil, ids()},
		{"many2many by name", d(l("company_ids", "ilike", "pesantren")), nil, allActive},
		{"child_of without hierarchy", d(l("partner_id", "child_of", int64(7))), nil, ids(6)},
		{"true leaf", d([]any{int64(1), "=", int64(1)}), nil, allActive},
		{"false leaf", d([]any{int64(0), "=", int64(1)}), nil, ids()},
		{"datetime after", d(l("create_date", ">", "2000-01-01 00:00:00")), nil, allActive},
		{"date only", d(l("create_date", "<", "2000-01-01")), nil, ids()},
		{"login_date unset", d(l("login_date", "=", false)), nil, allActive},
		{"injection in value", d(l("login", "=", "admin' OR '1'='1")), nil, ids()},
		{"injection in like", d(l("login", "ilike", "%' OR 1=1 --")), nil, ids()},
		{"percent pattern", d(l("name", "ilike", "%")), nil, allActive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Search(context.Background(), Query{Caller: 2, Model: "res.users",
				Domain: tt.domain, Order: "id", Context: tt.ctx})
			if err != nil {
				t.Fatalf("Search(%s) error: %v", pyValueRepr(tt.domain), err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Search(%s) = %v; want %v", pyValueRepr(tt.domain), got, tt.want)
			}
		})
	}
}

func TestSearchRefusesBadDomains(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	deep := []any{}
	for i := 0; i < maxDomainDepth+5; i++ {
		deep = append(deep, "!")
	}
	deep = append(deep, l("id", "=", int64(1)))
	wide := []any{}
	for i := 0; i < maxDomainTerms+1; i++ {
		wide = append(wide, l("id", "=", int64(i)))
	}
	huge := make([]any, maxDomainList+1)
	for i := range huge {
		huge[i] = int64(i)
	}
	tests := []struct {
		name   string
		domain any
		kind   Kind
		want   string
	}{
		{"injection in field", d(l("login; DROP TABLE res_users", "=", int64(1))),
			KindValueError, "Invalid field res.users.login; DROP TABLE res_users in leaf " +
				"('login; DROP TABLE res_users', '=', 1)"},
		{"unknown field", d(l("foo", "=", int64(1))), KindValueError,
			"Invalid field res.users.foo in leaf ('foo', '=', 1)"},
		{"injection in operator", d(l("login", "= 'x' OR 1=1 --", "x")), KindValueError,
			"Invalid leaf ['login', \"= 'x' OR 1=1 --\", 'x']"},
		{"unknown operator", d(l("login", "regex", "x")), KindValueError,
			"Invalid leaf ['login', 'regex', 'x']"},
		{"short leaf", d([]any{"login", "="}), KindValueError, "Invalid leaf ['login', '=']"},
		{"number term", d(int64(5)), KindValueError, "Invalid leaf 5"},
		{"stray word", d("login"), KindValueError, "Invalid leaf login"},
		{"operator without operands", d("&", l("login", "=", "a")), KindAssertionError,
			"This domain is syntactically not correct: ['&', ['login', '=', 'a']]"},
		{"lone not", d("!"), KindAssertionError, "This domain is syntactically not correct: " +
			"['!']"},
		{"not a list", "login = admin", KindValueError, msgDomainForm},
		{"struct", map[string]any{"login": "admin"}, KindValueError, msgDomainForm},
		{"password", d(l("password", "=", "x")), KindValueError,
			"Non-stored field res.users.password cannot be searched."},
		{"text for an id", d(l("id", "=", "abc")), KindValueError,
			"Invalid domain term ('id', '=', 'abc')"},
		{"text for a boolean", d(l("active", "=", "yes")), KindValueError,
			"Invalid domain term ('active', '=', 'yes')"},
		{"bad date", d(l("create_date", ">", "yesterday")), KindValueError,
			"Invalid domain term ('create_date', '>', 'yesterday')"},
		{"list for like", d(l("login", "ilike", []any{"a"})), KindValueError,
			"Invalid domain term ('login', 'ilike', ['a'])"},
		{"struct value", d(l("login", "=", map[string]any{"a": int64(1)})), KindValueError,
			"Invalid domain term ('login', '=', {'a': 1})"},
		{"dotted unknown", d(l("partner_id.foo", "=", int64(1))), KindValueError,
			"Invalid field res.partner.foo in leaf ('foo', '=', 1)"},
		{"dotted on a scalar", d(l("login.foo", "=", int64(1))), KindValueError,
			"Invalid field res.users.login.foo in leaf ('login.foo', '=', 1)"},
		{"dotted unserved model", d(l("groups_id.name", "=", "x")), KindValueError,
			"Invalid field res.users.groups_id.name in leaf ('groups_id.name', '=', 'x')"},
		{"child_of a text field", d(l("login", "child_of", int64(1))), KindValueError,
			"Invalid domain term ('login', 'child_of', 1)"},
		{"too deep", deep, KindValueError, "Domain too large"},
		{"too wide", wide, KindValueError, "Domain too large"},
		{"huge list", d(l("id", "in", huge)), KindValueError, "Domain too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Search(context.Background(), Query{Caller: 2, Model: "res.users",
				Domain: tt.domain})
			e, ok := AsError(err)
			if !ok || e.Kind != tt.kind || !strings.HasPrefix(e.Message, tt.want) {
				t.Fatalf("Search error = %#v; want %s %q", err, tt.kind.PythonName(), tt.want)
			}
		})
	}
}

func TestSearchOrderLimitOffset(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	tests := []struct {
		order         string
		limit, offset int64
		want          []int64
	}{
		{"", 0, 0, ids(2, 6, 8, 7, 13, 12, 11, 10)}, // name, login
		{"id desc", 3, 0, ids(13, 12, 11)},
		{"id desc", 3, 2, ids(11, 10, 8)},
		{"  login ASC  ", 2, 0, ids(2, 6)},
		{"lang desc, id", 2, 0, ids(2, 6)},
		{`"id" desc nulls last`, 1, 0, ids(13)},
		{"partner_id desc", 1, 0, ids(10)}, // by the partner's name
		{"email desc nulls first, id", 2, 0, ids(8, 13)},
	}
	for _, tt := range tests {
		got, err := s.Search(context.Background(), Query{Caller: 2, Model: "res.users",
			Order: tt.order, Limit: tt.limit, Offset: tt.offset})
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Search(order %q, limit %d, offset %d) = %v, %v; want %v", tt.order,
				tt.limit, tt.offset, got, err, tt.want)
		}
	}

	bad := []struct {
		order string
		kind  Kind
	}{
		{"name; DROP TABLE res_users", KindUserError},
		{"id desc,", KindUserError},
		{"id sideways", KindUserError},
		{"(SELECT 1)", KindUserError},
		{"foo", KindValueError},
		{"company_ids", KindValueError},
		{"password", KindValueError},
		{"partner_id.name", KindValueError},
	}
	for _, tt := range bad {
		_, err := s.Search(context.Background(), Query{Caller: 2, Model: "res.users",
			Order: tt.order})
		if e, ok := AsError(err); !ok || e.Kind != tt.kind {
			t.Errorf("Search(order %q) error = %v; want %s", tt.order, err, tt.kind.PythonName())
		}
	}
}

func TestSearchCount(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	tests := []struct {
		q    Query
		want int64
	}{
		{Query{Model: "res.users"}, 8},
		{Query{Model: "res.users", Limit: 3}, 3},
		{Query{Model: "res.users", Context: map[string]any{"active_test": false}}, 11},
		{Query{Model: "res.users", Domain: d(l("email", "=", false))}, 1},
		{Query{Model: "res.partner", Domain: d(l("is_company", "=", true))}, 1},
	}
	for _, tt := range tests {
		tt.q.Caller = 2
		got, err := s.SearchCount(context.Background(), tt.q)
		if err != nil || got != tt.want {
			t.Errorf("SearchCount(%+v) = %d, %v; want %d", tt.q, got, err, tt.want)
		}
	}
}

func TestReadUsers(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	ctx := context.Background()
	recs, err := s.Read(ctx, []int64{6, 13}, ReadOptions{Caller: 2, Model: "res.users",
		Fields: []string{"login", "email", "partner_id", "company_id", "company_ids",
			"active", "share", "password", "login_date", "lang", "tz", "display_name"},
		Classic: true})
	if err != nil {
		t.Fatal(err)
	}
	want := Record{{"id", int64(6)}, {"login", "ahmad"}, {"email", "ahmad.santoso@example.org"},
		{"partner_id", []any{int64(7), "Ahmad Santoso"}},
		{"company_id", []any{int64(1), "Pondok Pesantren Demo"}},
		{"company_ids", []any{int64(1)}}, {"active", true}, {"share", false},
		{"password", ""}, {"login_date", false}, {"lang", "id_ID"}, {"tz", false},
		{"display_name", "Ahmad Santoso"}}
	if len(recs) != 2 || !reflect.DeepEqual(recs[0], want) {
		t.Fatalf("Read = %#v; want first %#v", recs, want)
	}
	if recs[1].Get("share") != true || recs[1].Get("login") != "wali@example.org" {
		t.Errorf("Read second = %#v", recs[1])
	}

	// Without _classic_read a many2one is its id; archived records read by id.
	recs, err = s.Read(ctx, []int64{9, 9}, ReadOptions{Caller: 2, Model: "res.users",
		Fields: []string{"partner_id", "create_date"}})
	if err != nil || len(recs) != 2 || recs[0].Get("partner_id") != int64(10) {
		t.Fatalf("Read(load=None) = %#v, %v", recs, err)
	}
	if d, ok := recs[0].Get("create_date").(string); !ok || len(d) != len("2006-01-02 15:04:05") {
		t.Errorf("create_date = %#v; want Odoo's datetime string", recs[0].Get("create_date"))
	}

	all, err := s.Read(ctx, []int64{2}, ReadOptions{Caller: 2, Model: "res.users"})
	if err != nil || len(all[0]) < 15 || all[0][0].Name != "id" {
		t.Errorf("Read(all fields) = %#v, %v", all, err)
	}
}

func TestReadErrors(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	tests := []struct {
		name   string
		model  string
		ids    []int64
		fields []string
		kind   Kind
		want   string
	}{
		{"missing", "res.users", []int64{2, 999}, nil, KindMissingError,
			"Record does not exist or has been deleted.\n(Record: res.users(999,), User: 2)"},
		{"unknown field", "res.users", []int64{2}, []string{"login", "totp_secret"},
			KindValueError, "Invalid field 'totp_secret' on model 'res.users'"},
		{"hostile field", "res.users", []int64{2}, []string{"login FROM res_users --"},
			KindValueError, "Invalid field 'login FROM res_users --' on model 'res.users'"},
		{"unknown model", "res.company", []int64{1}, nil, KindUserError,
			"Object res.company doesn't exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Read(context.Background(), tt.ids, ReadOptions{Caller: 2,
				Model: tt.model, Fields: tt.fields})
			e, ok := AsError(err)
			if !ok || e.Kind != tt.kind || e.Message != tt.want {
				t.Fatalf("Read error = %#v; want %s %q", err, tt.kind.PythonName(), tt.want)
			}
		})
	}
}

// Two companies: a portal user of the second company is visible only to callers working in
// it; partners of the second company likewise.
func TestRecordRules(t *testing.T) {
	s, _, name := openStore(t, modeltest.Own18, nil)
	modeltest.Exec(t, name, `
		INSERT INTO res_partner (id, name, complete_name, active, partner_share, company_id)
		VALUES (50, 'Cabang Dua', 'Cabang Dua', true, false, NULL),
			(51, 'Wali Cabang', 'Wali Cabang', true, true, 2);
		INSERT INTO res_company (id, name, partner_id) VALUES (2, 'Cabang Dua', 50);
		INSERT INTO res_users (id, login, partner_id, company_id, active, share)
		VALUES (60, 'wali.cabang', 51, 2, true, true), (61, 'guru.cabang', 50, 2, true, false);
		INSERT INTO res_company_users_rel (cid, user_id) VALUES (2, 60), (2, 61), (2, 2)`)
	ctx := context.Background()
	tests := []struct {
		name   string
		caller int64
		model  string
		ctx    map[string]any
		want   []int64
	}{
		{"admin in both companies", 2, "res.users", nil, ids(2, 6, 7, 8, 10, 11, 12, 13, 60,
			61)},
		{"admin in company 1", 2, "res.users", map[string]any{"allowed_company_ids": []any{
			int64(1)}}, ids(2, 6, 7, 8, 10, 11, 12, 13, 61)},
		{"portal user of company 1", 13, "res.users", nil, ids(2, 6, 7, 8, 10, 11, 12, 13,
			61)},
		{"superuser", SuperuserID, "res.users", nil, ids(2, 6, 7, 8, 10, 11, 12, 13, 60, 61)},
		{"partners, company 1", 13, "res.partner", nil, ids(1, 3, 7, 8, 9, 10, 11, 12, 13,
			14, 50)},
		{"partners, company 2", 60, "res.partner", nil, ids(1, 3, 7, 8, 9, 10, 11, 12, 13,
			14, 50, 51)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Search(ctx, Query{Caller: tt.caller, Model: tt.model, Order: "id",
				Context: tt.ctx})
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Search = %v, %v; want %v", got, err, tt.want)
			}
		})
	}

	_, err := s.Read(ctx, []int64{60}, ReadOptions{Caller: 13, Model: "res.users",
		Fields: []string{"login"}})
	if e, ok := AsError(err); !ok || e.Kind != KindAccessError ||
		!strings.Contains(e.Message, "- User (res.users: 60)") {
		t.Errorf("Read of a hidden user = %v; want AccessError naming res.users: 60", err)
	}
	_, err = s.Search(ctx, Query{Caller: 13, Model: "res.users",
		Context: map[string]any{"allowed_company_ids": []any{int64(2)}}})
	if e, ok := AsError(err); !ok || e.Kind != KindAccessError || e.Message != MsgBadCompanies {
		t.Errorf("Search in a foreign company = %v; want %q", err, MsgBadCompanies)
	}
}

func TestNameSearchFieldsGetContextGet(t *testing.T) {
	s, _, _ := openStore(t, modeltest.Own18, nil)
	ctx := context.Background()
	got, err := s.NameSearch(ctx, Query{Caller: 2, Model: "res.users", Limit: 100}, "ahm",
		"ilike")
	want := []any{[]any{int64(6), "Ahmad Santoso"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("NameSearch(ahm) = %#v, %v; want %#v", got, err, want)
	}
	got, err = s.NameSearch(ctx, Query{Caller: 2, Model: "res.users", Limit: 2}, "", "ilike")
	if err != nil || len(got) != 2 {
		t.Errorf("NameSearch('', limit 2) = %#v, %v", got, err)
	}
	got, err = s.NameSearch(ctx, Query{Caller: 2, Model: "res.partner",
		Domain: d(l("is_company", "=", false))}, "wali@example", "ilike")
	if err != nil || len(got) != 1 || got[0].([]any)[1] != "Ibu Wali Santri" {
		t.Errorf("NameSearch on partner e-mail = %#v, %v", got, err)
	}

	fields, err := s.FieldsGet(ctx, "res.users", nil, []string{"type", "relation", "string"})
	if err != nil {
		t.Fatal(err)
	}
	wantPartner := Record{{"type", "many2one"}, {"string", "Related Partner"},
		{"relation", "res.partner"}}
	if got := fields.Get("partner_id"); !reflect.DeepEqual(got, wantPartner) {
		t.Errorf("fields_get partner_id = %#v; want %#v", got, wantPartner)
	}
	if fields.Get("login") == nil || fields.Get("password") == nil {
		t.Errorf("fields_get lacks login or password: %v", fields)
	}

	c, err := s.ContextGet(ctx, 10)
	want2 := Record{{"lang", "en_US"}, {"tz", false}, {"uid", int64(10)}}
	if err != nil || !reflect.DeepEqual(c, want2) {
		t.Errorf("ContextGet = %#v, %v; want %#v", c, err, want2)
	}
}

// The real Odoo 18 and Odoo 16 schemas: the same reads work on both.
func TestReadRealSchemas(t *testing.T) {
	t.Run("fixture18", func(t *testing.T) {
		s, _, _ := openStore(t, modeltest.Fixture18, nil)
		ctx := context.Background()
		got, err := s.Search(ctx, Query{Caller: 2, Model: "res.users",
			Domain: d("|", l("login", "=", "siti.nurhaliza@example.com"),
				l("email", "=", "siti.nurhaliza@example.com"))})
		if err != nil || !reflect.DeepEqual(got, ids(7)) {
			t.Fatalf("Search by login or e-mail = %v, %v", got, err)
		}
		n, err := s.SearchCount(ctx, Query{Caller: 2, Model: "res.users",
			Domain: d(l("login", "=like", "bulk%"))})
		if err != nil || n != 200 {
			t.Errorf("SearchCount(bulk%%) = %d, %v; want 200", n, err)
		}
		recs, err := s.SearchRead(ctx, Query{Caller: 2, Model: "res.partner",
			Domain: d(l("user_ids", "in", []any{int64(7)}))},
			[]string{"display_name", "user_ids", "parent_id", "commercial_partner_id"})
		if err != nil || len(recs) != 1 || !reflect.DeepEqual(recs[0].Get("user_ids"),
			[]any{int64(7)}) {
			t.Fatalf("SearchRead partner of user 7 = %#v, %v", recs, err)
		}
		got, err = s.Search(ctx, Query{Caller: 2, Model: "res.partner",
			Domain: d(l("id", "child_of", int64(1)))})
		if err != nil || len(got) == 0 {
			t.Errorf("Search(child_of the company) = %v, %v", got, err)
		}
	})
	t.Run("fixture16", func(t *testing.T) {
		dsn, name := modeltest.NewDatabase(t, modeltest.Fixture16)
		// The schema has every foreign key of a real database; these rows need only a few.
		modeltest.Exec(t, name, `
			SET session_replication_role = replica;
			INSERT INTO ir_module_module (name, state, latest_version)
			VALUES ('base', 'installed', '16.0.1.3'), ('auth_signup', 'installed', '16.0.1.0');
			INSERT INTO res_partner (id, name, display_name, active, type)
			VALUES (1, 'Sekolah', 'Sekolah', true, 'contact'),
				(3, 'Admin', 'Sekolah, Admin', true, 'contact');
			INSERT INTO res_company (id, name, partner_id, currency_id, layout_background,
				fiscalyear_last_day, fiscalyear_last_month, account_opening_date,
				security_lead, manufacturing_lead, po_lead)
			VALUES (1, 'Sekolah', 1, 1, 'Blank', 31, '12', '2023-01-01', 0, 0, 0);
			INSERT INTO res_users (id, login, partner_id, company_id, active, share,
				notification_type)
			VALUES (2, 'admin', 3, 1, true, false, 'email');
			INSERT INTO res_company_users_rel (cid, user_id) VALUES (1, 2)`)
		s, err := Open(context.Background(), dsn, Settings{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		recs, err := s.SearchRead(context.Background(), Query{Caller: 2, Model: "res.users",
			Domain: d(l("login", "=", "admin"))}, []string{"name", "partner_id", "company_id"})
		want := Record{{"id", int64(2)}, {"name", "Admin"},
			{"partner_id", []any{int64(3), "Sekolah, Admin"}},
			{"company_id", []any{int64(1), "Sekolah"}}}
		if err != nil || len(recs) != 1 || !reflect.DeepEqual(recs[0], want) {
			t.Errorf("SearchRead on Odoo 16 = %#v, %v; want %#v", recs, err, want)
		}
	})
}

// The compiler never puts a caller's text into SQL: every value becomes a placeholder.
func TestCompileKeepsValuesOut(t *testing.T) {
	cat := buildCatalog(columns{}, 18)
	m, _ := cat.model("res.users")
	hostile := "x'); DROP TABLE res_users; --"
	for _, op := range []string{"=", "!=", "like", "ilike", "=like", "not ilike", "in"} {
		w := &sqlWhere{}
		sql, _, err := compileDomain(cat, m, d(l("login", op, hostile),
			l("partner_id", op, hostile)), w)
		if err != nil {
			t.Fatalf("compile %s: %v", op, err)
		}
		if strings.Contains(sql, "DROP") || len(w.args) == 0 {
			t.Errorf("compile(%s) = %s with %d args; the value leaked into SQL", op, sql,
				len(w.args))
		}
	}

}

// A reset reads the users it acts on, so the record rule applies as it does to read: an
// Access Rights member working in company 1 cannot reset, or find by login, a portal user
// of company 2 alone, and nothing is written or mailed.
func TestResetFollowsRecordRules(t *testing.T) {
	s, mailer, name := openStore(t, modeltest.Own18, nil)
	modeltest.Exec(t, name, `
		INSERT INTO res_partner (id, name, complete_name, active, partner_share, company_id,
			email)
		VALUES (50, 'Cabang Dua', 'Cabang Dua', true, false, NULL, NULL),
			(51, 'Wali Cabang', 'Wali Cabang', true, true, 2, 'wali.cabang@example.org');
		INSERT INTO res_company (id, name, partner_id) VALUES (2, 'Cabang Dua', 50);
		INSERT INTO res_users (id, login, partner_id, company_id, active, share)
		VALUES (60, 'wali.cabang', 51, 2, true, true);
		INSERT INTO res_company_users_rel (cid, user_id) VALUES (2, 60)`)
	ctx := context.Background()

	_, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 12, IDs: []int64{60}})
	if e, ok := AsError(err); !ok || e.Kind != KindAccessError {
		t.Errorf("action_reset_password on a hidden user = %v; want an AccessError", err)
	}
	_, err = s.ResetPassword(ctx, 12, "wali.cabang", nil)
	if e, ok := AsError(err); !ok || e.Kind != KindException {
		t.Errorf("reset_password of a hidden login = %v; want no account found", err)
	}
	if len(mailer.mails) != 0 {
		t.Errorf("%d mails sent for a hidden user", len(mailer.mails))
	}
	var signupType *string
	if err := s.db.GetContext(ctx, &signupType,
		`SELECT signup_type FROM res_partner WHERE id = 51`); err != nil || signupType != nil {
		t.Errorf("hidden partner's signup_type = %v, %v; want untouched", signupType, err)
	}

	// Once the caller works in company 2 too, the user is visible and the reset proceeds.
	modeltest.Exec(t, name, `INSERT INTO res_company_users_rel (cid, user_id) VALUES (2, 12)`)
	if _, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 12,
		IDs: []int64{60}}); err != nil {
		t.Errorf("action_reset_password with access = %v", err)
	}
}
