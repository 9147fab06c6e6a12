// Package oauth refreshes the OAuth access tokens of Gmail and Outlook mail servers at
// the providers' token endpoints, for models.Store, which speaks no HTTP.
package oauth

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// Default token endpoints, as Odoo's google_gmail and microsoft_outlook modules use them.
const (
	GmailTokenURL   = "https://oauth2.googleapis.com/token"
	OutlookTokenURL = "https://login.microsoftonline.com/common/oauth2/v2.0/token"
	// outlookScope is what Odoo asks Microsoft for.
	outlookScope = "offline_access https://outlook.office.com/SMTP.Send"
)

// Timeout bounds one refresh, as Odoo bounds its own (5 s for Google, 10 s for Microsoft).
const Timeout = 10 * time.Second

// Refresher implements models.TokenRefresher over HTTP. The zero value uses the
// providers' real endpoints.
type Refresher struct {
	GmailURL   string       // "" means GmailTokenURL
	OutlookURL string       // "" means OutlookTokenURL
	Client     *http.Client // nil means a client with Timeout
}

var _ models.TokenRefresher = (*Refresher)(nil)

// grant is the token endpoint's JSON answer, success or error (RFC 6749 §5).
type grant struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// Refresh trades req's refresh token for a new access token. Errors are
// *models.DeliveryError: temporary when the endpoint could not be reached or failed
// (5xx), permanent when it refused the grant (the account must be connected again).
func (r *Refresher) Refresh(ctx context.Context, req models.TokenRequest) (models.TokenGrant,
	error) {
	endpoint, form := r.request(req)
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint,
		strings.NewReader(form.Encode()))
	if err != nil {
		return models.TokenGrant{}, fail(false, err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	resp, err := r.client().Do(hreq)
	if err != nil {
		return models.TokenGrant{}, fail(true, fmt.Errorf("token endpoint: %w", err))
	}
	defer resp.Body.Close()
	var g grant
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err == nil {
		err = json.Unmarshal(body, &g)
	}

	switch {
	case resp.StatusCode >= 500:
		return models.TokenGrant{}, fail(true, fmt.Errorf("token endpoint answered %s",
			resp.Status))
	case resp.StatusCode != http.StatusOK || g.Error != "":
		return models.TokenGrant{}, fail(false, fmt.Errorf("the token endpoint refused the "+
			"refresh token (%s: %s %s): connect the mail server to the account in Odoo "+
			"again", resp.Status, g.Error, g.Description))
	case err != nil || g.AccessToken == "":
		return models.TokenGrant{}, fail(true, errors.New("token endpoint: no access token "+
			"in its answer"))
	}
	return models.TokenGrant{AccessToken: g.AccessToken,
		ExpiresIn: time.Duration(g.ExpiresIn) * time.Second}, nil
}

func (r *Refresher) request(req models.TokenRequest) (string, url.Values) {
	form := url.Values{
		"client_id":     {req.ClientID},
		"client_secret": {req.ClientSecret},
		"grant_type":    {"refresh_token"},
		"refresh_token": {req.RefreshToken},
		"redirect_uri":  {req.RedirectURI},
	}
	if req.Provider == models.AuthOutlook {
		form.Set("scope", outlookScope)
		return cmp.Or(r.OutlookURL, OutlookTokenURL), form
	}
	return cmp.Or(r.GmailURL, GmailTokenURL), form
}

func (r *Refresher) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return &http.Client{Timeout: Timeout}
}

func fail(temporary bool, err error) error {
	return &models.DeliveryError{Stage: models.StageAuth, Temporary: temporary, Err: err}
}
