package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// checkMailDB is a database of tmpl whose one mail server row points, with STARTTLS, at a
// real in-process SMTP server configured by opt; the commands run on it through the
// environment. It returns the catcher and the database name.
func checkMailDB(t *testing.T, tmpl modeltest.Template, opt catcher.Options) (
	*catcher.Catcher, string) {
	t.Helper()
	dsn, db := modeltest.NewDatabase(t, tmpl)
	serverTLS, caPEM, err := catcher.TestCertificates()
	if err != nil {
		t.Fatal(err)
	}
	opt.TLS = serverTLS
	mails := catcher.New(opt)
	if err := mails.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mails.Close() })
	host, port, _ := net.SplitHostPort(mails.Addr())
	modeltest.Exec(t, db, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_host = '%s',
		smtp_port = %s, smtp_encryption = 'starttls', smtp_user = NULL, smtp_pass = NULL`,
		host, port))

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ODOO_SHIM_DATABASE_DSN", dsn)
	t.Setenv("ODOO_SHIM_MAIL_CA_FILE", caFile)
	return mails, db
}

// check-mail on an Odoo 15 server with use_google_gmail_service or
// use_microsoft_outlook_service: the expired token is refreshed at the provider's token
// endpoint and written back, and the test logs in with XOAUTH2.
func TestCheckMailOAuth15(t *testing.T) {
	for _, c := range []struct{ auth, flag, prefix, user, urlKey string }{
		{"gmail", "use_google_gmail_service", "google_gmail", "tu@gmail.test",
			"ODOO_SHIM_MAIL_GMAIL_TOKEN_URL"},
		{"outlook", "use_microsoft_outlook_service", "microsoft_outlook", "tu@outlook.test",
			"ODOO_SHIM_MAIL_OUTLOOK_TOKEN_URL"},
	} {
		t.Run(c.auth, func(t *testing.T) {
			_, db := checkMailDB(t, modeltest.Derived15, catcher.Options{
				Tokens: map[string]string{c.user: "ya29.fresh"}})
			modeltest.Exec(t, db, strings.NewReplacer("{flag}", c.flag, "{p}", c.prefix,
				"{user}", c.user).Replace(`UPDATE ir_mail_server SET smtp_user = '{user}',
				{flag} = true, {p}_access_token = 'ya29.old',
				{p}_access_token_expiration = 1000, {p}_refresh_token = '1//refresh';
				INSERT INTO ir_config_parameter (key, value) VALUES ('{p}_client_id', 'cid'),
					('{p}_client_secret', 'secret')`))
			tokens, grants := checkTokenServer(t)
			t.Setenv(c.urlKey, tokens.URL)

			out, err := runCmd(t, "check-mail", "--from", c.user)
			want := "authentication " + c.auth + " (" + c.flag + "), user " + c.user
			if err != nil || grants.Load() != 1 || !strings.Contains(out, want) ||
				!strings.Contains(out, "  Connection Test Successful!\n") {
				t.Fatalf("check-mail = %v after %d grants:\n%s", err, grants.Load(), out)
			}
			var stored string
			if err := openTestDB(t, db).Get(&stored, `SELECT `+c.prefix+`_access_token
				FROM ir_mail_server`); err != nil || stored != "ya29.fresh" {
				t.Errorf("stored token %q, %v; want the refreshed one", stored, err)
			}
		})
	}
}

// checkTokenServer is a local OAuth token endpoint granting the refresh token 1//refresh
// of the client cid, and counts the grants.
func checkTokenServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var grants atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("refresh_token") != "1//refresh" ||
			r.PostFormValue("client_id") != "cid" {
			w.WriteHeader(400)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		grants.Add(1)
		_, _ = w.Write([]byte(`{"access_token":"ya29.fresh","expires_in":3599}`))
	}))
	t.Cleanup(tokens.Close)
	return tokens, &grants
}

// On Odoo 18 check-mail compares the server's SIZE with Odoo's limit for it, warns when
// Odoo's is larger, and --update-size stores the server's, as Odoo's button does.
func TestCheckMailSize18(t *testing.T) {
	mails, db := checkMailDB(t, modeltest.Own18, catcher.Options{MaxMessageBytes: 5 << 20})
	out, err := runCmd(t, "check-mail")
	if err != nil || !strings.Contains(out, "  Connection Test Successful!\n  Size: the "+
		"server accepts messages of up to 5.00 Mb (SIZE 5242880)\n  Odoo's limit for it: "+
		"10.00 Mb (base.default_max_email_size 10 MB)\n  Warning: Odoo keeps attachments "+
		"in mails for this server up to 10.00 Mb, but the server accepts only 5.00 Mb: "+
		"mails in between are refused (552)") ||
		!strings.Contains(out, "run check-mail 1 --update-size") {
		t.Fatalf("check-mail = %v:\n%s", err, out)
	}

	out, err = runCmd(t, "check-mail", "1", "--update-size")
	if err != nil || !strings.Contains(out, "  Email maximum size updated (Demo mail "+
		"catcher: 5.00 Mb).\n") || !strings.Contains(out, "  Odoo's limit for it: 5.00 Mb "+
		"(max_email_size 5 MB)\n") || strings.Contains(out, "Warning") {
		t.Fatalf("check-mail --update-size = %v:\n%s", err, out)
	}
	var stored float64
	if err := openTestDB(t, db).Get(&stored, `SELECT max_email_size
		FROM ir_mail_server`); err != nil || stored != 5 {
		t.Errorf("max_email_size %v, %v; want 5", stored, err)
	}
	if n := len(mails.Messages()); n != 0 {
		t.Errorf("the tests delivered %d messages", n)
	}
}

// A server that announces SIZE without a number gets Odoo's message and no update; a
// parameter that is not a number is named.
func TestCheckMailSizeMissing(t *testing.T) {
	_, db := checkMailDB(t, modeltest.Own18, catcher.Options{MaxMessageBytes: -1})
	modeltest.Exec(t, db, `INSERT INTO ir_config_parameter (key, value)
		VALUES ('base.default_max_email_size', 'ten')`)
	out, err := runCmd(t, "check-mail", "--update-size")
	if !errors.Is(err, errFailed) || !strings.Contains(out, "  Connection Test Successful!\n"+
		`  The server "Demo mail catcher" doesn't return the maximum email size.`+"\n") ||
		!strings.Contains(out, "Size: the server announces no maximum message size") ||
		!strings.Contains(out, `Warning: base.default_max_email_size is "ten", not a number`) {
		t.Fatalf("check-mail --update-size = %v:\n%s", err, out)
	}
	var stored *float64
	if err := openTestDB(t, db).Get(&stored, `SELECT max_email_size
		FROM ir_mail_server`); err != nil || stored != nil {
		t.Errorf("max_email_size %v, %v; want it left empty", stored, err)
	}
}

// Before Odoo 18 there is no max_email_size: check-mail reports the server's SIZE only,
// and --update-size refuses, before any connection, in plain words.
func TestCheckMailSize16(t *testing.T) {
	mails, _ := checkMailDB(t, modeltest.Seeded16, catcher.Options{MaxMessageBytes: 5 << 20})
	out, err := runCmd(t, "check-mail")
	if err != nil || !strings.Contains(out, "  Size: the server accepts messages of up to "+
		"5.00 Mb (SIZE 5242880)\n") || strings.Contains(out, "Odoo's limit") {
		t.Fatalf("check-mail = %v:\n%s", err, out)
	}
	conns := mails.Connections()
	_, err = runCmd(t, "check-mail", "--update-size")
	if err == nil || err.Error() != "--update-size: ir_mail_server.max_email_size does not "+
		"exist before Odoo 18 (this database runs Odoo 16.0); nothing to update, the mail "+
		"server's own limit is what counts" || mails.Connections() != conns {
		t.Errorf("--update-size on 16 = %v, after %d more connections", err,
			mails.Connections()-conns)
	}
}
