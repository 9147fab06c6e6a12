package models

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

type tokenVectors struct {
	Secret string `json:"database.secret"`
	Tokens map[string]struct {
		Token   string `json:"token"`
		Exp     int64  `json:"exp"`
		HMACHex string `json:"hmac_hex"`
		Payload string `json:"payload"`
	} `json:"tokens"`
}

func loadTokenVectors(t *testing.T) tokenVectors {
	t.Helper()
	data, err := os.ReadFile(modeltest.SharedFile(t, "vectors/odoo18/tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v tokenVectors
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Every token Odoo 18 mailed must verify, decode to its recorded payload, and be minted
// byte for byte by SignToken from that payload.
func TestTokenVectors(t *testing.T) {
	v := loadTokenVectors(t)
	for name, tok := range v.Tokens {
		now := time.Unix(tok.Exp-3600, 0)
		parts, err := VerifyToken(v.Secret, tok.Token, now)
		if err != nil {
			t.Errorf("%s: VerifyToken: %v", name, err)
			continue
		}
		if got := parts.Payload.JSON(); got != tok.Payload {
			t.Errorf("%s: payload = %s; want %s", name, got, tok.Payload)
		}
		if parts.Expiry != tok.Exp {
			t.Errorf("%s: exp = %d; want %d", name, parts.Expiry, tok.Exp)
		}
		if got := TokenMACHex(v.Secret, tok.Payload, tok.Exp); got != tok.HMACHex {
			t.Errorf("%s: hmac = %s; want %s", name, got, tok.HMACHex)
		}
		if got := SignToken(v.Secret, parts.Payload, tok.Exp); got != tok.Token {
			t.Errorf("%s: SignToken = %s; want %s", name, got, tok.Token)
		}
	}
}

func TestTokenRejections(t *testing.T) {
	v := loadTokenVectors(t)
	tok := v.Tokens["reset_one"]
	before := time.Unix(tok.Exp-1, 0)
	tests := []struct {
		name, secret, token string
		now                 time.Time
	}{
		{"at expiry", v.Secret, tok.Token, time.Unix(tok.Exp, 0)},
		{"after expiry", v.Secret, tok.Token, time.Unix(tok.Exp+10, 0)},
		{"other secret", "another-secret", tok.Token, before},
		{"truncated", v.Secret, tok.Token[:40], before},
		{"flipped payload", v.Secret, tok.Token[:len(tok.Token)-3] + "XXX", before},
		{"not base64", v.Secret, "!!!!", before},
		{"empty", v.Secret, "", before},
		{"version 2", v.Secret, withVersion(t, tok.Token, 2), before},
	}
	for _, tt := range tests {
		if _, err := VerifyToken(tt.secret, tt.token, tt.now); err == nil {
			t.Errorf("%s: VerifyToken succeeded", tt.name)
		}
	}
}

func withVersion(t *testing.T, token string, version byte) string {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		t.Fatal(err)
	}
	raw[0] = version
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestPayloadJSON(t *testing.T) {
	ld := int64(1718000123)
	tests := []struct {
		p    SignupPayload
		want string
	}{
		{SignupPayload{42, []int64{17}, &ld, "reset"}, `[42, [17], 1718000123, "reset"]`},
		{SignupPayload{7, []int64{6, 9}, nil, "signup"}, `[7, [6, 9], null, "signup"]`},
		{SignupPayload{7, nil, nil, ""}, `[7, [], null, false]`},
		{SignupPayload{7, nil, nil, "é\"x"}, `[7, [], null, "\u00e9\"x"]`},
	}
	for _, tt := range tests {
		if got := tt.p.JSON(); got != tt.want {
			t.Errorf("JSON() = %s; want %s", got, tt.want)
		}
		raw := []byte(tt.want)
		back, err := parsePayload(raw)
		if err != nil || !back.Equal(tt.p) {
			t.Errorf("parsePayload(%s) = %+v, %v", tt.want, back, err)
		}
	}
}

func TestPyRepr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"signup", `'signup'`},
		{`1:[7, [6], null, "reset"]:1796330533`, `'1:[7, [6], null, "reset"]:1796330533'`},
		{"it's", `"it's"`},
		{`it's "x"`, `'it\'s "x"'`},
		{"a\\b\n\x01\x7f", `'a\\b\n\x01\x7f'`},
		{"é\u00a0\u200b😀", "'é\\xa0\\u200b😀'"},
	}
	for _, tt := range tests {
		if got := pyRepr(tt.in); got != tt.want {
			t.Errorf("pyRepr(%q) = %s; want %s", tt.in, got, tt.want)
		}
	}
}
