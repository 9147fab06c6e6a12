package rpc_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// webClient is a cookie-keeping JSON-RPC client, as the browser running Odoo's web client.
type webClient struct {
	t   *testing.T
	e   *env
	c   *http.Client
	raw []byte
	hdr http.Header
}

func newWebClient(t *testing.T, e *env) *webClient {
	jar, _ := cookiejar.New(nil)
	return &webClient{t: t, e: e, c: &http.Client{Jar: jar, CheckRedirect: noRedirect}}
}

// post sends body to path and returns the decoded envelope.
func (w *webClient) post(path, body string) map[string]any {
	w.t.Helper()
	resp, err := w.c.Post(w.e.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	w.raw, _ = io.ReadAll(resp.Body)
	w.hdr = resp.Header
	if resp.StatusCode != 200 {
		w.t.Fatalf("%s: status %d: %s", path, resp.StatusCode, w.raw)
	}
	var env map[string]any
	if err := json.Unmarshal(w.raw, &env); err != nil {
		w.t.Fatalf("%s: not JSON: %s", path, w.raw)
	}
	return env
}

// call posts params to path in the web client's envelope.
func (w *webClient) call(path string, params map[string]any) map[string]any {
	w.t.Helper()
	p, _ := json.Marshal(params)
	return w.post(path, `{"id": 1, "jsonrpc": "2.0", "method": "call", "params": `+
		string(p)+`}`)
}

func (w *webClient) signIn(login, password string) map[string]any {
	w.t.Helper()
	return w.call("/web/session/authenticate", map[string]any{"db": w.e.db,
		"login": login, "password": password})
}

// errorOf returns the error's code and data.message, or 0 when the call succeeded.
func errorOf(env map[string]any) (int, string, string) {
	e, ok := env["error"].(map[string]any)
	if !ok {
		return 0, "", ""
	}
	d, _ := e["data"].(map[string]any)
	code, _ := e["code"].(float64)
	name, _ := d["name"].(string)
	msg, _ := d["message"].(string)
	return int(code), name, msg
}

// The web client's button, and the other web calls of testdata/web, get Odoo 18's answers
// from a standalone odoo-shim serving the real Odoo 18 database; and, so that a clone
// without ../shared checks them too, serving our own Odoo-18-shaped demo database, whose
// users 6 and 7 have e-mail addresses as in the recording (its user 13 is not archived).
func TestWebGolden(t *testing.T) {
	t.Run("fixture18", func(t *testing.T) { replayWeb(t, modeltest.Fixture18, "") })
	t.Run("own18", func(t *testing.T) {
		replayWeb(t, modeltest.Own18, "call_button_archived.txt")
	})
}

func replayWeb(t *testing.T, tmpl modeltest.Template, skip string) {
	e := newEnv(t, tmpl)
	files, _ := filepath.Glob(filepath.Join("testdata", "web", "*.txt"))
	if len(files) == 0 {
		t.Fatal("no golden exchanges in testdata/web")
	}
	admin := newWebClient(t, e)
	if code, _, msg := errorOf(admin.signIn("admin", "admin")); code != 0 {
		t.Fatalf("authenticate admin: %d %s", code, msg)
	}

	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		x := parseExchange(t, filepath.Base(f), string(data))
		if x.name == skip {
			continue
		}
		t.Run(x.name, func(t *testing.T) {
			c := admin
			if strings.HasPrefix(x.name, "nosession_") {
				c = newWebClient(t, e)
			}
			before := len(e.mails.Messages())
			env := c.post(x.path, x.request)
			if _, isErr := env["error"]; isErr {
				checkJSON(t, c.raw, []byte(x.response))
				if n := len(e.mails.Messages()); n != before {
					t.Errorf("a refused call sent %d mails", n-before)
				}
				return
			}
			if string(c.raw) != x.response {
				t.Errorf("response differs:\n got: %s\nwant: %s", c.raw, x.response)
			}
		})
	}
	if len(e.mails.Messages()) != 4 {
		t.Errorf("%d mails caught; want one per successful button", len(e.mails.Messages()))
	}
}

