package models_test

import (
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/mail/oauth"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// flag15 is one Odoo 15 module's OAuth switch and the columns its tests fill in.
type flag15 struct {
	auth   string // the smtp_authentication it stands for
	column string // the boolean on ir_mail_server
	prefix string // of the token columns and the client id/secret parameters
	user   string
	tokens func(url string) *oauth.Refresher // the provider's endpoint at url
}

var flags15 = []flag15{
	{models.AuthGmail, "use_google_gmail_service", "google_gmail", "tu@gmail.test",
		func(url string) *oauth.Refresher { return &oauth.Refresher{GmailURL: url} }},
	{models.AuthOutlook, "use_microsoft_outlook_service", "microsoft_outlook",
		"tu@outlook.test",
		func(url string) *oauth.Refresher { return &oauth.Refresher{OutlookURL: url} }},
}

// sql is q with {flag} and {p} (the column prefix) filled in from the fixed table above.
func (f flag15) sql(q string) string {
	return strings.NewReplacer("{flag}", f.column, "{p}", f.prefix).Replace(q)
}

// On Odoo 15, use_google_gmail_service or use_microsoft_outlook_service (not
// smtp_authentication, still 'login') makes a server a Gmail or Outlook one: the expired
// access token is refreshed at the (local) endpoint, written back for Odoo, and the reset
// mail goes out over XOAUTH2; the next reset reuses the stored token. Without the flag the
// same row logs in with its (empty) password, which the server refuses.
func TestOAuthFlagOdoo15(t *testing.T) {
	for _, f := range flags15 {
		for _, set := range []bool{true, false} {
			t.Run(f.column+map[bool]string{true: "", false: "/unset"}[set], func(t *testing.T) {
				testOAuthFlag15(t, f, set)
			})
		}
	}
}

func testOAuthFlag15(t *testing.T, f flag15, set bool) {
	e := newOutboxEnvOn(t, modeltest.Derived15, catcher.Options{
		Tokens: map[string]string{f.user: "ya29.fresh"}, Mechanisms: []string{"PLAIN"},
		Users: map[string]string{f.user: "not-this"}})
	modeltest.Exec(t, e.name, f.sql(`UPDATE ir_mail_server SET smtp_authentication = 'login',
		smtp_user = '`+f.user+`', {flag} = `+map[bool]string{true: "true", false: "false"}[set]+`,
		{p}_access_token = 'ya29.old', {p}_access_token_expiration = 1000,
		{p}_refresh_token = '1//refresh';
		INSERT INTO ir_config_parameter (key, value) VALUES
			('{p}_client_id', 'cid'), ('{p}_client_secret', 'secret')`))
	tokens, grants := tokenServer(t, "ya29.fresh")
	s := e.storeWith(t, models.OutboxSettings{}, f.tokens(tokens.URL))

	servers, err := s.AllMailServers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got := servers[0].Authentication == f.auth; got != set {
		t.Errorf("flag %v: authentication %q", set, servers[0].Authentication)
	}
	if !set {
		if _, err := reset(t, s, 6); err == nil || len(e.mails.Messages()) != 0 {
			t.Errorf("without the flag: reset = %v, %d messages; want the password "+
				"login refused", err, len(e.mails.Messages()))
		}
		return
	}

	for range 2 {
		if _, err := reset(t, s, 6); err != nil {
			t.Fatal(err)
		}
	}
	msgs := e.mails.Messages()
	if len(msgs) != 2 || msgs[0].User != f.user || msgs[1].User != f.user ||
		grants.Load() != 1 {
		t.Fatalf("%d messages after %d grants; want 2 as %s over XOAUTH2 after one grant",
			len(msgs), grants.Load(), f.user)
	}
	got := e.rows(t, f.sql(`SELECT {p}_access_token || ' ' ||
		({p}_access_token_expiration > extract(epoch FROM now()) + 3500)
		FROM ir_mail_server`))
	if got[0] != "ya29.fresh true" {
		t.Errorf("stored token %v; want the fresh one, valid for an hour", got)
	}
	if !strings.Contains(string(msgs[0].Data), "ahmad.santoso@example.org") {
		t.Errorf("the mail is not the reset of user 6:\n%s", msgs[0].Data)
	}
}

// An Odoo 15 Outlook server that was never connected (no refresh token) fails with
// Odoo 15's own words, before any connection.
func TestOutlookFlagNotConnected15(t *testing.T) {
	e := newOutboxEnvOn(t, modeltest.Derived15, catcher.Options{})
	modeltest.Exec(t, e.name, `UPDATE ir_mail_server SET smtp_user = 'tu@outlook.test',
		use_microsoft_outlook_service = true`)
	s := e.storeWith(t, models.OutboxSettings{}, &oauth.Refresher{})
	_, err := reset(t, s, 6)
	if err == nil || !strings.Contains(err.Error(),
		"Please login your Outlook mail server before using it.") ||
		e.mails.Connections() != 0 {
		t.Errorf("reset = %v after %d connections; want Odoo 15's text and none", err,
			e.mails.Connections())
	}
}

// Odoo 15 logs in only with a user, and never with a certificate: a flag changes nothing
// on such rows.
func TestOAuthFlagWithoutLogin15(t *testing.T) {
	for _, f := range flags15 {
		e := newOutboxEnvOn(t, modeltest.Derived15, catcher.Options{})
		modeltest.Exec(t, e.name, f.sql(`UPDATE ir_mail_server SET {flag} = true,
			smtp_user = NULL;
			INSERT INTO ir_mail_server (name, smtp_host, smtp_port, smtp_authentication,
				smtp_encryption, smtp_user, {flag}, sequence, active)
			VALUES ('cert', 'localhost', 465, 'certificate', 'ssl', '`+f.user+`', true, 20,
				true)`))
		s := e.store(t, models.OutboxSettings{})
		servers, err := s.AllMailServers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(servers) != 2 || servers[0].Authentication != "login" ||
			servers[1].Authentication != "certificate" {
			t.Errorf("%s: servers %+v; want the login and the certificate server as they "+
				"are", f.column, servers)
		}
	}
}

// A row with both flags set is an Outlook one on 15: microsoft_outlook's login override
// runs before google_gmail's.
func TestOAuthFlagsBoth15(t *testing.T) {
	e := newOutboxEnvOn(t, modeltest.Derived15, catcher.Options{})
	modeltest.Exec(t, e.name, `UPDATE ir_mail_server SET smtp_user = 'tu@outlook.test',
		use_google_gmail_service = true, use_microsoft_outlook_service = true`)
	servers, err := e.store(t, models.OutboxSettings{}).AllMailServers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 1 || servers[0].Authentication != models.AuthOutlook {
		t.Errorf("servers %+v; want the one outlook server", servers)
	}
}

// A database upgraded to 16 keeps the use_google_gmail_service and
// use_microsoft_outlook_service columns, which Odoo 16 no longer reads: a row with one
// still set stays a password server.
func TestOAuthFlagLeftOver16(t *testing.T) {
	for _, f := range flags15 {
		e := newOutboxEnvOn(t, modeltest.Seeded16, catcher.Options{})
		modeltest.Exec(t, e.name, f.sql(`ALTER TABLE ir_mail_server ADD COLUMN {flag} boolean;
			UPDATE ir_mail_server SET {flag} = true, smtp_user = '`+f.user+`'`))
		s := e.store(t, models.OutboxSettings{})
		servers, err := s.AllMailServers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(servers) != 1 || servers[0].Authentication != "login" {
			t.Errorf("%s: servers %+v; want the one login server", f.column, servers)
		}
	}
}
