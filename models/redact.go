package models

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"unicode"
)

// tokenParam matches a token query parameter as servers quote it, quoted-printable
// ("token=3D…") included.
var tokenParam = regexp.MustCompile(`(?i)\btoken=(3D)?[^\s&"'<>;,)\]]+`)

// redactLink removes a mail's link, its token (whole or in pieces) and any token parameter
// from what a mail server said about it, and makes the text safe to print: a content
// filter may quote the URLs it objects to, and a delivery error ends up in logs, in the
// outbox listing and in the caller's answer.
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
	}
	s = tokenParam.ReplaceAllString(s, "token=[token]")
	if u, err := url.Parse(link); err == nil && link != "" {
		s = redactPieces(s, u.Query().Get("token"))
	}
	return Printable(s)
}

// pieceLen is the shortest run of a token's characters that is redacted: a reply may
// quote the token cut by a line break (quoted-printable wraps lines at 76 characters).
const pieceLen = 12

// redactPieces replaces every run of at least pieceLen characters of tok found in s.
func redactPieces(s, tok string) string {
	if len(tok) < pieceLen {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		n := longestPiece(s[i:], tok)
		if n >= pieceLen {
			b.WriteString("[token]")
			i += n
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// longestPiece returns the length of the longest prefix of s that occurs in tok.
func longestPiece(s, tok string) int {
	n := 0
	for n < len(s) && strings.Contains(tok, s[:n+1]) {
		n++
	}
	return n
}

// Printable replaces control characters, which a server could send to recolour or
// retitle the terminal that shows its reply, with U+FFFD; line breaks and tabs stay.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' || !unicode.IsControl(r) {
			return r
		}
		return unicode.ReplacementChar
	}, s)
}

// redacted is an error whose text had a link removed; errors.Is and As still see the
// original.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }
