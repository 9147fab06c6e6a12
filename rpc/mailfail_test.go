package rpc_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// A mail that cannot go out gives the caller Odoo's words and leaves the database as it
// was: the partner's signup state is rolled back.
func TestMailFailuresLeaveNothing(t *testing.T) {
	closed := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := port(l.Addr().String())
		l.Close()
		return p
	}
	tests := []struct {
		name  string
		setup func(e *env) string
		fault string
	}{
		{"connection refused", func(e *env) string {
			return fmt.Sprintf("UPDATE ir_mail_server SET smtp_port = %d", closed())
		}, "Tidak dapat menghubungi server email, mohon periksa server konfigurasi email outgoing"},
		{"login rejected", func(e *env) string {
			return "UPDATE ir_mail_server SET smtp_pass = 'wrong-app-password'"
		}, "Terdapat error saat mencoba mengirimkan Email Anda, mohon periksa konfigurasi Anda"},
		{"no server row, nothing on localhost:25", func(e *env) string {
			return "DELETE FROM ir_mail_server"
		}, "Tidak dapat menghubungi server email, mohon periksa server konfigurasi email outgoing"},
		{"STARTTLS expected, plain offered", func(e *env) string {
			return "UPDATE ir_mail_server SET smtp_encryption = 'ssl'"
		}, "Terdapat error saat mencoba mengirimkan Email Anda, mohon periksa konfigurasi Anda"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeltest.Own18)
			modeltest.Exec(t, e.db, tt.setup(e))
			before := queryRows(t, e, `SELECT COALESCE(signup_type, '-') || write_date::text
				FROM res_partner WHERE id = 7`)

			_, err := tryCall(e.url+"/xmlrpc/2/object", "execute_kw", []any{e.db, 2, "admin",
				"res.users", "action_reset_password", []any{[]any{6}}})
			if err == nil || !strings.Contains(err.Error(), "Fault(2): "+tt.fault) {
				t.Fatalf("error = %v; want fault 2 %q", err, tt.fault)
			}
			after := queryRows(t, e, `SELECT COALESCE(signup_type, '-') || write_date::text
				FROM res_partner WHERE id = 7`)
			if before[0] != after[0] {
				t.Errorf("partner changed from %s to %s", before[0], after[0])
			}
			if n := len(e.mails.Messages()); n != 0 {
				t.Errorf("%d mails delivered", n)
			}
		})
	}
}

// A user whose e-mail field holds two addresses gets one mail sent to both, as Odoo sends it.
func TestResetToSeveralAddresses(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	modeltest.Exec(t, e.db, `UPDATE res_partner
		SET email = 'Ahmad@Example.org; wali.ahmad@example.org' WHERE id = 7`)
	callKolo(t, e.url+"/xmlrpc/2/object", "execute_kw", []any{e.db, 2, "admin", "res.users",
		"action_reset_password", []any{[]any{6}}})
	msgs := e.mails.Messages()
	want := "ahmad@example.org,wali.ahmad@example.org"
	if len(msgs) != 1 || strings.Join(msgs[0].To, ",") != want {
		t.Fatalf("messages %+v; want one to both addresses", msgs)
	}
	if !strings.Contains(string(msgs[0].Data), "To: "+strings.ReplaceAll(want, ",", ", ")+"\r\n") {
		t.Errorf("To header:\n%s", msgs[0].Data[:400])
	}
}

// A mail server that never answers holds no row lock and no database connection: the
// partner can be written while the reset waits for the server.
func TestSilentMailServerHoldsNoLock(t *testing.T) {
	e := newEnv(t, modeltest.Own18)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // accept, never greet
		}
	}()
	modeltest.Exec(t, e.db, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_port = %d,
		smtp_encryption = 'none'`, port(l.Addr().String())))

	done := make(chan error, 1)
	go func() {
		_, err := tryCall(e.url+"/xmlrpc/2/object", "execute_kw", []any{e.db, 2, "admin",
			"res.users", "action_reset_password", []any{[]any{6}}})
		done <- err
	}()
	time.Sleep(500 * time.Millisecond)

	db := openDB(t, e)
	start := time.Now()
	if _, err := db.Exec(`SET lock_timeout = '1s'; UPDATE res_partner SET name = name
		WHERE id = 7`); err != nil {
		t.Fatalf("the partner is locked while the mail server is silent: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the write waited %s", d)
	}
	if err := <-done; err == nil || !strings.Contains(err.Error(), "Fault(2)") {
		t.Errorf("reset through a silent server = %v; want fault 2", err)
	}
}