func TestWebSessionLifecycle(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	w := newWebClient(t, e)

	code, name, _ := errorOf(w.call("/web/session/get_session_info", map[string]any{}))
	if code != 100 || name != "odoo.http.SessionExpiredException" {
		t.Fatalf("session info without a session: %d %s", code, name)
	}
	code, name, msg := errorOf(w.signIn("ustadz", "salah"))
	if code != 200 || name != "odoo.exceptions.AccessDenied" || msg != "Access Denied" {
		t.Fatalf("bad password: %d %s %q", code, name, msg)
	}
	code, name, msg = errorOf(w.call("/web/session/authenticate", map[string]any{
		"db": "other", "login": "ustadz", "password": "ustadz-demo"}))
	if code != 200 || name != "odoo.exceptions.AccessError" || msg != "Database not found." {
		t.Fatalf("another database: %d %s %q", code, name, msg)
	}

	env := w.signIn("ustadz", "ustadz-demo")
	info, _ := env["result"].(map[string]any)
	if info["uid"] != float64(11) || info["username"] != "ustadz" || info["db"] != e.db ||
		info["is_admin"] != false || info["is_internal_user"] != true {
		t.Fatalf("session_info = %s", w.raw)
	}
	checkSessionCookie(t, w.hdr, e.now)

	// Signing in again replaces the session: the old id no longer works.
	old := newWebClient(t, e)
	u, _ := url.Parse(e.url)
	old.c.Jar.SetCookies(u, w.c.Jar.Cookies(u))
	w.signIn("ustadz", "ustadz-demo")
	if code, _, _ := errorOf(old.call("/web/session/get_session_info",
		map[string]any{})); code != 100 {
		t.Errorf("the session before the second sign-in still works (code %d)", code)
	}

	info, _ = w.call("/web/session/get_session_info", map[string]any{})["result"].(map[string]any)
	if info["uid"] != float64(11) {
		t.Fatalf("get_session_info = %s", w.raw)
	}
	if env := w.call("/web/session/check", map[string]any{}); env["error"] != nil ||
		strings.Contains(string(w.raw), "result") {
		t.Errorf("check = %s; want no result member (None)", w.raw)
	}

	resp, err := w.c.Get(e.url + "/odoo")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "(ustadz)") || !strings.Contains(string(page),
		`href="/web/session/logout"`) {
		t.Errorf("landing page while signed in:\n%s", page)
	}

	env = w.call("/web/session/destroy", map[string]any{})
	if _, has := env["result"]; has || env["error"] != nil {
		t.Errorf("destroy = %s; want no result member (None)", w.raw)
	}
	if code, _, _ := errorOf(w.call("/web/session/get_session_info",
		map[string]any{})); code != 100 {
		t.Errorf("after destroy: code %d; want 100", code)
	}

	// The landing page's sign-out link, a GET as in Odoo.
	w.signIn("ustadz", "ustadz-demo")
	resp, err = w.c.Get(e.url + "/web/session/logout")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/odoo" {
		t.Errorf("logout: %d to %q; want 303 to /odoo", resp.StatusCode,
			resp.Header.Get("Location"))
	}
	if code, _, _ := errorOf(w.call("/web/session/get_session_info",
		map[string]any{})); code != 100 {
		t.Errorf("after logout: code %d; want 100", code)
	}
}

// checkSessionCookie checks Odoo 18's session cookie attributes.
func checkSessionCookie(t *testing.T, h http.Header, now time.Time) {
	t.Helper()
	resp := &http.Response{Header: h}
	for _, c := range resp.Cookies() {
		if c.Name != "session_id" {
			continue
		}
		if len(c.Value) != 84 || c.Path != "/" || !c.HttpOnly || c.MaxAge != 604800 {
			t.Errorf("cookie %+v; want an 84-character id, Path=/, HttpOnly, Max-Age=604800",
				c)
		}
		if d := c.Expires.Sub(now); d < 364*24*time.Hour || d > 366*24*time.Hour {
			t.Errorf("cookie Expires %v; want a year ahead as Odoo sends", c.Expires)
		}
		return
	}
	t.Errorf("no session_id cookie in %v", h.Values("Set-Cookie"))
}

