package rpc

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
)

// A standalone odoo-shim runs no Odoo web client, yet after a reset it signs the user in
// and sends the browser to /odoo, as Odoo does. When that path reaches odoo-shim (no
// Odoo behind the same address), this small page answers it: who is signed in, what to
// do next, and a way to sign out. Behind a reverse proxy that sends only the reset page
// to odoo-shim, /odoo is Odoo's own and this page is never seen.

// landingView is what landing.html renders.
type landingView struct {
	HTMLLang   string
	T          pageTexts
	Title      string
	Name       string
	SignedInAs string
	LoginURL   string
	RequestURL string
}

// landingRoutes registers the landing page where Odoo sends a signed-in user (/odoo from
// 18, /web before, and the pages of portal users), and the sign-out link Odoo serves at
// /web/session/logout.
func (s *Server) landingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /odoo", s.serveLanding)
	mux.HandleFunc("GET /web", s.serveLanding)
	mux.HandleFunc("GET /web/login_successful", s.serveLanding) // share users, no portal
	mux.HandleFunc("GET /my", s.serveLanding)                   // share users, portal
	mux.HandleFunc("GET /web/session/logout", s.serveLogout)
}

func (s *Server) serveLanding(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, base, err := s.store.WebSettings(ctx)
	if err != nil {
		s.pages.serverError(w, err)
		return
	}
	v := &landingView{}
	if u, err := url.Parse(base); err == nil && u.Host != "" && u.Host != r.Host {
		// Odoo's sign-in page is at web.base.url. When that is odoo-shim's own address
		// (the demo), there is no Odoo to open.
		v.LoginURL = strings.TrimRight(base, "/") + "/web/login"
	}
	lang := pageLang(r, "")

	_, sess, err := s.signedIn(r)
	switch {
	case errors.Is(err, models.ErrSessionExpired):
		if ok, err := s.store.ResetEnabled(ctx); err == nil && ok {
			v.RequestURL = "/web/reset_password"
		}
	case err != nil:
		s.pages.serverError(w, err)
		return
	default:
		u, err := s.store.WebUser(ctx, sess.UserID)
		if err != nil {
			s.pages.serverError(w, err)
			return
		}
		lang = pageLang(r, u.Lang)
		v.Name = u.Name
		v.SignedInAs = fmt.Sprintf(texts(lang).SignedInAs, u.Name, u.Login)
	}
	s.renderLanding(w, v, lang)
}

func (s *Server) renderLanding(w http.ResponseWriter, v *landingView, lang string) {
	v.T = texts(lang)
	v.Title = v.T.SignedOutTitle
	if v.Name != "" {
		v.Title = v.T.SignedInTitle
	}
	v.HTMLLang = "en"
	if models.IsIndonesian(lang) {
		v.HTMLLang = "id"
	}

	var buf bytes.Buffer
	if err := s.pages.tmpl.ExecuteTemplate(&buf, "landing.html", v); err != nil {
		s.pages.serverError(w, err)
		return
	}
	pageHeaders(w)
	_, _ = w.Write(buf.Bytes())
}

// serveLogout is /web/session/logout: the session ends, the browser gets a new signed-out
// session id, and goes to the home page (or the local redirect it asked for), as in Odoo.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if sid := cookieSID(r); sid != "" {
		if err := s.store.EndSession(r.Context(), sid); err != nil {
			s.pages.serverError(w, err)
			return
		}
	}
	s.setSessionCookie(w, models.NewSessionID(), models.DefaultSessionLifetime)
	http.Redirect(w, r, localRedirect(r.URL.Query().Get("redirect"),
		s.homePath()), http.StatusSeeOther)
}
