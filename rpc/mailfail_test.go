package rpc_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// A mail that cannot go out gives the caller Odoo's words, then the server's reply and
// what to check, and leaves the database as it was: the partner's signup state is rolled
// back and the queued mail is failed, without its body.
func TestMailFailuresLeaveNothing(t *testing.T) {
	tests := []struct {
		name   string
		setup  string
		fault  string
		detail string
	}{
		{"login rejected", "UPDATE ir_mail_server SET smtp_pass = 'wrong-app-password'",
			"Terdapat error saat mencoba mengirimkan Email Anda, mohon periksa konfigurasi Anda",
			"535 5.7.8 Authentication failed; the server rejected the login"},
		{"STARTTLS expected, plain offered", "UPDATE ir_mail_server SET smtp_encryption = 'ssl'",
			"Terdapat error saat mencoba mengirimkan Email Anda, mohon periksa konfigurasi Anda",
			"did not answer in TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeltest.Own18)
			modeltest.Exec(t, e.db, tt.setup)
			before := queryRows(t, e, `SELECT COALESCE(signup_type, '-') || write_date::text
				FROM res_partner WHERE id = 7`)

			_, err := tryCall(e.url+"/xmlrpc/2/object", "execute_kw", []any{e.db, 2, "admin",
				"res.users", "action_reset_password", []any{[]any{6}}})
			if err == nil || !strings.Contains(err.Error(), "Fault(2): "+tt.fault+"\n\n") ||
				!strings.Contains(err.Error(), tt.detail) {
				t.Fatalf("error = %v; want fault 2 %q with %q", err, tt.fault, tt.detail)
			}
			after := queryRows(t, e, `SELECT COALESCE(signup_type, '-') || write_date::text
				FROM res_partner WHERE id = 7`)
			if before[0] != after[0] {
				t.Errorf("partner changed from %s to %s", before[0], after[0])
			}
			if n := len(e.mails.Messages()); n != 0 {
				t.Errorf("%d mails delivered", n)
			}
			row := queryRows(t, e, `SELECT state || ' ' || attempts || ' ' || (body IS NULL)
				FROM odoo_shim.outbox`)
			if len(row) != 1 || row[0] != "failed 1 true" {
				t.Errorf("outbox = %v; want one failed row without body", row)
			}
		})
	}
}

// A temporary failure (nothing listening, no server row and nothing on localhost:25)
// keeps the mail queued with the signup state, and the answer says so.
func TestTemporaryMailFailureQueues(t *testing.T) {
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
		setup func() string
	}{
		{"connection refused", func() string {
			return fmt.Sprintf("UPDATE ir_mail_server SET smtp_port = %d", closed())
		}},
		{"no server row, nothing on localhost:25", func() string {
			return "DELETE FROM ir_mail_server"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, modeltest.Own18)
			modeltest.Exec(t, e.db, tt.setup())

			res, err := tryCall(e.url+"/xmlrpc/2/object", "execute_kw", []any{e.db, 2, "admin",
				"res.users", "action_reset_password", []any{[]any{6}}})
			if err != nil {
				t.Fatalf("reset with a temporary failure = %v; want the queued notice", err)
			}
			params := res.(map[string]any)["params"].(map[string]any)
			msg, _ := params["message"].(string)
			if !strings.HasPrefix(msg, models.T("id_ID", models.MsgMailQueued)) ||
				!strings.Contains(msg, "connection refused") || params["sticky"] != true {
				t.Errorf("notice = %#v; want the sticky queued notice naming the refusal", params)
			}
			row := queryRows(t, e, `SELECT o.state || ' ' || o.attempts || ' ' ||
				(o.body IS NOT NULL) || ' ' || p.signup_type
				FROM odoo_shim.outbox o JOIN res_partner p ON p.id = o.partner_id`)
			if len(row) != 1 || row[0] != "queued 1 true reset" {
				t.Errorf("outbox = %v; want one queued row with its body, partner reset", row)
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
	if err := <-done; err != nil {
		t.Errorf("reset through a silent server = %v; want the queued notice", err)
	}
}
