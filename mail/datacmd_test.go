package mail

import (
	"context"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// scriptedServer answers SMTP commands by their verb from replies (one reply, lines
// joined by CRLF), as usual for the rest, on a free loopback port. It stages what the
// go-smtp server behind the catcher cannot: a refusal of the DATA command itself (go-smtp
// always answers it 354), or a reply of several lines.
func scriptedServer(t *testing.T, replies map[string]string) string {
	t.Helper()
	s := startRogue(t, &rogue{onCmd: func(_ int, verb, _ string) (string, bool) {
		if reply, ok := replies[verb]; ok {
			return reply + "\r\n", false
		}
		return "-", false
	}})
	return s.ln.Addr().String()
}

// A server that refuses the DATA command gets Odoo's "refused the test connection" from
// check-mail, and a delivery error at the data stage, temporary for a 4xx, from Send;
// nothing is left half sent.
func TestDataCommandRefused(t *testing.T) {
	tests := []struct {
		reply     string
		code      int
		temporary bool
	}{
		{"554 5.5.1 No valid recipients", 554, false},
		{"451 4.3.0 Try again later", 451, true},
	}
	for _, tt := range tests {
		t.Run(tt.reply[:3], func(t *testing.T) {
			addr := scriptedServer(t, map[string]string{"DATA": tt.reply})
			s := testSender(nil)
			s.Timeout = 2 * time.Second
			srv := serverAt(t, addr, "none")

			r := s.Test(context.Background(), srv, testUser)
			want := "The server refused the test connection with error (" + tt.reply[:3] +
				", b'" + tt.reply[4:] + "')"
			if r.OK || r.Message != want {
				t.Errorf("check outcome %q; want %q", r.Message, want)
			}

			results, err := s.Send(context.Background(), srv,
				[]models.ResetMail{recordedMail(), recordedMail()})
			if err != nil {
				t.Fatal(err)
			}
			for i, res := range results {
				de := deliveryError(t, res)
				if de.Stage != models.StageData || de.Code != tt.code ||
					de.Temporary != tt.temporary || de.Unconfirmed {
					t.Errorf("mail %d: %+v; want %d at data, temporary %v", i, de, tt.code,
						tt.temporary)
				}
			}
		})
	}
}
