package rpc

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// webSession is the user the upstream Odoo says is signed in to a browser's session_id
// cookie: the uid then goes through the same access checks as any RPC caller.
type webSession struct {
	UID     int64
	Login   string
	DB      string
	Context map[string]any // the user context: lang, tz, uid, ...
}

// Session ids as Odoo 18+ (84 URL-safe base64 characters, 86 on master) and 15 to 17
// (40 hex) write them; anything else is no session, without asking anyone.
var anySessionID = regexp.MustCompile(`^(?:[A-Za-z0-9_-]{84,86}|[a-f0-9]{40})$`)

// maxCachedSessions bounds the cache: past it, expired entries go first, then any.
const maxCachedSessions = 10000

// upstreamSessions asks the upstream Odoo who a session cookie belongs to
// (/web/session/get_session_info with that cookie) and remembers the answer for ttl, so
// that a busy web client costs the upstream one lookup per session every ttl. A session
// ended on the upstream may thus still be honoured here for up to ttl.
type upstreamSessions struct {
	up  *upstream
	db  string
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cachedSession // by SHA-256 of the session id: no ids kept in memory
}

type cachedSession struct {
	s     *webSession // nil: no signed-in user
	until time.Time
}

func newUpstreamSessions(up *upstream, db string, now func() time.Time) *upstreamSessions {
	return &upstreamSessions{up: up, db: db, ttl: up.opt.SessionTTL, now: now,
		cache: map[[32]byte]cachedSession{}}
}

// upstreamSignedIn is signedIn in front proxy mode: the web-client routes odoo-shim answers
// act for the user the upstream Odoo has signed in to the browser's cookie.
func (s *Server) upstreamSignedIn(r *http.Request) (string, *models.Session, error) {
	ws, err := s.sessions.sessionOf(r.Context(), r)
	if err != nil {
		return "", nil, err
	}
	c, _ := r.Cookie(sessionCookie)
	return c.Value, &models.Session{UserID: ws.UID, Login: ws.Login}, nil
}

// sessionOf returns the user signed in to r's session_id cookie, or
// models.ErrSessionExpired (JSON-RPC code 100) when there is none.
func (u *upstreamSessions) sessionOf(ctx context.Context, r *http.Request) (*webSession,
	error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || !anySessionID.MatchString(c.Value) {
		return nil, models.ErrSessionExpired
	}
	key := sha256.Sum256([]byte(c.Value))
	if s, ok := u.cached(key); ok {
		return orExpired(s)
	}

	s, err := u.ask(ctx, r, c.Value)
	if err != nil {
		return nil, err // the upstream could not say: nothing to remember
	}
	u.remember(key, s)
	return orExpired(s)
}

func orExpired(s *webSession) (*webSession, error) {
	if s == nil {
		return nil, models.ErrSessionExpired
	}
	return s, nil
}

func (u *upstreamSessions) cached(key [32]byte) (*webSession, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	e, ok := u.cache[key]
	if !ok || !u.now().Before(e.until) {
		return nil, false
	}
	return e.s, true
}

func (u *upstreamSessions) remember(key [32]byte, s *webSession) {
	if u.ttl <= 0 {
		return
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.cache) >= maxCachedSessions {
		now := u.now()
		for k, e := range u.cache {
			if !now.Before(e.until) {
				delete(u.cache, k)
			}
		}
		for k := range u.cache { // still full: make room for a tenth, whichever they are
			if len(u.cache) < maxCachedSessions*9/10 {
				break
			}
			delete(u.cache, k)
		}
	}
	u.cache[key] = cachedSession{s: s, until: u.now().Add(u.ttl)}
}

// forgetUser drops what is remembered of uid's sessions, e.g. after its password changed.
func (u *upstreamSessions) forgetUser(uid int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for k, e := range u.cache {
		if e.s != nil && e.s.UID == uid {
			delete(u.cache, k)
		}
	}
}

// sessionInfo is the part of Odoo's session_info odoo-shim reads.
type sessionInfo struct {
	UID         *int64         `json:"uid"`
	DB          string         `json:"db"`
	Username    string         `json:"username"`
	UserContext map[string]any `json:"user_context"`
}

// rpcAnswer is a JSON-RPC answer of the upstream.
type rpcAnswer struct {
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Code int `json:"code"`
		Data struct {
			Name    string `json:"name"`
			Message string `json:"message"`
		} `json:"data"`
	} `json:"error"`
}

// ask has the upstream look up sid. A session without a user, or of another database
// than odoo-shim's, is nil; an error means the upstream could not say.
func (u *upstreamSessions) ask(ctx context.Context, r *http.Request, sid string) (*webSession,
	error) {
	resp, ans, err := u.up.call(ctx, r, "/web/session/get_session_info", map[string]any{},
		&http.Cookie{Name: sessionCookie, Value: sid})
	if err != nil {
		return nil, err
	}
	_ = resp // the lookup's own cookies stay with the upstream
	if ans.Error != nil {
		if ans.Error.Code == 100 || ans.Error.Data.Name == "odoo.http.SessionExpiredException" {
			return nil, nil
		}
		return nil, fmt.Errorf("upstream session lookup: %s", ans.Error.Data.Name)
	}

	var info sessionInfo
	if err := json.Unmarshal(ans.Result, &info); err != nil {
		return nil, fmt.Errorf("upstream session lookup: %w", err)
	}
	if info.UID == nil || *info.UID <= 0 || info.DB != u.db {
		return nil, nil
	}
	return &webSession{UID: *info.UID, Login: info.Username, DB: info.DB,
		Context: info.UserContext}, nil
}

// call posts a JSON-RPC call to the upstream on behalf of the browser request r (its Host
// and forwarding headers, none of its cookies but cookie) and decodes the answer. The
// response is returned for its cookies; its body is already read.
func (u *upstream) call(ctx context.Context, r *http.Request, path string, params any,
	cookie *http.Cookie) (*http.Response, *rpcAnswer, error) {
	body, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": "call",
		"params": params, "id": nil})
	if err != nil {
		return nil, nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		u.base.JoinPath(path).String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Host = r.Host
	req.Header.Set("Content-Type", "application/json")
	if ua := r.Header.Get("User-Agent"); ua != "" {
		req.Header.Set("User-Agent", ua)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	u.forwardHeaders(req.Header, r)

	resp, err := u.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("upstream %s: %w", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("upstream %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("upstream %s: HTTP %d", path, resp.StatusCode)
	}
	var ans rpcAnswer
	if err := json.Unmarshal(data, &ans); err != nil {
		return nil, nil, fmt.Errorf("upstream %s: not JSON-RPC: %w", path, err)
	}
	return resp, &ans, nil
}
