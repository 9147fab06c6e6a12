package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
)

// Odoo 19's JSON-2 API: POST /json/2/<model>/<method> with an API key as bearer token and a
// JSON object of named arguments ("ids", "context", the method's parameters). It answers
// the bare result, or an error object with a real HTTP status (rpc.md §4).

// json2Signature is what JSON-2 binds a method's named arguments against: whether it runs
// on records (takes "ids") and, when checked here, its parameters, required first.
type json2Signature struct {
	records  bool
	checked  bool // the parameters below are the method's whole signature
	required []string
	optional []string
}

// json2Signatures lists the methods whose signatures odoo-shim knows. The @api.model read
// methods refuse ids here and check their own arguments. A method served by the object
// service but missing here gets its named arguments as keyword arguments, with ids as the
// first positional argument when given.
var json2Signatures = map[string]json2Signature{
	"res.users.action_reset_password": {records: true, checked: true},
	"res.users.reset_password":        {checked: true, required: []string{"login"}},
	"res.users.search":                {},
	"res.users.search_count":          {},
	"res.users.search_read":           {},
	"res.users.name_search":           {},
	"res.users.fields_get":            {},
	"res.users.context_get":           {},
	"res.partner.search":              {},
	"res.partner.search_count":        {},
	"res.partner.search_read":         {},
	"res.partner.name_search":         {},
	"res.partner.fields_get":          {},
}

var bearerRE = regexp.MustCompile(`(?i)^bearer\s+(.+)$`)

// httpError is one of werkzeug's HTTP exceptions, which Odoo answers with its own status.
type httpError struct {
	status  int
	class   string // werkzeug.exceptions class name, e.g. NotFound
	message string
	header  http.Header
}

func (e *httpError) Error() string { return e.message }

// serveJSON2 answers POST /json/2/{model}/{method}. Before Odoo 19 the route does not
// exist, so it is Odoo's plain 404 there.
func (s *Server) serveJSON2(w http.ResponseWriter, r *http.Request) {
	if s.store.Info().Major < 19 || !s.json2Database(r) {
		drain(r)
		notFoundPage(w)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !isJSON2(ct) {
		drain(r)
		w.Header().Set("Accept", "application/json")
		htmlError(w, http.StatusUnsupportedMediaType, "Unsupported Media Type",
			"The server does not support the media type transmitted in the request.")
		return
	}

	model, name := r.PathValue("model"), r.PathValue("method")
	res, err := s.json2Call(r, model, name)
	s.logCall("json2", model+"."+name, err)
	if err != nil {
		s.writeJSON2Error(w, err)
		return
	}
	writeJSON2(w, http.StatusOK, toJSON(res), s)
}

// serveJSON2Elsewhere answers the paths under /json/2 that name no model and method.
func (s *Server) serveJSON2Elsewhere(w http.ResponseWriter, r *http.Request) {
	drain(r)
	if s.store.Info().Major < 19 {
		notFoundPage(w)
		return
	}
	s.writeJSON2Error(w, &httpError{status: http.StatusNotFound, class: "NotFound",
		message: "Did you mean POST /json/2/<model>/<method>?"})
}

// json2Database reports whether the request is for the database odoo-shim serves: Odoo
// picks it from X-Odoo-Database, and routes a request for another one nowhere.
func (s *Server) json2Database(r *http.Request) bool {
	db := r.Header.Get("X-Odoo-Database")
	return db == "" || db == s.store.Info().Name
}

func (s *Server) json2Call(r *http.Request, model, name string) (any, error) {
	uid, err := s.bearerUser(r)
	if err != nil {
		return nil, err
	}
	body, err := readJSON2Body(r)
	if err != nil {
		return nil, err
	}

	if strings.HasPrefix(name, "_") {
		return nil, models.Errorf(models.KindAccessError, models.MsgPrivateMethod, model, name)
	}
	m, err := s.findMethod(model, name)
	if err != nil {
		if e, ok := models.AsError(err); ok && e.Kind == models.KindUserError {
			err = &httpError{status: http.StatusNotFound, class: "NotFound",
				message: "the model " + pyRepr(model) + " does not exist"}
		} else if ok {
			err = &httpError{status: http.StatusNotFound, class: "NotFound",
				message: e.Message}
		}
		return nil, err
	}
	args, kwargs, err := bindJSON2(model, name, body)
	if err != nil {
		return nil, err
	}
	return m(r.Context(), modelCall{uid: uid, model: model, method: name, args: args,
		kwargs: kwargs})
}

// bearerUser authenticates the API key of the Authorization header.
func (s *Server) bearerUser(r *http.Request) (int64, error) {
	m := bearerRE.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		return 0, &httpError{status: http.StatusUnauthorized, class: "Unauthorized",
			message: "User not authenticated, use an API Key with a Bearer " +
				"Authorization header.",
			header: http.Header{"Www-Authenticate": {"bearer"}}}
	}
	uid, err := s.store.APIKeyUser(r.Context(), strings.TrimSpace(m[1]))
	if e, ok := models.AsError(err); ok && e.Kind == models.KindAccessDenied {
		s.log.Warn("json-2 key refused", "client_ip", models.ClientOf(r.Context()))
		return 0, &httpError{status: http.StatusUnauthorized, class: "Unauthorized",
			message: "Invalid apikey", header: http.Header{"Www-Authenticate": {"bearer"}}}
	}
	return uid, err
}

