package models

import (
	"errors"
	"strings"
	"testing"
)

func TestRedactText(t *testing.T) {
	const tok = "AYQhEmsAAAAIqb063XKfA2iSF-1IUh4sONFaSd-X7WT0CRJJJ1l9clbNywgWzZdLCBudWxsLCAicmVzZXQiXQ"
	link := "https://erp.example.id/web/reset_password?db=x&token=" + tok
	tests := []struct{ in, want string }{
		{"blocked " + link, "blocked [link]"},
		{"blocked URL http://other/web/reset_password?token=3D" + tok[:40] + "=\n" + tok[40:],
			"blocked URL http://other/web/reset_password?token=[token]\n[token]"},
		{"seen " + tok[10:30] + " here", "seen [token] here"},
		{"short AYQhEm stays", "short AYQhEm stays"},
		{"550 \x1b[31mRED\x1b[0m evil\x1b]0;pwned\x07 user", "550 \ufffd[31mRED\ufffd[0m evil" +
			"\ufffd]0;pwned\ufffd user"},
	}
	for _, tt := range tests {
		if got := redactText(tt.in, link); got != tt.want {
			t.Errorf("redactText(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactLinkKeepsTheChain(t *testing.T) {
	inner := errors.New("dial: token=secretsecretsecret")
	err := redactLink(&DeliveryError{Code: 554, Text: "x token=abc", Err: inner}, "")
	var de *DeliveryError
	if !errors.As(err, &de) || de.Text != "x token=[token]" || !errors.Is(err, inner) ||
		strings.Contains(de.Err.Error(), "secret") {
		t.Errorf("redactLink = %#v", err)
	}
}
