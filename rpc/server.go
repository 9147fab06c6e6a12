package rpc

import (
	"context"
	"fmt"
	"html"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// Options configure a Server.
type Options struct {
	// ServerVersion overrides the version common.version reports (e.g. "18.0-20250506");
	// empty means the series read from the database.
	ServerVersion  string
	MaxBodyBytes   int64
	MaxXMLDepth    int
	RequestTimeout time.Duration
	// ProxyMode trusts the X-Forwarded-For header a reverse proxy in front adds, as Odoo's
	// proxy_mode does, so that logs and login throttling see the real client address.
	ProxyMode bool
	// Upstream, when set, puts odoo-shim in front of that Odoo server: what odoo-shim does
	// not implement is proxied there unchanged (front proxy mode).
	Upstream *Upstream
	// SignIn signs the user in once the reset page has set a new password. Nil means a
	// session in odoo-shim's own store when serving alone (odoo-shim then serves the page
	// the user lands on, /odoo, see landing.go), and a sign-in to the upstream Odoo in
	// front proxy mode (signInUpstream), whose /odoo the user then sees.
	SignIn SignInFunc
	// ListDBDisabled refuses db.list with AccessDenied, as odoo.conf's list_db = False.
	ListDBDisabled bool
	// DevMail, when set, is served under /dev/mail: the demo's mail catcher inbox.
	DevMail http.Handler
	Logger  *slog.Logger
	Now     func() time.Time
}

// Server answers Odoo's RPC protocols and the reset page for one database.
type Server struct {
	store   *models.Store
	opt     Options
	log     *slog.Logger
	methods map[string]map[string]method
	models  map[string]map[string]modelMethod // model -> method, see modelMethodTable
	pages   *pages
	up      *upstream // nil when serving alone
	signIn  SignInFunc
	// sessions, in front proxy mode, asks the upstream who a browser session belongs to.
	sessions *upstreamSessions
}

// New returns a Server for store.
func New(store *models.Store, opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = xmlrpc.DefaultLimits.MaxBytes
	}
	if opt.MaxXMLDepth <= 0 {
		opt.MaxXMLDepth = xmlrpc.DefaultLimits.MaxDepth
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = time.Minute
	}

	s := &Server{store: store, opt: opt, log: opt.Logger}
	s.methods = s.methodTable()
	s.models = s.modelMethodTable()
	p, err := newPages(s)
	if err != nil {
		return nil, fmt.Errorf("reset page templates: %w", err)
	}
	s.pages = p
	if opt.Upstream != nil {
		if s.up, err = newUpstream(*opt.Upstream, opt.ProxyMode, opt.Logger); err != nil {
			return nil, err
		}
		s.sessions = newUpstreamSessions(s.up, store.Info().Name, opt.Now)
	}
	s.signIn = opt.SignIn
	switch {
	case s.signIn != nil:
	case s.up != nil:
		s.signIn = s.signInUpstream
	default:
		s.signIn = s.signInLocal
	}
	return s, nil
}

// Handler returns the HTTP handler serving every route.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /xmlrpc/2/{service}", s.serveXMLRPC)
	mux.HandleFunc("/xmlrpc/2/{service}", methodNotAllowed)
	mux.HandleFunc("POST /xmlrpc/{service}", s.serveLegacyXMLRPC)
	mux.HandleFunc("/xmlrpc/{service}", methodNotAllowed)
	mux.HandleFunc("POST /jsonrpc", s.serveJSONRPC)
	mux.HandleFunc("/jsonrpc", methodNotAllowed)
	mux.HandleFunc("POST /json/2/{model}/{method}", s.serveJSON2)
	mux.HandleFunc("/json/2/", s.serveJSON2Elsewhere)
	mux.HandleFunc("/json/2", s.serveJSON2Elsewhere)
	mux.HandleFunc("GET /web/reset_password", s.pages.serveReset)
	mux.HandleFunc("POST /web/reset_password", s.pages.serveReset)
	mux.HandleFunc("GET /web/health", s.serveHealth)
	s.webRoutes(mux)
	if s.up == nil {
		s.landingRoutes(mux)
	}
	if s.opt.DevMail != nil {
		mux.Handle("/dev/mail/", http.StripPrefix("/dev/mail", s.opt.DevMail))
		mux.Handle("/dev/mail", http.RedirectHandler("/dev/mail/", http.StatusFound))
	}
	var h http.Handler = s.limitRequests(mux)
	if s.up != nil {
		h = s.front(mux, h)
	}
	return s.recoverPanics(h)
}

func (s *Server) limitRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.opt.RequestTimeout)
		defer cancel()
		ip := peerIP(r)
		if s.opt.ProxyMode {
			ip = forwardedIP(r)
		}
		ctx = models.WithClient(ctx, ip)
		r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// recoverPanics turns a panic into a 500 and one logged stack, never a dropped connection.
// The RPC handlers recover on their own and answer with a fault.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("handler panic", "path", r.URL.Path, "panic", fmt.Sprint(v),
					"stack", string(debug.Stack()))
				http.Error(w, "Internal Server Error", http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.store.Ping(r.Context()); err != nil {
		s.log.Error("health check failed", "error", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "POST")
	htmlError(w, http.StatusMethodNotAllowed, "Method Not Allowed",
		"The method is not allowed for the requested URL.")
}

// htmlError writes an error page shaped like werkzeug's, which Odoo sends for HTTP errors.
func htmlError(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n<h1>%s</h1>\n"+
		"<p>%s</p>\n", status, title, title, html.EscapeString(text))
}
