package models

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Odoo 18+ signup tokens are stateless: version byte 1, the expiry as 8 little-endian bytes,
// an HMAC-SHA256 keyed by database.secret, then the signed JSON payload, all base64url
// without padding. The HMAC input is the Python repr of the tuple ("signup", text), where
// text is "1:" + payload + ":" + expiry; Odoo verifies it over the payload as embedded.
const (
	tokenVersion = 1
	tokenScope   = "signup"
	tokenHeader  = 1 + 8 + sha256.Size
	maxTokenLen  = 4096
)

// ErrBadToken is returned for a token that is malformed, forged or expired.
var ErrBadToken = errors.New("invalid signup token")

// SignupPayload is what an Odoo 18 signup token signs: the partner, the ids of its active
// users in Odoo's order, their latest login time (Unix seconds) and the partner's
// signup_type ("" stands for Python's False).
type SignupPayload struct {
	PartnerID  int64
	UserIDs    []int64
	LoginDate  *int64
	SignupType string
}

// JSON returns the payload serialised as Python's json.dumps does by default, so that the
// token is byte-identical to the one Odoo would mint.
func (p SignupPayload) JSON() string {
	var b strings.Builder
	b.WriteString("[")
	b.WriteString(strconv.FormatInt(p.PartnerID, 10))
	b.WriteString(", [")
	for i, id := range p.UserIDs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteString("], ")
	if p.LoginDate == nil {
		b.WriteString("null")
	} else {
		b.WriteString(strconv.FormatInt(*p.LoginDate, 10))
	}
	b.WriteString(", ")
	if p.SignupType == "" {
		b.WriteString("false")
	} else {
		b.WriteString(pyJSONString(p.SignupType))
	}
	b.WriteString("]")
	return b.String()
}

// Equal reports whether two payloads name the same partner state, as Odoo compares them.
func (p SignupPayload) Equal(q SignupPayload) bool {
	if p.PartnerID != q.PartnerID || p.SignupType != q.SignupType {
		return false
	}
	if (p.LoginDate == nil) != (q.LoginDate == nil) ||
		(p.LoginDate != nil && *p.LoginDate != *q.LoginDate) {
		return false
	}
	if len(p.UserIDs) != len(q.UserIDs) {
		return false
	}
	for i := range p.UserIDs {
		if p.UserIDs[i] != q.UserIDs[i] {
			return false
		}
	}
	return true
}

// SignToken mints a token for payload expiring at exp (Unix seconds).
func SignToken(secret string, p SignupPayload, exp int64) string {
	msg := p.JSON()
	buf := make([]byte, 0, tokenHeader+len(msg))
	buf = append(buf, tokenVersion)
	buf = binary.LittleEndian.AppendUint64(buf, uint64(exp))
	buf = append(buf, tokenMAC(secret, msg, exp)...)
	buf = append(buf, msg...)
	return base64.RawURLEncoding.EncodeToString(buf)
}

// TokenParts is a decoded token whose signature has been checked.
type TokenParts struct {
	Expiry  int64
	Payload SignupPayload
}

// VerifyToken checks a token's signature and expiry at now and decodes its payload. It does
// not compare the payload with the database; see Store.PartnerFromToken.
func VerifyToken(secret, token string, now time.Time) (*TokenParts, error) {
	raw, err := decodeToken(token)
	if err != nil {
		return nil, err
	}

	exp := int64(binary.LittleEndian.Uint64(raw[1:9]))
	mac, msg := raw[9:tokenHeader], raw[tokenHeader:]
	if !utf8.Valid(msg) {
		return nil, ErrBadToken
	}
	if subtle.ConstantTimeCompare(mac, tokenMAC(secret, string(msg), exp)) != 1 {
		return nil, ErrBadToken
	}
	if exp != 0 && float64(now.UnixNano())/1e9 >= float64(exp) {
		return nil, ErrBadToken
	}

	p, err := parsePayload(msg)
	if err != nil {
		return nil, ErrBadToken
	}
	return &TokenParts{Expiry: exp, Payload: p}, nil
}

func decodeToken(token string) ([]byte, error) {
	if len(token) > maxTokenLen {
		return nil, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(token, "="))
	if err != nil || len(raw) < tokenHeader || raw[0] != tokenVersion {
		return nil, ErrBadToken
	}
	return raw, nil
}

func tokenMAC(secret, msg string, exp int64) []byte {
	text := "1:" + msg + ":" + strconv.FormatInt(exp, 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("(" + pyRepr(tokenScope) + ", " + pyRepr(text) + ")"))
	return m.Sum(nil)
}

// TokenMACHex returns the hex HMAC Odoo computes for payload text msg and expiry exp.
func TokenMACHex(secret, msg string, exp int64) string {
	return hex.EncodeToString(tokenMAC(secret, msg, exp))
}

func parsePayload(msg []byte) (SignupPayload, error) {
	dec := json.NewDecoder(bytes.NewReader(msg))
	dec.UseNumber()
	var parts []json.RawMessage
	if err := dec.Decode(&parts); err != nil || len(parts) != 4 {
		return SignupPayload{}, errors.New("payload is not a 4-element list")
	}

	var p SignupPayload
	if err := json.Unmarshal(parts[0], &p.PartnerID); err != nil {
		return p, fmt.Errorf("partner id: %w", err)
	}
	if err := json.Unmarshal(parts[1], &p.UserIDs); err != nil {
		return p, fmt.Errorf("user ids: %w", err)
	}
	if string(parts[2]) != "null" {
		var d int64
		if err := json.Unmarshal(parts[2], &d); err != nil {
			return p, fmt.Errorf("login date: %w", err)
		}
		p.LoginDate = &d
	}
	if s := string(parts[3]); s != "false" && s != "null" {
		if err := json.Unmarshal(parts[3], &p.SignupType); err != nil {
			return p, fmt.Errorf("signup type: %w", err)
		}
	}
	return p, nil
}

// pyJSONString encodes s as Python's json.dumps does with ensure_ascii.
func pyJSONString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r > 0x7e:
			writeJSONEscape(&b, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeJSONEscape(b *strings.Builder, r rune) {
	if r > 0xffff {
		r -= 0x10000
		fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		return
	}
	fmt.Fprintf(b, `\u%04x`, r)
}

// pyRepr returns Python 3's repr() of a str: single quotes unless the text holds a single
// quote and no double quote, backslash escapes for the quote, backslash and non-printable
// characters, printable non-ASCII kept as is.
func pyRepr(s string) string {
	quote := '\''
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		quote = '"'
	}

	var b strings.Builder
	b.WriteRune(quote)
	for _, r := range s {
		switch {
		case r == quote || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteRune(quote)
	return b.String()
}
