package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/internal/odoostub"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// `serve` with upstream.url proxies to the upstream, and a proxied stream or WebSocket
// outlives the HTTP server's read and write timeouts, which only bound odoo-shim's own
// routes.
func TestServeInFrontOfOdoo(t *testing.T) {
	stub := odoostub.New("", func(context.Context, string, string) (int64, error) {
		return 0, errors.New("no sign-ins in this test")
	})
	upURL := stub.Start()
	t.Cleanup(stub.Close)
	t.Setenv("ODOO_SHIM_UPSTREAM_URL", upURL)
	t.Setenv("ODOO_SHIM_LIMITS_READ_TIMEOUT", "1s")
	t.Setenv("ODOO_SHIM_LIMITS_WRITE_TIMEOUT", "1s")
	s := startShim(t, modeltest.Own18, "")
	stub.SetDB(s.db)

	resp, err := http.Get(s.url + "/web/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Odoo-Stub") != "login" ||
		!strings.Contains(string(body), "Masuk | Odoo") {
		t.Fatalf("/web/login through serve: %d %s", resp.StatusCode, body)
	}

	resp, err = http.Get(s.url + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	first := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past both server timeouts
	stub.Release()
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(first)+string(rest) != "first\nsecond\n" {
		t.Errorf("stream across the server timeouts: %q %q, %v", first, rest, err)
	}

	conn, br, err := odoostub.Dial(strings.TrimPrefix(s.url, "http://"), "/websocket")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	time.Sleep(1500 * time.Millisecond) // an idle WebSocket, past both timeouts
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if err := odoostub.WriteFrame(conn, odoostub.OpText, []byte("ping"), true); err != nil {
		t.Fatal(err)
	}
	if _, got, err := odoostub.ReadFrame(br); err != nil || string(got) != "ping" {
		t.Errorf("WebSocket after the server timeouts: %q, %v", got, err)
	}
	if !strings.Contains(s.logs.String(), "front proxy mode") {
		t.Error("serve did not log that it runs in front of an upstream")
	}
}
