package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// webRoute is one of the web client's JSON-RPC routes (Odoo's type='json' controllers).
type webRoute struct {
	name string // the controller method, for Python-style argument errors
	// params are the keyword arguments the controller takes; a leading "?" marks an
	// optional one.
	params []string
	// user routes need a signed-in session (Odoo's auth='user'); the others are
	// auth='none'.
	user bool
	fn   func(ctx context.Context, c *webCall) (any, error)
}

// webCall is one request to a web route.
type webCall struct {
	w      http.ResponseWriter
	r      *http.Request
	sid    string
	sess   *models.Session // the signed-in session on user routes
	params map[string]any
}

// webRoutes registers the web client's routes. The call_kw and call_button paths may
// carry "/<model>/<method>", which the client adds for readable logs and the server
// ignores, as Odoo does.
func (s *Server) webRoutes(mux *http.ServeMux) {
	callKw := webRoute{name: "call_kw", params: []string{"model", "method", "args", "kwargs"},
		user: true, fn: s.webCallKw}
	callButton := webRoute{name: "call_button", user: true, fn: s.webCallButton,
		params: []string{"model", "method", "args", "kwargs"}}
	routes := map[string]webRoute{
		"/web/session/authenticate": {name: "authenticate", fn: s.webAuthenticate,
			params: []string{"db", "login", "password", "?base_location"}},
		"/web/session/get_session_info": {name: "get_session_info", user: true,
			fn: s.webSessionInfo},
		"/web/session/check":          {name: "check", user: true, fn: webNone},
		"/web/session/destroy":        {name: "destroy", user: true, fn: s.webDestroy},
		"/web/webclient/version_info": {name: "version_info", fn: s.webVersionInfo},
		"/web/dataset/call_kw":        callKw,
		"/web/dataset/call_kw/":       callKw,
		"/web/dataset/call_button":    callButton,
		"/web/dataset/call_button/":   callButton,
	}
	for path, rt := range routes {
		pattern := "POST " + path
		if strings.HasSuffix(path, "/") {
			pattern += "{path...}"
		}
		mux.HandleFunc(pattern, s.serveWeb(rt))
	}
}

// serveWeb answers one web route with Odoo's JSON-RPC envelope: always HTTP 200, errors
// as Odoo's error object (code 100 for a missing or expired session).
func (s *Server) serveWeb(rt webRoute) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !isJSON(r.Header.Get("Content-Type")) {
			drain(r)
			htmlError(w, http.StatusBadRequest, "Bad Request", "Request inferred type is "+
				"compatible with ['http'] but '"+clip(r.URL.Path)+"' is type='json'.")
			return
		}
		req, ok := readJSONRequest(w, r)
		if !ok {
			return
		}
		res, err := s.runWeb(&webCall{w: w, r: r}, rt, req.Params)
		writeJSONResponse(w, req.ID, res, err, s)
	}
}

// runWeb checks the session of a user route, binds the parameters and calls the route,
// turning a panic into an internal error.
func (s *Server) runWeb(c *webCall, rt webRoute, raw json.RawMessage) (res any, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("web route panic", "route", rt.name, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("panic in %s: %v", rt.name, v)
		}
	}()

	// Odoo checks the session before it looks at the arguments.
	if rt.user {
		if c.sid, c.sess, err = s.signedIn(c.r); err != nil {
			s.logCall("web", rt.name, err)
			return nil, err
		}
	}
	if c.params, err = bindParams(rt, raw); err != nil {
		return nil, err
	}
	res, err = rt.fn(c.r.Context(), c)
	s.logCall("web", rt.name, err)
	return res, err
}

