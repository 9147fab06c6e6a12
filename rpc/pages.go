package rpc

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odoo-shim/odoo-shim/models"
)

//go:embed templates/*.html
var templateFS embed.FS

const (
	maxFormBytes = 64 << 10
	csrfLifetime = 365 * 24 * time.Hour
)

type pages struct {
	s    *Server
	tmpl *template.Template
	// byAddress and byLogin bound the link requests of the public form.
	byAddress, byLogin *windowLimiter
}

func newPages(s *Server) (*pages, error) {
	t, err := template.ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	return &pages{s: s, tmpl: t,
		byAddress: newWindowLimiter(linkRequestsPerAddress, linkRequestWindow, s.opt.Now),
		byLogin:   newWindowLimiter(linkRequestsPerLogin, linkRequestWindow, s.opt.Now),
	}, nil
}

// resetView is what the reset template renders.
type resetView struct {
	HTMLLang   string
	T          pageTexts
	DB         string
	CSRF       string
	Token      string
	Login      string
	Name       string
	Redirect   string
	MinLength  int
	Error      string
	Message    string
	Invalid    bool
	LoginURL   string
	RequestURL string
}

// serveReset is /web/reset_password: with a token, the form that sets a new password;
// without one, when self-service reset is enabled, the form that asks for a link.
func (p *pages) serveReset(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.badRequest(w, "The form could not be read.")
		return
	}
	ctx := r.Context()

	if db := r.Form.Get("db"); db != "" && db != p.s.store.Info().Name {
		http.NotFound(w, r)
		return
	}
	secret, base, err := p.s.store.WebSettings(ctx)
	if err != nil {
		p.serverError(w, err)
		return
	}
	sid := p.session(w, r)
	if r.Method == http.MethodPost && !checkCSRF(secret, sid, r.PostForm.Get("csrf_token"),
		p.s.opt.Now()) {
		p.s.log.Warn("reset form with a bad CSRF token", "client_ip", models.ClientOf(ctx))
		p.badRequest(w, "Session expired (invalid CSRF token)")
		return
	}

	v := &resetView{DB: p.s.store.Info().Name, Redirect: r.Form.Get("redirect"),
		CSRF:     csrfToken(secret, sid, p.s.opt.Now().Add(csrfLifetime).Unix()),
		LoginURL: strings.TrimRight(base, "/") + "/web/login"}

	if token := r.Form.Get("token"); token != "" {
		p.withToken(ctx, w, r, v, token)
		return
	}
	p.withoutToken(ctx, w, r, v)
}

func (p *pages) withToken(ctx context.Context, w http.ResponseWriter, r *http.Request,
	v *resetView, token string) {
	info, err := p.s.store.SignupInfo(ctx, token)
	if errors.Is(err, models.ErrBadToken) {
		p.s.log.Warn("reset link refused", "client_ip", models.ClientOf(ctx))
		p.invalid(w, r, v, pageLang(r, ""))
		return
	}
	if err != nil {
		p.serverError(w, err)
		return
	}

	lang := pageLang(r, info.Lang)
	v.Token, v.Login, v.Name = token, info.Login, info.Name
	if v.MinLength, err = p.s.store.MinPasswordLength(ctx); err != nil {
		p.serverError(w, err)
		return
	}
	if r.Method == http.MethodPost {
		p.setPassword(ctx, w, r, v, lang)
		return
	}
	p.render(w, http.StatusOK, v, lang)
}

func (p *pages) setPassword(ctx context.Context, w http.ResponseWriter, r *http.Request,
	v *resetView, lang string) {
	// Werkzeug decodes form data with replacement characters; the password Odoo would
	// store, and later check, is that decoded text.
	password := validUTF8(r.PostForm.Get("password"))
	switch {
	case password == "" || v.Login == "":
		v.Error = models.T(lang, models.MsgFormNotFilled)
	case password != validUTF8(r.PostForm.Get("confirm_password")):
		v.Error = models.T(lang, models.MsgPasswordsDiff)
	}
	if v.Error != "" {
		p.render(w, http.StatusOK, v, lang)
		return
	}

	info, err := p.s.store.CompleteSignup(ctx, v.Token, password)
	if errors.Is(err, models.ErrBadToken) {
		p.invalid(w, r, v, lang)
		return
	}
	if p.failed(w, v, lang, err) {
		return
	}

	p.s.log.Info("password reset completed", "user_id", info.UserID,
		"client_ip", models.ClientOf(ctx))
	err = p.signInAfterReset(w, r, info, password, v.Redirect)
	if err == nil {
		return
	}
	// The password is changed whatever happens here: say so, and let the user sign in
	// with it.
	if errors.Is(err, models.ErrSecondFactor) {
		// odoo-shim has no second-factor step of its own: the user signs in where there is.
		p.s.log.Info("sign-in after reset needs the second factor", "user_id", info.UserID)
	} else {
		p.s.log.Error("sign-in after reset failed", "user_id", info.UserID, "error", err)
	}
	v.Message, v.Token = texts(lang).PasswordChanged, ""
	v.T = texts(lang)
	v.T.NextStep = v.T.NextDone
	p.render(w, http.StatusOK, v, lang)
}

// signInAfterReset signs the user in as Odoo does once the password is set, and sends
// the browser where Odoo would: the form's local redirect, else the user's home.
func (p *pages) signInAfterReset(w http.ResponseWriter, r *http.Request,
	info *models.SignupInfo, password, redirect string) error {
	home, err := p.s.homeFor(r.Context(), info.UserID)
	if err != nil {
		return err
	}
	return p.s.signIn(w, r, ResetDone{UserID: info.UserID, Login: info.Login,
		Password: password, Redirect: localRedirect(redirect, home)})
}

