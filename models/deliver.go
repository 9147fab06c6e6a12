package models

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// sender is what one company's mails share: who they are from and how they leave.
type sender struct {
	company        string
	from           string // the company's formatted address, "" when it has no e-mail
	notifications  string // Odoo's notifications address, "" when there is none
	bounce         string // bounce address, "" when there is none
	servers        []MailServer
	fallbackFilter string
}

// mailSettings is what every mail of a call shares: link settings, and per company who
// its mails are from and which servers may carry them.
type mailSettings struct {
	link    linkSettings
	senders map[int64]sender
}

// loadMailSettings reads the settings a call's mails need. None of it depends on the users
// being reset, so it runs beside the transaction that locks them.
func (s *Store) loadMailSettings(ctx context.Context, q sqlx.QueryerContext,
	signupType string) (*mailSettings, error) {
	ls, err := s.linkSettings(ctx, q, signupType)
	if err != nil {
		return nil, err
	}
	servers, err := s.automaticServers(ctx, q)
	if err != nil {
		return nil, err
	}
	senders, err := s.companySenders(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range servers {
		servers[i].WholeFilter = s.info.Major < 17
	}
	for cid, snd := range senders {
		snd.servers, snd.fallbackFilter = servers, ls.fromFilter
		senders[cid] = snd
	}
	return &mailSettings{link: ls, senders: senders}, nil
}

// companySenders reads every company's sender: its formatted address and, from Odoo 17,
// its mail alias domain's notifications and bounce addresses (odoo.conf's email_from
// standing in for a company without one).
func (s *Store) companySenders(ctx context.Context, q sqlx.QueryerContext) (map[int64]sender,
	error) {
	var rows []struct {
		ID          int64          `db:"id"`
		Name        string         `db:"name"`
		Email       sql.NullString `db:"email"`
		Domain      sql.NullString `db:"domain"`
		DefaultFrom sql.NullString `db:"default_from"`
		Bounce      sql.NullString `db:"bounce_alias"`
	}
	query := `
		SELECT c.id, c.name, p.email, NULL AS domain, NULL AS default_from, NULL AS bounce_alias
		FROM res_company c JOIN res_partner p ON p.id = c.partner_id`
	if s.info.Major >= 17 {
		query = `
		SELECT c.id, c.name, p.email, d.name AS domain, d.default_from, d.bounce_alias
		FROM res_company c
		JOIN res_partner p ON p.id = c.partner_id
		LEFT JOIN mail_alias_domain d ON d.id = c.alias_domain_id`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, query); err != nil {
		return nil, fmt.Errorf("read companies: %w", err)
	}

	out := make(map[int64]sender, len(rows))
	for _, c := range rows {
		snd := sender{company: c.Name}
		if addr := normalizeEmail(c.Email.String); addr != "" {
			snd.from = formatAddr(c.Name, bareAddress(c.Email.String))
		}
		switch {
		case s.info.Major < 17:
			if err := s.catchallAddresses(ctx, q, &snd); err != nil {
				return nil, err
			}
		case !c.Domain.Valid:
			snd.notifications = s.set.EmailFrom
		default:
			snd.notifications = joinLocal(c.DefaultFrom.String, c.Domain.String)
			snd.bounce = joinLocal(c.Bounce.String, c.Domain.String)
		}
		out[c.ID] = snd
	}
	return out, nil
}

// catchallAddresses reads Odoo 15/16's mail.default.from, mail.bounce.alias and
// mail.catchall.domain parameters.
func (s *Store) catchallAddresses(ctx context.Context, q sqlx.QueryerContext,
	snd *sender) error {
	p, err := params(ctx, q, "mail.default.from", "mail.catchall.domain", "mail.bounce.alias")
	if err != nil {
		return err
	}
	domain := p["mail.catchall.domain"]
	snd.notifications = s.set.EmailFrom
	if from := p["mail.default.from"]; strings.Contains(from, "@") {
		snd.notifications = from
	} else if from != "" && domain != "" {
		snd.notifications = from + "@" + domain
	}

	alias := p["mail.bounce.alias"]
	if alias == "" && s.info.Major == 15 {
		alias = "postmaster-odoo"
	}
	if alias != "" && domain != "" {
		snd.bounce = alias + "@" + domain
	}
	return nil
}

func joinLocal(local, domain string) string {
	switch {
	case local == "":
		return ""
	case strings.Contains(local, "@"):
		return local
	}
	return local + "@" + domain
}
