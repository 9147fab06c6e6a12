package models

import (
	"errors"
	"fmt"
)

// Kind is the Odoo (Python) exception class an Error stands for. It decides the XML-RPC
// fault code and the JSON-RPC error name a caller receives.
type Kind int

// Exception classes odoo-shim raises, as Odoo would.
const (
	KindUserError         Kind = iota + 1 // odoo.exceptions.UserError
	KindAccessError                       // odoo.exceptions.AccessError
	KindAccessDenied                      // odoo.exceptions.AccessDenied
	KindMissingError                      // odoo.exceptions.MissingError
	KindValidationError                   // odoo.exceptions.ValidationError
	KindException                         // builtins.Exception, a plain Python exception
	KindAttributeError                    // builtins.AttributeError
	KindTypeError                         // builtins.TypeError
	KindValueError                        // builtins.ValueError
	KindKeyError                          // builtins.KeyError
	KindNameError                         // builtins.NameError
	KindOperationalError                  // psycopg2.OperationalError
	KindUnboundLocalError                 // builtins.UnboundLocalError
	KindOverflowError                     // builtins.OverflowError
	KindSessionExpired                    // odoo.http.SessionExpiredException
	KindAssertionError                    // builtins.AssertionError
	// KindMailDelivery is ir_mail_server's MailDeliveryException, which Odoo 15 and 16
	// pass to the caller unchanged (17+ turn it into a UserError).
	KindMailDelivery
)

var kindNames = map[Kind]string{
	KindUserError:         "odoo.exceptions.UserError",
	KindAccessError:       "odoo.exceptions.AccessError",
	KindAccessDenied:      "odoo.exceptions.AccessDenied",
	KindMissingError:      "odoo.exceptions.MissingError",
	KindValidationError:   "odoo.exceptions.ValidationError",
	KindException:         "builtins.Exception",
	KindAttributeError:    "builtins.AttributeError",
	KindTypeError:         "builtins.TypeError",
	KindValueError:        "builtins.ValueError",
	KindKeyError:          "builtins.KeyError",
	KindNameError:         "builtins.NameError",
	KindOperationalError:  "psycopg2.OperationalError",
	KindUnboundLocalError: "builtins.UnboundLocalError",
	KindOverflowError:     "builtins.OverflowError",
	KindSessionExpired:    "odoo.http.SessionExpiredException",
	KindAssertionError:    "builtins.AssertionError",
	KindMailDelivery:      "odoo.addons.base.models.ir_mail_server.MailDeliveryException",
}

// PythonName returns the qualified Python class name, e.g. "odoo.exceptions.UserError".
func (k Kind) PythonName() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "builtins.Exception"
}

// IsUserError reports whether the class derives from odoo.exceptions.UserError, which is
// what makes Odoo answer with a warning-class fault instead of a traceback.
func (k Kind) IsUserError() bool {
	switch k {
	case KindUserError, KindAccessError, KindAccessDenied, KindMissingError,
		KindValidationError:
		return true
	}
	return false
}

// Error is an error Odoo would raise, with the message its caller sees (already translated).
type Error struct {
	Kind    Kind
	Message string
	// Detail, when set, is what an administrator needs besides Odoo's own words (which
	// mails failed and why). RPC faults carry it after the message; public pages, whose
	// visitors must learn nothing about accounts, show Message alone.
	Detail string
}

// Error returns the message the caller sees.
func (e *Error) Error() string { return e.Message }

// NewError returns an *Error of the given kind with message msg.
func NewError(kind Kind, msg string) *Error {
	return &Error{Kind: kind, Message: msg}
}

// Errorf returns an *Error of the given kind with a formatted message.
func Errorf(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// ErrAccessDenied is Odoo's AccessDenied with its default text, given for bad credentials.
var ErrAccessDenied = &Error{Kind: KindAccessDenied, Message: "Access Denied"}

// ErrSessionExpired is what a web-client route raises when the browser's session has no
// signed-in user (none, unknown, or ended by a password change).
var ErrSessionExpired = &Error{Kind: KindSessionExpired, Message: "Session expired"}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
