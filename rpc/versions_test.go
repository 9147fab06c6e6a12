package rpc_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// Odoo 15-17 return None from action_reset_password, after the mail has gone: XML-RPC
// callers get fault 1 with the marshalling TypeError, JSON-RPC callers an envelope without
// "result" (reset.md §7, clients.md §2, cases.md C12).
func TestNoneResultOnStoredTokenVersions(t *testing.T) {
	for _, tmpl := range []modeltest.Template{modeltest.Derived15, modeltest.Seeded16,
		modeltest.Derived17} {
		t.Run(string(tmpl), func(t *testing.T) {
			e := newEnv(t, tmpl)
			call := `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName>` +
				`<params><param><value><string>` + e.db + `</string></value></param>` +
				`<param><value><int>2</int></value></param>` +
				`<param><value><string>admin</string></value></param>` +
				`<param><value><string>res.users</string></value></param>` +
				`<param><value><string>action_reset_password</string></value></param>` +
				`<param><value><array><data><value><array><data><value><int>6</int></value>` +
				`</data></array></value></data></array></value></param></params></methodCall>`
			status, body := post(t, e.url+"/xmlrpc/2/object", "text/xml", call)
			m := faultRE.FindStringSubmatch(body)
			if status != 200 || m == nil || m[1] != "1" || !strings.HasSuffix(m[2],
				"\nTypeError: cannot marshal None unless allow_none is enabled") {
				t.Errorf("XML-RPC answer %d:\n%s", status, body)
			}
			if _, err := e.mails.Wait(context.Background(), 1); err != nil {
				t.Fatalf("the mail did not go out before the fault: %v", err)
			}

			status, body = post(t, e.url+"/jsonrpc", "application/json",
				`{"jsonrpc":"2.0","method":"call","id":7,"params":{"service":"object",`+
					`"method":"execute_kw","args":["`+e.db+`",2,"admin","res.users",`+
					`"action_reset_password",[[6]]]}}`)
			if status != 200 || body != `{"jsonrpc":"2.0","id":7}` {
				t.Errorf("JSON-RPC answer %d: %s", status, body)
			}
		})
	}
}

// The reset page on the real Odoo 16 schema: the stored token opens the form, setting the
// password spends it in the same transaction, and the link is dead afterwards.
func TestResetPageStoredToken(t *testing.T) {
	e := newEnv(t, modeltest.Seeded16)
	link := resetLink(t, e, 6)
	b := newBrowser(t, "en-US,en;q=0.9")

	b.do("GET", link, nil)
	if b.status != 200 {
		t.Fatalf("GET link: %d\n%s", b.status, b.body)
	}
	f := b.fields()
	if f.Get("login") != "ahmad" || f.Get("name") != "Ahmad Santoso" || len(f.Get("token")) != 20 {
		t.Fatalf("form fields %v", f)
	}
	f.Set("password", "kata-sandi-enam-belas")
	f.Set("confirm_password", "kata-sandi-enam-belas")
	b.do("POST", e.url+"/web/reset_password", f)
	// Signed in, as Odoo 16 does it: 303 to /web.
	if b.status != http.StatusSeeOther || b.header.Get("Location") != "/web" {
		t.Fatalf("after the reset: %d to %q; want 303 to /web", b.status,
			b.header.Get("Location"))
	}

	if p := passwordOf(t, e, 6); !strings.HasPrefix(p, "$pbkdf2-sha512$350000$") {
		t.Errorf("stored hash %q; want Odoo 16's 350000 rounds", p)
	}
	if got := queryRows(t, e, `SELECT concat(signup_token, '|', signup_type, '|',
		signup_expiration) FROM res_partner WHERE id = 7`); got[0] != "||" {
		t.Errorf("token columns after the reset: %q; want all NULL", got[0])
	}
	b.do("GET", link, nil)
	b.mustContain("Invalid signup token")
}

// The page's answer to a link request follows the version's wording.
func TestResetRequestMessageByVersion(t *testing.T) {
	tests := []struct {
		tmpl modeltest.Template
		want string
	}{
		{modeltest.Derived15, "An email has been sent with credentials to reset your password"},
		{modeltest.Seeded16, "Password reset instructions sent to your email"},
		{modeltest.Derived19, "Password reset instructions sent to your email address."},
	}
	for _, tt := range tests {
		t.Run(string(tt.tmpl), func(t *testing.T) {
			e := newEnv(t, tt.tmpl)
			b := newBrowser(t, "en")
			b.do("GET", e.url+"/web/reset_password", nil)
			f := b.fields()
			f.Set("login", "ahmad")
			b.do("POST", e.url+"/web/reset_password", f)
			b.mustContain(tt.want)
		})
	}
}
