package mail

import (
	"encoding/base64"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

const (
	// maxLine is the folding width RFC 5322 §2.1.1 recommends and Odoo's mail policy uses.
	maxLine = 78
	// maxWord is the longest encoded word RFC 2047 §2 allows.
	maxWord = 75
	// maxToken is how long an unencoded word may be before it is encoded instead, so that no
	// line can pass the hard limit of 998 characters (RFC 5322 §2.1.1).
	maxToken = 900

	wordPrefixQ = "=?utf-8?q?"
	wordPrefixB = "=?utf-8?b?"
	wordSuffix  = "?="
)

// writeField writes one header field, "Name: tokens", folded before a token whenever the
// line would pass maxLine columns. Tokens are joined by single spaces, so unfolding (dropping
// each CRLF) gives back the value.
func writeField(b *strings.Builder, name string, tokens []string) {
	b.WriteString(name)
	b.WriteByte(':')
	col := len(name) + 1

	for i, t := range tokens {
		if i > 0 && col+1+len(t) > maxLine {
			b.WriteString("\r\n")
			col = 0
		}
		b.WriteByte(' ')
		b.WriteString(t)
		col += 1 + len(t)
	}

	b.WriteString("\r\n")
}

// textTokens splits an unstructured value (RFC 5322 unstructured, e.g. Subject) into the
// tokens writeField folds between. name is the field name, needed to size the first word.
func textTokens(name, value string) []string {
	value = sanitize(value)
	if value == "" {
		return nil
	}
	if needsEncoding(value) {
		return encodeWords(value, maxLine-len(name)-2)
	}
	return plainTokens(value)
}

// sanitize turns control characters, CR and LF included, into spaces so that no value can
// end the header field it is written in (header injection).
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// needsEncoding reports whether s must be written as RFC 2047 encoded words: it is not
// ASCII, it holds text a decoder would mistake for an encoded word, or a word is too long
// to stay under the hard line limit.
func needsEncoding(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return true
		}
	}
	if strings.Contains(s, "=?") {
		return true
	}
	for _, t := range strings.Fields(s) {
		if len(t) > maxToken {
			return true
		}
	}
	return false
}

// plainTokens splits s at single spaces only. A fold placed inside a run of spaces would
// not survive unfolding by readers that collapse whitespace, so such runs stay in a token.
func plainTokens(s string) []string {
	var out []string
	start := 0
	for i := 1; i < len(s)-1; i++ {
		if s[i] == ' ' && s[i-1] != ' ' && s[i+1] != ' ' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// encodeWords encodes s as UTF-8 encoded words, the first at most first characters long
// and the others at most maxWord. Every character, spaces included, sits inside a word:
// decoders drop the whitespace between adjacent encoded words (RFC 2047 §6.2), which is how
// the spaces of Odoo issue #185416 got lost. Q or B is chosen, whichever is shorter.
func encodeWords(s string, first int) []string {
	first = min(max(first, len(wordPrefixB)+len(wordSuffix)+4), maxWord)
	if bChunkLen(s) < qChunkLen(s) {
		return splitWords(s, first, wordPrefixB, bChunkLen, encodeB)
	}
	return splitWords(s, first, wordPrefixQ, qChunkLen, encodeQ)
}

// splitWords cuts s at character boundaries into encoded words no longer than the limits.
func splitWords(s string, first int, prefix string, size func(string) int,
	encode func(string) string) []string {

	var words []string
	limit := first - len(prefix) - len(wordSuffix)
	start := 0
	for i, r := range s {
		end := i + utf8.RuneLen(r)
		if size(s[start:end]) > limit && i > start {
			words = append(words, prefix+encode(s[start:i])+wordSuffix)
			start = i
			limit = maxWord - len(prefix) - len(wordSuffix)
		}
	}
	return append(words, prefix+encode(s[start:])+wordSuffix)
}

// qSafe reports whether b may appear as itself in a Q-encoded word in any header position,
// phrases included (RFC 2047 §5 rule 3).
func qSafe(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!*+-/", b) >= 0
}

func qChunkLen(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if qSafe(s[i]) || s[i] == ' ' {
			n++
		} else {
			n += 3
		}
	}
	return n
}

func encodeQ(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ':
			b.WriteByte('_')
		case qSafe(c):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "=%02X", c)
		}
	}
	return b.String()
}

func bChunkLen(s string) int { return base64.StdEncoding.EncodedLen(len(s)) }

func encodeB(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// addressTokens parses an address field value such as `"Name" <addr>` and formats it again:
// an ASCII name is quoted, any other name becomes encoded words, and a bare address stays
// bare, as in Odoo's To header.
func addressTokens(name, value string) ([]string, error) {
	a, err := mail.ParseAddress(value)
	if err != nil {
		return nil, fmt.Errorf("parse %s address: %w", strings.ToLower(name), err)
	}

	addr := a.Address
	display := strings.TrimSpace(sanitize(a.Name))
	if display == "" {
		return []string{addr}, nil
	}

	var tokens []string
	if needsEncoding(display) {
		tokens = encodeWords(display, maxLine-len(name)-2)
	} else {
		tokens = plainTokens(quote(display))
	}
	return append(tokens, "<"+addr+">"), nil
}

// quote writes s as an RFC 5322 quoted-string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// bareAddresses returns the addr-specs of an address list, for RCPT TO.
func bareAddresses(value string) ([]string, error) {
	list, err := mail.ParseAddressList(value)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.Address
	}
	return out, nil
}

// addressListTokens is addressTokens for a comma-separated list of addresses.
func addressListTokens(name, value string) ([]string, error) {
	list, err := mail.ParseAddressList(value)
	if err != nil {
		return nil, fmt.Errorf("parse %s address: %w", strings.ToLower(name), err)
	}
	var tokens []string
	for i, a := range list {
		t, err := addressTokens(name, a.String())
		if err != nil {
			return nil, err
		}
		if i < len(list)-1 {
			t[len(t)-1] += ","
		}
		tokens = append(tokens, t...)
	}
	return tokens, nil
}

// bareAddress returns the addr-spec of an address field value, for the SMTP envelope.
func bareAddress(value string) (string, error) {
	a, err := mail.ParseAddress(value)
	if err != nil {
		return "", err
	}
	return a.Address, nil
}
