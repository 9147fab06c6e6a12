package models

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MsgTooManyFailures is Odoo's refusal while a source address is cooling down.
const MsgTooManyFailures = "Too many login failures, please wait a bit before trying again."

type clientKey struct{}

// WithClient returns ctx carrying the address a call comes from, which login throttling
// counts failures by, as Odoo counts them by the request's remote address.
func WithClient(ctx context.Context, addr string) context.Context {
	return context.WithValue(ctx, clientKey{}, addr)
}

// ClientOf returns the address WithClient put in ctx, or "".
func ClientOf(ctx context.Context) string { return clientOf(ctx) }

func clientOf(ctx context.Context) string {
	addr, _ := ctx.Value(clientKey{}).(string)
	return addr
}

// maxThrottled bounds the addresses remembered; beyond it the oldest failures are dropped.
const maxThrottled = 100_000

// throttle is Odoo's brute-force protection: after base.login_cooldown_after failed logins
// from one address (0 disables it), further attempts within base.login_cooldown_duration
// seconds are refused without checking the password. A success clears the count.
type throttle struct {
	mu       sync.Mutex
	failures map[string]failure
}

type failure struct {
	count int
	last  time.Time
}

func newThrottle() *throttle { return &throttle{failures: make(map[string]failure)} }

// cooldown returns the after and duration settings, with Odoo's code defaults.
func (s *Store) cooldown(ctx context.Context) (int, time.Duration, error) {
	p, err := params(ctx, s.db, "base.login_cooldown_after", "base.login_cooldown_duration")
	if err != nil {
		return 0, 0, err
	}
	after, delay := 5, 60
	if n, err := strconv.Atoi(strings.TrimSpace(p["base.login_cooldown_after"])); err == nil {
		after = n
	}
	if n, err := strconv.Atoi(strings.TrimSpace(p["base.login_cooldown_duration"])); err == nil {
		delay = n
	}
	return after, time.Duration(delay) * time.Second, nil
}

// admit refuses an attempt from a source that is cooling down.
func (s *Store) admit(ctx context.Context) error {
	src := clientOf(ctx)
	if src == "" {
		return nil
	}
	s.throttle.mu.Lock()
	f, ok := s.throttle.failures[src]
	s.throttle.mu.Unlock()
	if !ok {
		return nil
	}

	after, delay, err := s.cooldown(ctx)
	if err != nil {
		return err
	}
	if after > 0 && f.count >= after && s.now().Sub(f.last) < delay {
		s.log.Warn("login attempt ignored during cooldown", "client_ip", src,
			"failures", f.count)
		return NewError(KindAccessDenied, MsgTooManyFailures)
	}
	return nil
}

// record counts a failed or successful attempt from the call's source.
func (s *Store) record(ctx context.Context, ok bool) {
	src := clientOf(ctx)
	if src == "" {
		return
	}
	t := s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	if ok {
		delete(t.failures, src)
		return
	}
	if len(t.failures) >= maxThrottled {
		t.prune(s.now())
	}
	f := t.failures[src]
	t.failures[src] = failure{count: f.count + 1, last: s.now()}
}

// prune forgets failures older than an hour, and everything if that is not enough: the
// table must stay bounded even under a flood of distinct addresses. The caller holds t.mu.
func (t *throttle) prune(now time.Time) {
	for k, f := range t.failures {
		if now.Sub(f.last) > time.Hour {
			delete(t.failures, k)
		}
	}
	if len(t.failures) >= maxThrottled {
		clear(t.failures)
	}
}
