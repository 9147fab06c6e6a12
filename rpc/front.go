package rpc

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// route is where front proxy mode sends a request.
type route int

const (
	routeUpstream route = iota // Odoo answers
	routeLocal                 // odoo-shim answers
	routeByCall                // odoo-shim answers if it implements the call in the body
)

// front is the handler of front proxy mode: odoo-shim answers the requests it implements
// (through local, with its own limits) and hands every other one to the upstream Odoo.
func (s *Server) front(mux *http.ServeMux, local http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch s.routeOf(r, mux) {
		case routeLocal:
			local.ServeHTTP(w, r)
		case routeByCall:
			s.routeByBody(w, r, local)
		default:
			s.up.ServeHTTP(w, r)
		}
	})
}

// routeOf decides from the method and path alone where possible. Sessions, sign-in pages
// and everything of the web client belong to the upstream in this mode: the browser's
// session is Odoo's own.
func (s *Server) routeOf(r *http.Request, mux *http.ServeMux) route {
	if _, pattern := mux.Handler(r); pattern == "" {
		return routeUpstream // not a route of ours, or not with this method
	}
	p := r.URL.Path
	switch {
	case p == "/web/reset_password" || p == "/web/health" || p == "/dev/mail" ||
		strings.HasPrefix(p, "/dev/mail/"):
		return routeLocal
	case p == "/jsonrpc" || strings.HasPrefix(p, "/xmlrpc/2/") || isDatasetCall(p):
		if r.Method != http.MethodPost {
			return routeLocal // the 405 Odoo gives too
		}
		return routeByCall
	}
	return routeUpstream
}

// isDatasetCall reports whether p is one of the web client's model-call routes.
func isDatasetCall(p string) bool {
	for _, base := range []string{"/web/dataset/call_kw", "/web/dataset/call_button"} {
		if p == base || strings.HasPrefix(p, base+"/") {
			return true
		}
	}
	return false
}

// routeByBody reads the call (within the body limit) and answers it if odoo-shim implements
// it for its database; otherwise the upstream gets the request, body unchanged. A body over
// the limit cannot be a call odoo-shim answers, so it streams on to the upstream.
func (s *Server) routeByBody(w http.ResponseWriter, r *http.Request, local http.Handler) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opt.MaxBodyBytes+1))
	if err != nil {
		return // the browser went away mid-body
	}
	if int64(len(body)) > s.opt.MaxBodyBytes {
		s.up.forward(w, r, body, r.Body)
		return
	}
	if !s.implementsBody(r, body) {
		s.up.forward(w, r, body, nil)
		return
	}
	r.Body = replayBody(body, nil)
	local.ServeHTTP(w, r)
}

// implementsBody reports whether odoo-shim answers the call in body itself. A body it
// cannot read is answered locally, with the error Odoo would give for it.
func (s *Server) implementsBody(r *http.Request, body []byte) bool {
	p := r.URL.Path
	if service, ok := strings.CutPrefix(p, "/xmlrpc/2/"); ok {
		if _, known := s.methods[service]; !known {
			return false
		}
		lim := xmlrpc.Limits{MaxBytes: s.opt.MaxBodyBytes, MaxDepth: s.opt.MaxXMLDepth,
			MaxItems: xmlrpc.DefaultLimits.MaxItems}
		call, err := xmlrpc.DecodeCall(bytes.NewReader(body), lim)
		return err != nil || s.implementsCall(service, call.Method, call.Params)
	}

	var env struct {
		Params json.RawMessage `json:"params"`
	}
	if json.Unmarshal(body, &env) != nil {
		return true
	}
	params, err := decodeJSONObject(env.Params)
	if err != nil {
		return true
	}
	if p == "/jsonrpc" {
		service, _ := params["service"].(string)
		name, _ := params["method"].(string)
		args, _ := params["args"].([]any)
		return s.implementsCall(service, name, args)
	}
	model, _ := params["model"].(string)
	name, _ := params["method"].(string)
	return s.servesModelCall(model, name)
}

// implementsCall reports whether odoo-shim answers service.name(args) itself: a method of
// its table, on its own database, and for the object service a model method it implements.
func (s *Server) implementsCall(service, name string, args []any) bool {
	if _, ok := s.methods[service][name]; !ok {
		return false
	}
	ours := func(db any) bool { n, _ := db.(string); return n == s.store.Info().Name }
	switch {
	case service == "common" && (name == "login" || name == "authenticate"):
		return len(args) > 0 && ours(args[0])
	case service == "object":
		if len(args) < 5 || !ours(args[0]) {
			return false
		}
		model, _ := args[3].(string)
		method, _ := args[4].(string)
		return s.servesModelCall(model, method)
	case service == "db":
		// The upstream Odoo knows its databases and its master password (backups).
		return false
	}
	return true
}

// servesModelCall reports whether odoo-shim answers model.method itself in front of an
// Odoo. The read surface is not among them: Odoo's ORM has every field and model, and its
// web client reads far more than odoo-shim serves, so reads go to the upstream.
func (s *Server) servesModelCall(model, method string) bool {
	if _, ok := s.models[model][method]; !ok {
		return false
	}
	_, read := s.models["res.partner"][method] // res.partner serves only reads
	return !read && method != "context_get"
}