// A session ends when the password changes, as in Odoo: here through a reset link.
func TestWebSessionEndsOnPasswordChange(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	w := newWebClient(t, e)
	if code, _, msg := errorOf(w.signIn("ustadz", "ustadz-demo")); code != 0 {
		t.Fatalf("sign in: %s", msg)
	}

	b := newBrowser(t, "id")
	b.do("GET", resetLink(t, e, 11), nil)
	form := b.fields()
	form.Set("password", "kata-sandi-baru-1")
	form.Set("confirm_password", "kata-sandi-baru-1")
	b.do("POST", e.url+"/web/reset_password", form)
	if b.status != http.StatusSeeOther {
		t.Fatalf("reset: %d", b.status)
	}

	if code, _, _ := errorOf(w.call("/web/session/get_session_info",
		map[string]any{})); code != 100 {
		t.Errorf("the old session survived the password change (code %d)", code)
	}
	if code, _, _ := errorOf(w.signIn("ustadz", "kata-sandi-baru-1")); code != 0 {
		t.Errorf("the new password does not sign in: %s", w.raw)
	}
}

func TestWebCallErrors(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	w := newWebClient(t, e)
	if code, _, msg := errorOf(w.signIn("operator", "operator-demo")); code != 0 {
		t.Fatalf("sign in: %s", msg)
	}

	tests := []struct {
		name, path string
		params     map[string]any
		code       int
		exception  string
		message    string
	}{
		{"private method", "/web/dataset/call_kw", map[string]any{"model": "res.users",
			"method": "_action_reset_password", "args": []any{[]any{6}}, "kwargs": map[string]any{}},
			200, "odoo.exceptions.AccessError",
			"Private methods (such as 'res.users._action_reset_password') cannot be called " +
				"remotely."},
		{"unknown model", "/web/dataset/call_kw", map[string]any{"model": "no.such",
			"method": "read", "args": []any{}, "kwargs": map[string]any{}},
			200, "odoo.exceptions.UserError", "Object no.such doesn't exist"},
		{"missing kwargs", "/web/dataset/call_button", map[string]any{"model": "res.users",
			"method": "action_reset_password", "args": []any{}},
			200, "builtins.TypeError",
			"call_button() missing 1 required positional argument: 'kwargs'"},
		{"extra parameter", "/web/session/get_session_info", map[string]any{"x": 1},
			200, "builtins.TypeError",
			"get_session_info() got an unexpected keyword argument 'x'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, exc, msg := errorOf(w.call(tt.path, tt.params))
			if code != tt.code || exc != tt.exception || msg != tt.message {
				t.Errorf("= %d %s %q; want %d %s %q", code, exc, msg, tt.code, tt.exception,
					tt.message)
			}
		})
	}

	// call_kw reaches the same model methods as execute_kw, as the session's user.
	env := w.call("/web/dataset/call_kw/res.users/search_read", map[string]any{
		"model": "res.users", "method": "search_read",
		"args":   []any{[]any{[]any{"login", "=", "ustadz"}}},
		"kwargs": map[string]any{"fields": []any{"login"}, "context": map[string]any{}}})
	if rows, _ := env["result"].([]any); len(rows) != 1 ||
		rows[0].(map[string]any)["login"] != "ustadz" {
		t.Errorf("call_kw search_read = %s", w.raw)
	}
	env = w.call("/web/dataset/call_kw", map[string]any{"model": "res.users",
		"method": "context_get", "args": []any{}, "kwargs": map[string]any{}})
	if ctx, _ := env["result"].(map[string]any); ctx["uid"] != float64(12) {
		t.Errorf("call_kw context_get = %s; want the session user's (12)", w.raw)
	}

	// A button whose method returns None answers false.
	env = w.call("/web/dataset/call_button", map[string]any{"model": "res.users",
		"method": "action_reset_password", "args": []any{[]any{6}},
		"kwargs": map[string]any{"context": map[string]any{"install_mode": true}}})
	if r, ok := env["result"]; !ok || r != false {
		t.Errorf("a None button result = %s; want false", w.raw)
	}

	resp, err := http.Post(e.url+"/web/dataset/call_kw", "text/plain", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("text/plain: %d; want Odoo's 400", resp.StatusCode)
	}
	resp, err = http.Get(e.url + "/web/dataset/call_kw")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET: %d; want 405", resp.StatusCode)
	}
}