// bindParams checks params against the controller's keyword arguments as Python would.
func bindParams(rt webRoute, raw json.RawMessage) (map[string]any, error) {
	params, err := decodeJSONObject(raw)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	var missing []string
	for _, p := range rt.params {
		name, optional := strings.CutPrefix(p, "?")
		known[name] = true
		if _, ok := params[name]; !ok && !optional {
			missing = append(missing, name)
		}
	}

	var extra []string
	for k := range params {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, models.Errorf(models.KindTypeError,
			"%s() got an unexpected keyword argument '%s'", rt.name, clip(extra[0]))
	}
	if len(missing) > 0 {
		return nil, models.Errorf(models.KindTypeError,
			"%s() missing 1 required positional argument: '%s'", rt.name, missing[0])
	}
	return params, nil
}

func webNone(context.Context, *webCall) (any, error) { return nil, nil }

// webAuthenticate is /web/session/authenticate: a password sign-in (API keys are refused,
// as on Odoo's web login) that opens a new session and answers session_info.
func (s *Server) webAuthenticate(ctx context.Context, c *webCall) (any, error) {
	if db, _ := c.params["db"].(string); db != s.store.Info().Name {
		return nil, models.NewError(models.KindAccessError, "Database not found.")
	}
	login, _ := c.params["login"].(string)
	password, _ := c.params["password"].(string)

	sid, sess, err := s.store.SignIn(ctx, login, password)
	if errors.Is(err, models.ErrSecondFactor) {
		// Odoo now waits for the TOTP code; odoo-shim has no such step (issue #3).
		return xmlrpc.Struct{{Name: "uid", Value: nil}}, nil
	}
	if e, ok := models.AsError(err); ok && e.Kind == models.KindAccessDenied {
		s.log.Warn("web login failed", "login", clip(login), "client_ip",
			models.ClientOf(ctx))
	}
	if err != nil {
		return nil, err
	}
	if err := s.endPrevious(c.r); err != nil {
		return nil, err
	}
	s.setSessionCookie(c.w, sid, sess.Lifetime)
	return s.sessionInfo(ctx, sess)
}

// webSessionInfo is /web/session/get_session_info. Using the session keeps it alive, so
// the cookie is sent again with a fresh Max-Age.
func (s *Server) webSessionInfo(ctx context.Context, c *webCall) (any, error) {
	s.setSessionCookie(c.w, c.sid, c.sess.Lifetime)
	return s.sessionInfo(ctx, c.sess)
}

// webDestroy is /web/session/destroy: the session ends and the browser gets a new,
// signed-out session id, as Odoo rotates it. The answer is None (no "result" member).
func (s *Server) webDestroy(ctx context.Context, c *webCall) (any, error) {
	if err := s.store.EndSession(ctx, c.sid); err != nil {
		return nil, err
	}
	s.setSessionCookie(c.w, models.NewSessionID(), c.sess.Lifetime)
	return nil, nil
}

// webVersionInfo is /web/webclient/version_info: common.version's answer.
func (s *Server) webVersionInfo(ctx context.Context, _ *webCall) (any, error) {
	return s.commonVersion(ctx, nil)
}

// webCallKw is /web/dataset/call_kw: the same model methods as execute_kw, as the
// session's user.
func (s *Server) webCallKw(ctx context.Context, c *webCall) (any, error) {
	mc, err := webModelCall(c)
	if err != nil {
		return nil, err
	}
	return s.callModel(ctx, mc)
}

// webCallButton is /web/dataset/call_button: call_kw, then what Odoo does with a button's
// result. A dict whose type is not "" is an action for the client (cleaned, with
// ir.actions.act_window_close as its default type); anything else becomes false.
func (s *Server) webCallButton(ctx context.Context, c *webCall) (any, error) {
	res, err := s.webCallKw(ctx, c)
	if err != nil {
		return nil, err
	}
	action, ok := res.(xmlrpc.Struct)
	if !ok {
		return false, nil
	}
	typ, found := structGet(action, "type")
	if found && typ == "" {
		return false, nil
	}
	if !found {
		action = append(xmlrpc.Struct{{Name: "type", Value: "ir.actions.act_window_close"}},
			action...)
	}
	return action, nil
}

