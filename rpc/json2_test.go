package rpc_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// demoKey is admin's API key in testdata/odoo18/demo.sql (and so in the Odoo 19 schema).
const demoKey = "6e0f3a1c9b7d4e2f8a5c1b3d7e9f0a2c4b6d8e1f"

type json2Answer struct {
	status int
	header http.Header
	body   string
	err    struct {
		Name      string `json:"name"`
		Message   string `json:"message"`
		Arguments []any  `json:"arguments"`
		Debug     string `json:"debug"`
	}
}

func json2(t *testing.T, e *env, path string, header map[string]string, body string) json2Answer {
	t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := json2Answer{status: resp.StatusCode, header: resp.Header, body: string(data)}
	if resp.StatusCode != 200 && strings.HasPrefix(resp.Header.Get("Content-Type"),
		"application/json") {
		if err := json.Unmarshal(data, &a.err); err != nil {
			t.Fatalf("error body %s: %v", data, err)
		}
	}
	return a
}

// addKey gives uid the API key key (scope rpc), hashed as Odoo hashes keys.
func addKey(t *testing.T, e *env, uid int64, key string) {
	t.Helper()
	hash, err := models.NewHasher(1).Hash(context.Background(), key, 6000)
	if err != nil {
		t.Fatal(err)
	}
	db := openDB(t, e)
	_, err = db.Exec(`INSERT INTO res_users_apikeys (name, user_id, scope, index, key)
		VALUES ('test', $1, 'rpc', $2, $3)`, uid, key[:8], hash)
	if err != nil {
		t.Fatal(err)
	}
}

// JSON-2 on an Odoo 19 database: the reset through a bearer key, and each error shape
// and status of rpc.md §4.1.
func TestJSON2(t *testing.T) {
	e := newEnv(t, modeltest.Derived19)
	admin := map[string]string{"Authorization": "bearer " + demoKey, "X-Odoo-Database": e.db}

	a := json2(t, e, "/json/2/res.users/action_reset_password", admin,
		`{"ids": [6], "context": {"lang": "en_US"}}`)
	want := `{"type":"ir.actions.client","tag":"display_notification","params":{"title":` +
		`"Notification","message":"A reset password link was sent by email","sticky":false}}`
	if a.status != 200 || a.body != want ||
		a.header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("reset: %d %s", a.status, a.body)
	}
	if _, err := e.mails.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}

	// Odoo 19 counts groups through their implications: the operator is given Access
	// Rights alone, admin Settings alone; an internal user without either is refused.
	addKey(t, e, 12, "0123456789abcdef0123456789abcdef01234567")
	addKey(t, e, 11, "fedcba9876543210fedcba9876543210fedcba98")
	operator := map[string]string{
		"Authorization": "Bearer 0123456789abcdef0123456789abcdef01234567"}
	if a := json2(t, e, "/json/2/res.users/action_reset_password", operator,
		`{"ids": [7]}`); a.status != 200 {
		t.Errorf("operator reset: %d %s", a.status, a.body)
	}

	tests := []struct {
		name, path string
		header     map[string]string
		body       string
		status     int
		errName    string
		message    string
	}{
		{"no key", "/json/2/res.users/action_reset_password", nil, `{"ids": [6]}`, 401,
			"werkzeug.exceptions.Unauthorized",
			"User not authenticated, use an API Key with a Bearer Authorization header."},
		{"bad key", "/json/2/res.users/action_reset_password",
			map[string]string{"Authorization": "bearer " + strings.Repeat("0", 40)},
			`{"ids": [6]}`, 401, "werkzeug.exceptions.Unauthorized", "Invalid apikey"},
		{"password", "/json/2/res.users/action_reset_password",
			map[string]string{"Authorization": "bearer admin"}, `{"ids": [6]}`, 401,
			"werkzeug.exceptions.Unauthorized", "Invalid apikey"},
		{"ids on a model method", "/json/2/res.users/reset_password", admin,
			`{"ids": [6], "login": "ahmad"}`, 422, "werkzeug.exceptions.UnprocessableEntity",
			"cannot call res.users.reset_password with ids"},
		{"missing argument", "/json/2/res.users/reset_password", admin, `{}`, 422,
			"werkzeug.exceptions.UnprocessableEntity", "missing a required argument: 'login'"},
		{"unexpected argument", "/json/2/res.users/action_reset_password", admin,
			`{"ids": [6], "force": true}`, 422, "werkzeug.exceptions.UnprocessableEntity",
			"got an unexpected keyword argument 'force'"},
		{"unknown model", "/json/2/no.such/read", admin, `{}`, 404,
			"werkzeug.exceptions.NotFound", "the model 'no.such' does not exist"},
		{"unknown method", "/json/2/res.users/no_such_method", admin, `{}`, 404,
			"werkzeug.exceptions.NotFound", "The method 'res.users.no_such_method' does not exist"},
		{"private method", "/json/2/res.users/_action_reset_password", admin, `{"ids": [6]}`,
			403, "odoo.exceptions.AccessError",
			"Private methods (such as 'res.users._action_reset_password') cannot be called remotely."},
		{"archived user", "/json/2/res.users/action_reset_password", admin,
			`{"ids": [9], "context": {"lang": "en_US"}}`, 422, "odoo.exceptions.UserError",
			"You cannot perform this action on an archived user."},
		{"missing record", "/json/2/res.users/action_reset_password", admin,
			`{"ids": [9999]}`, 404, "odoo.exceptions.MissingError",
			"Record does not exist or has been deleted.\n(Record: res.users(9999,), User: 2)"},
		{"no rights", "/json/2/res.users/action_reset_password",
			map[string]string{"Authorization": "bearer fedcba9876543210fedcba9876543210fedcba98"},
			`{"ids": [6], "context": {"lang": "en_US"}}`, 403, "odoo.exceptions.AccessError",
			"You do not have enough rights to access the field \"signup_type\""},
		{"unknown login", "/json/2/res.users/reset_password", admin,
			`{"login": "nobody", "context": {"lang": "en_US"}}`, 500, "builtins.Exception",
			"No account found for this login"},
		{"bad JSON", "/json/2/res.users/action_reset_password", admin, `{"ids": [6`, 400,
			"werkzeug.exceptions.BadRequest", "Invalid JSON data"},
		{"elsewhere", "/json/2/res.users", admin, `{}`, 404, "werkzeug.exceptions.NotFound",
			"Did you mean POST /json/2/<model>/<method>?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := json2(t, e, tt.path, tt.header, tt.body)
			if a.status != tt.status || a.err.Name != tt.errName ||
				!strings.HasPrefix(a.err.Message, tt.message) ||
				len(a.err.Arguments) == 0 || a.err.Arguments[0] != a.err.Message ||
				!strings.HasPrefix(a.err.Debug, "Traceback") {
				t.Errorf("%d %s", a.status, a.body)
			}
			if !strings.HasPrefix(a.body, `{"name":`) {
				t.Errorf("error keys out of Odoo's order: %s", a.body)
			}
		})
	}
	if a := json2(t, e, "/json/2/res.users/action_reset_password", nil,
		`{}`); a.header.Get("WWW-Authenticate") != "bearer" {
		t.Errorf("401 without WWW-Authenticate: bearer: %v", a.header)
	}

	other := map[string]string{"Authorization": "bearer " + demoKey, "X-Odoo-Database": "x"}
	if a := json2(t, e, "/json/2/res.users/action_reset_password", other,
		`{"ids": [6]}`); a.status != 404 || !strings.Contains(a.body, "<title>404 Not Found") {
		t.Errorf("another database: %d %s", a.status, a.body)
	}
	a = json2(t, e, "/json/2/res.users/action_reset_password",
		map[string]string{"Authorization": "bearer " + demoKey, "Content-Type": "text/plain"},
		`{"ids": [6]}`)
	if a.status != 415 || a.header.Get("Accept") != "application/json" {
		t.Errorf("text/plain body: %d %v", a.status, a.header)
	}
}

