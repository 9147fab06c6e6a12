package main

import (
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

// check-mail on an Odoo 15 server with use_google_gmail_service: the expired token is
// refreshed at the token endpoint and written back, and the test logs in with XOAUTH2.
func TestCheckMailGmail15(t *testing.T) {
	const user = "tu@gmail.test"
	_, db := checkMailDB(t, modeltest.Derived15, catcher.Options{
		Tokens: map[string]string{user: "ya29.fresh"}})
	modeltest.Exec(t, db, `UPDATE ir_mail_server SET smtp_user = 'tu@gmail.test',
		use_google_gmail_service = true, google_gmail_access_token = 'ya29.old',
		google_gmail_access_token_expiration = 1000, google_gmail_refresh_token = '1//refresh';
		INSERT INTO ir_config_parameter (key, value) VALUES ('google_gmail_client_id', 'cid'),
			('google_gmail_client_secret', 'secret')`)
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
	t.Setenv("ODOO_SHIM_MAIL_GMAIL_TOKEN_URL", tokens.URL)

	out, err := runCmd(t, "check-mail", "--from", user)
	if err != nil || grants.Load() != 1 ||
		!strings.Contains(out, "authentication gmail (use_google_gmail_service), user "+user) ||
		!strings.Contains(out, "  Connection Test Successful!\n") {
		t.Fatalf("check-mail = %v after %d grants:\n%s", err, grants.Load(), out)
	}
	var stored string
	if err := openTestDB(t, db).Get(&stored, `SELECT google_gmail_access_token
		FROM ir_mail_server`); err != nil || stored != "ya29.fresh" {
		t.Errorf("stored token %q, %v; want the refreshed one", stored, err)
	}
}
