package rpc

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// Odoo's session cookie. Odoo 18 sends Max-Age = sessions.max_inactivity_seconds (a week
// by default) together with an Expires a year ahead; browsers follow Max-Age.
const (
	sessionCookie  = "session_id"
	sessionExpires = 365 * 24 * time.Hour
)

// setSessionCookie hands the browser session sid with Odoo's attributes (Path=/,
// HttpOnly, Max-Age, Expires). odoo-shim adds SameSite=Lax, which Odoo leaves out: the
// JSON routes carry no CSRF token, so the cookie must not ride on other sites' requests.
// A link opened from a mail is a top-level navigation and still carries it.
func (s *Server) setSessionCookie(w http.ResponseWriter, sid string, lifetime time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sid, Path: "/",
		MaxAge: int(lifetime / time.Second), Expires: s.opt.Now().Add(sessionExpires),
		HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// cookieSID returns the browser's session id, or "" when it has none of Odoo's shape.
func cookieSID(r *http.Request) string {
	c, err := r.Cookie(sessionCookie)
	if err != nil || !models.ValidSessionID(c.Value) {
		return ""
	}
	return c.Value
}

// signedIn returns the browser's signed-in session, or models.ErrSessionExpired. Alone,
// sessions are odoo-shim's own; in front proxy mode the browser's session is the upstream
// Odoo's, which upstreamSignedIn asks about.
func (s *Server) signedIn(r *http.Request) (string, *models.Session, error) {
	if s.sessions != nil { // front proxy mode: the sessions are the upstream Odoo's
		return s.upstreamSignedIn(r)
	}
	sid := cookieSID(r)
	if sid == "" {
		return "", nil, models.ErrSessionExpired
	}
	sess, err := s.store.Session(r.Context(), sid)
	return sid, sess, err
}

// endPrevious ends the session the browser held before signing in, if it was signed in:
// like Odoo's rotation, a sign-in never keeps an old session id alive.
func (s *Server) endPrevious(r *http.Request) error {
	if sid := cookieSID(r); sid != "" {
		return s.store.EndSession(r.Context(), sid)
	}
	return nil
}

// ResetDone is a completed password reset: who, and where the browser goes next.
type ResetDone struct {
	UserID int64
	Login  string
	// Password is the new password, for signing in to another server (proxy mode). It
	// must never be logged.
	Password string
	// Redirect is the local path to send the browser to, already checked.
	Redirect string
}

// SignInFunc signs the user in after a reset and answers the browser, as Odoo does with a
// 303 to Redirect and a new session cookie. It returns an error only when it has written
// nothing, so the page can still tell the user the password was changed.
type SignInFunc func(w http.ResponseWriter, r *http.Request, done ResetDone) error

// signInLocal is the standalone SignInFunc: a session in odoo-shim's own store.
func (s *Server) signInLocal(w http.ResponseWriter, r *http.Request, done ResetDone) error {
	sid, sess, err := s.store.StartSession(r.Context(), done.UserID)
	if err != nil {
		return err
	}
	if err := s.endPrevious(r); err != nil {
		return err
	}
	s.setSessionCookie(w, sid, sess.Lifetime)
	http.Redirect(w, r, done.Redirect, http.StatusSeeOther)
	return nil
}

// homeFor is where Odoo sends the user uid after signing in: internal users go home
// (homePath); portal and other share users to /my with the portal module, else to
// /web/login_successful.
func (s *Server) homeFor(ctx context.Context, uid int64) (string, error) {
	u, err := s.store.WebUser(ctx, uid)
	if err != nil {
		return "", err
	}
	switch {
	case !u.Share:
		return s.homePath(), nil
	case s.store.Info().Modules["portal"]:
		return "/my", nil
	}
	return "/web/login_successful", nil
}

// homePath is where Odoo sends a signed-in user: /odoo from 18 on, /web before.
func (s *Server) homePath() string {
	if s.store.Info().Major >= 18 {
		return "/odoo"
	}
	return "/web"
}

// localRedirect returns target when it is a path on this site, else home. An absolute
// URL, a scheme-relative "//host" or "/\host" (which browsers read as a host) would let a
// crafted link send the user elsewhere once signed in.
func localRedirect(target, home string) string {
	if target == "" || !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "//") ||
		strings.HasPrefix(target, `/\`) || strings.ContainsAny(target, "\r\n\t") {
		return home
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return home
	}
	return target
}
