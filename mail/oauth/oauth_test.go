package oauth_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/mail/oauth"
	"github.com/odoo-shim/odoo-shim/models"
)

// The refresh grant goes out as Odoo sends it, and the endpoint's answers map to a grant,
// a permanent refusal or a temporary failure.
func TestRefresh(t *testing.T) {
	tests := []struct {
		name      string
		provider  string
		status    int
		body      string
		token     string
		temporary bool
	}{
		{"gmail ok", models.AuthGmail, 200,
			`{"access_token":"ya29.new","expires_in":3599,"token_type":"Bearer"}`, "ya29.new",
			false},
		{"outlook ok", models.AuthOutlook, 200, `{"access_token":"EwB.new","expires_in":3600}`,
			"EwB.new", false},
		{"revoked", models.AuthGmail, 400,
			`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`,
			"", false},
		{"provider down", models.AuthGmail, 503, `{}`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form map[string]string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter,
				r *http.Request) {
				_ = r.ParseForm()
				form = map[string]string{}
				for k := range r.PostForm {
					form[k] = r.PostForm.Get(k)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()

			r := &oauth.Refresher{GmailURL: srv.URL + "/g", OutlookURL: srv.URL + "/o"}
			g, err := r.Refresh(context.Background(), models.TokenRequest{
				Provider: tt.provider, ClientID: "cid", ClientSecret: "sec",
				RefreshToken: "1//refresh", RedirectURI: "https://x.test/google_gmail/confirm"})
			if form["grant_type"] != "refresh_token" || form["refresh_token"] != "1//refresh" ||
				form["client_id"] != "cid" || form["client_secret"] != "sec" {
				t.Errorf("form = %v", form)
			}
			if (tt.provider == models.AuthOutlook) != (form["scope"] != "") {
				t.Errorf("scope %q for %s", form["scope"], tt.provider)
			}
			if tt.token != "" {
				if err != nil || g.AccessToken != tt.token || g.ExpiresIn < 59*time.Minute {
					t.Fatalf("grant %+v, %v; want %s for an hour", g, err, tt.token)
				}
				return
			}
			var de *models.DeliveryError
			if !errors.As(err, &de) || de.Temporary != tt.temporary ||
				de.Stage != models.StageAuth {
				t.Fatalf("error %#v; want a delivery error, temporary %v", err, tt.temporary)
			}
		})
	}
}
