package rpc_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

const resetOneBody = `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName>
<params><param><value><string>%s</string></value></param>
<param><value><int>2</int></value></param><param><value><string>admin</string></value></param>
<param><value><string>res.users</string></value></param>
<param><value><string>action_reset_password</string></value></param>
<param><value><array><data><value><array><data>%s</data></array></value></data></array></value>
</param></params></methodCall>`

func postReset(b *testing.B, e *env, ids string) {
	body := fmt.Sprintf(resetOneBody, e.db, ids)
	resp, err := http.Post(e.url+"/xmlrpc/2/object", "text/xml", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	var buf [4096]byte
	n, _ := resp.Body.Read(buf[:])
	resp.Body.Close()
	if !strings.Contains(string(buf[:n]), "display_notification") {
		b.Fatalf("reset failed: %s", buf[:n])
	}
}

// BenchmarkResetEndToEnd is one action_reset_password over HTTP: XML-RPC decoding, the
// (cached) credential check, the database transaction and the mail to a local SMTP server
// over STARTTLS with AUTH.
func BenchmarkResetEndToEnd(b *testing.B) {
	e := newEnv(b, modeltest.Own18)
	e.now = timeNow()
	postReset(b, e, "<value><int>6</int></value>")
	b.ResetTimer()
	for b.Loop() {
		postReset(b, e, "<value><int>6</int></value>")
	}
	b.StopTimer()
	reportRSS(b)
}

// BenchmarkReset1000Users resets 1000 users in one call: one transaction, one SMTP
// connection for the thousand mails.
func BenchmarkReset1000Users(b *testing.B) {
	e := newEnv(b, modeltest.Own18)
	e.now = timeNow()
	modeltest.Exec(b, e.db, `
		INSERT INTO res_partner (id, name, email, lang, active)
			SELECT 1000 + i, 'Santri ' || i, 'santri' || i || '@example.org', 'id_ID', true
			FROM generate_series(1, 1000) i;
		INSERT INTO res_users (id, login, partner_id, company_id, active, share)
			SELECT 1000 + i, 'santri' || i, 1000 + i, 1, true, false
			FROM generate_series(1, 1000) i`)
	var ids strings.Builder
	for i := 1; i <= 1000; i++ {
		ids.WriteString("<value><int>" + strconv.Itoa(1000+i) + "</int></value>")
	}

	b.ResetTimer()
	for b.Loop() {
		postReset(b, e, ids.String())
	}
	b.StopTimer()
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "users/s")
	reportRSS(b)
}

// reportRSS reports the test process's peak resident memory, which includes the
// in-process SMTP server and the test's own allocations.
func reportRSS(b *testing.B) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			b.ReportMetric(float64(kb)/1024, "MB-peak-rss")
		}
	}
}

// BenchmarkSearchRead1000Users reads 1000 users in one search_read over XML-RPC: the
// domain, the record rule, many2one names and the encoding of 1000 structs.
func BenchmarkSearchRead1000Users(b *testing.B) {
	e := newEnv(b, modeltest.Own18)
	modeltest.Exec(b, e.db, `
		INSERT INTO res_partner (id, name, email, lang, active)
			SELECT 1000 + i, 'Santri ' || i, 'santri' || i || '@example.org', 'id_ID', true
			FROM generate_series(1, 1000) i;
		INSERT INTO res_users (id, login, partner_id, company_id, active, share)
			SELECT 1000 + i, 'santri' || i, 1000 + i, 1, true, false
			FROM generate_series(1, 1000) i`)
	body := fmt.Sprintf(`<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName>
<params><param><value><string>%s</string></value></param>
<param><value><int>2</int></value></param><param><value><string>admin</string></value></param>
<param><value><string>res.users</string></value></param>
<param><value><string>search_read</string></value></param>
<param><value><array><data><value><array><data><value><array><data>
<value><string>login</string></value><value><string>=like</string></value>
<value><string>santri%%</string></value></data></array></value></data></array></value>
</data></array></value></param>
<param><value><struct><member><name>fields</name><value><array><data>
<value><string>login</string></value><value><string>name</string></value>
<value><string>email</string></value><value><string>partner_id</string></value>
<value><string>company_id</string></value></data></array></value></member></struct></value>
</param></params></methodCall>`, e.db)

	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Post(e.url+"/xmlrpc/2/object", "text/xml", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := strings.Count(string(got), "<name>login</name>"); n != 1000 {
			b.Fatalf("search_read returned %d records: %.300s", n, got)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "users/s")
}
