package rpc

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// modelCall is one object-service call once db, uid and password have been checked.
type modelCall struct {
	uid    int64
	model  string
	method string
	args   []any
	kwargs map[string]any
}

// modelMethod serves one public method of one Odoo model.
type modelMethod func(ctx context.Context, c modelCall) (any, error)

// modelMethodTable is built once by New; look methods up in s.models.
func (s *Server) modelMethodTable() map[string]map[string]modelMethod {
	users := s.readMethods()
	users["action_reset_password"] = s.usersActionResetPassword
	users["reset_password"] = s.usersResetPassword
	users["context_get"] = s.usersContextGet
	return map[string]map[string]modelMethod{
		"res.users":   users,
		"res.partner": s.readMethods(),
	}
}

// objectExecuteKw is execute_kw(db, uid, password, model, method, args, kwargs=None).
func (s *Server) objectExecuteKw(ctx context.Context, params []any) (any, error) {
	if err := arity("execute_kw", params, 6, 7); err != nil {
		return nil, err
	}

	var kwargs map[string]any
	if len(params) == 7 {
		var err error
		if kwargs, err = asKwargs(params[6]); err != nil {
			return nil, err
		}
	}
	args, ok := params[5].([]any)
	if !ok {
		return nil, models.Errorf(models.KindTypeError, "args must be a list, not %s",
			pyType(params[5]))
	}
	return s.execute(ctx, params[:5], args, kwargs)
}

// objectExecute is execute(db, uid, password, model, method, *args): no keyword arguments,
// so no context either.
func (s *Server) objectExecute(ctx context.Context, params []any) (any, error) {
	if err := arity("execute", params, 5, len(params)); err != nil {
		return nil, err
	}
	return s.execute(ctx, params[:5], params[5:], nil)
}

// execute checks the database, the credentials and the method name in Odoo's order, then
// calls the model method.
func (s *Server) execute(ctx context.Context, head []any, args []any,
	kwargs map[string]any) (any, error) {
	if err := s.checkDB(head[0]); err != nil {
		return nil, err
	}
	uid, err := asUID(head[1])
	if err != nil {
		return nil, err
	}
	password, ok := head[2].(string)
	if !ok {
		return nil, models.ErrAccessDenied
	}
	if err := s.store.Check(ctx, uid, password); err != nil {
		return nil, err
	}

	model, _ := head[3].(string)
	name, _ := head[4].(string)
	return s.callModel(ctx, modelCall{uid: uid, model: model, method: name, args: args,
		kwargs: kwargs})
}

// callModel runs a model method for an authenticated user: execute_kw once the password
// is checked, the web client's call_kw and call_button once the session is.
func (s *Server) callModel(ctx context.Context, c modelCall) (any, error) {
	if strings.HasPrefix(c.method, "_") {
		return nil, models.Errorf(models.KindAccessError, models.MsgPrivateMethod, c.model,
			c.method)
	}
	m, err := s.findMethod(c.model, c.method)
	if err != nil {
		return nil, err
	}
	return m(ctx, c)
}

func (s *Server) findMethod(model, name string) (modelMethod, error) {
	methods, ok := s.models[model]
	if !ok {
		return nil, models.Errorf(models.KindUserError, models.MsgNoModel, model)
	}
	m, ok := methods[name]
	if !ok {
		return nil, models.Errorf(models.KindAttributeError, models.MsgNoMethod, model, name)
	}
	return m, nil
}

// usersActionResetPassword is res.users.action_reset_password(ids).
func (s *Server) usersActionResetPassword(ctx context.Context, c modelCall) (any, error) {
	callCtx, err := takeContext(c.kwargs, "action_reset_password")
	if err != nil {
		return nil, err
	}
	if len(c.args) != 1 {
		return nil, models.Errorf(models.KindTypeError, "action_reset_password() takes "+
			"1 positional argument (the record ids) but %d were given", len(c.args))
	}
	ids, err := asIDs(c.args[0])
	if err != nil {
		return nil, err
	}

	n, err := s.store.ActionResetPassword(ctx, models.ResetRequest{Caller: c.uid, IDs: ids,
		Context: callCtx})
	if err != nil || n == nil {
		return nil, err
	}
	return notificationAction(n), nil
}

