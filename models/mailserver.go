package models

import (
	"context"
	"database/sql"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// mailServers returns the active ir_mail_server rows in Odoo's order of preference.
func (s *Store) mailServers(ctx context.Context, q sqlx.QueryerContext) ([]MailServer, error) {
	return s.readMailServers(ctx, q, `active`)
}

// automaticServers returns the servers Odoo's automatic choice considers: the active rows,
// less, from Odoo 19, the personal servers of single users (owner_user_id), which only
// their owner's own mails may use.
func (s *Store) automaticServers(ctx context.Context, q sqlx.QueryerContext) ([]MailServer,
	error) {
	if s.info.PersonalServers {
		return s.readMailServers(ctx, q, `active AND owner_user_id IS NULL`)
	}
	return s.mailServers(ctx, q)
}

// mailServersByID returns the active ir_mail_server row id, if there is one.
func (s *Store) mailServersByID(ctx context.Context, q sqlx.QueryerContext, id int64) (
	[]MailServer, error) {
	return s.readMailServers(ctx, q, `active AND id = $1`, id)
}

// AllMailServers returns every ir_mail_server row, archived ones too, in Odoo's order.
func (s *Store) AllMailServers(ctx context.Context) ([]MailServer, error) {
	return s.readMailServers(ctx, s.db, `true`)
}

// readMailServers reads the rows matching where, one of the fixed conditions above.
func (s *Store) readMailServers(ctx context.Context, q sqlx.QueryerContext, where string,
	args ...any) ([]MailServer, error) {
	var rows []struct {
		ID         int64          `db:"id"`
		Name       string         `db:"name"`
		Sequence   sql.NullInt64  `db:"sequence"`
		FromFilter sql.NullString `db:"from_filter"`
		Host       sql.NullString `db:"smtp_host"`
		Port       sql.NullInt64  `db:"smtp_port"`
		Auth       string         `db:"smtp_authentication"`
		User       sql.NullString `db:"smtp_user"`
		Pass       sql.NullString `db:"smtp_pass"`
		Encryption string         `db:"smtp_encryption"`
		Cert       []byte         `db:"smtp_ssl_certificate"`
		Key        []byte         `db:"smtp_ssl_private_key"`
		Active     sql.NullBool   `db:"active"`
		Flags      pq.BoolArray   `db:"flags"`
	}
	flags, auths := s.oauthFlagsSQL()
	err := sqlx.SelectContext(ctx, q, &rows, `
		SELECT id, name, sequence, from_filter, smtp_host, smtp_port, smtp_authentication,
			smtp_user, smtp_pass, smtp_encryption, smtp_ssl_certificate, smtp_ssl_private_key,
			active, `+flags+` AS flags
		FROM ir_mail_server
		WHERE `+where+`
		ORDER BY sequence, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read mail servers: %w", err)
	}

	servers := make([]MailServer, len(rows))
	for i, r := range rows {
		servers[i] = MailServer{
			ID: r.ID, Name: r.Name, Sequence: int(r.Sequence.Int64),
			FromFilter: r.FromFilter.String, Host: r.Host.String, Port: int(r.Port.Int64),
			Authentication: r.Auth, User: r.User.String, Password: r.Pass.String,
			Encryption: r.Encryption, Certificate: r.Cert, PrivateKey: r.Key,
			Active: r.Active.Bool,
		}
		// Odoo 15's google_gmail and microsoft_outlook log in with XOAUTH2 wherever the base
		// module would log in with a password; a certificate server, or one without a user,
		// never logs in, so a flag does nothing there.
		if r.Auth == "certificate" || r.User.String == "" {
			continue
		}
		if j := slices.Index(r.Flags, true); j >= 0 {
			servers[i].Authentication = auths[j]
		}
	}
	return servers, nil
}

// oauthFlagsSQL returns the SQL array of the database's Odoo 15 OAuth flags, in the order
// of oauthFlags15 (its columns are the fixed whitelist), and the authentication each
// stands for.
func (s *Store) oauthFlagsSQL() (string, []string) {
	var cols, auths []string
	for _, f := range oauthFlags15 {
		if s.info.OAuthFlags[f.auth] != "" {
			cols = append(cols, `COALESCE(`+f.column+`, false)`)
			auths = append(auths, f.auth)
		}
	}
	return `ARRAY[` + strings.Join(cols, ", ") + `]::boolean[]`, auths
}

// route is the outcome of Odoo's mail server choice for one sender.
type route struct {
	server   MailServer
	smtpFrom string // the address the server is used with
}

// chooseServer picks the server Odoo would use for a mail from "from", given the database's
// notifications address ("" when there is none): exact from_filter address, then domain,
// then the notifications address, then a server without filter, then the first server, and
// with no server at all the odoo.conf fallback (whose filter is fallbackFilter).
func chooseServer(servers []MailServer, from, notifications string, fallback MailServer,
	fallbackFilter string) route {
	if r, ok := matchFilters(servers, from); ok {
		return r
	}
	if notifications != "" {
		if r, ok := matchFilters(servers, notifications); ok {
			r.smtpFrom = notifications
			return r
		}
	}

	either := notifications
	if either == "" {
		either = from
	}
	for _, s := range servers {
		if strings.TrimSpace(s.FromFilter) == "" {
			return route{s, either}
		}
	}
	if len(servers) > 0 {
		return route{servers[0], either}
	}

	fallback.FromFilter = fallbackFilter
	switch {
	case partsMatch(fallback.filterParts(), from):
		return route{fallback, from}
	case notifications != "" && partsMatch(fallback.filterParts(), notifications):
		return route{fallback, notifications}
	}
	return route{fallback, either}
}

// matchFilters looks for a server whose from_filter names the address, then one naming its
// domain. Since Odoo 17 a filter is a comma-separated list; before, one value.
func matchFilters(servers []MailServer, addr string) (route, bool) {
	norm := normalizeEmail(addr)
	if norm == "" {
		return route{}, false
	}
	for _, s := range servers {
		for _, part := range s.filterParts() {
			if strings.Contains(part, "@") && normalizeEmail(part) == norm {
				return route{s, addr}, true
			}
		}
	}
	domain := domainOf(norm)
	for _, s := range servers {
		for _, part := range s.filterParts() {
			if !strings.Contains(part, "@") && strings.EqualFold(part, domain) {
				return route{s, addr}, true
			}
		}
	}
	return route{}, false
}

// filterMatches reports whether addr passes a comma-list filter; an empty filter lets
// everything pass.
func filterMatches(filter, addr string) bool {
	return partsMatch(filterParts(filter), addr)
}

// filterParts is the server's from_filter as Odoo of its version reads it: a comma list
// from 17, the whole value before.
func (s MailServer) filterParts() []string {
	if !s.WholeFilter {
		return filterParts(s.FromFilter)
	}
	if f := strings.TrimSpace(s.FromFilter); f != "" {
		return []string{f}
	}
	return nil
}

// partsMatch reports whether addr matches one of the filter's parts, or there are none.
func partsMatch(parts []string, addr string) bool {
	if len(parts) == 0 {
		return true
	}
	norm := normalizeEmail(addr)
	for _, part := range parts {
		if strings.Contains(part, "@") && normalizeEmail(part) == norm {
			return true
		}
		if !strings.Contains(part, "@") && strings.EqualFold(part, domainOf(norm)) {
			return true
		}
	}
	return false
}

func filterParts(filter string) []string {
	var parts []string
	for _, p := range strings.Split(filter, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return parts
}

// normalizeEmail returns the single address in s, with its domain lower-cased and its
// local part lower-cased when ASCII, as Odoo normalises addresses; "" when s does not hold
// exactly one address.
func normalizeEmail(s string) string {
	addr := bareAddress(s)
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return ""
	}
	local, domain := addr[:at], strings.ToLower(addr[at+1:])
	if isASCII(local) {
		local = strings.ToLower(local)
	}
	return local + "@" + domain
}

// emailList returns the normalised addresses in an e-mail field, as Odoo splits a user's
// email into recipients ("a@x.org, b@y.org" and "a@x.org; b@y.org" both give two).
func emailList(field string) []string {
	var out []string
	seen := map[string]bool{}
	for _, part := range strings.FieldsFunc(field, func(r rune) bool {
		return r == ',' || r == ';'
	}) {
		if addr := normalizeEmail(part); addr != "" && !seen[addr] {
			seen[addr] = true
			out = append(out, addr)
		}
	}
	return out
}

// bareAddress extracts the address of "Name <addr>" or a bare "addr"; "" if there is not
// exactly one.
func bareAddress(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.Count(s, "@") != 1 && !strings.Contains(s, "<") {
		return ""
	}
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Address
	}
	if !strings.ContainsAny(s, " <>,;\"") && strings.Count(s, "@") == 1 {
		return s
	}
	return ""
}

func domainOf(addr string) string {
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		return addr[at+1:]
	}
	return ""
}

// displayName returns the name part of "Name <addr>", or "".
func displayName(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return a.Name
	}
	return ""
}

// formatAddr formats a name and address as Odoo's formataddr does: always quoted.
func formatAddr(name, addr string) string {
	if name == "" {
		return addr
	}
	name = strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(name)
	return `"` + name + `" <` + addr + `>`
}

// encapsulate keeps the display name of from (or its local part) with the address to, as
// Odoo does when it sends someone's mail from the notifications address.
func encapsulate(from, to string) string {
	name := displayName(from)
	if name == "" {
		addr := bareAddress(from)
		if at := strings.IndexByte(addr, '@'); at > 0 {
			name = addr[:at]
		}
	}
	return formatAddr(name, bareAddress(to))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
