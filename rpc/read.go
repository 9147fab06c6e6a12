package rpc

import (
	"context"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// readMethods are the read surface both res.users and res.partner serve.
func (s *Server) readMethods() map[string]modelMethod {
	return map[string]modelMethod{
		"search":       s.search,
		"search_count": s.searchCount,
		"search_read":  s.searchRead,
		"read":         s.read,
		"name_search":  s.nameSearch,
		"fields_get":   s.fieldsGet,
	}
}

// signature is a Python method's parameters after self (and after the record ids of a
// multi-record method), with their defaults; nil is None.
type signature struct {
	fn     string
	names  []string
	defs   []any // defaults of the last len(defs) names
	extra  bool  // the method takes **kwargs (search_read passes them to read)
	legacy map[string]string
}

// bind matches positional and keyword arguments to the signature as Python does, with
// Python's TypeError texts. The context keyword is taken out first, as Odoo's call_kw does.
func (sig signature) bind(args []any, kwargs map[string]any) (map[string]any,
	map[string]any, error) {
	callCtx, err := contextOf(kwargs)
	if err != nil {
		return nil, nil, err
	}
	if len(args) > len(sig.names) {
		return nil, nil, models.Errorf(models.KindTypeError,
			"%s() takes at most %d positional arguments but %d were given", sig.fn,
			len(sig.names)+1, len(args)+1)
	}
	bound := map[string]any{}
	for i, a := range args {
		bound[sig.names[i]] = a
	}
	for k, v := range kwargs {
		if k == "context" {
			continue
		}
		if alias, ok := sig.legacy[k]; ok {
			k = alias
		}
		if !contains(sig.names, k) {
			if sig.extra {
				bound[k] = v
				continue
			}
			return nil, nil, models.Errorf(models.KindTypeError,
				"%s() got an unexpected keyword argument '%s'", sig.fn, clip(k))
		}
		if _, dup := bound[k]; dup {
			return nil, nil, models.Errorf(models.KindTypeError,
				"%s() got multiple values for argument '%s'", sig.fn, k)
		}
		bound[k] = v
	}
	return sig.defaults(bound), callCtx, sig.required(bound)
}

func (sig signature) defaults(bound map[string]any) map[string]any {
	first := len(sig.names) - len(sig.defs)
	for i := first; i < len(sig.names); i++ {
		if _, ok := bound[sig.names[i]]; !ok {
			bound[sig.names[i]] = sig.defs[i-first]
		}
	}
	return bound
}

func (sig signature) required(bound map[string]any) error {
	for _, n := range sig.names[:len(sig.names)-len(sig.defs)] {
		if _, ok := bound[n]; !ok {
			return models.Errorf(models.KindTypeError,
				"%s() missing 1 required positional argument: '%s'", sig.fn, n)
		}
	}
	return nil
}

// contextOf is kwargs["context"]: a struct, or any false value for none.
func contextOf(kwargs map[string]any) (map[string]any, error) {
	switch c := kwargs["context"].(type) {
	case map[string]any:
		return c, nil
	default:
		if !truthy(c) {
			return map[string]any{}, nil
		}
	}
	return nil, models.Errorf(models.KindValueError, "context must be a dictionary, not %s",
		pyType(kwargs["context"]))
}

// optInt reads offset and limit: None and False mean unset.
func optInt(name string, v any) (int64, error) {
	if v == nil || v == false {
		return 0, nil
	}
	n, ok := models.AsInt64(v)
	if !ok || n < 0 {
		return 0, models.Errorf(models.KindValueError,
			"%s must be a non-negative integer, not %s", name, pyType(v))
	}
	return n, nil
}

func optString(name string, v any) (string, error) {
	if v == nil || v == false {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", models.Errorf(models.KindTypeError, "%s must be a string, not %s", name,
			pyType(v))
	}
	return s, nil
}

// optNames reads a list of field or attribute names; None and False mean all.
func optNames(name string, v any) ([]string, error) {
	if v == nil || v == false {
		return nil, nil
	}
	if s, ok := v.(string); ok {
		return []string{s}, nil // Odoo's read() accepts a single name
	}
	list, ok := v.([]any)
	if !ok {
		return nil, models.Errorf(models.KindTypeError, "%s must be a list, not %s", name,
			pyType(v))
	}
	out := make([]string, 0, len(list))
	for _, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, models.Errorf(models.KindTypeError,
				"%s must be a list of strings, not of %s", name, pyType(x))
		}
		out = append(out, s)
	}
	return out, nil
}

// query builds a models.Query from bound search arguments.
func query(c modelCall, b, callCtx map[string]any) (models.Query, error) {
	q := models.Query{Caller: c.uid, Model: c.model, Domain: b["domain"], Context: callCtx}
	var err error
	if q.Offset, err = optInt("offset", b["offset"]); err != nil {
		return q, err
	}
	if q.Limit, err = optInt("limit", b["limit"]); err != nil {
		return q, err
	}
	q.Order, err = optString("order", b["order"])
	return q, err
}

