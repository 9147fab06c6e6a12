package models_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

// BenchmarkOutboxDelivery queues 1000 mails while the server turns connections away, then
// measures the background sender delivering them over reused connections to a local SMTP
// server, each one recorded in the outbox as it goes.
func BenchmarkOutboxDelivery(b *testing.B) {
	const n = 1000
	var down atomic.Bool
	notNow := &smtp.SMTPError{Code: 421, Message: "not now"}
	e := newOutboxEnvB(b, catcher.Options{OnConnect: func(int) *smtp.SMTPError {
		if down.Load() {
			return notNow
		}
		return nil
	}, OnMail: func(string) error {
		if down.Load() { // on a connection kept from the previous round
			return notNow
		}
		return nil
	}})
	ids := e.addUsers(b, n)
	s := e.store(b, models.OutboxSettings{RetryBase: time.Millisecond,
		RetryMax: time.Millisecond, MaxAttempts: 1 << 20, Poll: 5 * time.Millisecond})

	conns := 0
	for b.Loop() {
		b.StopTimer()
		down.Store(true)
		e.mails.Reset()
		if _, err := s.ActionResetPassword(context.Background(), models.ResetRequest{
			Caller: 2, IDs: ids}); err != nil {
			b.Fatal(err)
		}
		down.Store(false)
		e.mails.Reset()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()

		go func() { defer close(done); _ = s.RunOutbox(ctx) }()
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Minute)
		if _, err := e.mails.Wait(wctx, n); err != nil {
			b.Fatal(err)
		}
		wcancel()

		b.StopTimer()
		cancel()
		<-done
		conns += e.mails.Connections()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "mails/s")
	b.ReportMetric(float64(conns)/float64(b.N), "connections/op")
}
