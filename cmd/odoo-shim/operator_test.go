package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errs bytes.Buffer
	err := run(context.Background(), args, &out, &errs)
	return out.String() + errs.String(), err
}

// check-mail gives Odoo's Test Connection outcome and the plain-words fix, and exits
// non-zero on a failure.
func TestCheckMailCommand(t *testing.T) {
	s := startShim(t, modeltest.Own18, "")
	out, err := runCmd(t, "check-mail")
	if err != nil || !strings.Contains(out, "ir_mail_server 1") ||
		!strings.Contains(out, "  Connection Test Successful!\n") {
		t.Fatalf("check-mail = %v:\n%s", err, out)
	}
	if n := len(s.mails.Messages()); n != 0 {
		t.Errorf("the test delivered %d messages", n)
	}
	modeltest.Exec(t, s.db, `UPDATE ir_mail_server SET from_filter = 'yayasan.or.id'`)
	if out, _ := runCmd(t, "check-mail", "1"); !strings.Contains(out, "Note: the server "+
		"logs in as tu@pesantren-contoh.sch.id but mails are sent from "+
		"noreply@yayasan.or.id") {
		t.Errorf("no note on the foreign sender domain:\n%s", out)
	}
	modeltest.Exec(t, s.db, `UPDATE ir_mail_server SET from_filter = NULL`)

	modeltest.Exec(t, s.db, `UPDATE ir_mail_server SET smtp_pass = 'the-account-password'`)
	out, err = runCmd(t, "check-mail", "1")
	if !errors.Is(err, errFailed) ||
		!strings.Contains(out, "  Server replied with following exception:\n   (535, b'5.7.8") ||
		!strings.Contains(out, "What to fix: the server rejected the login") {
		t.Fatalf("check-mail with a wrong password = %v:\n%s", err, out)
	}
	if strings.Contains(out, "the-account-password") {
		t.Errorf("the password was printed:\n%s", out)
	}
	if _, err := runCmd(t, "check-mail", "no-such-server"); err == nil ||
		!strings.Contains(err.Error(), `no ir_mail_server with id or name "no-such-server"`) {
		t.Errorf("unknown server: %v", err)
	}
}

// outbox lists a queued mail without its link, and can drop it, which puts the signup
// state back.
func TestOutboxCommand(t *testing.T) {
	s := startShim(t, modeltest.Own18, "")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	modeltest.Exec(t, s.db, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_port = %d`, port))
	callKolo(t, s.url+"/xmlrpc/2/object", "execute_kw", []any{s.db, 2, "admin", "res.users",
		"action_reset_password", []any{[]int64{6}}})

	out, err := runCmd(t, "outbox", "--state", "queued")
	if err != nil || !regexp.MustCompile(`(?m)^1 +queued +reset +6 +ahmad\.santoso@example\.org `).MatchString(out) ||
		!strings.Contains(out, "connection refused") {
		t.Fatalf("outbox = %v:\n%s", err, out)
	}
	if strings.Contains(out, "token") || strings.Contains(out, "reset_password") {
		t.Errorf("the listing shows the link:\n%s", out)
	}

	if out, err := runCmd(t, "outbox", "--drop", "1"); err != nil ||
		!strings.Contains(out, "mail 1 dropped") {
		t.Fatalf("drop = %v: %s", err, out)
	}
	out, _ = runCmd(t, "outbox")
	if !regexp.MustCompile(`(?m)^1 +dropped `).MatchString(out) {
		t.Errorf("after the drop:\n%s", out)
	}
	var partner []string
	db := openTestDB(t, s.db)
	if err := db.Select(&partner, `SELECT COALESCE(signup_type, '-') FROM res_partner
		WHERE id = 7`); err != nil || partner[0] != "-" {
		t.Errorf("signup_type after the drop = %v, %v; want it unset again", partner, err)
	}
	if _, err := runCmd(t, "outbox", "--drop", "1"); err == nil {
		t.Error("dropping a dropped mail succeeded")
	}
}

func openTestDB(t *testing.T, name string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("postgres", modeltest.Cluster(t).DSN(name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Operators put flags after the server as often as before it.
func TestParseInterspersed(t *testing.T) {
	tests := []struct {
		args        []string
		from, args0 string
		n           int
	}{
		{[]string{"3", "--from", "a@example.org"}, "a@example.org", "3", 1},
		{[]string{"--from", "a@example.org", "Gmail"}, "a@example.org", "Gmail", 1},
		{[]string{"Gmail"}, "", "Gmail", 1},
		{[]string{"1", "2"}, "", "1", 2},
		{nil, "", "", 0},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("check-mail", flag.ContinueOnError)
		from := fs.String("from", "", "")
		if err := parseInterspersed(fs, tt.args); err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if *from != tt.from || fs.Arg(0) != tt.args0 || fs.NArg() != tt.n {
			t.Errorf("%q: from %q, args %q; want %q, %q (%d)", tt.args, *from, fs.Args(),
				tt.from, tt.args0, tt.n)
		}
	}
}
