// Package models holds odoo-shim's view of an Odoo database: users, partners, groups,
// credentials, signup tokens, mail servers and the password-reset flow, with Odoo's
// semantics version by version. It talks to PostgreSQL and to a Mailer interface; it knows
// nothing of HTTP, XML-RPC, SMTP or configuration files.
package models
