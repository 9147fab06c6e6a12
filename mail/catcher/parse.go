package catcher

import (
	"bytes"
	"encoding/base64"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

const (
	// maxDepth bounds multipart nesting; reset mails have one level.
	maxDepth = 5
	// maxPart bounds what one part may decode to, for display.
	maxPart = 4 << 20
)

// field is one header field, unfolded and decoded.
type field struct {
	Name, Value string
}

// parsed is a received message taken apart for the inbox.
type parsed struct {
	Header  []field
	From    string
	To      string
	Subject string
	Text    string // the first text/plain part, LF line ends
	HTML    string // the first text/html part
	Links   []string
}

var wordDecoder = mime.WordDecoder{}

// parse takes data apart. It never fails: what it cannot read it leaves empty, and a
// message without headers is shown as text.
func parse(data []byte) parsed {
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return parsed{Text: string(data)}
	}

	p := parsed{
		Header:  orderedHeader(data),
		From:    decodeHeader(msg.Header.Get("From")),
		To:      decodeHeader(msg.Header.Get("To")),
		Subject: decodeHeader(msg.Header.Get("Subject")),
	}
	p.Text, p.HTML = bodies(textproto.MIMEHeader(msg.Header), msg.Body, 0)
	p.Text = strings.ReplaceAll(p.Text, "\r\n", "\n")
	p.Links = links(p.Text, p.HTML)
	return p
}

func decodeHeader(v string) string {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// orderedHeader returns the header fields in the order they were sent, which net/mail's map
// loses. Unfolding removes only the CRLF, as RFC 5322 §2.2.3 says.
func orderedHeader(data []byte) []field {
	head := data
	if i := bytes.Index(data, []byte("\r\n\r\n")); i >= 0 {
		head = data[:i]
	} else if i := bytes.Index(data, []byte("\n\n")); i >= 0 {
		head = data[:i]
	}

	var out []field
	for _, line := range strings.Split(string(head), "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1].Value += line
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if ok {
			out = append(out, field{Name: name, Value: strings.TrimSpace(value)})
		}
	}

	for i := range out {
		out[i].Value = decodeHeader(out[i].Value)
	}
	return out
}

// bodies returns the first text/plain and text/html contents found in the entity.
func bodies(h textproto.MIMEHeader, body io.Reader, depth int) (text, htmlBody string) {
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mt = "text/plain"
	}

	if strings.HasPrefix(mt, "multipart/") {
		if depth >= maxDepth || params["boundary"] == "" {
			return "", ""
		}
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err != nil {
				return text, htmlBody
			}
			t, h := bodies(part.Header, part, depth+1)
			text, htmlBody = cmpOr(text, t), cmpOr(htmlBody, h)
		}
	}

	raw, _ := io.ReadAll(io.LimitReader(decodeTransfer(h, body), maxPart))
	switch mt {
	case "text/plain":
		return string(raw), ""
	case "text/html":
		return "", string(raw)
	}
	return "", ""
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func decodeTransfer(h textproto.MIMEHeader, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, body)
	}
	return body
}

var (
	textLink = regexp.MustCompile(`https?://[^\s<>"]+`)
	hrefLink = regexp.MustCompile(`href="(https?://[^"]+)"`)
)

// links returns the web links of the text part, or of the HTML part when the text part has
// none, without duplicates.
func links(text, htmlBody string) []string {
	var found []string
	for _, l := range textLink.FindAllString(text, -1) {
		found = append(found, strings.TrimRight(l, ".,;:!?)'"))
	}
	if len(found) == 0 {
		for _, m := range hrefLink.FindAllStringSubmatch(htmlBody, -1) {
			found = append(found, html.UnescapeString(m[1]))
		}
	}

	out := []string{}
	seen := make(map[string]bool)
	for _, l := range found {
		if !seen[l] {
			seen[l] = true
			out = append(out, l)
		}
	}
	return out
}
