package rpc_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kolo/xmlrpc"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// recordedMail is a mail Odoo 18 sent during the recorded calls: its headers in order and
// the link it carried.
type recordedMail struct {
	headers [][2]string
	link    string
}

func loadRecordedMail(t *testing.T, name string) recordedMail {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(modeltest.SharedFile(t, "vectors/odoo18/mail"),
		name+".headers.txt"))
	if err != nil {
		t.Fatal(err)
	}
	head, tail, _ := strings.Cut(string(data), "\n\n")
	var m recordedMail
	m.headers = parseHeaders(head)
	m.link = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(tail), "(link in the body)"))
	return m
}

// parseHeaders returns header fields in order, unfolded.
func parseHeaders(head string) [][2]string {
	var out [][2]string
	for _, line := range strings.Split(strings.ReplaceAll(head, "\r\n", "\n"), "\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(out) > 0 {
			out[len(out)-1][1] += " " + strings.TrimSpace(line)
			continue
		}
		k, v, _ := strings.Cut(line, ":")
		out = append(out, [2]string{k, strings.TrimSpace(v)})
	}
	return out
}

// The reset mails odoo-shim sends for the recorded calls carry Odoo's headers in Odoo's
// order and, at the recorded moment, exactly the link Odoo mailed.
func TestRecordedMails(t *testing.T) {
	tests := []struct {
		name     string
		login    string
		password string
		ids      []int64
		kwargs   map[string]any
	}{
		{"reset_one", "admin", "admin", []int64{6}, nil},
		{"reset_two", "admin", "admin", []int64{6, 8}, nil},
		{"reset_by_access_rights_user", "operator.tu", "operator-2026", []int64{7}, nil},
		{"reset_en_context", "admin", "admin", []int64{14},
			map[string]any{"context": map[string]any{"lang": "en_US"}}},
		{"reset_logged_in_user", "admin", "admin", []int64{9}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := loadRecordedMail(t, tt.name)
			e := newEnv(t, modeltest.Fixture18)
			date, err := mail.ParseDate(headerValue(want.headers, "Date"))
			if err != nil {
				t.Fatal(err)
			}
			e.now = date.Add(500 * time.Millisecond)

			uid := map[string]int64{"admin": 2, "operator.tu": 10}[tt.login]
			args := []any{recordedDB, uid, tt.password, "res.users", "action_reset_password",
				[]any{tt.ids}}
			if tt.kwargs != nil {
				args = append(args, tt.kwargs)
			}
			callKolo(t, e.url+"/xmlrpc/2/object", "execute_kw", args)

			msgs, err := e.mails.Wait(context.Background(), len(tt.ids))
			if err != nil {
				t.Fatal(err)
			}
			compareMail(t, msgs[len(msgs)-1].Data, want)
		})
	}
}

func headerValue(h [][2]string, name string) string {
	for _, kv := range h {
		if strings.EqualFold(kv[0], name) {
			return kv[1]
		}
	}
	return ""
}

func compareMail(t *testing.T, raw []byte, want recordedMail) {
	t.Helper()
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	got := parseHeaders(string(head))
	names := func(h [][2]string) string {
		var n []string
		for _, kv := range h {
			n = append(n, kv[0])
		}
		return strings.Join(n, ", ")
	}
	if names(got) != names(want.headers) {
		t.Errorf("header order\n got: %s\nwant: %s", names(got), names(want.headers))
	}

	dec := new(mime.WordDecoder)
	for _, h := range []string{"Subject", "Reply-To", "To", "Date", "Return-Path", "From",
		"MIME-Version"} {
		g, _ := dec.DecodeHeader(headerValue(got, h))
		if w := headerValue(want.headers, h); g != w {
			t.Errorf("%s = %q; want %q", h, g, w)
		}
	}
	msgID := regexp.MustCompile(`^<\d{15}\.\d{10}\.\d+-openerp-private@[^>]+>$`)
	if id := headerValue(got, "Message-Id"); !msgID.MatchString(id) {
		t.Errorf("Message-Id %q does not have Odoo's shape", id)
	}
	ct := regexp.MustCompile(`^multipart/alternative; boundary="===============\d{19}=="$`)
	if c := headerValue(got, "Content-Type"); !ct.MatchString(c) {
		t.Errorf("Content-Type %q", c)
	}

	for _, part := range textParts(t, raw) {
		if !strings.Contains(part, want.link) {
			t.Errorf("a part does not carry Odoo's link %s", want.link)
		}
	}
}

// textParts returns the decoded bodies of the message's parts.
func textParts(t *testing.T, raw []byte) []string {
	t.Helper()
	msg, err := mail.ReadMessage(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	var parts []string
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, strings.ReplaceAll(string(b), "&amp;", "&"))
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts; want text/plain and text/html", len(parts))
	}
	return parts
}

// callKolo calls method with kolo/xmlrpc, the Go client of Odoo's documentation; a fault
// fails the test.
func callKolo(t *testing.T, url, method string, args []any) any {
	t.Helper()
	res, err := tryCall(url, method, args)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return res
}

// tryCall is callKolo returning the fault instead.
func tryCall(url, method string, args []any) (any, error) {
	c, err := xmlrpc.NewClient(url, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var res any
	err = c.Call(method, args, &res)
	return res, err
}