func webModelCall(c *webCall) (modelCall, error) {
	model, _ := c.params["model"].(string)
	method, _ := c.params["method"].(string)
	args, ok := c.params["args"].([]any)
	if !ok && c.params["args"] != nil {
		return modelCall{}, models.Errorf(models.KindTypeError, "args must be a list, not %s",
			pyType(c.params["args"]))
	}
	kwargs, err := asKwargs(c.params["kwargs"])
	if err != nil {
		return modelCall{}, err
	}
	return modelCall{uid: c.sess.UserID, model: model, method: method, args: args,
		kwargs: kwargs}, nil
}

// sessionInfo is Odoo 18's session_info for the keys the base and web modules set; the
// keys other modules add (mail, bus, website, ...) are not there (issue #3).
func (s *Server) sessionInfo(ctx context.Context, sess *models.Session) (any, error) {
	u, err := s.store.WebUser(ctx, sess.UserID)
	if err != nil {
		return nil, err
	}
	_, base, err := s.store.WebSettings(ctx)
	if err != nil {
		return nil, err
	}
	info := s.store.Info()
	version, _ := s.commonVersion(ctx, nil)
	versionInfo, _ := structGet(version.(xmlrpc.Struct), "server_version_info")

	lang := u.Lang
	if lang == "" {
		lang = models.DefaultLang
	}
	userContext := xmlrpc.Struct{{Name: "lang", Value: lang}, {Name: "tz", Value: u.TZ},
		{Name: "uid", Value: u.ID}}
	return xmlrpc.Struct{
		{Name: "uid", Value: u.ID},
		{Name: "is_system", Value: u.IsSystem},
		{Name: "is_admin", Value: u.IsAdmin},
		{Name: "is_public", Value: false},
		{Name: "is_internal_user", Value: !u.Share},
		{Name: "user_context", Value: userContext},
		{Name: "db", Value: info.Name},
		{Name: "server_version", Value: s.serverVersion()},
		{Name: "server_version_info", Value: versionInfo},
		{Name: "support_url", Value: "https://www.odoo.com/buy"},
		{Name: "name", Value: u.Name},
		{Name: "username", Value: u.Login},
		{Name: "partner_write_date", Value: u.PartnerWrite.Format("2006-01-02 15:04:05")},
		{Name: "partner_display_name", Value: u.Name},
		{Name: "partner_id", Value: u.PartnerID},
		{Name: "web.base.url", Value: base},
		{Name: "active_ids_limit", Value: 20000},
		{Name: "max_file_upload_size", Value: 128 * 1024 * 1024},
		{Name: "home_action_id", Value: false},
		{Name: "bundle_params", Value: xmlrpc.Struct{{Name: "lang", Value: lang}}},
		{Name: "test_mode", Value: false},
		{Name: "user_companies", Value: userCompanies(u)},
		{Name: "display_switch_company_menu", Value: !u.Share && len(u.Companies) > 1},
	}, nil
}

// userCompanies is session_info's user_companies: the current and allowed companies.
func userCompanies(u *models.WebUser) xmlrpc.Struct {
	allowed := xmlrpc.Struct{}
	for _, c := range u.Companies {
		var parent any = false
		if c.ParentID != 0 {
			parent = c.ParentID
		}
		allowed = append(allowed, xmlrpc.Member{Name: strconv.FormatInt(c.ID, 10),
			Value: xmlrpc.Struct{{Name: "id", Value: c.ID}, {Name: "name", Value: c.Name},
				{Name: "sequence", Value: c.Sequence}, {Name: "child_ids", Value: []any{}},
				{Name: "parent_id", Value: parent}}})
	}
	return xmlrpc.Struct{{Name: "current_company", Value: u.CompanyID},
		{Name: "allowed_companies", Value: allowed},
		{Name: "disallowed_ancestor_companies", Value: xmlrpc.Struct{}}}
}

// structGet returns the value of the member name of st.
func structGet(st xmlrpc.Struct, name string) (any, bool) {
	for _, m := range st {
		if m.Name == name {
			return m.Value, true
		}
	}
	return nil, false
}
