package rpc_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// browser is a cookie-keeping HTTP client that reads the reset form.
type browser struct {
	t      *testing.T
	c      *http.Client
	lang   string
	status int
	body   string
	header http.Header
}

func newBrowser(t *testing.T, lang string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: noRedirect}, lang: lang}
}

func (b *browser) do(method, u string, form url.Values) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, u, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.lang != "" {
		req.Header.Set("Accept-Language", b.lang)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	b.status, b.body, b.header = resp.StatusCode, string(data), resp.Header
}

var inputRE = regexp.MustCompile(`<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"`)

// fields returns the values of the form's inputs.
func (b *browser) fields() url.Values {
	v := url.Values{}
	for _, m := range inputRE.FindAllStringSubmatch(b.body, -1) {
		v.Set(m[1], html.UnescapeString(m[2]))
	}
	return v
}

func (b *browser) mustContain(s string) {
	b.t.Helper()
	if !strings.Contains(b.body, html.EscapeString(s)) && !strings.Contains(b.body, s) {
		b.t.Fatalf("page (status %d) does not say %q:\n%s", b.status, s, b.body)
	}
}

// resetLink asks for a reset of uid as admin and returns the mailed link.
func resetLink(t *testing.T, e *env, uid int64) string {
	t.Helper()
	before := len(e.mails.Messages())
	_, err := e.store.ActionResetPassword(context.Background(),
		models.ResetRequest{Caller: 2, IDs: []int64{uid}})
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := e.mails.Wait(context.Background(), before+1)
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`https?://[^\s"<>]+token=[A-Za-z0-9_-]+`).
		FindString(strings.Join(textParts(t, msgs[len(msgs)-1].Data), "\n"))
	if link == "" {
		t.Fatal("no link in the mail")
	}
	// The demo data points web.base.url at 127.0.0.1:8069; follow it to this test server.
	u, _ := url.Parse(link)
	return e.url + u.Path + "?" + u.RawQuery
}

func passwordOf(t *testing.T, e *env, uid int64) string {
	t.Helper()
	var p string
	rows := queryRows(t, e, `SELECT COALESCE(password, '') FROM res_users WHERE id = $1`, uid)
	if len(rows) == 1 {
		p = rows[0]
	}
	return p
}

