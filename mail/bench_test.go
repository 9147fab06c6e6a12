package mail

import (
	"context"
	"fmt"
	"testing"

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
	mails := make([]models.ResetMail, batch)
	for i := range mails {
		mails[i] = mailTo(fmt.Sprintf("bulk%03d@example.com", i))
	}
	s := testSender(nil)

	b.ReportAllocs()
	for b.Loop() {
		results, err := s.Send(context.Background(), srv, mails)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range results {
			if r != nil {
				b.Fatal(r)
			}
		}
		c.Reset()
	}
	b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "mails/s")
}
