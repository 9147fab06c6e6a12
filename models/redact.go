package models

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
)

// tokenParam matches a token query parameter as servers quote it, quoted-printable
// ("token=3D…") included.
var tokenParam = regexp.MustCompile(`(?i)\btoken=(3D)?[^\s&"'<>;,)\]]+`)

// redactLink removes a mail's link, and any token parameter, from what a mail server said
// about it: a content filter may quote the URLs it objects to, and a delivery error ends
// up in logs, in the outbox listing and in the caller's answer.
func redactLink(err error, link string) error {
	var de *DeliveryError
	if !errors.As(err, &de) {
		return err
	}
	clean := *de
	clean.Text = redactText(de.Text, link)
	if de.Err != nil {
		if msg := redactText(de.Err.Error(), link); msg != de.Err.Error() {
			clean.Err = &redacted{msg: msg, err: de.Err}
		}
	}
	if clean.Text == de.Text && clean.Err == de.Err {
		return err
	}
	return &clean
}

func redactText(s, link string) string {
	if link != "" {
		s = strings.ReplaceAll(s, link, "[link]")
		if u, err := url.Parse(link); err == nil {
			if tok := u.Query().Get("token"); len(tok) >= 8 {
				s = strings.ReplaceAll(s, tok, "[token]")
			}
		}
	}
	return tokenParam.ReplaceAllString(s, "token=[token]")
}

// redacted is an error whose text had a link removed; errors.Is and As still see the
// original.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