func (p *pages) withoutToken(ctx context.Context, w http.ResponseWriter, r *http.Request,
	v *resetView) {
	enabled, err := p.s.store.ResetEnabled(ctx)
	if err != nil {
		p.serverError(w, err)
		return
	}
	if !enabled {
		http.NotFound(w, r)
		return
	}

	lang := pageLang(r, "")
	v.Login = r.Form.Get("login") // matched exactly, as Odoo does: no trimming
	if r.Method != http.MethodPost {
		p.render(w, http.StatusOK, v, lang)
		return
	}
	if v.Login == "" {
		v.Error = models.T(lang, models.MsgNoLogin)
		p.render(w, http.StatusOK, v, lang)
		return
	}

	if !p.byAddress.allow(models.ClientOf(ctx)) || !p.byLogin.allow(v.Login) {
		p.s.log.Warn("reset link requests over the limit", "client_ip", models.ClientOf(ctx))
		v.Error = texts(lang).TooManyRequests
		p.render(w, http.StatusTooManyRequests, v, lang)
		return
	}
	p.s.log.Info("reset link requested", "client_ip", models.ClientOf(ctx))
	_, err = p.s.store.ResetPassword(ctx, models.SuperuserID, v.Login,
		map[string]any{"lang": lang})
	if p.failed(w, v, lang, err) {
		return
	}
	hours, err := p.s.store.ResetLinkHours(ctx)
	if err != nil {
		p.serverError(w, err)
		return
	}
	v.Message, v.RequestURL = models.T(lang, models.ResetRequestedMsg(p.s.store.Info().Major)), "/web/reset_password"
	v.T = texts(lang)
	v.T.NextStep = fmt.Sprintf(v.T.NextStep, hours)
	p.render(w, http.StatusOK, v, lang)
}

// failed answers for err, if there is one: Odoo's own errors are shown on the form, as
// Odoo shows them; anything else is a server error. It reports whether it answered.
func (p *pages) failed(w http.ResponseWriter, v *resetView, lang string, err error) bool {
	if err == nil {
		return false
	}
	if e, ok := models.AsError(err); ok {
		v.Error = e.Message
		p.render(w, http.StatusOK, v, lang)
		return true
	}
	p.serverError(w, err)
	return true
}

func (p *pages) invalid(w http.ResponseWriter, r *http.Request, v *resetView, lang string) {
	v.Error, v.Invalid, v.Token = models.T(lang, models.MsgInvalidToken), true, ""
	if ok, err := p.s.store.ResetEnabled(r.Context()); err == nil && ok {
		v.RequestURL = "/web/reset_password"
	}
	p.render(w, http.StatusOK, v, lang)
}

func (p *pages) render(w http.ResponseWriter, status int, v *resetView, lang string) {
	if v.T.Title == "" {
		v.T = texts(lang)
	}
	v.HTMLLang = "en"
	if models.IsIndonesian(lang) {
		v.HTMLLang = "id"
	}
	v.T.LengthHint = fmt.Sprintf(v.T.LengthHint, v.MinLength)

	var buf bytes.Buffer
	if err := p.tmpl.ExecuteTemplate(&buf, "reset.html", v); err != nil {
		p.serverError(w, err)
		return
	}
	pageHeaders(w)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// pageHeaders keep the page out of caches and frames, keep the token in its URL out of
// Referer headers, and forbid any resource from elsewhere.
func pageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "+
		"form-action 'self'; frame-ancestors 'self'; base-uri 'none'")
}

func (p *pages) badRequest(w http.ResponseWriter, msg string) {
	pageHeaders(w)
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=en>\n<title>400 Bad Request</title>\n"+
		"<h1>Bad Request</h1>\n<p>%s</p>\n", template.HTMLEscapeString(msg))
}

func (p *pages) serverError(w http.ResponseWriter, err error) {
	p.s.log.Error("reset page failed", "error", err)
	pageHeaders(w)
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprint(w, "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n"+
		"<h1>Internal Server Error</h1>\n<p>Please try again in a moment.</p>\n")
}

// session returns the browser's session id, issuing a new one (and its cookie, with
// Odoo's attributes) when it has none; the CSRF token is bound to it.
func (p *pages) session(w http.ResponseWriter, r *http.Request) string {
	if sid := cookieSID(r); sid != "" {
		return sid
	}
	sid := models.NewSessionID()
	p.s.setSessionCookie(w, sid, models.DefaultSessionLifetime)
	return sid
}

// validUTF8 replaces each invalid byte with U+FFFD.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		b.WriteRune(r) // utf8.RuneError for an invalid byte
		i += n
	}
	return b.String()
}

// peerIP is the address of the connection's other end.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedIP is the address the reverse proxy in front reports, as Odoo's proxy_mode reads
// it: the last entry of X-Forwarded-For, the one that proxy added itself.
func forwardedIP(r *http.Request) string {
	hops := strings.Split(r.Header.Get("X-Forwarded-For"), ",")
	if ip := strings.TrimSpace(hops[len(hops)-1]); net.ParseIP(ip) != nil {
		return ip
	}
	return peerIP(r)
}

// pageLang picks the page language: the account's own when known, else the browser's
// first Indonesian or English preference, else English.
func pageLang(r *http.Request, userLang string) string {
	if userLang != "" {
		return userLang
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.Split(part, ";")[0]))
		switch {
		case tag == "id" || strings.HasPrefix(tag, "id-"):
			return "id_ID"
		case tag == "en" || strings.HasPrefix(tag, "en-"):
			return models.DefaultLang
		}
	}
	return models.DefaultLang
}
