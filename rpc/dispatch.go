package rpc

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// method handles one Odoo service method. params are the call's positional arguments as
// decoded from XML-RPC or JSON-RPC; a nil result is Python's None.
type method func(ctx context.Context, params []any) (any, error)

// methodTable lists every service method odoo-shim answers, by Odoo's names.
func (s *Server) methodTable() map[string]map[string]method {
	return map[string]map[string]method{
		"common": {
			"version":      s.commonVersion,
			"login":        s.commonLogin,
			"authenticate": s.commonAuthenticate,
			"about":        s.commonAbout,
			"set_loglevel": s.commonSetLoglevel,
		},
		"object": {
			"execute_kw": s.objectExecuteKw,
			"execute":    s.objectExecute,
		},
		"db": s.dbMethods(),
	}
}

// dispatch runs service.name, turning panics into an internal error.
func (s *Server) dispatch(ctx context.Context, service, name string, params []any) (res any,
	err error) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("rpc panic", "service", service, "method", name, "panic", fmt.Sprint(v),
				"stack", string(debug.Stack()))
			res, err = nil, fmt.Errorf("panic in %s.%s: %v", service, name, v)
		}
	}()

	methods, ok := s.methods[service]
	if !ok {
		return nil, models.Errorf(models.KindKeyError, "'%s'", service)
	}
	m, ok := methods[name]
	if !ok {
		switch service {
		case "object":
			return nil, models.Errorf(models.KindNameError, "Method not available %s", name)
		case "db":
			return nil, models.Errorf(models.KindKeyError, "'Method not found: %s'", clip(name))
		}
		return nil, models.Errorf(models.KindException, "Method not found: %s", name)
	}
	return m(ctx, params)
}

// serverVersion is what Odoo calls release.version: the configured build string, else the
// database's series.
func (s *Server) serverVersion() string {
	if s.opt.ServerVersion != "" {
		return s.opt.ServerVersion
	}
	return s.store.Info().Serie()
}

func (s *Server) commonVersion(_ context.Context, params []any) (any, error) {
	if err := arity("exp_version", params, 0, 0); err != nil {
		return nil, err
	}
	info := s.store.Info()
	version := s.serverVersion()
	return xmlrpc.Struct{
		{Name: "server_version", Value: version},
		{Name: "server_version_info", Value: []any{info.Major, info.Minor, 0, "final", 0, ""}},
		{Name: "server_serie", Value: info.Serie()},
		{Name: "protocol_version", Value: 1},
	}, nil
}

func (s *Server) commonAbout(_ context.Context, params []any) (any, error) {
	if err := arity("exp_about", params, 0, 1); err != nil {
		return nil, err
	}
	const about = "See http://openerp.com"
	if len(params) > 0 && truthy(params[0]) {
		return []any{about, s.serverVersion()}, nil
	}
	return about, nil
}

func (s *Server) commonSetLoglevel(_ context.Context, params []any) (any, error) {
	if err := arity("exp_set_loglevel", params, 1, 2); err != nil {
		return nil, err
	}
	return true, nil
}

func (s *Server) commonLogin(ctx context.Context, params []any) (any, error) {
	if err := arity("exp_login", params, 3, 3); err != nil {
		return nil, err
	}
	return s.authenticate(ctx, params[0], params[1], params[2])
}

func (s *Server) commonAuthenticate(ctx context.Context, params []any) (any, error) {
	if err := arity("exp_authenticate", params, 4, 4); err != nil {
		return nil, err
	}
	return s.authenticate(ctx, params[0], params[1], params[2])
}

// authenticate answers a uid, or False for bad credentials, as Odoo does (no fault).
func (s *Server) authenticate(ctx context.Context, db, login, password any) (any, error) {
	if err := s.checkDB(db); err != nil {
		return nil, err
	}
	l, lok := login.(string)
	p, pok := password.(string)
	if !lok || !pok {
		return false, nil
	}

	uid, err := s.store.Authenticate(ctx, l, p)
	if e, ok := models.AsError(err); ok && e.Kind == models.KindAccessDenied {
		s.log.Warn("login failed", "login", clip(l), "client_ip", models.ClientOf(ctx))
		return false, nil
	}
	if err != nil {
		return nil, err
	}
	return uid, nil
}

// checkDB refuses a database other than the one odoo-shim serves, as PostgreSQL would
// refuse Odoo's connection to a database that does not exist.
func (s *Server) checkDB(db any) error {
	name, _ := db.(string)
	if name != s.store.Info().Name {
		return models.Errorf(models.KindOperationalError,
			"connection to server failed: FATAL:  database \"%s\" does not exist", name)
	}
	return nil
}

// arity checks a positional argument count the way Python reports a bad one.
func arity(fn string, params []any, min, max int) error {
	switch {
	case len(params) < min:
		return models.Errorf(models.KindTypeError,
			"%s() missing %d required positional argument(s)", fn, min-len(params))
	case len(params) > max:
		return models.Errorf(models.KindTypeError,
			"%s() takes %d positional arguments but %d were given", fn, max, len(params))
	}
	return nil
}

// truthy is Python's truth test for a decoded value.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case int64:
		return x != 0
	case int:
		return x != 0
	case float64:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}
