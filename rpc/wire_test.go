package rpc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/kolo/xmlrpc"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

var faultRE = regexp.MustCompile(`(?s)<name>faultCode</name>\s*<value><int>(\d+)</int></value>` +
	`.*<name>faultString</name>\s*<value><string>(.*)</string></value>`)

// post sends body to path and returns the status and the response body.
func post(t *testing.T, url, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func encodeCall(t *testing.T, method string, args ...any) string {
	t.Helper()
	b, err := xmlrpc.EncodeMethodCall(method, args...)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Bad or unusual XML-RPC input gets the answer Odoo gives: always HTTP 200, a fault with
// Odoo's code, and never a crash or a half-done change.
func TestXMLRPCInputs(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	db := e.db
	deep := strings.Repeat("<value><array><data>", 100) + strings.Repeat("</data></array></value>", 100)
	tests := []struct {
		name, path, body string
		code             string // faultCode, or "" for a result
		says             string // in the faultString or the result
	}{
		{"malformed", "/xmlrpc/2/common", "<methodCall><methodName>version", "1",
			"xml.parsers.expat.ExpatError"},
		{"entity", "/xmlrpc/2/common", `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>` +
			`<methodCall><methodName>version</methodName></methodCall>`, "1", "ExpatError"},
		{"too deep", "/xmlrpc/2/common", "<methodCall><methodName>version</methodName><params>" +
			"<param>" + deep + "</param></params></methodCall>", "1", "ExpatError"},
		{"unknown service", "/xmlrpc/2/report", encodeCall(t, "render"), "1", "KeyError: 'report'"},
		{"unknown common method", "/xmlrpc/2/common", encodeCall(t, "drop"), "1",
			"Exception: Method not found: drop"},
		{"unknown object method", "/xmlrpc/2/object", encodeCall(t, "exec_workflow"), "1",
			"NameError: Method not available exec_workflow"},
		{"execute_kw, 5 params", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "action_reset_password"), "1", "TypeError: execute_kw() missing"},
		{"other database", "/xmlrpc/2/object", encodeCall(t, "execute_kw", "prod", 2, "admin",
			"res.users", "action_reset_password", []any{[]any{6}}), "1",
			`database "prod" does not exist`},
		{"uid as text, as Odoo's int() takes it", "/xmlrpc/2/object", encodeCall(t,
			"execute_kw", db, "2", "admin", "res.users", "action_reset_password",
			[]any{[]any{6}}), "", "display_notification"},
		{"uid not a number", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, "two",
			"admin", "res.users", "action_reset_password", []any{[]any{6}}), "1",
			"ValueError: invalid literal for int() with base 10: 'two'"},
		{"uid beyond int32", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2147483648,
			"admin", "res.users", "action_reset_password", []any{[]any{6}}), "3", "Access Denied"},
		{"id beyond int32", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "action_reset_password", []any{[]any{2147483648}}), "2",
			"(Record: res.users(2147483648,), User: 2)"},
		{"kwargs as an empty list", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2,
			"admin", "res.users", "action_reset_password", []any{[]any{6}}, []any{}), "",
			"display_notification"},
		{"version with arguments", "/xmlrpc/2/common", encodeCall(t, "version", 1), "1",
			"TypeError"},
		{"unknown model", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.foo", "read", []any{[]any{6}}), "2", "Object res.foo doesn't exist"},
		{"ids as text", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "action_reset_password", []any{[]any{"6"}}), "1", "ValueError"},
		{"extra argument", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "action_reset_password", []any{[]any{6}, 7}), "1", "TypeError"},
		{"unknown keyword", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "action_reset_password", []any{[]any{6}},
			map[string]any{"force": true}), "1", "unexpected keyword argument 'force'"},
		{"install_mode returns None", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2,
			"admin", "res.users", "action_reset_password", []any{[]any{6}},
			map[string]any{"context": map[string]any{"install_mode": true}}), "1",
			"TypeError: cannot marshal None unless allow_none is enabled"},
		{"kwargs as empty string", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2,
			"admin", "res.users", "action_reset_password", []any{[]any{6}}, ""), "",
			"display_notification"},
		{"execute, positional", "/xmlrpc/2/object", encodeCall(t, "execute", db, 2, "admin",
			"res.users", "action_reset_password", []any{6, 7}), "", "display_notification"},
		{"single id", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin",
			"res.users", "action_reset_password", []any{6}), "", "display_notification"},
		{"authenticate, env as empty string", "/xmlrpc/2/common", encodeCall(t, "authenticate",
			db, "admin", "admin", ""), "", "<int>2</int>"},
		{"api key", "/xmlrpc/2/common", encodeCall(t, "login", db, "admin",
			"6e0f3a1c9b7d4e2f8a5c1b3d7e9f0a2c4b6d8e1f"), "", "<int>2</int>"},
		{"reset_password by login", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2,
			"admin", "res.users", "reset_password", []any{"teacher.en"}), "",
			"display_notification"},
		{"reset_password, unknown login", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2,
			"admin", "res.users", "reset_password", []any{"nobody"}), "1",
			"Exception: Tidak ada akun yang ditemukan untuk login ini"},
		{"about", "/xmlrpc/2/common", encodeCall(t, "about"), "", "See http://openerp.com"},
		{"no ids", "/xmlrpc/2/object", encodeCall(t, "execute_kw", db, 2, "admin", "res.users",
			"action_reset_password", []any{[]any{}}), "1", "UnboundLocalError: cannot access " +
			"local variable 'message' where it is not associated with a value"},
		{"uid nan", "/xmlrpc/2/object", `<methodCall><methodName>execute_kw</methodName>` +
			`<params><param><value><string>` + db + `</string></value></param><param><value>` +
			`<double>nan</double></value></param><param><value>admin</value></param>` +
			`<param><value>res.users</value></param><param><value>action_reset_password` +
			`</value></param><param><value><array><data/></array></value></param></params>` +
			`</methodCall>`, "1", "ValueError: cannot convert float NaN to integer"},
		{"latin-1 request", "/xmlrpc/2/common", "<?xml version='1.0' encoding='iso-8859-1'?>" +
			"<methodCall><methodName>login</methodName><params><param><value><string>" + db +
			"</string></value></param><param><value><string>admin</string></value></param>" +
			"<param><value><string>admin</string></value></param></params></methodCall>", "",
			"<int>2</int>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, e.url+tt.path, "text/xml", tt.body)
			if status != 200 {
				t.Fatalf("status %d", status)
			}
			m := faultRE.FindStringSubmatch(body)
			switch {
			case tt.code == "" && m != nil:
				t.Fatalf("fault %s %q; want a result", m[1], m[2])
			case tt.code != "" && (m == nil || m[1] != tt.code):
				t.Fatalf("answer %s; want fault %s", body, tt.code)
			}
			if !strings.Contains(body, tt.says) {
				t.Errorf("answer %s does not say %q", body, tt.says)
			}
		})
	}
}

