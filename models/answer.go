package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// firstAttempt starts delivering the just-queued jobs and waits for it at most
// Outbox.Wait. done is false when the attempt is still running; it then goes on, and
// records its outcome, without the caller.
func (s *Store) firstAttempt(ctx context.Context, jobs []*job) ([]result, bool) {
	if s.work.stopping.Load() {
		// Shutting down: the mails stay queued for the next sender rather than start an
		// attempt the process may not live to finish.
		return s.handBack(jobs), true
	}
	ch := make(chan []result, 1)
	s.work.wg.Add(1)
	go func() {
		defer s.work.wg.Done()
		ch <- s.attempt(ctx, jobs)
	}()

	timer := time.NewTimer(s.set.Outbox.Wait)
	defer timer.Stop()
	select {
	case r := <-ch:
		return r, true
	case <-timer.C:
	case <-ctx.Done():
	}
	return nil, false
}

// answer turns the first attempt's results into what the caller is told: nothing to add
// when every mail was sent; a fault naming each mail that cannot go out, with the
// server's reply and what to check; else the queued notice naming each mail that waits.
func answer(lang string, results []result, done bool) (string, error) {
	if !done {
		return T(lang, MsgMailQueued) + "\n" + T(lang, MsgMailStillSending), nil
	}

	var failed, queued, unsure []result
	for _, r := range results {
		switch r.state {
		case StateFailed:
			failed = append(failed, r)
		case StateQueued:
			queued = append(queued, r)
		case StateUnconfirmed:
			unsure = append(unsure, r)
		}
	}
	if len(failed) > 0 {
		return "", newDeliveryFault(lang, results, failed, queued, unsure)
	}
	var parts []string
	if len(queued) > 0 {
		parts = append(parts, T(lang, MsgMailQueued)+"\n"+outcomeLines(lang, queued))
	}
	if len(unsure) > 0 {
		parts = append(parts, T(lang, MsgMailUnconfirmed)+"\n"+outcomeLines(lang, unsure))
	}
	return strings.Join(parts, "\n"), nil
}

func newDeliveryFault(lang string, all, failed, queued, unsure []result) error {
	msg := T(lang, MsgMailDeliver)
	var de *DeliveryError
	if errors.As(failed[0].err, &de) && de.Refused {
		msg = T(lang, MsgMailContact)
	}

	var b strings.Builder
	b.WriteString(T(lang, MsgNotSent) + "\n" + outcomeLines(lang, failed))
	if len(queued) > 0 {
		b.WriteString("\n" + T(lang, MsgQueuedRetried) + "\n" + outcomeLines(lang, queued))
	}
	if len(unsure) > 0 {
		b.WriteString("\n" + T(lang, MsgMailUnconfirmed) + "\n" + outcomeLines(lang, unsure))
	}
	if sent := len(all) - len(failed) - len(queued) - len(unsure); sent > 0 {
		b.WriteString("\n" + T(lang, MsgSentOf, sent, len(all)))
	}
	return &deliveryFault{fault: &Error{Kind: KindUserError, Message: msg, Detail: b.String()},
		cause: failed[0].err}
}

// outcomeLines describes one mail a line: whose it is, what the server said, what to do.
// The server's reply and the advice stay in English: they quote the server.
func outcomeLines(lang string, rs []result) string {
	lines := make([]string, len(rs))
	for i, r := range rs {
		line := fmt.Sprintf("- %s <%s>: %s", r.job.mail.UserName, r.job.mail.To, reason(r))
		if r.state == StateQueued && r.delay > 0 {
			line += " " + T(lang, MsgNextAttempt, r.delay.Round(time.Second))
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// reason is an error for a caller: the server's reply or the failure, and a hint that
// fits what became of the mail.
func reason(r result) string {
	var de *DeliveryError
	if !errors.As(r.err, &de) {
		return r.err.Error()
	}
	text := de.Error()
	// Only a queued mail is tried again; for the others "a temporary failure, tried
	// again later" would be untrue.
	hinted := *de
	hinted.Temporary = de.Temporary && r.state == StateQueued
	h := hinted.Hint()
	if r.state == StateFailed && de.Temporary {
		h = strings.TrimPrefix(h+"; ", "; ") + "no attempt is left (mail.max_attempts)"
	}
	if h != "" {
		text += "; " + h
	}
	return text
}

// deliveryFault is the Odoo error a caller sees, wrapping the delivery error operators
// need; errors.As finds both.
type deliveryFault struct {
	fault *Error
	cause error
}

func (d *deliveryFault) Error() string   { return d.fault.Message }
func (d *deliveryFault) Unwrap() []error { return []error{d.fault, d.cause} }
