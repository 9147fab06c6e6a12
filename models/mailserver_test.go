package models

import (
	"strings"
	"testing"
)

func TestChooseServer(t *testing.T) {
	gmail := MailServer{ID: 1, Name: "gmail", Host: "smtp.gmail.com", FromFilter: "tu@gmail.com"}
	school := MailServer{ID: 2, Name: "school", Host: "mail.school.id",
		FromFilter: "school.id, pesantren.sch.id"}
	open := MailServer{ID: 3, Name: "open", Host: "relay.local"}
	conf := MailServer{Name: "odoo.conf", Host: "localhost", Port: 25}
	tests := []struct {
		name         string
		servers      []MailServer
		from, notif  string
		confFilter   string
		wantID       int64
		wantSMTPFrom string
	}{
		{"exact address", []MailServer{school, gmail}, `"TU" <tu@gmail.com>`, "", "", 1,
			`"TU" <tu@gmail.com>`},
		{"address matched case-insensitively", []MailServer{gmail}, "TU@Gmail.com", "", "", 1,
			"TU@Gmail.com"},
		{"domain in a comma list", []MailServer{gmail, school}, "admin@pesantren.sch.id", "", "",
			2, "admin@pesantren.sch.id"},
		{"notifications address", []MailServer{gmail, school}, "someone@other.org",
			"notifications@school.id", "", 2, "notifications@school.id"},
		{"first without filter", []MailServer{gmail, open, school}, "x@other.org", "", "", 3,
			"x@other.org"},
		{"first without filter, notifications", []MailServer{open}, "x@other.org",
			"notif@other.org", "", 3, "notif@other.org"},
		{"any server at last", []MailServer{gmail, school}, "x@other.org", "", "", 1,
			"x@other.org"},
		{"no rows: odoo.conf", nil, "x@other.org", "", "", 0, "x@other.org"},
		{"no rows, filter refuses the sender", nil, "x@other.org", "notif@school.id",
			"school.id", 0, "notif@school.id"},
	}
	for _, tt := range tests {
		r := chooseServer(tt.servers, tt.from, tt.notif, conf, tt.confFilter)
		if r.server.ID != tt.wantID || r.smtpFrom != tt.wantSMTPFrom {
			t.Errorf("%s: server %d, smtp from %q; want %d, %q", tt.name, r.server.ID,
				r.smtpFrom, tt.wantID, tt.wantSMTPFrom)
		}
	}
}

func TestRewriteSender(t *testing.T) {
	tests := []struct {
		name                   string
		from                   string
		r                      route
		notif, bounce          string
		wantHeader, wantEnvlop string
	}{
		{"kept as it is (the recorded Odoo 18 case)",
			`"Pondok Pesantren Al-Contoh" <tu@pesantren-contoh.sch.id>`,
			route{MailServer{}, `"Pondok Pesantren Al-Contoh" <tu@pesantren-contoh.sch.id>`},
			"", "", `"Pondok Pesantren Al-Contoh" <tu@pesantren-contoh.sch.id>`,
			"tu@pesantren-contoh.sch.id"},
		{"sent as the notifications address, keeping the name", `"Budi" <budi@gmail.com>`,
			route{MailServer{FromFilter: "school.id"}, "notifications@school.id"},
			"notifications@school.id", "bounce@school.id",
			`"Budi" <notifications@school.id>`, "bounce@school.id"},
		{"bounce outside the server's filter", `"Budi" <budi@school.id>`,
			route{MailServer{FromFilter: "budi@school.id"}, `"Budi" <budi@school.id>`},
			"", "bounce@other.org", `"Budi" <budi@school.id>`, "budi@school.id"},
	}
	for _, tt := range tests {
		h, env := rewriteSender(tt.from, tt.r, tt.notif, tt.bounce)
		if h != tt.wantHeader || env != tt.wantEnvlop {
			t.Errorf("%s: From %q, MAIL FROM %q; want %q, %q", tt.name, h, env, tt.wantHeader,
				tt.wantEnvlop)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Rizki.Pratama@Example.com", "rizki.pratama@example.com"},
		{`"Name" <A@B.ID>`, "a@b.id"},
		{"Ñandú@Example.com", "Ñandú@example.com"},
		{"no-at-sign", ""},
		{"a@b.com, c@d.com", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := normalizeEmail(tt.in); got != tt.want {
			t.Errorf("normalizeEmail(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestSignupLink(t *testing.T) {
	tests := []struct{ base, kind, email, want string }{
		{"https://erp.example.id", "reset", "",
			"https://erp.example.id/web/reset_password?db=prod&token=T"},
		{"https://erp.example.id/odoo/", "reset", "",
			"https://erp.example.id/web/reset_password?db=prod&token=T"},
		{"https://erp.example.id", "signup", "a@b.id",
			"https://erp.example.id/web/signup?db=prod&signup_email=a%40b.id&token=T"},
		// An Odoo 17 invitation: type reset, with the address.
		{"https://erp.example.id", "reset", "a@b.id",
			"https://erp.example.id/web/reset_password?db=prod&signup_email=a%40b.id&token=T"},
		{"", "reset", "", "/web/reset_password?db=prod&token=T"},
	}
	for _, tt := range tests {
		if got := signupLink(tt.base, "prod", tt.kind, tt.email, "T"); got != tt.want {
			t.Errorf("signupLink(%q, %s) = %s; want %s", tt.base, tt.kind, got, tt.want)
		}
	}
}

func TestEmailList(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"a@x.org", "a@x.org"},
		{"A@X.org, b@y.org", "a@x.org|b@y.org"},
		{"a@x.org;b@y.org; a@x.org", "a@x.org|b@y.org"},
		{`"Ahmad" <Ahmad@X.org>`, "ahmad@x.org"},
		{"not-an-email", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := strings.Join(emailList(tt.in), "|"); got != tt.want {
			t.Errorf("emailList(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}
