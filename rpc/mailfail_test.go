package rpc_test

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/kolo/xmlrpc"

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

			c, _ := xmlrpc.NewClient(e.url+"/xmlrpc/2/object", nil)
			defer c.Close()
			var res any
			err := c.Call("execute_kw", []any{e.db, 2, "admin", "res.users",
				"action_reset_password", []any{[]any{6}}}, &res)
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
	modeltest.Exec(t, e.db, `UPDATE res_partner SET email = 'Ahmad@Example.org; wali.ahmad@example.org'
		WHERE id = 7`)
	callKolo(t, e.url+"/xmlrpc/2/object", "execute_kw", []any{e.db, 2, "admin", "res.users",
		"action_reset_password", []any{[]any{6}}})
	msgs := e.mails.Messages()
	if len(msgs) != 1 || strings.Join(msgs[0].To, ",") != "ahmad@example.org,wali.ahmad@example.org" {
		t.Fatalf("messages %+v; want one to both addresses", msgs)
	}
	if !strings.Contains(string(msgs[0].Data), "To: ahmad@example.org, wali.ahmad@example.org\r\n") {
		t.Errorf("To header:\n%s", msgs[0].Data[:400])
	}
}
