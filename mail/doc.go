// Package mail builds Odoo-compatible password-reset and invitation e-mails and delivers
// them through an Odoo ir_mail_server configuration with go-smtp.
//
// BuildMessage writes the MIME message with the header order and formats of the mails Odoo 18
// sends (Message-Id, Date with zone -0000, an empty Return-Path, multipart/alternative with
// quoted-printable parts), while the body texts are the service's own. Sender implements
// models.Mailer: one SMTP connection per batch, TLS and AUTH (PLAIN, LOGIN, XOAUTH2) as
// the server row says, each mail's MAIL, RCPT and DATA sent as one group where the server
// offers PIPELINING (RFC 2920), each mail's outcome reported as the server answers, and every
// failure as a *models.DeliveryError. Sender.Test is Odoo's Test Connection button.
package mail
