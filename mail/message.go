package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// BuildOptions supplies what BuildMessage needs besides the mail itself, so that tests can
// fix it.
type BuildOptions struct {
	Now      time.Time // the Date header and the Message-Id time; zero means time.Now()
	Hostname string    // the Message-Id host; "" means os.Hostname()
	Rand     io.Reader // digits of the Message-Id and the boundary; nil means crypto/rand
}

// dateLayout is RFC 5322 §3.3 in UTC with the zone written -0000, as Odoo writes it from a
// naive UTC time.
const dateLayout = "Mon, 02 Jan 2006 15:04:05 -0000"

// BuildMessage returns the complete RFC 5322 message for m with CRLF line ends: the headers
// in the order the recorded Odoo 18 mails show them, then a multipart/alternative body with
// a text/plain and a text/html part, both UTF-8 and quoted-printable.
func BuildMessage(m models.ResetMail, opt BuildOptions) ([]byte, error) {
	opt = opt.withDefaults()

	msgID := m.MessageID
	if msgID == "" {
		var err error
		if msgID, err = messageID(opt); err != nil {
			return nil, err
		}
	}
	boundary, err := randomDigits(opt.Rand, 19)
	if err != nil {
		return nil, err
	}
	boundary = "===============" + boundary + "=="

	text, html, err := renderBodies(m)
	if err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}

	var b strings.Builder
	if err := writeHeader(&b, m, opt.Now, msgID, boundary); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}

	var out bytes.Buffer
	out.Grow(b.Len() + 3*len(text) + 2*len(html))
	out.WriteString(b.String())
	out.WriteString("\r\n")
	if err := writeParts(&out, boundary, text, html); err != nil {
		return nil, fmt.Errorf("build message: %w", err)
	}
	return out.Bytes(), nil
}

func (o BuildOptions) withDefaults() BuildOptions {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Hostname == "" {
		o.Hostname = hostname()
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return o
}

// hostname is os.Hostname, or "localhost" when the system has no name.
func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// writeHeader writes the header fields in Odoo 18's order.
func writeHeader(b *strings.Builder, m models.ResetMail, now time.Time,
	msgID, boundary string) error {

	if strings.TrimSpace(m.To) == "" {
		return errors.New("no recipient")
	}
	from, err := addressTokens("From", m.From)
	if err != nil {
		return err
	}
	replyTo := from
	if m.ReplyTo != "" {
		if replyTo, err = addressTokens("Reply-To", m.ReplyTo); err != nil {
			return err
		}
	}
	to, err := addressListTokens("To", m.To)
	if err != nil {
		return err
	}

	// Message-Id is never folded, as in Odoo (§4.2 of the mail spec).
	b.WriteString("Message-Id: " + msgID + "\r\n")
	writeField(b, "Subject", textTokens("Subject", m.Subject))
	writeField(b, "Reply-To", replyTo)
	writeField(b, "To", to)
	writeField(b, "Date", []string{now.UTC().Format(dateLayout)})
	// Odoo 18 writes the field even when it has no bounce address, with an empty value.
	writeField(b, "Return-Path", plainTokensOrNone(sanitize(strings.TrimSpace(m.ReturnPath))))
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/alternative;\r\n boundary=\"" + boundary + "\"\r\n")
	writeField(b, "From", from)
	return nil
}

func plainTokensOrNone(s string) []string {
	if s == "" {
		return nil
	}
	return plainTokens(s)
}

// NewMessageID returns a fresh Message-Id in Odoo 15-18's format for a mail built at now
// on host ("" means os.Hostname()).
func NewMessageID(now time.Time, host string) (string, error) {
	return messageID(BuildOptions{Now: now, Hostname: host}.withDefaults())
}

// messageID returns <R.T-openerp-private@HOST>, Odoo 15-18's format for mails without a
// record: R is 15 random digits and T the Unix time printed like Python's "%.15f".
func messageID(opt BuildOptions) (string, error) {
	r, err := randomDigits(opt.Rand, 15)
	if err != nil {
		return "", err
	}
	t := float64(opt.Now.UnixNano()) / 1e9
	return "<" + r + "." + strconv.FormatFloat(t, 'f', 15, 64) +
		"-openerp-private@" + opt.Hostname + ">", nil
}

// randomDigits returns n (at most 19) decimal digits read from r.
func randomDigits(r io.Reader, n int) (string, error) {
	var buf [8]byte
	if _, err := io.ReadFull(r, buf[:]); err != nil {
		return "", fmt.Errorf("read random digits: %w", err)
	}
	mod := uint64(1)
	for range n {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", n, binary.BigEndian.Uint64(buf[:])%mod), nil
}

// writeParts writes the two body parts and the closing delimiter.
func writeParts(w *bytes.Buffer, boundary string, text, html []byte) error {
	parts := []struct {
		mediaType string
		body      []byte
	}{
		{"text/plain", text},
		{"text/html", html},
	}
	for _, p := range parts {
		w.WriteString("--" + boundary + "\r\n")
		w.WriteString("Content-Type: " + p.mediaType + "; charset=\"utf-8\"\r\n")
		w.WriteString("Content-Transfer-Encoding: quoted-printable\r\n\r\n")

		// The writer turns LF into CRLF and keeps lines within 76 characters with soft
		// breaks, which readers remove again when they decode.
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(p.body); err != nil {
			return fmt.Errorf("encode %s part: %w", p.mediaType, err)
		}
		if err := qp.Close(); err != nil {
			return fmt.Errorf("encode %s part: %w", p.mediaType, err)
		}
		w.WriteString("\r\n")
	}
	w.WriteString("--" + boundary + "--\r\n")
	return nil
}
