package rpc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// serveXMLRPC answers POST /xmlrpc/2/{service}. Like Odoo it always answers 200 with
// text/xml, faults included, because xmlrpc.client raises on any other status.
func (s *Server) serveXMLRPC(w http.ResponseWriter, r *http.Request) {
	s.serveXML(w, r, false)
}

// serveLegacyXMLRPC answers POST /xmlrpc/{service}, Odoo's first endpoint, still routed
// in 15-19: the same services, with the fault code a string (odoo-client-lib uses it).
func (s *Server) serveLegacyXMLRPC(w http.ResponseWriter, r *http.Request) {
	s.serveXML(w, r, true)
}

func (s *Server) serveXML(w http.ResponseWriter, r *http.Request, legacy bool) {
	service := r.PathValue("service")
	lim := xmlrpc.Limits{MaxBytes: s.opt.MaxBodyBytes, MaxDepth: s.opt.MaxXMLDepth,
		MaxItems: xmlrpc.DefaultLimits.MaxItems}

	var buf bytes.Buffer
	call, err := xmlrpc.DecodeCall(r.Body, lim)
	if err == nil {
		var res any
		res, err = s.dispatch(r.Context(), service, call.Method, call.Params)
		if err == nil {
			err = xmlrpc.EncodeResponse(&buf, res)
		}
		s.logCall(service, call.Method, err)
	}
	if err != nil {
		buf.Reset()
		f := toFault(err, s.log)
		var encErr error
		if legacy {
			code, msg := f.legacy()
			encErr = xmlrpc.EncodeFaultString(&buf, code, msg)
		} else {
			encErr = xmlrpc.EncodeFault(&buf, f.code, f.faultString())
		}
		if encErr != nil {
			s.log.Error("encode fault", "error", encErr)
		}
	}

	drain(r)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Content-Length", fmt.Sprint(buf.Len()))
	_, _ = w.Write(buf.Bytes())
}

// jsonRequest is a JSON-RPC 2.0 envelope; Odoo ignores "method" and routes by path.
type jsonRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Params  json.RawMessage `json:"params"`
}

// serveJSONRPC answers POST /jsonrpc: {"params": {"service", "method", "args"}}.
func (s *Server) serveJSONRPC(w http.ResponseWriter, r *http.Request) {
	if !isJSON(r.Header.Get("Content-Type")) {
		drain(r)
		htmlError(w, http.StatusBadRequest, "Bad Request", "Request inferred type is "+
			"compatible with ['http'] but '/jsonrpc' is type='json'.")
		return
	}
	req, ok := readJSONRequest(w, r)
	if !ok {
		return
	}

	res, err := s.jsonCall(r, req.Params)
	writeJSONResponse(w, req.ID, res, err, s)
}

func (s *Server) jsonCall(r *http.Request, raw json.RawMessage) (any, error) {
	params, err := decodeJSONObject(raw)
	if err != nil {
		return nil, err
	}
	for k := range params {
		if k != "service" && k != "method" && k != "args" {
			return nil, models.Errorf(models.KindTypeError,
				"jsonrpc() got an unexpected keyword argument '%s'", k)
		}
	}
	for _, k := range []string{"service", "method", "args"} {
		if _, ok := params[k]; !ok {
			return nil, models.Errorf(models.KindTypeError,
				"jsonrpc() missing 1 required positional argument: '%s'", k)
		}
	}
	service, _ := params["service"].(string)
	name, _ := params["method"].(string)
	args, ok := params["args"].([]any)
	if !ok && params["args"] != nil {
		return nil, models.NewError(models.KindTypeError, "args must be a list")
	}

	res, err := s.dispatch(r.Context(), service, name, args)
	s.logCall(service, name, err)
	return res, err
}

// readJSONRequest parses the envelope; unparseable bodies get Odoo's plain-text 400.
func readJSONRequest(w http.ResponseWriter, r *http.Request) (*jsonRequest, bool) {
	body, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		http.Error(w, "Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	var probe any
	if err != nil || json.Unmarshal(body, &probe) != nil {
		http.Error(w, "Invalid JSON data", http.StatusBadRequest)
		return nil, false
	}
	var req jsonRequest
	if _, isObject := probe.(map[string]any); !isObject || json.Unmarshal(body, &req) != nil {
		http.Error(w, "Invalid JSON-RPC data", http.StatusBadRequest)
		return nil, false
	}
	return &req, true
}

// decodeJSONObject decodes params into Go values shaped like the XML-RPC decoder's:
// integers as int64, other numbers as float64.
func decodeJSONObject(raw json.RawMessage) (map[string]any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, models.NewError(models.KindTypeError, "params must be an object")
	}
	m, ok := fromJSON(v).(map[string]any)
	if !ok {
		return nil, models.NewError(models.KindTypeError, "params must be an object")
	}
	return m, nil
}

func fromJSON(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case []any:
		for i := range x {
			x[i] = fromJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSON(x[k])
		}
	}
	return v
}

// jsonError is Odoo's JSON-RPC error object.
type jsonError struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Data    jsonErrorData `json:"data"`
}

type jsonErrorData struct {
	Name      string         `json:"name"`
	Debug     string         `json:"debug"`
	Message   string         `json:"message"`
	Arguments []any          `json:"arguments"`
	Context   map[string]any `json:"context"`
}

// writeJSONResponse writes the envelope. A nil result with no error is Python's None, for
// which Odoo leaves out "result" altogether.
func writeJSONResponse(w http.ResponseWriter, id json.RawMessage, res any, err error,
	s *Server) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	env := []member{{"jsonrpc", "2.0"}, {"id", id}}
	if err != nil {
		f := toFault(err, s.log)
		env = append(env, member{"error", jsonError{Code: f.jsonCode(), Message: f.jsonTitle(),
			Data: jsonErrorData{Name: f.name, Debug: f.debug, Message: f.message,
				Arguments: []any{f.message}, Context: map[string]any{}}}})
	} else if res != nil {
		env = append(env, member{"result", toJSON(res)})
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if encErr := enc.Encode(orderedObject(env)); encErr != nil {
		s.log.Error("encode json-rpc response", "error", encErr)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

type member struct {
	name  string
	value any
}

// orderedObject is a JSON object whose members keep their order, as Python dicts do.
type orderedObject []member

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		k, _ := json.Marshal(m.name)
		buf.Write(k)
		buf.WriteByte(':')
		v, err := marshalNoEscape(m.value)
		if err != nil {
			return nil, err
		}
		buf.Write(v)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func marshalNoEscape(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// toJSON converts result values to what encoding/json writes as Odoo would.
func toJSON(v any) any {
	switch x := v.(type) {
	case xmlrpc.Struct:
		o := make(orderedObject, len(x))
		for i, m := range x {
			o[i] = member{m.Name, toJSON(m.Value)}
		}
		return o
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = toJSON(x[i])
		}
		return out
	}
	return v
}

func isJSON(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(contentType, ";")[0]))
	return ct == "application/json" || ct == "application/json-rpc"
}

// drain reads what is left of a request body (within the body limit) before answering:
// answering first and closing with unread data makes the client see a reset, not our fault.
func drain(r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
}

// logCall records the outcome of one call at the level it deserves. Arguments are never
// logged: they hold passwords and API keys.
func (s *Server) logCall(service, method string, err error) {
	if err == nil {
		s.log.Debug("rpc call", "service", clip(service), "method", clip(method))
		return
	}
	if e, ok := models.AsError(err); ok {
		s.log.Info("rpc call refused", "service", clip(service), "method", clip(method),
			"exception", e.Kind.PythonName())
	}
}

// clip bounds a caller-chosen text before it goes into the log.
func clip(s string) string {
	const max = 80
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
