// Package rpc is odoo-shim's HTTP face: Odoo's XML-RPC (/xmlrpc/2/common, /xmlrpc/2/object)
// and JSON-RPC (/jsonrpc) services and the /web/reset_password page, answering as Odoo 18
// answers. One table maps Odoo service and method names to handlers, and one place turns
// errors into XML-RPC faults and JSON-RPC errors.
package rpc
