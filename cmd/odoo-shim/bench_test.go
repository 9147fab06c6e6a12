package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// BenchmarkServiceMemory runs the real binary, resets 1000 users per iteration through it,
// and reports its resident memory: the peak (VmHWM) and the current size (VmRSS).
func BenchmarkServiceMemory(b *testing.B) {
	bin := buildBinary(b)
	dsn, db := modeltest.NewDatabase(b, modeltest.Own18)
	mails := catcher.New(catcher.Options{})
	if err := mails.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer mails.Close()
	host, port, _ := net.SplitHostPort(mails.Addr())
	modeltest.Exec(b, db, fmt.Sprintf(`UPDATE ir_mail_server SET smtp_host = '%s',
		smtp_port = %s`, host, port))
	ids := addSantri(b, db, 1000)

	addr := freeAddrB(b)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "ODOO_SHIM_DATABASE_DSN="+dsn, "ODOO_SHIM_LISTEN="+addr,
		"ODOO_SHIM_LOG_LEVEL=warn")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	waitHealthy(b, "http://"+addr)

	body := resetBody(db, ids)

	b.ResetTimer()
	for b.Loop() {
		resp, err := http.Post("http://"+addr+"/xmlrpc/2/object", "text/xml",
			strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		buf := make([]byte, 2048)
		n, _ := resp.Body.Read(buf)
		resp.Body.Close()
		if !strings.Contains(string(buf[:n]), "display_notification") {
			b.Fatalf("reset failed: %s", buf[:n])
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "users/s")
	b.ReportMetric(procStatusMB(b, cmd.Process.Pid, "VmHWM:"), "MB-peak-rss")
	b.ReportMetric(procStatusMB(b, cmd.Process.Pid, "VmRSS:"), "MB-rss")
}

func procStatusMB(b *testing.B, pid int, field string) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, field) {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func freeAddrB(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitHealthy(b testing.TB, url string) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url + "/web/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatal("the service did not become healthy")
}
