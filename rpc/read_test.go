package rpc_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kolo/xmlrpc"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// What real scripts do before a reset: find the user by login or e-mail, read fields,
// describe the model. Through XML-RPC, with the wire checked as Odoo writes it.
func TestReadSurfaceXMLRPC(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	db := e.db
	tests := []struct {
		name string
		body string
		has  []string // in the response body, in this order
		not  []string
	}{
		{"search_read by login", encodeCall(t, "execute_kw", db, 2, "admin", "res.users",
			"search_read", []any{[]any{[]any{"login", "=", "ahmad"}}},
			map[string]any{"fields": []any{"login", "partner_id", "login_date", "tz"}}),
			[]string{"<name>id</name><value><int>6</int>", "<name>login</name>" +
				"<value><string>ahmad</string>", "<name>partner_id</name><value><array><data>" +
				"<value><int>7</int></value><value><string>Ahmad Santoso</string>",
				"<name>login_date</name><value><boolean>0</boolean>"},
			[]string{"<i8>", "<nil/>", "faultCode"}},
		{"search by e-mail, 6 params", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "search", []any{[]any{[]any{"email", "=ilike",
				"FATIMAH.AZZAHRA@example.org"}}}),
			[]string{"<array><data><value><int>7</int></value></data></array>"}, nil},
		{"execute, positional", encodeCall(t, "execute", db, 2, "admin", "res.users",
			"search", []any{[]any{"login", "in", []any{"admin", "budi"}}}, 0, 10, "id desc"),
			[]string{"<value><int>8</int></value><value><int>2</int></value>"}, nil},
		{"kwargs as empty string", encodeCall(t, "execute_kw", db, 2, "admin", "res.users",
			"search_count", []any{[]any{}}, ""), []string{"<int>8</int>"}, nil},
		{"read, load _classic_write", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "read", []any{[]any{6}}, map[string]any{"fields": []any{"partner_id"},
				"load": "_classic_write"}),
			[]string{"<name>partner_id</name><value><int>7</int>"}, nil},
		{"name_search with args", encodeCall(t, "execute_kw", db, 2, "admin", "res.partner",
			"name_search", []any{"wali"}, map[string]any{"args": []any{}, "limit": 5}),
			[]string{"<int>14</int></value><value><string>Ibu Wali Santri</string>"}, nil},
		{"fields_get", encodeCall(t, "execute_kw", db, 2, "admin", "res.users",
			"fields_get", []any{}, map[string]any{"attributes": []any{"type", "relation"}}),
			[]string{"<name>partner_id</name><value><struct><member><name>type</name>" +
				"<value><string>many2one</string>"}, []string{"<name>help</name>"}},
		{"context_get, as OdooRPC calls it", encodeCall(t, "execute", db, 2, "admin",
			"res.users", "context_get"), []string{"<name>lang</name><value><string>id_ID",
			"<name>tz</name><value><boolean>0</boolean>", "<name>uid</name><value><int>2"},
			nil},
		{"archived with active_test off", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "search", []any{[]any{[]any{"login", "=", "alumni"}}},
			map[string]any{"context": map[string]any{"active_test": false}}),
			[]string{"<int>9</int>"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, e.url+"/xmlrpc/2/object", "text/xml", tt.body)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			body = strings.ReplaceAll(body, "\n", "") // Odoo puts members on lines
			at := 0
			for _, h := range tt.has {
				i := strings.Index(body[at:], h)
				if i < 0 {
					t.Fatalf("response lacks %q after byte %d:\n%s", h, at, body)
				}
				at += i + len(h)
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("response has %q:\n%s", n, body)
				}
			}
		})
	}
}

