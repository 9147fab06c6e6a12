package rpc

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A panic in a method becomes Odoo's generic fault, logged once with its stack, and the
// server keeps serving.
func TestPanicBecomesFault(t *testing.T) {
	var logs strings.Builder
	s := &Server{log: slog.New(slog.NewTextHandler(&logs, nil)),
		methods: map[string]map[string]method{"common": {
			"boom": func(context.Context, []any) (any, error) { panic("kaboom") },
		}}}
	s.opt.MaxBodyBytes, s.opt.MaxXMLDepth = 1<<20, 16

	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/xmlrpc/2/common",
		strings.NewReader("<methodCall><methodName>boom</methodName></methodCall>"))
	req.SetPathValue("service", "common")
	s.serveXMLRPC(rec, req)

	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "<int>1</int>") ||
		!strings.Contains(string(body), internalMessage) || strings.Contains(string(body), "kaboom") {
		t.Errorf("answer %d %s; want fault 1 with the generic message only", rec.Code, body)
	}
	if !strings.Contains(logs.String(), "kaboom") || !strings.Contains(logs.String(), "stack=") {
		t.Errorf("the panic was not logged with its stack: %s", logs.String())
	}
}

func TestCSRFToken(t *testing.T) {
	// The vector of rpc.md §8, computed by Odoo's algorithm.
	const secret, sid = "d6f0c5a2-1b7e-4c1a-9a53-0123456789ab",
		"0123456789abcdef0123456789abcdef01234567"
	const want = "f6c439a7af70eb295db10bfa2601ce53a231a679o1767225600"
	if got := csrfToken(secret, sid, 1767225600); got != want {
		t.Errorf("csrfToken = %s; want %s", got, want)
	}
	now := timeAt(1767225000)
	tests := []struct {
		name, sid, token string
		ok               bool
	}{
		{"valid", sid, want, true},
		{"other session", sid + "x", want, false},
		{"expired", sid, want, false},
		{"no o", sid, "f6c439a7af70eb295db10bfa2601ce53a231a679", false},
		{"bad time", sid, "f6c439a7af70eb295db10bfa2601ce53a231a679oabc", false},
		{"empty", sid, "", false},
	}
	for _, tt := range tests {
		at := now
		if tt.name == "expired" {
			at = timeAt(1767225601)
		}
		if got := checkCSRF(secret, tt.sid, tt.token, at); got != tt.ok {
			t.Errorf("%s: checkCSRF = %v; want %v", tt.name, got, tt.ok)
		}
	}
}

func TestForwardedIP(t *testing.T) {
	tests := []struct{ header, want string }{
		{"203.0.113.9", "203.0.113.9"},
		{"198.51.100.1, 203.0.113.9", "203.0.113.9"}, // only the proxy's own entry counts
		{"", "192.0.2.1"},
		{"not-an-ip", "192.0.2.1"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.RemoteAddr = "192.0.2.1:5555"
		if tt.header != "" {
			r.Header.Set("X-Forwarded-For", tt.header)
		}
		if got := forwardedIP(r); got != tt.want {
			t.Errorf("forwardedIP(%q) = %s; want %s", tt.header, got, tt.want)
		}
	}
}