// The read methods over JSON-2: named arguments, and ids refused on @api.model methods.
func TestJSON2Read(t *testing.T) {
	e := newEnv(t, modeltest.Derived19)
	admin := map[string]string{"Authorization": "bearer " + demoKey}
	if a := json2(t, e, "/json/2/res.users/search_read", admin,
		`{"domain": [["login", "=", "ahmad"]], "fields": ["login"]}`); a.status != 200 ||
		a.body != `[{"id":6,"login":"ahmad"}]` {
		t.Errorf("search_read: %d %s", a.status, a.body)
	}
	if a := json2(t, e, "/json/2/res.users/read", admin,
		`{"ids": [6], "fields": ["login"]}`); a.status != 200 ||
		a.body != `[{"id":6,"login":"ahmad"}]` {
		t.Errorf("read: %d %s", a.status, a.body)
	}
	if a := json2(t, e, "/json/2/res.users/search", admin,
		`{"ids": [6], "domain": []}`); a.status != 422 ||
		a.err.Message != "cannot call res.users.search with ids" {
		t.Errorf("search with ids: %d %s", a.status, a.body)
	}
}

// Before Odoo 19 there is no JSON-2 route.
func TestJSON2AbsentBefore19(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	a := json2(t, e, "/json/2/res.users/action_reset_password",
		map[string]string{"Authorization": "bearer " + demoKey}, `{"ids": [6]}`)
	if a.status != 404 || !strings.Contains(a.body, "<title>404 Not Found") {
		t.Errorf("Odoo 18: %d %s", a.status, a.body)
	}
	if n := len(e.mails.Messages()); n != 0 {
		t.Errorf("%d mails sent", n)
	}
}
