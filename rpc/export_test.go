package rpc

import (
	"encoding/json"
	"net/http"

	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// SessionProbe answers any request with who its session cookie belongs to, through the
// server's session resolver: the check a web-client route makes before a model call.
func (s *Server) SessionProbe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.sessionOf(r.Context(), r)
		var res any
		if err == nil {
			res = xmlrpc.Struct{{Name: "uid", Value: sess.UID}, {Name: "db", Value: sess.DB},
				{Name: "login", Value: sess.Login}, {Name: "lang", Value: sess.Context["lang"]}}
		}
		writeJSONResponse(w, json.RawMessage("7"), res, err, s)
	})
}

// ForgetSessionsOf drops what the resolver remembers of uid's sessions.
func (s *Server) ForgetSessionsOf(uid int64) { s.sessions.forgetUser(uid) }
