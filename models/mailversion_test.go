package models

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// Before Odoo 17 a from_filter is one value: a comma list matches nothing there, while 17+
// match each part.
func TestChooseServerByVersion(t *testing.T) {
	list := MailServer{ID: 1, Name: "list", FromFilter: "school.id, pesantren.sch.id"}
	single := MailServer{ID: 2, Name: "single", FromFilter: " pesantren.sch.id "}
	tests := []struct {
		major  int
		from   string
		wantID int64
	}{
		{17, "tu@pesantren.sch.id", 1},
		{18, "tu@school.id", 1},
		{16, "tu@pesantren.sch.id", 2},
		{15, "tu@school.id", 1}, // nothing matches: the first server, as Odoo's step 4
		{16, "tu@pesantren.sch.id", 2},
	}
	for _, tt := range tests {
		servers := []MailServer{list, single}
		for i := range servers {
			servers[i].WholeFilter = tt.major < 17
		}
		r := chooseServer(servers, tt.from, "", MailServer{}, "")
		if r.server.ID != tt.wantID {
			t.Errorf("Odoo %d, from %s: server %d; want %d", tt.major, tt.from, r.server.ID,
				tt.wantID)
		}
	}
}

// Odoo 15 and 16 build the notifications and bounce addresses from ir_config_parameter:
// mail.default.from (a local part or an address), mail.catchall.domain, mail.bounce.alias
// (15 defaults it to postmaster-odoo), else odoo.conf's email_from.
func TestCatchallAddresses(t *testing.T) {
	tests := []struct {
		major                         int
		defaultFrom, domain, alias    string
		emailFrom                     string
		wantNotifications, wantBounce string
	}{
		{16, "notifications", "school.id", "bounce", "", "notifications@school.id",
			"bounce@school.id"},
		{16, "noreply@other.id", "school.id", "", "", "noreply@other.id", ""},
		{15, "noreply@other.id", "school.id", "", "", "noreply@other.id",
			"postmaster-odoo@school.id"},
		{16, "", "", "", "odoo@conf.id", "odoo@conf.id", ""},
		{15, "notifications", "", "", "odoo@conf.id", "odoo@conf.id", ""},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%d %s %s %s", tt.major, tt.defaultFrom, tt.domain, tt.alias)
		t.Run(name, func(t *testing.T) {
			s, _, db := openStore(t, modeltest.Own18, nil)
			s.info.Major, s.set.EmailFrom = tt.major, tt.emailFrom
			var values []string
			for k, v := range map[string]string{"mail.default.from": tt.defaultFrom,
				"mail.catchall.domain": tt.domain, "mail.bounce.alias": tt.alias} {
				if v != "" {
					values = append(values, fmt.Sprintf("('%s', '%s')", k, v))
				}
			}
			if len(values) > 0 {
				modeltest.Exec(t, db, `DELETE FROM ir_config_parameter WHERE key LIKE 'mail.%';
					INSERT INTO ir_config_parameter (key, value) VALUES `+
					strings.Join(values, ", "))
			}
			var snd sender
			if err := s.catchallAddresses(context.Background(), s.db, &snd); err != nil {
				t.Fatal(err)
			}
			if snd.notifications != tt.wantNotifications || snd.bounce != tt.wantBounce {
				t.Errorf("notifications %q, bounce %q; want %q, %q", snd.notifications,
					snd.bounce, tt.wantNotifications, tt.wantBounce)
			}
		})
	}
}

// Odoo 17+ take both addresses from the company's alias domain, a default_from that is a
// local part or a whole address.
func TestAliasDomainAddresses(t *testing.T) {
	s, _, db := openStore(t, modeltest.Own18, nil)
	modeltest.Exec(t, db, `
		INSERT INTO mail_alias_domain (id, name, sequence, bounce_alias, catchall_alias,
			default_from) VALUES (900, 'school.id', 1, 'bounce', 'catchall', 'notifications'),
			(901, 'other.id', 2, 'bounce', 'catchall', 'noreply@mail.other.id');
		UPDATE res_company SET alias_domain_id = 900 WHERE id = 1`)
	senders, err := s.companySenders(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	if snd := senders[1]; snd.notifications != "notifications@school.id" ||
		snd.bounce != "bounce@school.id" {
		t.Errorf("company 1: notifications %q, bounce %q", snd.notifications, snd.bounce)
	}
	modeltest.Exec(t, db, `UPDATE res_company SET alias_domain_id = 901 WHERE id = 1`)
	senders, err = s.companySenders(context.Background(), s.db)
	if err != nil {
		t.Fatal(err)
	}
	if snd := senders[1]; snd.notifications != "noreply@mail.other.id" ||
		snd.bounce != "bounce@other.id" {
		t.Errorf("full default_from: notifications %q, bounce %q", snd.notifications,
			snd.bounce)
	}
}

// Odoo 19 leaves personal servers (owner_user_id) out of the automatic choice; a database
// without the column (no such servers) is read as before.
func TestPersonalServersLeftOut(t *testing.T) {
	s, _, db := openStore(t, modeltest.Own18, nil)
	modeltest.Exec(t, db, `ALTER TABLE ir_mail_server ADD COLUMN owner_user_id integer;
		INSERT INTO ir_mail_server (id, name, sequence, smtp_host, smtp_port,
			smtp_authentication, smtp_encryption, active, owner_user_id)
		VALUES (50, 'Ustadz personal', 1, 'smtp.gmail.com', 587, 'login', 'starttls', true, 11)`)
	for _, tt := range []struct {
		personal bool
		want     bool
	}{{false, true}, {true, false}} {
		s.info.PersonalServers = tt.personal
		servers, err := s.automaticServers(context.Background(), s.db)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, srv := range servers {
			found = found || srv.ID == 50
		}
		if found != tt.want {
			t.Errorf("owner_user_id read %v: personal server considered %v; want %v",
				tt.personal, found, tt.want)
		}
	}
}
