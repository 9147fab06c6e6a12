package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lib/pq"
)

// OAuth authentication kinds of ir_mail_server.smtp_authentication.
const (
	AuthGmail   = "gmail"
	AuthOutlook = "outlook"
)

// TokenRefresher exchanges a refresh token for a new access token at the provider's token
// endpoint. models speaks no HTTP: the command wires an implementation in.
type TokenRefresher interface {
	Refresh(ctx context.Context, req TokenRequest) (TokenGrant, error)
}

// TokenRequest is one refresh_token grant.
type TokenRequest struct {
	Provider     string // AuthGmail or AuthOutlook
	ClientID     string
	ClientSecret string
	RefreshToken string
	RedirectURI  string
}

// TokenGrant is a provider's answer to a refresh.
type TokenGrant struct {
	AccessToken string
	ExpiresIn   time.Duration
}

// oauthColumns are the token columns of each provider's module, a fixed whitelist.
var oauthColumns = map[string]struct{ access, expiry, refresh, clientID, secret, path string }{
	AuthGmail: {"google_gmail_access_token", "google_gmail_access_token_expiration",
		"google_gmail_refresh_token", "google_gmail_client_id", "google_gmail_client_secret",
		"/google_gmail/confirm"},
	AuthOutlook: {"microsoft_outlook_access_token", "microsoft_outlook_access_token_expiration",
		"microsoft_outlook_refresh_token", "microsoft_outlook_client_id",
		"microsoft_outlook_client_secret", "/microsoft_outlook/confirm"},
}

// oauthFlags15 are the booleans by which Odoo 15's google_gmail and microsoft_outlook
// switch a server to their OAuth (from 16 smtp_authentication says it), a fixed whitelist.
// Where both are set, microsoft_outlook wins: modules of one depth load by name, so its
// login override runs first and does not call google_gmail's (inferred from Odoo's module
// graph, not seen on a live 15).
var oauthFlags15 = []struct{ column, auth string }{
	{"use_microsoft_outlook_service", AuthOutlook},
	{"use_google_gmail_service", AuthGmail},
}

// msgOutlookConnect is Odoo's own text for an Outlook server without a token;
// msgOutlookLogin15 is Odoo 15's.
const (
	msgOutlookConnect = "Please connect with your Outlook account before using it."
	msgOutlookLogin15 = "Please login your Outlook mail server before using it."
)

// tokenMargin is how long before its stored expiry an access token counts as expired, so
// that it does not lapse between the check and the AUTH command.
const tokenMargin = 10 * time.Second

// authorize fills in the access token of an OAuth server: the stored one while it is
// valid, else a new one from the provider, written back to the row for Odoo to use too.
func (s *Store) authorize(ctx context.Context, srv MailServer) (MailServer, error) {
	cols, ok := oauthColumns[srv.Authentication]
	if !ok || srv.ID == 0 {
		return srv, nil
	}
	fail := func(temporary bool, err error) (MailServer, error) {
		return srv, &DeliveryError{Server: srv.Label(), Stage: StageAuth, Temporary: temporary,
			Err: err}
	}

	var row struct {
		Access  *string `db:"access"`
		Expiry  *int64  `db:"expiry"`
		Refresh *string `db:"refresh"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT `+cols.access+` AS access, `+cols.expiry+
		` AS expiry, `+cols.refresh+` AS refresh FROM ir_mail_server WHERE id = $1`, srv.ID)
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "42703" {
		return fail(false, fmt.Errorf("smtp_authentication is %q but the database has no "+
			"%s column: is Odoo's %s module installed?", srv.Authentication, cols.access,
			moduleOf(srv.Authentication)))
	}
	if err != nil {
		return fail(true, fmt.Errorf("read OAuth tokens: %w", err))
	}

	if row.Access != nil && *row.Access != "" && row.Expiry != nil &&
		s.now().Add(tokenMargin).Before(time.Unix(*row.Expiry, 0)) {
		srv.AccessToken = *row.Access
		return srv, nil
	}
	switch {
	case row.Refresh != nil && *row.Refresh != "":
	case srv.Authentication == AuthOutlook && s.info.Major == 15:
		return fail(false, errors.New(msgOutlookLogin15))
	case srv.Authentication == AuthOutlook:
		return fail(false, errors.New(msgOutlookConnect))
	default:
		return fail(false, fmt.Errorf("no %s refresh token: connect the mail server to the "+
			"account in Odoo first", srv.Authentication))
	}
	return s.refreshToken(ctx, srv, *row.Refresh)
}

// refreshToken gets a new access token and stores it with its expiry. A refresh token
// obtained through Odoo's IAP proxy belongs to Odoo's own OAuth application and cannot be
// refreshed here (issue #5). Odoo 15 keeps the same token columns; its servers with
// use_google_gmail_service or use_microsoft_outlook_service arrive here as gmail or outlook
// ones (readMailServers).
func (s *Store) refreshToken(ctx context.Context, srv MailServer, refresh string) (MailServer,
	error) {
	cols := oauthColumns[srv.Authentication]
	if s.set.Tokens == nil {
		return srv, &DeliveryError{Server: srv.Label(), Stage: StageAuth,
			Err: errors.New("the access token has expired and no token endpoint is configured")}
	}
	p, err := params(ctx, s.db, cols.clientID, cols.secret, "web.base.url")
	if err != nil {
		return srv, err
	}
	grant, err := s.set.Tokens.Refresh(ctx, TokenRequest{Provider: srv.Authentication,
		ClientID: p[cols.clientID], ClientSecret: p[cols.secret], RefreshToken: refresh,
		RedirectURI: strings.TrimRight(p["web.base.url"], "/") + cols.path})
	if err != nil {
		var de *DeliveryError
		if errors.As(err, &de) {
			de.Server = srv.Label()
			return srv, de
		}
		return srv, &DeliveryError{Server: srv.Label(), Stage: StageAuth, Err: err}
	}

	expiry := s.now().Add(grant.ExpiresIn).Unix()
	_, err = s.db.ExecContext(ctx, `UPDATE ir_mail_server SET `+cols.access+` = $1, `+
		cols.expiry+` = $2 WHERE id = $3`, grant.AccessToken, expiry, srv.ID)
	if err != nil {
		return srv, fmt.Errorf("store refreshed access token: %w", err)
	}
	s.log.Info("oauth access token refreshed", "mail_server", srv.Label(),
		"expires_in", grant.ExpiresIn)
	srv.AccessToken = grant.AccessToken
	return srv, nil
}

func moduleOf(auth string) string {
	if auth == AuthOutlook {
		return "microsoft_outlook"
	}
	return "google_gmail"
}
