package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// signInUpstream is the SignInFunc of front proxy mode: it signs the user in to the
// upstream Odoo with the new password (/web/session/authenticate, as from the browser),
// hands the browser that session and answers 303 where Odoo would send the user. With
// two-factor authentication the upstream session waits for the code, so the browser goes
// to that step. Any failure is returned before anything is written.
func (s *Server) signInUpstream(w http.ResponseWriter, r *http.Request, done ResetDone) error {
	s.sessions.forgetUser(done.UserID) // Odoo has just ended the user's other sessions

	// The browser's own session, if it has one, is the one Odoo signs in and rotates, as
	// in Odoo's flow: whoever held it before (an administrator trying the link, say) is
	// signed out, and its old id dies.
	var current *http.Cookie
	if c, err := r.Cookie(sessionCookie); err == nil && anySessionID.MatchString(c.Value) {
		current = &http.Cookie{Name: sessionCookie, Value: c.Value}
	}
	resp, ans, err := s.up.call(r.Context(), r, "/web/session/authenticate",
		map[string]any{"db": s.store.Info().Name, "login": done.Login,
			"password": done.Password}, current)
	if err != nil {
		return err
	}
	if ans.Error != nil {
		return fmt.Errorf("upstream sign-in refused: %s", clip(ans.Error.Data.Name))
	}
	sid := upstreamSessionCookie(resp)
	var si sessionInfo
	if sid == nil || json.Unmarshal(ans.Result, &si) != nil {
		return errors.New("upstream sign-in gave no session")
	}

	target := done.Redirect
	if si.UID == nil { // signed in up to the second factor
		target = "/web/login/totp?redirect=" + url.QueryEscape(target)
	}
	lifetime := time.Duration(sid.MaxAge) * time.Second
	if sid.MaxAge <= 0 {
		lifetime = 7 * 24 * time.Hour // Odoo's default sessions.max_inactivity_seconds
	}
	s.setSessionCookie(w, sid.Value, lifetime)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", target) // as Odoo writes it: a local path, not made absolute
	w.WriteHeader(http.StatusSeeOther)
	s.log.Info("signed in to the upstream after a reset", "user_id", done.UserID)
	return nil
}

// upstreamSessionCookie is the live session cookie the upstream set, if any.
func upstreamSessionCookie(resp *http.Response) *http.Cookie {
	var found *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == sessionCookie && c.Value != "" && c.MaxAge >= 0 &&
			(c.Expires.IsZero() || c.Expires.After(time.Now())) {
			found = c
		}
	}
	return found
}
