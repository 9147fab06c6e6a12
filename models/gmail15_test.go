package models_test

import (
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/mail/oauth"
	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// On Odoo 15, use_google_gmail_service (not smtp_authentication, still 'login') makes a
// server a Gmail one: the expired access token is refreshed at the (local) endpoint,
// written back for Odoo, and the reset mail goes out over XOAUTH2; the next reset reuses
// the stored token. Without the flag the same row logs in with its (empty) password,
// which the server refuses.
func TestGmailFlagOdoo15(t *testing.T) {
	const user = "tu@gmail.test"
	for _, flag := range []bool{true, false} {
		e := newOutboxEnvOn(t, modeltest.Derived15, catcher.Options{
			Tokens: map[string]string{user: "ya29.fresh"}, Mechanisms: []string{"PLAIN"},
			Users: map[string]string{user: "not-this"}})
		modeltest.Exec(t, e.name, `UPDATE ir_mail_server SET smtp_authentication = 'login',
			smtp_user = 'tu@gmail.test', use_google_gmail_service = `+
			map[bool]string{true: "true", false: "false"}[flag]+`,
			google_gmail_access_token = 'ya29.old', google_gmail_access_token_expiration = 1000,
			google_gmail_refresh_token = '1//refresh';
			INSERT INTO ir_config_parameter (key, value) VALUES
				('google_gmail_client_id', 'cid'), ('google_gmail_client_secret', 'secret')`)
		tokens, grants := tokenServer(t, "ya29.fresh")
		s := e.storeWith(t, models.OutboxSettings{}, &oauth.Refresher{GmailURL: tokens.URL})

		servers, err := s.AllMailServers(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := servers[0].Authentication == models.AuthGmail; got != flag {
			t.Errorf("flag %v: authentication %q", flag, servers[0].Authentication)
		}
		if !flag {
			if _, err := reset(t, s, 6); err == nil || len(e.mails.Messages()) != 0 {
				t.Errorf("without the flag: reset = %v, %d messages; want the password "+
					"login refused", err, len(e.mails.Messages()))
			}
			continue
		}

		for range 2 {
			if _, err := reset(t, s, 6); err != nil {
				t.Fatal(err)
			}
		}
		msgs := e.mails.Messages()
		if len(msgs) != 2 || msgs[0].User != user || msgs[1].User != user ||
			grants.Load() != 1 {
			t.Fatalf("%d messages after %d grants; want 2 as %s over XOAUTH2 after one grant",
				len(msgs), grants.Load(), user)
		}
		got := e.rows(t, `SELECT google_gmail_access_token || ' ' ||
			(google_gmail_access_token_expiration > extract(epoch FROM now()) + 3500)
			FROM ir_mail_server`)
		if got[0] != "ya29.fresh true" {
			t.Errorf("stored token %v; want the fresh one, valid for an hour", got)
		}
		if !strings.Contains(string(msgs[0].Data), "ahmad.santoso@example.org") {
			t.Errorf("the mail is not the reset of user 6:\n%s", msgs[0].Data)
		}
	}
}

// Odoo 15 logs in only with a user, and never with a certificate: the flag changes
// nothing on such rows.
func TestGmailFlagWithoutLogin15(t *testing.T) {
	e := newOutboxEnvOn(t, modeltest.Derived15, catcher.Options{})
	modeltest.Exec(t, e.name, `UPDATE ir_mail_server SET use_google_gmail_service = true,
		smtp_user = NULL;
		INSERT INTO ir_mail_server (name, smtp_host, smtp_port, smtp_authentication,
			smtp_encryption, smtp_user, use_google_gmail_service, sequence, active)
		VALUES ('cert', 'localhost', 465, 'certificate', 'ssl', 'tu@gmail.test', true, 20,
			true)`)
	s := e.store(t, models.OutboxSettings{})
	servers, err := s.AllMailServers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 2 || servers[0].Authentication != "login" ||
		servers[1].Authentication != "certificate" {
		t.Errorf("servers %+v; want the login and the certificate server as they are",
			servers)
	}
}

// A database upgraded to 16 keeps the use_google_gmail_service column, which Odoo 16 no
// longer reads: a row with it still set stays a password server.
func TestGmailFlagLeftOver16(t *testing.T) {
	e := newOutboxEnvOn(t, modeltest.Seeded16, catcher.Options{})
	modeltest.Exec(t, e.name, `ALTER TABLE ir_mail_server ADD COLUMN use_google_gmail_service
		boolean; UPDATE ir_mail_server SET use_google_gmail_service = true`)
	s := e.store(t, models.OutboxSettings{})
	servers, err := s.AllMailServers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(servers) != 1 || servers[0].Authentication != "login" {
		t.Errorf("servers %+v; want the one login server", servers)
	}
}
