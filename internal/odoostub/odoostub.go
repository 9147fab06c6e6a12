// Package odoostub is a stand-in for the Odoo server behind odoo-shim in front proxy mode.
// Odoo's web client cannot run in CI, so the proxy tests talk to this instead: it answers
// the few Odoo routes they need (session sign-in and lookup, pages with cookies, a redirect,
// a streamed answer, a WebSocket echo) with Odoo 18's cookie and JSON-RPC shapes, and checks
// passwords against the same database odoo-shim serves.
package odoostub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"
)

// AuthFunc checks a login and password against the shared database, returning the uid.
type AuthFunc func(ctx context.Context, login, password string) (int64, error)

// Stub is one stand-in Odoo server.
type Stub struct {
	twoFactor map[string]bool // logins whose sign-in stops at the TOTP step
	portal    map[int64]bool  // uids that are not internal users
	db        string
	auth      AuthFunc
	server    *httptest.Server
	release   chan struct{}
	mu        sync.Mutex
	sessions  map[string]session
	seen      []Request
	noRecord  bool

	// SessionInfoCalls counts /web/session/get_session_info requests.
	SessionInfoCalls atomic.Int64
}

type session struct {
	uid   int64
	login string
}

// Request is what the stub saw of one request, for the forwarding tests.
type Request struct {
	Method, Path, RawQuery, Host string
	Header                       http.Header
	Body                         []byte
}

// New returns a stub whose sign-ins are checked by auth; Start serves it.
func New(db string, auth AuthFunc) *Stub {
	return &Stub{db: db, auth: auth, release: make(chan struct{}),
		sessions: map[string]session{}, twoFactor: map[string]bool{}, portal: map[int64]bool{}}
}

// Start serves the stub on a local port and returns its URL.
func (s *Stub) Start() string {
	s.server = httptest.NewServer(s.Handler())
	return s.server.URL
}

// Close stops the server and lets any waiting stream end.
func (s *Stub) Close() {
	s.Release()
	if s.server != nil {
		s.server.CloseClientConnections()
		s.server.Close()
	}
}

// Release lets /stream send its second part and end.
func (s *Stub) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
}

// Seen returns the requests the stub received, oldest first.
func (s *Stub) Seen() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.seen...)
}

// SetDB changes the database name the stub serves and reports.
func (s *Stub) SetDB(name string) {
	s.mu.Lock()
	s.db = name
	s.mu.Unlock()
}

func (s *Stub) dbName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.db
}

// TwoFactorLogin makes login's sign-ins stop at the TOTP step ({"uid": null}), or not.
func (s *Stub) TwoFactorLogin(login string, on bool) {
	s.mu.Lock()
	s.twoFactor[login] = on
	s.mu.Unlock()
}

// PortalUser makes uid a portal (not internal) user, or not.
func (s *Stub) PortalUser(uid int64, on bool) {
	s.mu.Lock()
	s.portal[uid] = on
	s.mu.Unlock()
}

// SignIn opens a session for uid directly, as a sign-in on the upstream would, and returns
// its session id.
func (s *Stub) SignIn(uid int64, login string) string {
	sid := newSID()
	s.mu.Lock()
	s.sessions[sid] = session{uid: uid, login: login}
	s.mu.Unlock()
	return sid
}

// Known reports whether sid is a live session.
func (s *Stub) Known(sid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.sessions[sid]
	return ok
}

// SignOut ends the session sid.
func (s *Stub) SignOut(sid string) {
	s.mu.Lock()
	delete(s.sessions, sid)
	s.mu.Unlock()
}

// Handler serves the stub's routes.
func (s *Stub) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /web/session/authenticate", s.authenticate)
	mux.HandleFunc("POST /web/session/get_session_info", s.sessionInfo)
	mux.HandleFunc("GET /odoo", s.home)
	mux.HandleFunc("GET /web", s.home)
	mux.HandleFunc("GET /web/login", s.loginPage)
	mux.HandleFunc("GET /redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/web/login?redirect=%2Fodoo", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /redirect-away", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://accounts.example.org/o/oauth2/auth?state=x")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET /stream", s.stream)
	mux.HandleFunc("GET /websocket", serveWebSocket)
	mux.HandleFunc("/echo", s.echo)
	return s.record(mux)
}

// StopRecording makes the stub keep no more requests (benchmarks).
func (s *Stub) StopRecording() {
	s.mu.Lock()
	s.noRecord = true
	s.mu.Unlock()
}

func (s *Stub) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		off := s.noRecord
		s.mu.Unlock()
		if off {
			next.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytesReader(body))
		s.mu.Lock()
		s.seen = append(s.seen, Request{Method: r.Method, Path: r.URL.Path,
			RawQuery: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(), Body: body})
		s.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

type rpcRequest struct {
	ID     json.RawMessage `json:"id"`
	Params struct {
		DB       string `json:"db"`
		Login    string `json:"login"`
		Password string `json:"password"`
	} `json:"params"`
}