func TestXMLRPCLimits(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	big := "<methodCall><methodName>version</methodName><params><param><value><string>" +
		strings.Repeat("x", 5<<20) + "</string></value></param></params></methodCall>"
	status, body := post(t, e.url+"/xmlrpc/2/common", "text/xml", big)
	if m := faultRE.FindStringSubmatch(body); status != 200 || m == nil || m[1] != "1" {
		t.Errorf("a 5 MiB body: %d %.200s; want fault 1", status, body)
	}

	resp, err := http.Get(e.url + "/xmlrpc/2/object")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d; want 405", resp.StatusCode)
	}
}

func TestJSONRPCInputs(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	call := func(params string) string {
		return `{"jsonrpc":"2.0","method":"call","id":"abc","params":` + params + `}`
	}
	reset := `{"service":"object","method":"execute_kw","args":["` + e.db +
		`",2,"admin","res.users","action_reset_password",[[6]]`
	tests := []struct {
		name, ctype, body string
		status            int
		check             func(map[string]any) bool
		says              string
	}{
		{"not json", "application/json", "{nope", 400, nil, "Invalid JSON data"},
		{"not an object", "application/json", "[1,2]", 400, nil, "Invalid JSON-RPC data"},
		{"wrong content type", "text/plain", call(reset + "]}"), 400, nil, "is type="},
		{"result", "application/json", call(reset + "]}"), 200, func(m map[string]any) bool {
			return m["id"] == "abc" && m["result"].(map[string]any)["tag"] == "display_notification"
		}, ""},
		{"None has no result key", "application/json", call(reset +
			`,{"context":{"import_file":true}}]}`), 200, func(m map[string]any) bool {
			_, has := m["result"]
			return !has && m["error"] == nil
		}, ""},
		{"extra params key", "application/json", call(`{"service":"common","method":"version",` +
			`"args":[],"x":1}`), 200, func(m map[string]any) bool {
			d := m["error"].(map[string]any)["data"].(map[string]any)
			return d["name"] == "builtins.TypeError"
		}, ""},
		{"no args", "application/json", call(`{"service":"common","method":"version"}`), 200,
			func(m map[string]any) bool {
				d := m["error"].(map[string]any)["data"].(map[string]any)
				return d["name"] == "builtins.TypeError"
			}, ""},
		{"json-rpc content type", "application/json-rpc", call(`{"service":"common",` +
			`"method":"version","args":[]}`), 200, func(m map[string]any) bool {
			return m["result"].(map[string]any)["server_serie"] == "18.0"
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := post(t, e.url+"/jsonrpc", tt.ctype, tt.body)
			if status != tt.status || !strings.Contains(body, tt.says) {
				t.Fatalf("%d %s; want %d saying %q", status, body, tt.status, tt.says)
			}
			if tt.check == nil {
				return
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(body), &m); err != nil || !tt.check(m) {
				t.Errorf("answer %s", body)
			}
		})
	}
}