// Bad read calls get Odoo's faults, never a SQL error.
func TestReadSurfaceFaults(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	db := e.db
	kw := func(method string, args []any, kwargs map[string]any) string {
		return encodeCall(t, "execute_kw", db, 2, "admin", "res.users", method, args, kwargs)
	}
	tests := []struct {
		name, body, code, says string
	}{
		{"unknown field", kw("search", []any{[]any{[]any{"foo", "=", 1}}}, nil), "1",
			"ValueError: Invalid field res.users.foo in leaf ('foo', '=', 1)"},
		{"injection in field", kw("search", []any{[]any{[]any{"id; DELETE FROM res_users",
			"=", 1}}}, nil), "1", "ValueError: Invalid field res.users.id; DELETE"},
		{"bad syntax", kw("search", []any{[]any{"|", []any{"id", "=", 1}}}, nil), "1",
			"AssertionError: This domain is syntactically not correct"},
		{"bad order", kw("search", []any{[]any{}}, map[string]any{"order": "id; SELECT 1"}),
			"2", `Invalid "order" specified (id; SELECT 1).`},
		{"unknown read field", kw("read", []any{[]any{2}, []any{"login", "secret"}}, nil),
			"1", "ValueError: Invalid field 'secret' on model 'res.users'"},
		{"missing record", kw("read", []any{[]any{999}}, nil), "2",
			"Record does not exist or has been deleted.\n(Record: res.users(999,), User: 2)"},
		{"unexpected keyword", kw("search", []any{[]any{}}, map[string]any{"count": true}),
			"1", "TypeError: search() got an unexpected keyword argument 'count'"},
		{"negative limit", kw("search", []any{[]any{}}, map[string]any{"limit": -1}), "1",
			"ValueError: limit must be a non-negative integer"},
		{"foreign company", kw("search", []any{[]any{}}, map[string]any{"context": map[string]any{
			"allowed_company_ids": []any{99}}}), "4", "Access to unauthorized or invalid " +
			"companies."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, body := post(t, e.url+"/xmlrpc/2/object", "text/xml", tt.body)
			m := faultRE.FindStringSubmatch(body)
			if m == nil || m[1] != tt.code || !strings.Contains(m[2], xmlEscape(tt.says)) {
				t.Fatalf("want fault %s saying %q, got:\n%s", tt.code, tt.says, body)
			}
			if strings.Contains(body, "pq:") || strings.Contains(body, "SQL") {
				t.Errorf("fault leaks SQL: %s", body)
			}
		})
	}
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// kolo/xmlrpc decodes what we send into Go values, as a Go script would read them.
func TestReadSurfaceKolo(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	c, err := xmlrpc.NewClient(e.url+"/xmlrpc/2/object", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var recs []map[string]any
	err = c.Call("execute_kw", []any{e.db, 2, "admin", "res.users", "search_read",
		[]any{[]any{[]any{"email", "=", "operator@example.org"}}},
		map[string]any{"fields": []any{"login", "company_id", "active"}}}, &recs)
	if err != nil {
		t.Fatal(err)
	}
	want := []map[string]any{{"id": int64(12), "login": "operator", "active": true,
		"company_id": []any{int64(1), "Pondok Pesantren Demo"}}}
	if !reflect.DeepEqual(recs, want) {
		t.Errorf("search_read = %#v; want %#v", recs, want)
	}
}

// JSON-RPC gives the same records as JSON objects with their members in Odoo's order.
func TestReadSurfaceJSONRPC(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	body := `{"jsonrpc":"2.0","method":"call","id":1,"params":{"service":"object",` +
		`"method":"execute_kw","args":["` + e.db + `",2,"admin","res.partner","search_read",` +
		`[[["email","ilike","wali@"]]],{"fields":["name","user_ids","company_id"]}]}}`
	status, resp := post(t, e.url+"/jsonrpc", "application/json", body)
	want := `{"jsonrpc":"2.0","id":1,"result":[{"id":14,"name":"Ibu Wali Santri",` +
		`"user_ids":[13],"company_id":false}]}`
	if status != 200 || resp != want {
		t.Fatalf("search_read = %d %s; want %s", status, resp, want)
	}

	body = `{"jsonrpc":"2.0","method":"call","id":2,"params":{"service":"object",` +
		`"method":"execute_kw","args":["` + e.db + `",2,"admin","res.users","search",` +
		`[[["login","=",1,2]]]]}}`
	_, resp = post(t, e.url+"/jsonrpc", "application/json", body)
	var env struct {
		Error struct {
			Data struct{ Name, Message string }
		}
	}
	if err := json.Unmarshal([]byte(resp), &env); err != nil ||
		env.Error.Data.Name != "builtins.ValueError" ||
		env.Error.Data.Message != "Invalid leaf ['login', '=', 1, 2]" {
		t.Errorf("bad leaf over JSON-RPC = %s", resp)
	}
}

// Values of every XML-RPC type reach the read surface as Odoo's decoder gives them to the
// ORM: dateTime as a datetime, i8 as an int, <nil/> as None, an empty <value/> as "",
// base64 as bytes (which no field compares with), CDATA as text.
func TestReadWireForms(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	head := `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>` +
		`<param><value>` + e.db + `</value></param><param><value><int>2</int></value></param>` +
		`<param><value>admin</value></param><param><value>res.users</value></param>`
	search := func(leafValue, extra string) string {
		return head + `<param><value>search</value></param><param><value><array><data>` +
			`<value><array><data><value><array><data><value>%s</value><value>%s</value>` +
			leafValue + `</data></array></value></data></array></value></data></array>` +
			`</value></param>` + extra + `</params></methodCall>`
	}
	tests := []struct {
		name, body string
		code, says string // faultCode ("" for a result) and a part of the answer
	}{
		{"dateTime value", fmt.Sprintf(search(
			"<value><dateTime.iso8601>20000101T00:00:00</dateTime.iso8601></value>", ""),
			"create_date", ">"), "", "<int>13</int>"},
		{"CDATA value", fmt.Sprintf(search("<value><string><![CDATA[admin]]></string></value>",
			""), "login", "="), "", "<int>2</int>"},
		{"nil value is None", fmt.Sprintf(search("<value><nil/></value>", ""), "email", "="),
			"", "<int>8</int>"},
		{"i8 value", fmt.Sprintf(search("<value><i8>6</i8></value>", ""), "id", "="), "",
			"<int>6</int>"},
		{"empty value as kwargs", fmt.Sprintf(search("<value>admin</value>",
			"<param><value/></param>"), "login", "="), "", "<int>2</int>"},
		{"nil kwargs", fmt.Sprintf(search("<value>admin</value>",
			"<param><value><nil/></value></param>"), "login", "="), "", "<int>2</int>"},
		{"base64 value", fmt.Sprintf(search("<value><base64>YWRtaW4=</base64></value>", ""),
			"login", "="), "1", "Invalid domain term ('login', '=', b'admin')"},
		{"double id", fmt.Sprintf(search("<value><double>6.0</double></value>", ""), "id",
			"="), "", "<int>6</int>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, e.url+"/xmlrpc/2/object", "text/xml", tt.body)
			m := faultRE.FindStringSubmatch(body)
			switch {
			case status != 200:
				t.Fatalf("status %d", status)
			case tt.code == "" && (m != nil || !strings.Contains(body, tt.says)):
				t.Fatalf("want a result with %q, got:\n%s", tt.says, body)
			case tt.code != "" && (m == nil || m[1] != tt.code ||
				!strings.Contains(m[2], xmlEscape(tt.says))):
				t.Fatalf("want fault %s saying %q, got:\n%s", tt.code, tt.says, body)
			}
			if strings.Contains(body, "<i8>") || strings.Contains(body, "<nil/>") {
				t.Errorf("answer has <i8> or <nil/>, which Odoo never sends:\n%s", body)
			}
		})
	}
}
