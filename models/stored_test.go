package models

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

var storedTokenRE = regexp.MustCompile(`^[A-Za-z0-9]{20}$`)

type storedState struct {
	Token      sql.NullString `db:"signup_token"`
	Type       sql.NullString `db:"signup_type"`
	Expiration sql.NullTime   `db:"signup_expiration"`
}

func readStored(t *testing.T, s *Store, partner int64) storedState {
	t.Helper()
	var st storedState
	err := s.db.Get(&st, `SELECT signup_token, signup_type, signup_expiration
		FROM res_partner WHERE id = $1`, partner)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// The whole flow on Odoo 15, 16 (the real schema) and 17 databases: the token is stored
// on the partner, a second reset replaces it, the link carries it, the page spends it,
// and the password is hashed with the version's rounds.
func TestResetFlowStoredTokens(t *testing.T) {
	tests := []struct {
		tmpl    modeltest.Template
		subject string
		lang    string // of the mail body
		rounds  string
	}{
		{modeltest.Derived15, "Atur ulang kata sandi", "en_US", "$pbkdf2-sha512$25000$"},
		{modeltest.Seeded16, "Reset Kata sandi", "id_ID", "$pbkdf2-sha512$350000$"},
		{modeltest.Derived17, "Reset Kata sandi", "id_ID", "$pbkdf2-sha512$600000$"},
	}
	for _, tt := range tests {
		t.Run(string(tt.tmpl), func(t *testing.T) {
			clock := &fixedClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
			s, mailer, dbname := openStore(t, tt.tmpl, clock)
			ctx := context.Background()

			n, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2, IDs: []int64{6}})
			if err != nil || n != nil {
				t.Fatalf("ActionResetPassword = %v, %v; want None (nil, nil)", n, err)
			}
			first := readStored(t, s, 7)
			if !storedTokenRE.MatchString(first.Token.String) || first.Type.String != "reset" ||
				!first.Expiration.Valid ||
				!first.Expiration.Time.Equal(clock.t.Add(24*time.Hour)) {
				t.Fatalf("stored state %+v; want a 20-character token, reset, now + 1 day", first)
			}
			m := mailer.mails[0]
			checkMail(t, m, ResetMail{Kind: "reset", Lang: tt.lang, Subject: tt.subject,
				From:    `"Pondok Pesantren Demo" <tu@pesantren-demo.test>`,
				ReplyTo: `"Pondok Pesantren Demo" <tu@pesantren-demo.test>`,
				To:      "ahmad.santoso@example.org", Envelope: m.Envelope, ReturnPath: m.ReturnPath,
				ValidHours: "24", Login: "ahmad", UserName: "Ahmad Santoso"})
			if got := linkToken(t, m.Link, "http://127.0.0.1:8069/web/reset_password",
				dbname); got != first.Token.String {
				t.Fatalf("link token %q; stored %q", got, first.Token.String)
			}

			// A second request overwrites the token: the first link dies (C01).
			if _, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2,
				IDs: []int64{6}}); err != nil {
				t.Fatal(err)
			}
			second := readStored(t, s, 7)
			if second.Token.String == first.Token.String {
				t.Fatal("a second reset kept the token")
			}
			if _, err := s.SignupInfo(ctx, first.Token.String); !errors.Is(err, ErrBadToken) {
				t.Errorf("SignupInfo(first token) = %v; want ErrBadToken", err)
			}
			info, err := s.SignupInfo(ctx, second.Token.String)
			if err != nil || info.UserID != 6 || info.Login != "ahmad" || info.Expired {
				t.Fatalf("SignupInfo = %+v, %v", info, err)
			}

			if _, err := s.CompleteSignup(ctx, second.Token.String, "kata-sandi-baru"); err != nil {
				t.Fatalf("CompleteSignup: %v", err)
			}
			if st := readStored(t, s, 7); st.Token.Valid || st.Type.Valid || st.Expiration.Valid {
				t.Errorf("after the reset the partner still has %+v", st)
			}
			var hash string
			if err := s.db.Get(&hash, `SELECT password FROM res_users WHERE id = 6`); err != nil ||
				!strings.HasPrefix(hash, tt.rounds) {
				t.Errorf("hash %q, %v; want prefix %s", hash, err, tt.rounds)
			}
			if uid, err := s.Authenticate(ctx, "ahmad", "kata-sandi-baru"); err != nil || uid != 6 {
				t.Errorf("Authenticate = %d, %v; want 6", uid, err)
			}
			if _, err := s.CompleteSignup(ctx, second.Token.String,
				"lagi-lagi-baru"); !errors.Is(err, ErrBadToken) {
				t.Errorf("reusing the token = %v; want ErrBadToken", err)
			}
		})
	}
}

