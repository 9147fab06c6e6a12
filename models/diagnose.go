package models

import (
	"errors"
	"slices"
	"strings"
	"unicode"
)

// Conditions a Mailer marks, with errors.Is, so that Hint can name them without reading
// the error's text.
var (
	// ErrClientCertificate: the client certificate or private key of "certificate"
	// authentication could not be loaded; nothing was sent.
	ErrClientCertificate = errors.New("unusable client certificate")
	// ErrNoGreeting: the server took the connection but sent no greeting while odoo-shim
	// waited in clear text, as a server that expects SSL/TLS from the first byte does.
	ErrNoGreeting = errors.New("no greeting")
)

// Plain-words diagnoses that more than one kind of reply leads to.
const (
	hintSize = "the message is too large for the server (its size limit, ESMTP SIZE): on " +
		"Odoo 18+ check-mail compares the server's SIZE with max_email_size, and " +
		"--update-size stores it, so that Odoo turns larger attachments into links"
	hintFull  = "the recipient's mailbox is full: the recipient has to make room"
	hintQuota = "the account's sending limit is reached (Gmail: about 500 mails a day, " +
		"Google Workspace 2,000); set mail.daily_quota (and mail.rate_per_minute) below it"
	hintRelay = "the server will not relay this mail for odoo-shim: log in (set smtp_user " +
		"and smtp_pass; most servers relay only for clients that logged in), or have the " +
		"server's relay rules allow this host and sender (in check-mail the recipient is " +
		"Odoo's own test address, nothing to fix there)"
)

// Hint says in plain words what most likely needs fixing for this failure, or "" when
// the error says it all. check-mail prints it, and faults carry it.
//
// What odoo-shim itself found out decides first, then the reply's code and enhanced
// status code (RFC 3463), and only then words of the reply's text: "limit" is in size
// refusals and quota refusals alike, "certificate" in the server's and the client's.
func (e *DeliveryError) Hint() string {
	text := strings.ToLower(e.Text + " " + errText(e.Err))
	for _, hint := range []func(string) string{e.localHint, e.codeHint, e.wordHint,
		e.stageHint} {
		if h := hint(text); h != "" {
			return h
		}
	}
	if e.Temporary {
		return "a temporary failure: odoo-shim tries again later"
	}
	return ""
}

// localHint covers failures without a reply: the connection, TLS and certificates.
func (e *DeliveryError) localHint(text string) string {
	switch {
	case e.Refused:
		return "nothing accepts connections on that host and port: check smtp_host and " +
			"smtp_port, and that the mail server is running"
	case errors.Is(e, ErrClientCertificate):
		return "the stored client certificate or key cannot be used: smtp_ssl_certificate " +
			"and smtp_ssl_private_key must be PEM (as Odoo stores them, or base64 of it), " +
			"a certificate with its matching key, and the key without a passphrase"
	// A TLS alert from the server about a certificate is about ours: Go reports a
	// server certificate it does not trust itself, as an x509 error.
	case strings.Contains(text, "remote error: tls:") && strings.Contains(text, "certificate"):
		return "the server refused odoo-shim's client certificate (or wants one): use " +
			"certificate authentication with a smtp_ssl_certificate the server trusts " +
			"(issued by the CA it accepts clients from, not expired)"
	case strings.Contains(text, "x509:") || strings.Contains(text, "could not be verified"):
		return "the server's TLS certificate is not trusted: install the CA with " +
			"mail.ca_file, or accept it as Odoo 18 does with mail.insecure_skip_verify " +
			"(or for this server only, mail.insecure_servers)"
	case errors.Is(e, ErrNoGreeting):
		return "the server did not answer in time: the port may expect SSL/TLS from the " +
			"first byte (set smtp_encryption to ssl; port 465 always does), or smtp_host " +
			"and smtp_port point at something other than a mail server"
	}
	return ""
}

// codeHint decides by the reply code and the enhanced status code.
func (e *DeliveryError) codeHint(text string) string {
	ec := e.enhanced()
	switch {
	case e.Code == 534 && ec == "5.7.9":
		return "the account needs an App Password: create one (Google account, " +
			"Security, 2-Step Verification, App passwords) and store it as the password"
	case e.Code == 534 || e.Code == 535:
		return "the server rejected the login: check smtp_user and smtp_pass; Gmail and " +
			"Google Workspace take a 16-character App Password or OAuth, not the account " +
			"password"
	case e.Code == 530:
		return "the server wants a login (set smtp_user and smtp_pass) or STARTTLS first " +
			"(set the encryption to TLS/STARTTLS)"
	// X.3.4 message too big for system, X.2.3 message length exceeds administrative limit.
	case strings.HasSuffix(ec, ".3.4"), strings.HasSuffix(ec, ".2.3"):
		return hintSize
	case strings.HasSuffix(ec, ".2.2"): // mailbox full
		return hintFull
	case e.Code == 552: // exceeded storage allocation: the message's or the mailbox's
		switch {
		case sizeWords(text):
			return hintSize
		case strings.Contains(text, "full") || strings.Contains(text, "quota"):
			return hintFull
		}
		return "the server refused the message's size, or the mailbox is full"
	}
	return ""
}

// wordHint decides by words of the reply's text, for replies whose codes say too little.
func (e *DeliveryError) wordHint(text string) string {
	if e.Code == 0 {
		return ""
	}
	switch {
	case strings.Contains(text, "relay"):
		return hintRelay
	case sizeWords(text):
		return hintSize
	case strings.Contains(text, "mailbox") && (strings.Contains(text, "full") ||
		strings.Contains(text, "quota")):
		return hintFull
	case strings.Contains(text, "quota") || strings.Contains(text, "limit") ||
		hasWord(text, "rate"):
		return hintQuota
	}
	return ""
}

// stageHint decides by the stage that failed.
func (e *DeliveryError) stageHint(text string) string {
	switch {
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
		return "the server refused the recipient: check the user's e-mail address (in " +
			"check-mail it is Odoo's noreply@odoo.com: a server refusing it delivers only " +
			"to its own domains, or only for clients that logged in)"
	case e.Stage == StageData && e.Code >= 500:
		return "the server refused the message itself (a policy or spam filter)"
	case e.Stage == StageAuth && strings.Contains(text, "not supported"):
		return "the server offers no login mechanism odoo-shim can use (PLAIN, LOGIN); " +
			"check the encryption: many servers offer AUTH only after STARTTLS"
	}
	return ""
}

// enhanced is the reply's enhanced status code ("5.3.4"), which Text starts with when the
// server sent one, or "".
func (e *DeliveryError) enhanced() string {
	first, _, _ := strings.Cut(e.Text, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return first
}

// sizeWords reports whether a reply's text speaks of the message's size.
func sizeWords(text string) bool {
	return hasWord(text, "size") || strings.Contains(text, "too big") ||
		strings.Contains(text, "too large")
}

// hasWord reports whether word stands on its own in text ("rate", not "separate").
func hasWord(text, word string) bool {
	notLetter := func(r rune) bool { return !unicode.IsLetter(r) }
	return slices.Contains(strings.FieldsFunc(text, notLetter), word)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
