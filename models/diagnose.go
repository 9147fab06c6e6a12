package models

import "strings"

// Hint says in plain words what most likely needs fixing for this failure, or "" when
// the error says it all. check-mail prints it, and faults carry it.
func (e *DeliveryError) Hint() string {
	text := strings.ToLower(e.Text + " " + errText(e.Err))
	switch {
	case e.Refused:
		return "nothing accepts connections on that host and port: check smtp_host and " +
			"smtp_port, and that the mail server is running"
	case strings.Contains(text, "certificate"):
		return "the server's TLS certificate is not trusted: install the CA with " +
			"mail.ca_file, or accept it as Odoo 18 does with mail.insecure_skip_verify " +
			"(or for this server only, mail.insecure_servers)"
	case e.Code == 534 && strings.Contains(text, "5.7.9"):
		return "the account needs an App Password: create one (Google account, " +
			"Security, 2-Step Verification, App passwords) and store it as the password"
	case e.Code == 534 || e.Code == 535:
		return "the server rejected the login: check smtp_user and smtp_pass; Gmail and " +
			"Google Workspace take a 16-character App Password or OAuth, not the account " +
			"password"
	case e.Code == 530:
		return "the server wants a login (set smtp_user and smtp_pass) or STARTTLS first " +
			"(set the encryption to TLS/STARTTLS)"
	}
	if h := e.stageHint(text); h != "" {
		return h
	}
	if e.Temporary {
		return "a temporary failure: odoo-shim tries again later"
	}
	return ""
}

func (e *DeliveryError) stageHint(text string) string {
	switch {
	case strings.Contains(text, "limit") || strings.Contains(text, "quota"):
		return "the account's sending limit is reached (Gmail: about 500 mails a day, " +
			"Google Workspace 2,000); set mail.daily_quota below it"
	case e.Stage == StageTLS && strings.Contains(text, "starttls extension"):
		return "the server offers no STARTTLS on this port: port 465 uses SSL/TLS, and " +
			"a server without encryption needs the encryption set to none"
	case e.Stage == StageTLS:
		return "check the encryption against the port: 465 uses SSL/TLS, 587 and 25 use " +
			"TLS (STARTTLS)"
	case e.Code == 421:
		return "the server is refusing work for now (busy, or too many connections or " +
			"mails): a temporary failure, odoo-shim tries again later"
	case e.Stage == StageConnect && e.Temporary && e.Code == 0:
		return "the server did not answer in time: check smtp_host and smtp_port, and " +
			"that outgoing connections to that port are allowed"
	case e.Stage == StageSender && e.Code >= 500:
		return "the server does not accept this sender: check the server's from_filter, " +
			"the company's e-mail and the notifications address (mail.default.from or the " +
			"alias domain)"
	case e.Stage == StageRcpt && e.Code >= 500:
		return "the server refused the recipient: check the user's e-mail address"
	case e.Code == 552:
		return "the server refused the message's size, or the mailbox is full"
	case e.Stage == StageData && e.Code >= 500:
		return "the server refused the message itself (a policy or spam filter)"
	case e.Stage == StageAuth && strings.Contains(text, "not supported"):
		return "the server offers no login mechanism odoo-shim can use (PLAIN, LOGIN); " +
			"check the encryption: many servers offer AUTH only after STARTTLS"
	}
	return ""
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
