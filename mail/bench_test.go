package mail

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

func BenchmarkBuildMessage(b *testing.B) {
	m := recordedMail()
	opt := fixedOptions()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BuildMessage(m, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendBatch1000 sends batches of 1000 mails, each over one connection to an
// in-process catcher without TLS or AUTH.
func BenchmarkSendBatch1000(b *testing.B) {
	const batch = 1000
	c := startCatcher(b, catcher.Options{})
	srv := serverAt(b, c.Addr(), "none")
	mails := bulkMails(batch)
	s := testSender(nil)

	b.ReportAllocs()
	for b.Loop() {
		sendAllOK(b, s, srv, mails)
		c.Reset()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "mails/s")
}

// BenchmarkSendPipelined sends batches of 20 mails over one kept connection through a
// relay adding 3 ms each way (a 6 ms round trip; Gmail from Indonesia is 30–60 ms), with
// and without pipelining: about 2 round trips per mail against 4.
func BenchmarkSendPipelined(b *testing.B) {
	const batch = 20
	c := startCatcher(b, catcher.Options{})
	r := startRelay(b, c.Addr(), 3*time.Millisecond)
	srv := serverAt(b, r.Addr(), "none")
	mails := bulkMails(batch)

	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			s := testSender(nil)
			s.NoPipelining = p.noPipelining
			s.KeepAlive = time.Minute
			b.Cleanup(func() { _ = s.Close() })
			for b.Loop() {
				sendAllOK(b, s, srv, mails)
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "mails/s")
		})
	}
}

func bulkMails(n int) []models.ResetMail {
	mails := make([]models.ResetMail, n)
	for i := range mails {
		mails[i] = mailTo(fmt.Sprintf("bulk%03d@example.com", i))
	}
	return mails
}

// sendAllOK sends mails to srv and fails unless every one was accepted.
func sendAllOK(b *testing.B, s *Sender, srv models.MailServer, mails []models.ResetMail) {
	results, err := s.Send(context.Background(), srv, mails)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range results {
		if r != nil {
			b.Fatal(r)
		}
	}
}