func queryRows(t *testing.T, e *env, q string, args ...any) []string {
	t.Helper()
	db := openDB(t, e)
	var out []string
	if err := db.Select(&out, q, args...); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestResetPageFlow(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	link := resetLink(t, e, 6)
	b := newBrowser(t, "en-US,en;q=0.9")
	before := passwordOf(t, e, 6)

	b.do("GET", link, nil)
	if b.status != 200 {
		t.Fatalf("GET link: %d", b.status)
	}
	b.mustContain("Atur Ulang Kata Sandi") // the account's language, not the browser's
	f := b.fields()
	if f.Get("login") != "ahmad" || f.Get("name") != "Ahmad Santoso" || f.Get("csrf_token") == "" {
		t.Fatalf("form fields %v", f)
	}
	if !strings.Contains(b.body, `name="login" value="ahmad" readonly`) {
		t.Error("the login field is not read-only")
	}
	if passwordOf(t, e, 6) != before {
		t.Fatal("GET changed the password")
	}

	steps := []struct {
		name   string
		change func(url.Values)
		status int
		says   string
	}{
		{"no csrf", func(v url.Values) { v.Del("csrf_token") }, 400,
			"Session expired (invalid CSRF token)"},
		{"forged csrf", func(v url.Values) {
			v.Set("csrf_token", "0123456789abcdef0123456789abcdef01234567o9999999999")
		}, 400, "Session expired (invalid CSRF token)"},
		{"mismatch", func(v url.Values) {
			v.Set("password", "satu-dua-tiga-4")
			v.Set("confirm_password", "satu-dua-tiga-5")
		}, 200, "Kata Sandi tidak cocok; tolong ketik ulang."},
		{"too short", func(v url.Values) {
			v.Set("password", "abc")
			v.Set("confirm_password", "abc")
		}, 200, "Passwords must have at least 8 characters, got 3."},
		{"empty", func(v url.Values) {
			v.Set("password", "")
			v.Set("confirm_password", "")
		}, 200, "Formulir tidak diisi dengan benar."},
	}
	for _, st := range steps {
		form := b.fields()
		st.change(form)
		b.do("POST", e.url+"/web/reset_password", form)
		if b.status != st.status {
			t.Fatalf("%s: status %d; want %d", st.name, b.status, st.status)
		}
		b.mustContain(st.says)
		if passwordOf(t, e, 6) != before {
			t.Fatalf("%s: the password changed", st.name)
		}
		if st.status == 400 {
			b.do("GET", link, nil) // back to a fresh form
		}
	}

	form := b.fields()
	form.Set("password", "kata-sandi-baru-99")
	form.Set("confirm_password", "kata-sandi-baru-99")
	anonymous := sessionCookieOf(t, b, e)
	b.do("POST", e.url+"/web/reset_password", form)
	// Signed in, as Odoo does it: 303 to /odoo with a new session.
	if b.status != http.StatusSeeOther || b.header.Get("Location") != "/odoo" {
		t.Fatalf("after the reset: %d to %q; want 303 to /odoo", b.status,
			b.header.Get("Location"))
	}
	if sid := sessionCookieOf(t, b, e); sid == anonymous || sid == "" {
		t.Error("the session id was not rotated at sign-in")
	}
	b.do("GET", e.url+"/odoo", nil)
	b.mustContain("Masuk sebagai Ahmad Santoso (ahmad).")

	hash := passwordOf(t, e, 6)
	if !regexp.MustCompile(`^\$pbkdf2-sha512\$600000\$[A-Za-z0-9./]{22}\$[A-Za-z0-9./]{86}$`).
		MatchString(hash) {
		t.Errorf("stored hash %q does not have Odoo's format", hash)
	}
	if uid, err := e.store.Authenticate(context.Background(), "ahmad",
		"kata-sandi-baru-99"); err != nil || uid != 6 {
		t.Errorf("Authenticate with the new password = %d, %v", uid, err)
	}
	if st := queryRows(t, e, `SELECT COALESCE(signup_type, 'NULL') FROM res_partner
		WHERE id = 7`); st[0] != "NULL" {
		t.Errorf("signup_type = %s after the reset; want NULL", st[0])
	}

	// A spent link, in the browser's language again.
	b.do("GET", link, nil)
	b.mustContain("Invalid signup token")
	// Posting the form again, with a CSRF token of the new session.
	b.do("GET", e.url+"/web/reset_password", nil)
	form.Set("csrf_token", b.fields().Get("csrf_token"))
	b.do("POST", e.url+"/web/reset_password", form)
	b.mustContain("Invalid signup token")
	if passwordOf(t, e, 6) != hash {
		t.Error("a spent token changed the password again")
	}
}

func TestResetPageLanguagesAndErrors(t *testing.T) {
	e := newEnv(t, modeltest.Own18)

	b := newBrowser(t, "en")
	b.do("GET", resetLink(t, e, 10), nil) // teacher.en writes English
	b.mustContain("Reset Password")
	b.mustContain("Confirm Password")

	b = newBrowser(t, "id-ID,id;q=0.9")
	b.do("GET", e.url+"/web/reset_password?db="+e.db+"&token=AQAAAAAAAAAAbogus", nil)
	b.mustContain("Pendaftaran tidak valid token")
	if strings.Contains(b.body, `name="password"`) {
		t.Error("an invalid token still shows the password fields")
	}

	b.do("GET", e.url+"/web/reset_password?db=another_db", nil)
	if b.status != 404 {
		t.Errorf("another database: %d; want 404", b.status)
	}
}

func TestResetRequestPage(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	b := newBrowser(t, "en")

	b.do("GET", e.url+"/web/reset_password", nil)
	if b.status != 200 || !strings.Contains(b.body, `name="login"`) {
		t.Fatalf("request form: %d", b.status)
	}

	form := b.fields()
	form.Set("login", "nobody@example.org")
	b.do("POST", e.url+"/web/reset_password", form)
	b.mustContain("No account found for this login")
	if b.fields().Get("login") != "nobody@example.org" {
		t.Error("the page lost what the user typed")
	}

	form = b.fields()
	form.Set("login", "Fatimah.AzZahra@Example.org")
	b.do("POST", e.url+"/web/reset_password", form)
	b.mustContain("Password reset instructions sent to your email")
	msgs, err := e.mails.Wait(context.Background(), 1)
	if err != nil || msgs[0].To[0] != "fatimah.azzahra@example.org" {
		t.Fatalf("mail %v, %v", msgs, err)
	}

	modeltest.Exec(t, e.db, `UPDATE ir_config_parameter SET value = 'False'
		WHERE key = 'auth_signup.reset_password'`)
	b.do("GET", e.url+"/web/reset_password", nil)
	if b.status != 404 {
		t.Errorf("self-service disabled: %d; want 404", b.status)
	}
	b.do("GET", resetLink(t, e, 6), nil)
	if b.status != 200 || !strings.Contains(b.body, `name="password"`) {
		t.Errorf("a link must still work with self-service off: %d", b.status)
	}
}

// sessionCookieOf returns the session_id cookie the browser holds for the test server.
func sessionCookieOf(t *testing.T, b *browser, e *env) string {
	t.Helper()
	u, _ := url.Parse(e.url)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "session_id" {
			return c.Value
		}
	}
	return ""
}