var (
	searchSig = signature{fn: "search", names: []string{"domain", "offset", "limit", "order"},
		defs: []any{int64(0), nil, nil}}
	countSig = signature{fn: "search_count", names: []string{"domain", "limit"},
		defs: []any{nil}}
	searchReadSig = signature{fn: "search_read",
		names: []string{"domain", "fields", "offset", "limit", "order"},
		defs:  []any{nil, nil, int64(0), nil, nil}, extra: true}
	readSig       = signature{fn: "read", names: []string{"fields", "load"}, defs: []any{nil, "_classic_read"}}
	nameSearchSig = signature{fn: "name_search",
		names: []string{"name", "domain", "operator", "limit"},
		defs:  []any{"", nil, "ilike", int64(100)}, legacy: map[string]string{"args": "domain"}}
	fieldsGetSig = signature{fn: "fields_get", names: []string{"allfields", "attributes"},
		defs: []any{nil, nil}}
	contextGetSig = signature{fn: "context_get"}
)

func (s *Server) search(ctx context.Context, c modelCall) (any, error) {
	b, callCtx, err := searchSig.bind(c.args, c.kwargs)
	if err != nil {
		return nil, err
	}
	q, err := query(c, b, callCtx)
	if err != nil {
		return nil, err
	}
	ids, err := s.store.Search(ctx, q)
	if err != nil {
		return nil, err
	}
	return idsOut(ids), nil
}

func (s *Server) searchCount(ctx context.Context, c modelCall) (any, error) {
	b, callCtx, err := countSig.bind(c.args, c.kwargs)
	if err != nil {
		return nil, err
	}
	q, err := query(c, b, callCtx)
	if err != nil {
		return nil, err
	}
	return s.store.SearchCount(ctx, q)
}

func (s *Server) searchRead(ctx context.Context, c modelCall) (any, error) {
	b, callCtx, err := searchReadSig.bind(c.args, c.kwargs)
	if err != nil {
		return nil, err
	}
	for k := range b {
		if !contains(searchReadSig.names, k) && k != "load" {
			return nil, models.Errorf(models.KindTypeError,
				"read() got an unexpected keyword argument '%s'", clip(k))
		}
	}
	q, err := query(c, b, callCtx)
	if err != nil {
		return nil, err
	}
	fields, err := optNames("fields", b["fields"])
	if err != nil {
		return nil, err
	}
	recs, err := s.store.SearchRead(ctx, q, fields)
	if err != nil {
		return nil, err
	}
	return recordsOut(recs), nil
}

// read is read(ids, fields=None, load='_classic_read'), a multi-record method.
func (s *Server) read(ctx context.Context, c modelCall) (any, error) {
	if len(c.args) == 0 {
		return nil, models.NewError(models.KindTypeError,
			"read() missing 1 required positional argument: 'ids'")
	}
	ids, err := asIDs(c.args[0])
	if err != nil {
		return nil, err
	}
	b, callCtx, err := readSig.bind(c.args[1:], c.kwargs)
	if err != nil {
		return nil, err
	}
	fields, err := optNames("fields", b["fields"])
	if err != nil {
		return nil, err
	}
	recs, err := s.store.Read(ctx, ids, models.ReadOptions{Caller: c.uid, Model: c.model,
		Fields: fields, Classic: b["load"] == "_classic_read", Context: callCtx})
	if err != nil {
		return nil, err
	}
	return recordsOut(recs), nil
}

func (s *Server) nameSearch(ctx context.Context, c modelCall) (any, error) {
	b, callCtx, err := nameSearchSig.bind(c.args, c.kwargs)
	if err != nil {
		return nil, err
	}
	name, err := optString("name", b["name"])
	if err != nil {
		return nil, err
	}
	operator, err := optString("operator", b["operator"])
	if err != nil {
		return nil, err
	}
	limit, err := optInt("limit", b["limit"])
	if err != nil {
		return nil, err
	}
	q := models.Query{Caller: c.uid, Model: c.model, Domain: b["domain"], Limit: limit,
		Context: callCtx}
	pairs, err := s.store.NameSearch(ctx, q, name, strings.ToLower(operator))
	if err != nil {
		return nil, err
	}
	return pairs, nil
}

func (s *Server) fieldsGet(ctx context.Context, c modelCall) (any, error) {
	b, _, err := fieldsGetSig.bind(c.args, c.kwargs)
	if err != nil {
		return nil, err
	}
	names, err := optNames("allfields", b["allfields"])
	if err != nil {
		return nil, err
	}
	attrs, err := optNames("attributes", b["attributes"])
	if err != nil {
		return nil, err
	}
	rec, err := s.store.FieldsGet(ctx, c.model, names, attrs)
	if err != nil {
		return nil, err
	}
	return recordOut(rec), nil
}

// usersContextGet is res.users.context_get(), which OdooRPC calls after login.
func (s *Server) usersContextGet(ctx context.Context, c modelCall) (any, error) {
	if _, _, err := contextGetSig.bind(c.args, c.kwargs); err != nil {
		return nil, err
	}
	rec, err := s.store.ContextGet(ctx, c.uid)
	if err != nil {
		return nil, err
	}
	return recordOut(rec), nil
}

func idsOut(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func recordsOut(recs []models.Record) []any {
	out := make([]any, len(recs))
	for i, r := range recs {
		out[i] = recordOut(r)
	}
	return out
}

// recordOut turns a models.Record into a struct whose members keep their order.
func recordOut(r models.Record) xmlrpc.Struct {
	out := make(xmlrpc.Struct, len(r))
	for i, v := range r {
		out[i] = xmlrpc.Member{Name: v.Name, Value: valueOut(v.Value)}
	}
	return out
}

func valueOut(v any) any {
	switch x := v.(type) {
	case models.Record:
		return recordOut(x)
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = valueOut(x[i])
		}
		return out
	}
	return v
}