func readJSON2Body(r *http.Request) (map[string]any, error) {
	raw, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge,
			class: "RequestEntityTooLarge", message: "The data value transmitted exceeds " +
				"the capacity limit."}
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil // Odoo accepts an empty body
	}
	if !json.Valid(raw) {
		return nil, &httpError{status: http.StatusBadRequest, class: "BadRequest",
			message: "Invalid JSON data"}
	}
	body, err := decodeJSONObject(raw)
	if err != nil {
		return nil, &httpError{status: http.StatusBadRequest, class: "BadRequest",
			message: "Invalid JSON data: the body must be an object of named arguments"}
	}
	return body, nil
}

// bindJSON2 turns the named arguments into the object service's args and kwargs, refusing
// what Python's signature binding refuses with its own words.
func bindJSON2(model, name string, body map[string]any) ([]any, map[string]any, error) {
	ids, hasIDs := body["ids"]
	kwargs := map[string]any{}
	for k, v := range body {
		if k != "ids" {
			kwargs[k] = v
		}
	}

	sig, known := json2Signatures[model+"."+name]
	if !known {
		if hasIDs {
			return []any{ids}, kwargs, nil
		}
		return nil, kwargs, nil
	}
	if hasIDs && !sig.records {
		return nil, nil, unprocessable("cannot call " + model + "." + name + " with ids")
	}
	if sig.checked {
		if err := checkParams(sig, kwargs); err != nil {
			return nil, nil, err
		}
	}
	if !sig.records {
		return nil, kwargs, nil
	}
	if !hasIDs {
		ids = []any{}
	}
	return []any{ids}, kwargs, nil
}

func checkParams(sig json2Signature, kwargs map[string]any) error {
	for _, p := range sig.required {
		if _, ok := kwargs[p]; !ok {
			return unprocessable("missing a required argument: '" + p + "'")
		}
	}
	var extra []string
	for k := range kwargs {
		if k != "context" && !contains(sig.required, k) && !contains(sig.optional, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return unprocessable("got an unexpected keyword argument '" + extra[0] + "'")
	}
	return nil
}

func unprocessable(msg string) error {
	return &httpError{status: http.StatusUnprocessableEntity, class: "UnprocessableEntity",
		message: msg}
}

// writeJSON2Error answers err with the status and error object faults.go chooses.
func (s *Server) writeJSON2Error(w http.ResponseWriter, err error) {
	status, f, header := json2Fault(err, s.log)
	for k, v := range header {
		w.Header()[k] = v
	}
	args := []any{f.message}
	if f.httpStatus != 0 {
		args = append(args, f.httpStatus)
	}
	writeJSON2(w, status, orderedObject{{"name", f.name}, {"message", f.message},
		{"arguments", args}, {"context", map[string]any{}}, {"debug", f.debug}}, s)
}

func writeJSON2(w http.ResponseWriter, status int, v any, s *Server) {
	body, err := marshalNoEscape(v)
	if err != nil {
		s.log.Error("encode json-2 response", "error", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func isJSON2(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	return ct == "application/json"
}

// notFoundPage is werkzeug's 404 page, which Odoo sends for a route it does not have.
func notFoundPage(w http.ResponseWriter) {
	htmlError(w, http.StatusNotFound, "Not Found", "The requested URL was not found on the "+
		"server. If you entered the URL manually please check your spelling and try again.")
}
