package main

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/kolo/xmlrpc"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// callKolo calls method with kolo/xmlrpc, the Go client of Odoo's documentation, and
// returns its result; a fault fails the test.
func callKolo(t *testing.T, endpoint, method string, args any) any {
	t.Helper()
	res, err := tryKolo(endpoint, method, args)
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	return res
}

func tryKolo(endpoint, method string, args any) (any, error) {
	c, err := xmlrpc.NewClient(endpoint, nil)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var res any
	err = c.Call(method, args, &res)
	return res, err
}

// The whole flow driven by kolo/xmlrpc on the real Odoo 18 database, as a Go program
// would: the operator (an Access Rights member, not an administrator) finds a user by login
// and resets it.
func TestKoloClientFlow(t *testing.T) {
	s := startShim(t, modeltest.Fixture18, "pesantren18")
	common, object := s.url+"/xmlrpc/2/common", s.url+"/xmlrpc/2/object"

	uid := callKolo(t, common, "authenticate", []any{s.db, "operator.tu", "operator-2026",
		map[string]any{}})
	if uid != int64(10) {
		t.Fatalf("authenticate = %v; want 10", uid)
	}
	found := callKolo(t, object, "execute_kw", []any{s.db, uid, "operator-2026", "res.users",
		"search", []any{[]any{[]any{"login", "=", "siti.nurhaliza@example.com"}}}})
	if fmt.Sprint(found) != "[7]" {
		t.Fatalf("search by login = %v; want [7]", found)
	}
	res := callKolo(t, object, "execute_kw", []any{s.db, uid, "operator-2026", "res.users",
		"action_reset_password", []any{found}})
	if got := res.(map[string]any)["params"].(map[string]any)["message"]; got !=
		"Link reset password telah dikirim melalui email" {
		t.Errorf("notification message %v", got)
	}

	link := latestLink(t, s, "siti.nurhaliza@example.com")
	setPassword(t, s.url, link, "Siti-kata-sandi-77")

	if got := callKolo(t, common, "login", []any{s.db, "siti.nurhaliza@example.com",
		"Siti-kata-sandi-77"}); got != int64(7) {
		t.Errorf("login with the new password = %v; want 7", got)
	}
	_, err := tryKolo(object, "execute_kw", []any{s.db, 7, "Siti-kata-sandi-77", "res.users",
		"action_reset_password", []any{[]int64{6}}})
	if err == nil || !strings.HasPrefix(err.Error(), "Fault(4): Anda tidak memiliki hak") {
		t.Errorf("a user without Access Rights resetting another = %v; want fault 4", err)
	}
	s.noSecrets(t, link, "Siti-kata-sandi-77", "operator-2026")
}

// latestLink reads the reset link of the newest mail to addr from the catcher's inbox, and
// points it at the service under test (the fixture's web.base.url is a public name).
func latestLink(t *testing.T, s *shim, addr string) string {
	t.Helper()
	if _, err := s.mails.Wait(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.inbox + "/latest.json?to=" + url.QueryEscape(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct{ Links []string }
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || len(m.Links) == 0 {
		t.Fatalf("inbox: %v %v", m, err)
	}
	u, _ := url.Parse(m.Links[0])
	return s.url + u.Path + "?" + u.RawQuery
}

var fieldRE = regexp.MustCompile(`<input[^>]*name="([a-z_]+)"[^>]*value="([^"]*)"`)

// setPassword opens link like a browser and posts the new password.
func setPassword(t *testing.T, base, link, password string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	page := get(t, c, link)
	form := url.Values{}
	for _, m := range fieldRE.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], html.UnescapeString(m[2]))
	}
	form.Set("password", password)
	form.Set("confirm_password", password)

	resp, err := c.PostForm(base+"/web/reset_password", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "alert-success") {
		t.Fatalf("the password was not set:\n%s", body)
	}
}

func get(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", u, resp.StatusCode)
	}
	return string(body)
}
