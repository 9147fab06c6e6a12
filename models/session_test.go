package models

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// The session tokens of rpc.md §8, computed there with Python: same user row, same secret.
func TestSessionTokenVectors(t *testing.T) {
	const hash = "$pbkdf2-sha512$600000$AAECAwQFBgcICQoLDA0ODw$wo5nr68L9hr/tAa6cCxILDTkJnebiD5" +
		"OLdaEMIMoJV3g0cb6aLXhfhEbJ2apsxUuzgBmaR.PNHIlwsYDONlQtw"
	f := tokenFields{Secret: "d6f0c5a2-1b7e-4c1a-9a53-0123456789ab", ID: 2, Login: "admin",
		Password: sql.NullString{String: hash, Valid: true},
		Active:   sql.NullBool{Bool: true, Valid: true}, HasTOTP: true}
	sid40 := "0123456789abcdef0123456789abcdef01234567"
	sid84 := strings.Repeat("A", 42) + strings.Repeat("B", 42)

	tests := []struct {
		major int
		sid   string
		want  string
	}{
		{17, sid40, "d0611d9991d0c93cec3df2cbb2ba226f3a24195623a40e43f4d531007b661bd6"},
		{18, sid84, "037242f06883185a452909bb396917df2566cdd1657c27419a2364ea6d32993c"},
		{19, sid84, "d7645241da9e770378098fc1ea67ec907f065fbe6e10bf4f95be114c5fcfc58a"},
	}
	for _, tt := range tests {
		if got := f.token(tt.major, tt.sid); got != tt.want {
			t.Errorf("token(%d, %s…) = %s, want %s", tt.major, tt.sid[:8], got, tt.want)
		}
	}
}

func TestNewSessionID(t *testing.T) {
	a, b := NewSessionID(), NewSessionID()
	if !ValidSessionID(a) || len(a) != 84 || a == b {
		t.Fatalf("NewSessionID() = %q, %q", a, b)
	}
	if !ValidSessionID("0123456789abcdef0123456789abcdef01234567") {
		t.Error("an Odoo 15-17 session id (40 hex) is refused")
	}
	for _, bad := range []string{"", strings.Repeat("A", 40), strings.Repeat("a", 41),
		strings.Repeat("A", 83), strings.Repeat("A", 83) + "=", strings.Repeat("A", 85)} {
		if ValidSessionID(bad) {
			t.Errorf("ValidSessionID(%q) = true", bad)
		}
	}
}

// sessionStore is an Own18 store whose admin has a cheap password hash.
func sessionStore(t *testing.T, clock *fixedClock) (*Store, string) {
	t.Helper()
	s, _, name := openStore(t, modeltest.Own18, clock)
	hash, err := s.set.Hasher.Hash(context.Background(), "rahasia-admin", 1000)
	if err != nil {
		t.Fatal(err)
	}
	modeltest.Exec(t, name, `UPDATE res_users SET password = '`+hash+`' WHERE id = 2`)
	return s, name
}

func TestSignInAndSession(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	s, _ := sessionStore(t, clock)
	ctx := context.Background()

	if _, _, err := s.SignIn(ctx, "admin", "wrong"); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("SignIn with a wrong password: %v, want ErrAccessDenied", err)
	}
	if _, _, err := s.SignIn(ctx, "Admin", "rahasia-admin"); !errors.Is(err, ErrAccessDenied) {
		t.Fatalf("SignIn is case-sensitive on the login, as Odoo: %v", err)
	}
	sid, sess, err := s.SignIn(ctx, "admin", "rahasia-admin")
	if err != nil {
		t.Fatalf("SignIn: %v", err)
	}
	if sess.UserID != 2 || sess.Login != "admin" || sess.Lifetime != DefaultSessionLifetime {
		t.Errorf("session = %+v", sess)
	}

	var stored [][]byte
	if err := s.db.Select(&stored, `SELECT id_hash FROM odoo_shim.session`); err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || bytes.Contains(stored[0], []byte(sid)) || len(stored[0]) != 32 {
		t.Fatalf("stored keys %x: want one SHA-256, not the id", stored)
	}

	got, err := s.Session(ctx, sid)
	if err != nil || got.UserID != 2 {
		t.Fatalf("Session = %+v, %v", got, err)
	}
	other := NewSessionID()
	if _, err := s.Session(ctx, other); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("unknown session: %v, want ErrSessionExpired", err)
	}
	if err := s.EndSession(ctx, sid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, sid); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("ended session: %v, want ErrSessionExpired", err)
	}
}

