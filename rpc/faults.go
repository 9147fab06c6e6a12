package rpc

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/odoo-shim/odoo-shim/models"
	"github.com/odoo-shim/odoo-shim/rpc/xmlrpc"
)

// Odoo's XML-RPC fault codes (odoo/service/wsgi_server.py, unchanged since Odoo 8).
const (
	faultApplication  = 1
	faultWarning      = 2
	faultAccessDenied = 3
	faultAccessError  = 4
)

// fault is an error as Odoo reports it to an RPC caller.
type fault struct {
	code    int    // XML-RPC faultCode
	expired bool   // a session expired: JSON-RPC code 100 instead of 200
	name    string // Python class, for JSON-RPC's data.name
	message string // the exception's message
	debug   string // Python-style traceback, Odoo's data.debug and code-1 faultString
	// httpStatus is set for werkzeug's HTTP exceptions, whose JSON-2 arguments carry it.
	httpStatus int
}

// faultString is what an XML-RPC client reads: the message for Odoo's own exceptions, the
// traceback for everything else.
func (f fault) faultString() string {
	if f.code == faultApplication {
		return f.debug
	}
	return f.message
}

// legacy is the fault as the legacy /xmlrpc/<service> endpoints send it: a string code
// naming Odoo's warning class with the message, and an empty string, for Odoo's own
// exceptions; "AccessDenied" with the message; else the message with the traceback.
func (f fault) legacy() (code, str string) {
	switch f.name {
	case "odoo.exceptions.AccessDenied":
		return "AccessDenied", f.message
	case "odoo.exceptions.MissingError":
		return "warning -- MissingError\n\n" + f.message, ""
	case "odoo.exceptions.AccessError":
		return "warning -- AccessError\n\n" + f.message, ""
	case "odoo.exceptions.UserError", "odoo.exceptions.ValidationError":
		return "warning -- UserError\n\n" + f.message, ""
	}
	return f.message, f.debug
}

// internalMessage is all a caller learns of an unexpected failure; the details are logged.
const internalMessage = "odoo-shim could not complete the call; the server log has the details"

// toFault maps any error to the fault Odoo would send. It and json2Fault are the only
// places that map errors.
func toFault(err error, log *slog.Logger) fault {
	var de *xmlrpc.DecodeError
	if errors.As(err, &de) {
		return newFault(faultApplication, "xml.parsers.expat.ExpatError", de.Msg)
	}
	if errors.Is(err, xmlrpc.ErrNone) {
		return newFault(faultApplication, "builtins.TypeError", xmlrpc.ErrNone.Error())
	}

	e, ok := models.AsError(err)
	if !ok {
		log.Error("rpc call failed", "error", err)
		return newFault(faultApplication, "builtins.Exception", internalMessage)
	}

	code := faultApplication
	switch {
	case e.Kind == models.KindAccessError:
		code = faultAccessError
	case e.Kind == models.KindAccessDenied:
		code = faultAccessDenied
	case e.Kind.IsUserError():
		code = faultWarning
	}
	message := e.Message
	if e.Detail != "" {
		message += "\n\n" + e.Detail
	}
	f := newFault(code, e.Kind.PythonName(), message)
	f.expired = e.Kind == models.KindSessionExpired
	return f
}

// jsonCode and jsonTitle are the JSON-RPC error's code and message: Odoo uses 100 and its
// own title for an expired session, so that the web client shows its sign-in again.
func (f fault) jsonCode() int {
	if f.expired {
		return 100
	}
	return 200
}

func (f fault) jsonTitle() string {
	if f.expired {
		return "Odoo Session Expired"
	}
	return "Odoo Server Error"
}

// json2Fault maps err to Odoo 19's JSON-2 answer: the HTTP status, the error, and the
// headers an HTTP exception brings (WWW-Authenticate for a missing key).
func json2Fault(err error, log *slog.Logger) (int, fault, http.Header) {
	var he *httpError
	if errors.As(err, &he) {
		f := newFault(faultApplication, "werkzeug.exceptions."+he.class, he.message)
		f.httpStatus = he.status
		return he.status, f, he.header
	}

	f := toFault(err, log)
	e, ok := models.AsError(err)
	switch {
	case !ok:
		return http.StatusInternalServerError, f, nil
	case e.Kind == models.KindAccessDenied || e.Kind == models.KindAccessError:
		return http.StatusForbidden, f, nil
	case e.Kind == models.KindMissingError:
		return http.StatusNotFound, f, nil
	case e.Kind.IsUserError():
		return http.StatusUnprocessableEntity, f, nil
	}
	return http.StatusInternalServerError, f, nil
}

func newFault(code int, name, message string) fault {
	return fault{code: code, name: name, message: message, debug: traceback(name, message)}
}

// traceback writes a Python-style traceback whose last line is "Class: message", which is
// the part clients parse. odoo-shim has no Python frames to show, so it says where it is.
func traceback(name, message string) string {
	short := name[strings.LastIndexByte(name, '.')+1:]
	if strings.HasPrefix(name, "odoo.") || strings.HasPrefix(name, "psycopg2.") ||
		strings.HasPrefix(name, "xml.") {
		short = name
	}
	return "Traceback (most recent call last):\n" +
		"  File \"odoo-shim\", line 1, in dispatch\n" +
		short + ": " + message
}
