package rpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// csrfToken is Odoo's form token: hex HMAC-SHA1 keyed by database.secret over the session
// id followed by the expiry, then "o" and the expiry in Unix seconds.
func csrfToken(secret, sid string, maxTS int64) string {
	ts := strconv.FormatInt(maxTS, 10)
	return csrfMAC(secret, sid, ts) + "o" + ts
}

func csrfMAC(secret, sid, ts string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(sid + ts))
	return hex.EncodeToString(m.Sum(nil))
}

// checkCSRF validates token for session sid at now, as Odoo does: the expiry after the last
// "o" must not have passed, and the MAC must match in constant time.
func checkCSRF(secret, sid, token string, now time.Time) bool {
	if token == "" || sid == "" || secret == "" {
		return false
	}
	i := strings.LastIndexByte(token, 'o')
	if i < 0 {
		return false
	}
	mac, ts := token[:i], token[i+1:]
	if ts != "" {
		maxTS, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || maxTS < now.Unix() {
			return false
		}
	}
	return subtle.ConstantTimeCompare([]byte(mac), []byte(csrfMAC(secret, sid, ts))) == 1
}
