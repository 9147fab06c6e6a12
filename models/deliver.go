package models

import (
	"context"
	"database/sql"
	"errors"
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

// senders reads, for the companies of users, the values Odoo uses to address their mails.
func (s *Store) senders(ctx context.Context, tx *sqlx.Tx, users []User,
	filter string) (map[int64]sender, error) {
	servers, err := mailServers(ctx, tx)
	if err != nil {
		return nil, err
	}

	ids := map[int64]bool{}
	for _, u := range users {
		ids[u.CompanyID] = true
	}
	out := make(map[int64]sender, len(ids))
	for _, cid := range sortedKeys(ids) {
		snd, err := s.companySender(ctx, tx, cid)
		if err != nil {
			return nil, err
		}
		snd.servers, snd.fallbackFilter = servers, filter
		out[cid] = snd
	}
	return out, nil
}

func (s *Store) companySender(ctx context.Context, tx *sqlx.Tx, cid int64) (sender, error) {
	var c struct {
		Name        string         `db:"name"`
		Email       sql.NullString `db:"email"`
		Domain      sql.NullString `db:"domain"`
		DefaultFrom sql.NullString `db:"default_from"`
		Bounce      sql.NullString `db:"bounce_alias"`
	}
	query := `
		SELECT c.name, p.email, NULL AS domain, NULL AS default_from, NULL AS bounce_alias
		FROM res_company c JOIN res_partner p ON p.id = c.partner_id
		WHERE c.id = $1`
	if s.info.Major >= 17 {
		query = `
		SELECT c.name, p.email, d.name AS domain, d.default_from, d.bounce_alias
		FROM res_company c
		JOIN res_partner p ON p.id = c.partner_id
		LEFT JOIN mail_alias_domain d ON d.id = c.alias_domain_id
		WHERE c.id = $1`
	}
	if err := tx.GetContext(ctx, &c, query, cid); err != nil {
		return sender{}, fmt.Errorf("read company %d: %w", cid, err)
	}

	snd := sender{company: c.Name}
	if addr := normalizeEmail(c.Email.String); addr != "" {
		snd.from = formatAddr(c.Name, bareAddress(c.Email.String))
	}
	if s.info.Major < 17 {
		return snd, s.catchallAddresses(ctx, tx, &snd)
	}

	// Odoo 17+: the company's mail alias domain gives the notifications address (its
	// default From) and the bounce address; without one, odoo.conf's email_from stands in.
	if !c.Domain.Valid {
		snd.notifications = s.set.EmailFrom
		return snd, nil
	}
	snd.notifications = joinLocal(c.DefaultFrom.String, c.Domain.String)
	snd.bounce = joinLocal(c.Bounce.String, c.Domain.String)
	return snd, nil
}

// catchallAddresses reads Odoo 15/16's mail.default.from, mail.bounce.alias and
// mail.catchall.domain parameters.
func (s *Store) catchallAddresses(ctx context.Context, tx *sqlx.Tx, snd *sender) error {
	p, err := params(ctx, tx, "mail.default.from", "mail.catchall.domain", "mail.bounce.alias")
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

// deliver sends the composed mails, one Mailer batch per server, and turns delivery
// failures into the errors Odoo shows: a refused connection, or any other failure.
func (s *Store) deliver(ctx context.Context, mails []*outgoing, lang string) error {
	if s.set.Mailer == nil {
		return errors.New("no mailer configured")
	}

	var firstErr error
	for _, batch := range byServer(mails) {
		if err := s.sendBatch(ctx, batch); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		return nil
	}

	var de *DeliveryError
	if errors.As(firstErr, &de) && de.Refused {
		return &deliveryFault{NewError(KindUserError, T(lang, MsgMailContact)), firstErr}
	}
	return &deliveryFault{NewError(KindUserError, T(lang, MsgMailDeliver)), firstErr}
}

// sendBatch sends one server's mails, marks those delivered and logs each outcome; it
// returns the first failure.
func (s *Store) sendBatch(ctx context.Context, batch []*outgoing) error {
	srv := batch[0].server
	mails := make([]ResetMail, len(batch))
	for i, o := range batch {
		mails[i] = o.mail
	}

	results, err := s.set.Mailer.Send(ctx, srv, mails)
	if err != nil {
		s.log.Error("reset mail not sent", "mail_server", srv.Label(), "users", len(batch),
			"error", err)
		return err
	}

	var first error
	for i, o := range batch {
		if i < len(results) && results[i] != nil {
			s.log.Error("reset mail refused", "mail_server", srv.Label(), "user_id", o.userID,
				"error", results[i])
			if first == nil {
				first = results[i]
			}
			continue
		}
		o.delivered = true
		s.log.Info("reset mail sent", "mail_server", srv.Label(), "user_id", o.userID,
			"kind", o.mail.Kind)
	}
	return first
}

func byServer(mails []*outgoing) [][]*outgoing {
	index := map[string]int{}
	var batches [][]*outgoing
	for _, m := range mails {
		key := fmt.Sprintf("%d|%s:%d", m.server.ID, m.server.Host, m.server.Port)
		i, ok := index[key]
		if !ok {
			i = len(batches)
			index[key] = i
			batches = append(batches, nil)
		}
		batches[i] = append(batches[i], m)
	}
	return batches
}

// deliveryFault is the Odoo error a caller sees, wrapping the delivery error operators
// need; errors.As finds both.
type deliveryFault struct {
	fault *Error
	cause error
}

func (d *deliveryFault) Error() string   { return d.fault.Message }
func (d *deliveryFault) Unwrap() []error { return []error{d.fault, d.cause} }