// usersResetPassword is res.users.reset_password(login), an @api.model method.
func (s *Server) usersResetPassword(ctx context.Context, c modelCall) (any, error) {
	callCtx, err := takeContext(c.kwargs, "reset_password", "login")
	if err != nil {
		return nil, err
	}
	args := c.args
	if login, ok := c.kwargs["login"]; ok {
		args = append(args, login)
	}
	if len(args) != 1 {
		return nil, models.Errorf(models.KindTypeError,
			"reset_password() takes 1 argument (login) but %d were given", len(args))
	}
	login, ok := args[0].(string)
	if !ok {
		return nil, models.NewError(models.KindException, "login must be a string")
	}

	n, err := s.store.ResetPassword(ctx, c.uid, login, callCtx)
	if err != nil || n == nil {
		return nil, err
	}
	return notificationAction(n), nil
}

// notificationAction is the client action Odoo 18 returns, members in Odoo's order.
func notificationAction(n *models.Notification) xmlrpc.Struct {
	return xmlrpc.Struct{
		{Name: "type", Value: "ir.actions.client"},
		{Name: "tag", Value: "display_notification"},
		{Name: "params", Value: xmlrpc.Struct{
			{Name: "title", Value: n.Title},
			{Name: "message", Value: n.Message},
			{Name: "sticky", Value: n.Sticky},
		}},
	}
}

// takeContext returns kwargs["context"], refusing keyword arguments the method lacks.
func takeContext(kwargs map[string]any, fn string, allowed ...string) (map[string]any, error) {
	var extra []string
	for k := range kwargs {
		if k != "context" && !contains(allowed, k) {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, models.Errorf(models.KindTypeError,
			"%s() got an unexpected keyword argument '%s'", fn, extra[0])
	}

	switch c := kwargs["context"].(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return c, nil
	case string:
		if c == "" {
			return map[string]any{}, nil
		}
	}
	return nil, models.Errorf(models.KindValueError, "context must be a dictionary, not %s",
		pyType(kwargs["context"]))
}

// asKwargs accepts a struct, or any false value in its place (None, False, "", [], 0),
// as Odoo's execute_kw does with "kw or {}".
func asKwargs(v any) (map[string]any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	if !truthy(v) {
		return nil, nil
	}
	return nil, models.Errorf(models.KindTypeError,
		"keyword arguments must be a dictionary, not %s", pyType(v))
}

// asUID reads the uid the way Odoo's dispatcher does, with Python's int(): integers,
// floats (truncated), booleans and decimal text are accepted.
func asUID(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		if math.IsNaN(x) {
			return 0, models.NewError(models.KindValueError, "cannot convert float NaN to integer")
		}
		if math.IsInf(x, 0) {
			return 0, models.NewError(models.KindOverflowError,
				"cannot convert float infinity to integer")
		}
		if math.Abs(x) < 1<<62 {
			return int64(x), nil
		}
		return 0, models.ErrAccessDenied // a uid no row can have
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64); err == nil {
			return n, nil
		}
		return 0, models.Errorf(models.KindValueError,
			"invalid literal for int() with base 10: %s", pyRepr(x))
	}
	return 0, models.Errorf(models.KindTypeError,
		"int() argument must be a string, a bytes-like object or a real number, not '%s'",
		pyType(v))
}

// asIDs reads a record id or a list of ids, as Odoo's browse accepts them.
func asIDs(v any) ([]int64, error) {
	if id, ok := models.AsInt64(v); ok {
		return []int64{id}, nil
	}
	list, ok := v.([]any)
	if !ok {
		if v == false {
			return nil, nil
		}
		return nil, models.Errorf(models.KindValueError,
			"record ids must be integers, not %s", pyType(v))
	}
	ids := make([]int64, 0, len(list))
	for _, item := range list {
		id, ok := models.AsInt64(item)
		if !ok {
			return nil, models.Errorf(models.KindValueError,
				"record ids must be integers, not %s", pyType(item))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// pyRepr quotes a short text as Python's repr would, cut to keep messages bounded.
func pyRepr(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// pyType names a decoded value's type as Python would.
func pyType(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any:
		return "list"
	case map[string]any:
		return "dict"
	case []byte:
		return "bytes"
	}
	return fmt.Sprintf("%T", v)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
