package rpc_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
	"github.com/odoo-shim/odoo-shim/rpc"
)

// The db service as clients probe it, with list_db on and off.
func TestDBService(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	closedURL := serverOn(t, e, rpc.Options{ListDBDisabled: true})

	tests := []struct {
		name, url, body string
		code            string // faultCode, or "" for a result
		says            string
	}{
		{"list", e.url, encodeCall(t, "list"), "", "<value><string>" + e.db + "</string>"},
		{"list, list_db off", closedURL, encodeCall(t, "list"), "3", "Access Denied"},
		{"server_version", e.url, encodeCall(t, "server_version"), "",
			"<string>18.0-20250506</string>"},
		{"db_exist", e.url, encodeCall(t, "db_exist", e.db), "", "<boolean>1</boolean>"},
		{"db_exist, another", e.url, encodeCall(t, "db_exist", "postgres"), "",
			"<boolean>0</boolean>"},
		{"list_lang", e.url, encodeCall(t, "list_lang"), "",
			"<value><string>en_US</string></value>\n<value><string>English (US)</string>"},
		{"drop", e.url, encodeCall(t, "drop", "admin", e.db), "3", "Access Denied"},
		{"dump without arguments", e.url, encodeCall(t, "dump"), "3", "Access Denied"},
		{"unknown", e.url, encodeCall(t, "vacuum"), "1", "KeyError: 'Method not found: vacuum'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, tt.url+"/xmlrpc/2/db", "text/xml", tt.body)
			m := faultRE.FindStringSubmatch(body)
			switch {
			case status != 200:
				t.Fatalf("status %d", status)
			case tt.code == "" && (m != nil || !strings.Contains(body, tt.says)):
				t.Fatalf("want a result with %q, got:\n%s", tt.says, body)
			case tt.code != "" && (m == nil || m[1] != tt.code || !strings.Contains(m[2], tt.says)):
				t.Fatalf("want fault %s saying %q, got:\n%s", tt.code, tt.says, body)
			}
		})
	}
}

var legacyFaultRE = regexp.MustCompile(`(?s)<name>faultCode</name>\s*<value><string>(.*)` +
	`</string></value>.*<name>faultString</name>\s*<value><string>(.*)</string></value>`)

// The legacy /xmlrpc/<service> routes: the same services, faults with string codes.
func TestLegacyXMLRPC(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	db := e.db
	tests := []struct {
		name, path, body string
		code, str        string // the fault's code and string, prefixes; "" code for a result
	}{
		{"version", "/xmlrpc/common", encodeCall(t, "version"), "", "18.0-20250506"},
		{"login", "/xmlrpc/common", encodeCall(t, "login", db, "admin", "admin"), "",
			"<int>2</int>"},
		{"search", "/xmlrpc/object", encodeCall(t, "execute_kw", db, 2, "admin", "res.users",
			"search", []any{[]any{[]any{"login", "=", "admin"}}}, map[string]any{}), "",
			"<int>2</int>"},
		{"wrong password", "/xmlrpc/object", encodeCall(t, "execute_kw", db, 2, "nope",
			"res.users", "search", []any{[]any{}}), "AccessDenied", "Access Denied"},
		{"missing record", "/xmlrpc/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "read", []any{[]any{999}}), "warning -- MissingError\n\nRecord " +
			"does not exist or has been deleted.\n(Record: res.users(999,), User: 2)", ""},
		{"user error", "/xmlrpc/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.company", "search", []any{[]any{}}), "warning -- UserError\n\n" +
			"Object res.company doesn't exist", ""},
		{"access error", "/xmlrpc/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "_check_credentials", []any{}), "warning -- AccessError\n\n" +
			"Private methods", ""},
		{"value error", "/xmlrpc/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "search", []any{[]any{[]any{"foo", "=", 1}}}),
			"Invalid field res.users.foo in leaf ('foo', '=', 1)",
			"Traceback (most recent call last):"},
		{"db service", "/xmlrpc/db", encodeCall(t, "server_version"), "", "18.0-20250506"},
		{"unknown service", "/xmlrpc/report", encodeCall(t, "render"), "'report'",
			"Traceback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, e.url+tt.path, "text/xml", tt.body)
			m := legacyFaultRE.FindStringSubmatch(body)
			switch {
			case status != 200:
				t.Fatalf("status %d", status)
			case tt.code == "" && (m != nil || !strings.Contains(body, tt.str)):
				t.Fatalf("want a result with %q, got:\n%s", tt.str, body)
			case tt.code != "" && (m == nil || !strings.HasPrefix(m[1], xmlEscape(tt.code)) ||
				!strings.HasPrefix(m[2], tt.str) || tt.str == "" && m[2] != ""):
				t.Fatalf("want fault %q / %q, got:\n%s", tt.code, tt.str, body)
			}
		})
	}
}