func (s *Stub) authenticate(w http.ResponseWriter, r *http.Request) {
	var req rpcRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, "Invalid JSON data", http.StatusBadRequest)
		return
	}
	if req.Params.DB != s.dbName() {
		writeError(w, req.ID, 200, "Odoo Server Error", "odoo.exceptions.AccessError",
			"Database not found.")
		return
	}
	uid, err := s.auth(r.Context(), req.Params.Login, req.Params.Password)
	if err != nil || uid == 0 {
		writeError(w, req.ID, 200, "Odoo Server Error", "odoo.exceptions.AccessDenied",
			"Access Denied")
		return
	}

	// Odoo signs in the request's own session, then rotates it: the old id dies.
	if c, err := r.Cookie("session_id"); err == nil {
		s.SignOut(c.Value)
	}
	sid := newSID()
	setSessionCookie(w, sid)
	s.mu.Lock()
	pending := s.twoFactor[req.Params.Login]
	s.mu.Unlock()
	if pending { // the session waits for the TOTP code
		writeResult(w, req.ID, map[string]any{"uid": nil})
		return
	}
	s.mu.Lock()
	s.sessions[sid] = session{uid: uid, login: req.Params.Login}
	s.mu.Unlock()
	writeResult(w, req.ID, s.info(uid, req.Params.Login))
}

func (s *Stub) sessionInfo(w http.ResponseWriter, r *http.Request) {
	s.SessionInfoCalls.Add(1)
	var req rpcRequest
	_ = json.NewDecoder(r.Body).Decode(&req)
	sess, ok := s.sessionOf(r)
	if !ok {
		writeError(w, req.ID, 100, "Odoo Session Expired", "odoo.http.SessionExpiredException",
			"Session expired")
		return
	}
	writeResult(w, req.ID, s.info(sess.uid, sess.login))
}

func (s *Stub) info(uid int64, login string) map[string]any {
	s.mu.Lock()
	internal := !s.portal[uid]
	s.mu.Unlock()
	return map[string]any{
		"uid": uid, "is_system": uid == 2, "is_admin": uid == 2, "is_public": false,
		"is_internal_user": internal, "db": s.dbName(), "username": login, "name": login,
		"server_version": "18.0-20250506",
		"user_context":   map[string]any{"lang": "id_ID", "tz": "Asia/Jakarta", "uid": uid},
	}
}

func (s *Stub) sessionOf(r *http.Request) (session, bool) {
	c, err := r.Cookie("session_id")
	if err != nil {
		return session{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.sessions[c.Value]
	return sess, ok
}

// home is the web client's page: signed in, a page naming the user; otherwise the
// redirect to the sign-in page Odoo gives.
func (s *Stub) home(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.sessionOf(r)
	if !ok {
		http.Redirect(w, r, "/web/login?redirect="+r.URL.Path, http.StatusSeeOther)
		return
	}
	w.Header().Add("Set-Cookie", "frontend_lang=id_ID; Path=/")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html><title>Odoo</title><p>signed in as uid %d (%s)</p>",
		sess.uid, sess.login)
}

func (s *Stub) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.sessionOf(r); !ok {
		setSessionCookie(w, newSID())
	}
	w.Header().Add("Set-Cookie", "frontend_lang=en_US; Path=/")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
	w.Header().Set("Content-Security-Policy", "frame-ancestors 'self'")
	w.Header().Set("X-Odoo-Stub", "login")
	fmt.Fprint(w, "<!DOCTYPE html>\n<html><head><title>Masuk | Odoo</title></head>\n"+
		"<body><form method=\"post\" action=\"/web/login\"><input name=\"login\">"+
		"<input name=\"password\" type=\"password\"></form>\u00a0«ü»</body></html>\n")
}

// stream sends one part at once, then waits for Release before the second, the way a
// long-polling or streamed answer does.
func (s *Stub) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprint(w, "first\n")
	http.NewResponseController(w).Flush()
	select {
	case <-s.release:
	case <-r.Context().Done():
		return
	case <-time.After(30 * time.Second):
	}
	fmt.Fprint(w, "second\n")
}

// echo answers with what it received.
func (s *Stub) echo(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("X-Echo-Method", r.Method)
	w.Header().Set("X-Echo-Query", r.URL.RawQuery)
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(body)
}

func setSessionCookie(w http.ResponseWriter, sid string) {
	// Odoo 18's cookie: Max-Age a week, Expires a year, HttpOnly, Path=/ (werkzeug's order).
	expires := time.Now().Add(365 * 24 * time.Hour).UTC().Format(http.TimeFormat)
	w.Header().Add("Set-Cookie", "session_id="+sid+"; Expires="+expires+
		"; Max-Age=604800; HttpOnly; Path=/")
}

func newSID() string {
	buf := make([]byte, 63)
	_, _ = rand.Read(buf)
	return base64.RawURLEncoding.EncodeToString(buf)
}

func writeResult(w http.ResponseWriter, id json.RawMessage, result any) {
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": rawID(id), "result": result})
}

func writeError(w http.ResponseWriter, id json.RawMessage, code int, title, name,
	msg string) {
	writeJSON(w, map[string]any{"jsonrpc": "2.0", "id": rawID(id), "error": map[string]any{
		"code": code, "message": title, "data": map[string]any{"name": name,
			"debug":   "Traceback (most recent call last):\n" + name + ": " + msg,
			"message": msg, "arguments": []any{msg}, "context": map[string]any{}}}})
}

func rawID(id json.RawMessage) any {
	if len(id) == 0 {
		return nil
	}
	return id
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
