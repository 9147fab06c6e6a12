package rpc

import "testing"

func TestLocalRedirect(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "/odoo"},
		{"/odoo/action-42", "/odoo/action-42"},
		{"/web#id=6&model=res.users", "/web#id=6&model=res.users"},
		{"/my?a=b", "/my?a=b"},
		{"https://evil.example/", "/odoo"},
		{"//evil.example/", "/odoo"},
		{`/\evil.example/`, "/odoo"},
		{"javascript:alert(1)", "/odoo"},
		{"odoo", "/odoo"},
		{"/odoo\r\nSet-Cookie: x=y", "/odoo"},
	}
	for _, tt := range tests {
		if got := localRedirect(tt.in, "/odoo"); got != tt.want {
			t.Errorf("localRedirect(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