// After the reset the browser goes where Odoo sends it: the form's redirect when it is a
// local path, else the user's home (/odoo, or the page of a share user).
func TestResetRedirects(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	shareHome := "/web/login_successful"
	if e.store.Info().Modules["portal"] {
		shareHome = "/my"
	}
	tests := []struct {
		name     string
		uid      int64
		redirect string
		want     string
	}{
		{"local redirect", 6, "/odoo/action-9?debug=1", "/odoo/action-9?debug=1"},
		{"absolute URL refused", 7, "https://evil.example/odoo", "/odoo"},
		{"scheme-relative refused", 10, "//evil.example/odoo", "/odoo"},
		{"share user", 13, "", shareHome},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBrowser(t, "en")
			b.do("GET", resetLink(t, e, tt.uid), nil)
			form := b.fields()
			form.Set("password", "kata-sandi-baru-77")
			form.Set("confirm_password", "kata-sandi-baru-77")
			form.Set("redirect", tt.redirect)
			b.do("POST", e.url+"/web/reset_password", form)
			if b.status != http.StatusSeeOther || b.header.Get("Location") != tt.want {
				t.Errorf("%d to %q; want 303 to %q", b.status, b.header.Get("Location"),
					tt.want)
			}
		})
	}
}

// A reset proves the password, not the second factor: a user with two-factor
// authentication has the new password but no session, and is told to sign in.
func TestResetWithSecondFactorOpensNoSession(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	modeltest.Exec(t, e.db, `UPDATE res_users SET totp_secret = 'JBSWY3DPEHPK3PXP'
		WHERE id = 12`)
	before := passwordOf(t, e, 12)
	b := newBrowser(t, "en")
	b.do("GET", resetLink(t, e, 12), nil)
	form := b.fields()
	form.Set("password", "kata-sandi-baru-55")
	form.Set("confirm_password", "kata-sandi-baru-55")
	anonymous := sessionCookieOf(t, b, e)
	b.do("POST", e.url+"/web/reset_password", form)

	if b.status != http.StatusOK {
		t.Fatalf("after the reset: %d to %q; want the page that says the password changed",
			b.status, b.header.Get("Location"))
	}
	if sid := sessionCookieOf(t, b, e); sid != anonymous {
		t.Error("a session was opened for a user with two-factor authentication")
	}
	b.do("GET", e.url+"/odoo", nil)
	if strings.Contains(b.body, "(operator)") {
		t.Error("the landing page shows the 2FA user signed in")
	}
	if passwordOf(t, e, 12) == before {
		t.Error("the new password was not stored")
	}
}

// The public form mails someone on every request and needs no account: requests are
// bounded per login and per address, and a refused request mails nothing.
func TestResetRequestLimits(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	b := newBrowser(t, "en")
	ask := func(login string) int {
		b.do("GET", e.url+"/web/reset_password", nil)
		form := b.fields()
		form.Set("login", login)
		b.do("POST", e.url+"/web/reset_password", form)
		return b.status
	}

	for i := range 3 {
		if st := ask("ahmad"); st != http.StatusOK {
			t.Fatalf("request %d for one login: %d", i+1, st)
		}
	}
	if st := ask("ahmad"); st != http.StatusTooManyRequests {
		t.Errorf("4th request for one login: %d; want 429", st)
	}
	b.mustContain("Too many links were asked for")
	if b.fields().Get("login") != "ahmad" {
		t.Error("the page lost what the user typed")
	}
	if msgs, err := e.mails.Wait(context.Background(), 3); err != nil || len(msgs) != 3 {
		t.Fatalf("mails = %d, %v; want 3", len(msgs), err)
	}

	for i := range 6 { // the address has used 4 of its 10
		if st := ask(fmt.Sprintf("nobody-%d@example.org", i)); st != http.StatusOK {
			t.Fatalf("request %d from one address: %d", i+5, st)
		}
	}
	if st := ask("fatimah"); st != http.StatusTooManyRequests {
		t.Errorf("11th request from one address: %d; want 429", st)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(e.mails.Messages()); n != 3 {
		t.Errorf("%d mails after refused requests; want 3", n)
	}
}
