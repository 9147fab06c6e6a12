package rpc_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxyOverhead compares a web-client page and a 1 MiB upload fetched from the
// stand-in Odoo directly and through odoo-shim in front proxy mode: the difference is what
// the proxy costs each request (keep-alive connections on both legs).
func BenchmarkProxyOverhead(b *testing.B) {
	pe := newProxyEnv(b)
	pe.stub.StopRecording()
	upload := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	do := func(b *testing.B, method, u string, body []byte) {
		req, _ := http.NewRequest(method, u, bytes.NewReader(body))
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			b.Fatalf("%s %s: %d", method, u, resp.StatusCode)
		}
	}
	for _, base := range []struct{ name, url string }{{"direct", pe.upURL},
		{"proxied", pe.url}} {
		b.Run("GET-page/"+base.name, func(b *testing.B) {
			for b.Loop() {
				do(b, "GET", base.url+"/web/login", nil)
			}
		})
		b.Run("POST-1MiB/"+base.name, func(b *testing.B) {
			b.SetBytes(int64(len(upload)))
			for b.Loop() {
				do(b, "POST", base.url+"/echo", upload)
			}
		})
	}
}
