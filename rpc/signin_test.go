package rpc_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// resetThrough opens a fresh link for uid through the proxy, submits a new password with
// the given redirect and returns the response, without following it.
func resetThrough(t *testing.T, pe *proxyEnv, uid int64, password, redirect string,
	sid ...string) (*http.Response, *browser) {
	t.Helper()
	b := newBrowser(t, "id")
	u, _ := url.Parse(pe.url)
	for _, v := range sid { // the Odoo session the browser already holds
		b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "session_id", Value: v, Path: "/"}})
	}
	b.do("GET", resetLink(t, pe.env, uid), nil)
	form := b.fields()
	if form.Get("token") == "" {
		t.Fatalf("no reset form: %d %s", b.status, b.body)
	}
	form.Set("password", password)
	form.Set("confirm_password", password)
	form.Set("redirect", redirect)
	req, _ := http.NewRequest("POST", pe.url+"/web/reset_password",
		strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range b.c.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp, b
}

// Through the proxy, a reset ends as Odoo's own does: signed in to Odoo with the new
// password, its session cookie handed over, and a 303 to the web client.
func TestResetSignsInUpstream(t *testing.T) {
	pe := newProxyEnv(t)
	// The browser was signed in to Odoo as the administrator, who tries the link.
	adminSID := pe.stub.SignIn(2, "admin")
	resp, b := resetThrough(t, pe, 6, "kata-sandi-baru-1", "", adminSID)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/odoo" {
		t.Fatalf("after the reset: %d Location %q", resp.StatusCode,
			resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "session_id" {
			cookie = c
		}
	}
	raw := strings.Join(resp.Header.Values("Set-Cookie"), "\n")
	if cookie == nil || len(cookie.Value) != 84 || cookie.Path != "/" || !cookie.HttpOnly ||
		cookie.MaxAge != 604800 || cookie.SameSite != http.SameSiteLaxMode ||
		!strings.Contains(raw, "Expires=") {
		t.Fatalf("session cookie %q", raw)
	}

	if cookie.Value == adminSID || pe.stub.Known(adminSID) {
		t.Error("the browser's previous Odoo session was not rotated away")
	}

	// The browser now holds the upstream's session: Odoo's page knows the user.
	b.do("GET", pe.url+"/odoo", nil)
	if b.status != 200 || !strings.Contains(b.body, "signed in as uid 6 (ahmad)") {
		t.Fatalf("/odoo after the reset: %d %s", b.status, b.body)
	}

	// The upstream saw the sign-in as coming from the browser, with the new password.
	var signIn bool
	for _, r := range pe.stub.Seen() {
		if r.Path == "/web/session/authenticate" {
			signIn = r.Header.Get("X-Forwarded-For") == "127.0.0.1" && r.Host == hostOf(pe.url) &&
				strings.Contains(string(r.Body), `"password":"kata-sandi-baru-1"`)
		}
	}
	if !signIn {
		t.Error("the upstream did not see the sign-in as the browser's")
	}
}

func TestResetRedirectsAfterUpstreamSignIn(t *testing.T) {
	pe := newProxyEnv(t)
	tests := []struct {
		name, redirect, want string
		twoFactor, portal    bool
	}{
		{"a local path", "/odoo/action-base.action_res_users?debug=1",
			"/odoo/action-base.action_res_users?debug=1", false, false},
		{"another site", "https://evil.example/phish", "/odoo", false, false},
		{"scheme-relative", "//evil.example/phish", "/odoo", false, false},
		{"backslash trick", "/\\evil.example", "/odoo", false, false},
		{"a header injection", "/odoo\r\nSet-Cookie: x=1", "/odoo", false, false},
		{"two-factor", "", "/web/login/totp?redirect=%2Fodoo", true, false},
		{"portal user", "", portalHome(pe), false, true},
		{"portal user, local redirect", "/my/account", "/my/account", false, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pe.stub.TwoFactorLogin("ahmad", tt.twoFactor)
			pe.stub.PortalUser(6, tt.portal)
			modeltest.Exec(t, pe.db, fmt.Sprintf(
				`UPDATE res_users SET share = %t WHERE id = 6`, tt.portal))
			resp, _ := resetThrough(t, pe, 6, "kata-sandi-baru-"+string(rune('a'+i)), tt.redirect)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tt.want {
				t.Errorf("%d Location %q; want %q", resp.StatusCode,
					resp.Header.Get("Location"), tt.want)
			}
		})
	}
}

func portalHome(pe *proxyEnv) string {
	if pe.store.Info().Modules["portal"] {
		return "/my"
	}
	return "/web/login_successful"
}

// If the upstream cannot sign the user in, the password stays changed and the success page
// says so, with a sign-in link.
func TestResetWhenUpstreamSignInFails(t *testing.T) {
	pe := newProxyEnv(t)
	b := newBrowser(t, "en")
	b.do("GET", resetLink(t, pe.env, 6), nil)
	form := b.fields()
	form.Set("password", "kata-sandi-baru-2")
	form.Set("confirm_password", "kata-sandi-baru-2")
	before := passwordOf(t, pe.env, 6)
	pe.stub.Close()

	b.do("POST", pe.url+"/web/reset_password", form)
	if b.status != 200 {
		t.Fatalf("status %d", b.status)
	}
	b.mustContain("Kata sandi Anda telah diubah.")
	b.mustContain("/web/login")
	if passwordOf(t, pe.env, 6) == before {
		t.Error("the password did not change")
	}
}
