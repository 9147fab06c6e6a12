// Package models holds odoo-shim's view of an Odoo database: users, partners, groups,
// credentials, signup tokens, mail servers and the password-reset flow, with Odoo's
// semantics version by version, and odoo-shim's durable mail outbox (outbox.go). It talks to
// PostgreSQL, to a Mailer interface and to a TokenRefresher; it knows nothing of HTTP,
// XML-RPC, SMTP or configuration files.
package models