// An expired stored token still opens the form (Odoo 15-17 only check it exists), and
// setting the password then fails with Odoo's text.
func TestStoredTokenExpiry(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
	s, _, _ := openStore(t, modeltest.Seeded16, clock)
	ctx := context.Background()
	if _, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2, IDs: []int64{6}}); err != nil {
		t.Fatal(err)
	}
	token := readStored(t, s, 7).Token.String

	clock.t = clock.t.Add(24 * time.Hour)
	if info, err := s.SignupInfo(ctx, token); err != nil || info.Expired {
		t.Fatalf("at the expiry instant: %+v, %v; want still valid", info, err)
	}
	clock.t = clock.t.Add(time.Second)
	info, err := s.SignupInfo(ctx, token)
	if err != nil || !info.Expired || info.Name != "" || info.Login != "ahmad" {
		t.Fatalf("after expiry: %+v, %v; want the account, expired, without a name", info, err)
	}
	_, err = s.CompleteSignup(ctx, token, "kata-sandi-baru")
	want := "Token Pendaftaran '" + token + "' sudah tidak berlaku"
	if e, ok := AsError(err); !ok || e.Kind != KindUserError || e.Message != want {
		t.Fatalf("CompleteSignup = %v; want UserError %q", err, want)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 300), "a\x00b", "\xff"} {
		if _, err := s.SignupInfo(ctx, bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("SignupInfo(%q) = %v; want ErrBadToken", bad, err)
		}
	}
}

// Invitation mode in Odoo 15-17: a valid token is kept with its expiry; a partner without
// one gets a token that never expires. The type is "reset" either way.
func TestStoredInvitation(t *testing.T) {
	s, mailer, _ := openStore(t, modeltest.Seeded16, nil)
	ctx := context.Background()
	if _, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2, IDs: []int64{6}}); err != nil {
		t.Fatal(err)
	}
	kept := readStored(t, s, 7)

	invite := map[string]any{"create_user": true}
	_, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2, IDs: []int64{6, 7},
		Context: invite})
	if err != nil {
		t.Fatal(err)
	}
	if got := readStored(t, s, 7); got != kept {
		t.Errorf("invitation changed a valid token: %+v; was %+v", got, kept)
	}
	fresh := readStored(t, s, 8)
	if !storedTokenRE.MatchString(fresh.Token.String) || fresh.Type.String != "reset" ||
		fresh.Expiration.Valid {
		t.Errorf("invited partner state %+v; want a token of type reset without expiry", fresh)
	}
	last := mailer.mails[len(mailer.mails)-1]
	if last.Kind != "signup" || last.ValidHours != "" ||
		!strings.Contains(last.Link, "/web/reset_password?") {
		t.Errorf("invitation mail %+v", last)
	}
}

// What each version answers around the reset: the lookup by login, an empty call, and a
// mail that cannot leave (15 and 16 pass Odoo's MailDeliveryException on and keep the
// earlier token).
func TestStoredVersionAnswers(t *testing.T) {
	lookups := []struct {
		tmpl          modeltest.Template
		none, several string
	}{
		{modeltest.Derived15, MsgNoAccount15, MsgNoAccount15},
		{modeltest.Seeded16, MsgNoAccount, MsgNoAccount},
		{modeltest.Derived17, MsgNoAccount, MsgManyAccounts},
	}
	for _, tt := range lookups {
		t.Run(string(tt.tmpl), func(t *testing.T) {
			s, mailer, name := openStore(t, tt.tmpl, nil)
			ctx := context.Background()
			en := map[string]any{"lang": "en_US"}
			if _, err := s.ResetPassword(ctx, 2, "nobody", en); err == nil ||
				err.Error() != tt.none {
				t.Errorf("unknown login: %v; want %q", err, tt.none)
			}
			modeltest.Exec(t, name, `UPDATE res_partner SET email = 'same@example.org'
				WHERE id IN (7, 12)`)
			if _, err := s.ResetPassword(ctx, 2, "same@example.org", en); err == nil ||
				err.Error() != tt.several {
				t.Errorf("two matches: %v; want %q", err, tt.several)
			}
			if n, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2}); n != nil ||
				err != nil {
				t.Errorf("empty call = %v, %v; want None", n, err)
			}

			if _, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2,
				IDs: []int64{6}}); err != nil {
				t.Fatal(err)
			}
			before := readStored(t, s, 7)
			mailer.fail = &DeliveryError{Server: "x", Stage: StageAuth, Code: 535,
				Text: "5.7.8 Username and Password not accepted"}
			_, err := s.ActionResetPassword(ctx, ResetRequest{Caller: 2, IDs: []int64{6}})
			wantKind := KindUserError
			if tt.tmpl != modeltest.Derived17 {
				wantKind = KindMailDelivery
			}
			if e, ok := AsError(err); !ok || e.Kind != wantKind {
				t.Errorf("failed mail: %v; want kind %v", err, wantKind)
			}
			if got := readStored(t, s, 7); got != before {
				t.Errorf("after a failed mail the partner has %+v; want %+v back", got, before)
			}
		})
	}
}