// An API key opens no web session: Odoo's web login is interactive.
func TestSignInRefusesAPIKeys(t *testing.T) {
	s, name := sessionStore(t, nil)
	key := "0123456789abcdef0123456789abcdef01234567"
	hash, _ := s.set.Hasher.Hash(context.Background(), key, 1000)
	modeltest.Exec(t, name, `DELETE FROM res_users_apikeys;
		INSERT INTO res_users_apikeys (name, user_id, scope, index, key)
		VALUES ('web', 2, 'rpc', '01234567', '`+hash+`')`)
	if uid, err := s.Authenticate(context.Background(), "admin", key); err != nil || uid != 2 {
		t.Fatalf("the key is valid over RPC: %d, %v", uid, err)
	}
	if _, _, err := s.SignIn(context.Background(), "admin", key); !errors.Is(err,
		ErrAccessDenied) {
		t.Errorf("SignIn with an API key: %v, want ErrAccessDenied", err)
	}
}

// A session ends, as in Odoo, when the user's password, login or active flag changes,
// and when it has not been used for sessions.max_inactivity_seconds.
func TestSessionEnds(t *testing.T) {
	tests := []struct {
		name   string
		change string
		wait   time.Duration
	}{
		{"password", `UPDATE res_users SET password = password || 'x' WHERE id = 2`, 0},
		{"login", `UPDATE res_users SET login = 'administrator' WHERE id = 2`, 0},
		{"archived", `UPDATE res_users SET active = false WHERE id = 2`, 0},
		{"deleted", `DELETE FROM res_users_log WHERE create_uid = 2;
			DELETE FROM res_company_users_rel WHERE user_id = 2;
			DELETE FROM res_groups_users_rel WHERE uid = 2;
			DELETE FROM res_users_apikeys WHERE user_id = 2;
			DELETE FROM res_users WHERE id = 2`, 0},
		{"two-factor", `UPDATE res_users SET totp_secret = 'JBSWY3DPEHPK3PXP' WHERE id = 2`, 0},
		{"idle", "", DefaultSessionLifetime + time.Second},
		{"short lifetime", `INSERT INTO ir_config_parameter (key, value)
			VALUES ('sessions.max_inactivity_seconds', '60')`, 61 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fixedClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
			s, name := sessionStore(t, clock)
			ctx := context.Background()
			sid, _, err := s.SignIn(ctx, "admin", "rahasia-admin")
			if err != nil {
				t.Fatal(err)
			}
			if tt.change != "" {
				modeltest.Exec(t, name, tt.change)
			}
			clock.t = clock.t.Add(tt.wait)
			if _, err := s.Session(ctx, sid); !errors.Is(err, ErrSessionExpired) {
				t.Fatalf("after the change: %v, want ErrSessionExpired", err)
			}
			var n int
			_ = s.db.Get(&n, `SELECT count(*) FROM odoo_shim.session`)
			if n != 0 {
				t.Errorf("%d session rows left; the dead session must be removed", n)
			}
		})
	}
}

// A session in use stays alive beyond its lifetime; old rows are removed as new sessions
// start.
func TestSessionSlidesAndPrunes(t *testing.T) {
	clock := &fixedClock{t: time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)}
	s, _ := sessionStore(t, clock)
	ctx := context.Background()
	sid, _, err := s.StartSession(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	old, _, _ := s.StartSession(ctx, 6)

	for range 3 {
		clock.t = clock.t.Add(DefaultSessionLifetime - time.Hour)
		if _, err := s.Session(ctx, sid); err != nil {
			t.Fatalf("a session used within its lifetime: %v", err)
		}
	}
	if _, _, err := s.StartSession(ctx, 2); err != nil {
		t.Fatal(err)
	}
	var n int
	_ = s.db.Get(&n, `SELECT count(*) FROM odoo_shim.session`)
	if n != 2 {
		t.Errorf("%d rows; want 2 (the unused session pruned)", n)
	}
	if _, err := s.Session(ctx, old); !errors.Is(err, ErrSessionExpired) {
		t.Errorf("pruned session: %v", err)
	}
	if _, _, err := s.StartSession(ctx, 9); !errors.Is(err, ErrAccessDenied) {
		t.Errorf("StartSession for an archived user: %v, want ErrAccessDenied", err)
	}
}
