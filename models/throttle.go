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
//
// Odoo counts an attempt only once its password has been checked, so a burst of parallel
// attempts is checked in full before the first failure is counted. Here an attempt counts
// as pending from admission to outcome: the failures and pending attempts of an address
// together never exceed the threshold, and past it one attempt at a time is checked.
type throttle struct {
	mu       sync.Mutex
	failures map[string]failure
}

type failure struct {
	count   int
	pending int
	last    time.Time
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

// attempt is one admitted login attempt; finish records its outcome. A nil attempt (a call
// with no known source) records nothing.
type attempt struct {
	s    *Store
	src  string
	done bool
}

// admit refuses an attempt from a source that is cooling down, or whose attempts in flight
// would take it past the threshold; otherwise it counts the attempt as pending until
// finish or abandon.
func (s *Store) admit(ctx context.Context) (*attempt, error) {
	src := clientOf(ctx)
	if src == "" {
		return nil, nil
	}
	t := s.throttle
	t.mu.Lock()
	_, known := t.failures[src]
	t.mu.Unlock()

	after, delay := 0, time.Duration(0)
	if known {
		var err error
		if after, delay, err = s.cooldown(ctx); err != nil {
			return nil, err
		}
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[src]
	cooling := f.count >= after && s.now().Sub(f.last) < delay
	crowded := f.pending > 0 && f.count+f.pending >= after
	if after > 0 && (cooling || crowded) {
		s.log.Warn("login attempt ignored during cooldown", "client_ip", src,
			"failures", f.count, "pending", f.pending)
		return nil, NewError(KindAccessDenied, MsgTooManyFailures)
	}
	if len(t.failures) >= maxThrottled {
		t.prune(s.now())
	}
	f.pending++
	t.failures[src] = f
	return &attempt{s: s, src: src}, nil
}

// finish records the attempt's outcome: a failure counts, a success clears the address.
// Only the first call counts.
func (a *attempt) finish(ok bool) {
	if a == nil || a.done {
		return
	}
	a.done = true
	t := a.s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.failures[a.src]
	f.pending = max(f.pending-1, 0)
	switch {
	case ok:
		f.count = 0
	default:
		f.count++
		f.last = a.s.now()
	}
	if f.count == 0 && f.pending == 0 {
		delete(t.failures, a.src)
		return
	}
	t.failures[a.src] = f
}

// abandon ends an attempt that reached no verdict (a database error, say) without counting
// it either way. It does nothing after finish.
func (a *attempt) abandon() {
	if a == nil || a.done {
		return
	}
	a.done = true
	t := a.s.throttle
	t.mu.Lock()
	defer t.mu.Unlock()
	f, ok := t.failures[a.src]
	if !ok {
		return
	}
	f.pending = max(f.pending-1, 0)
	if f.count == 0 && f.pending == 0 {
		delete(t.failures, a.src)
		return
	}
	t.failures[a.src] = f
}

// prune forgets failures older than an hour, and everything if that is not enough: the
// table must stay bounded even under a flood of distinct addresses. The caller holds t.mu.
func (t *throttle) prune(now time.Time) {
	for k, f := range t.failures {
		if f.pending == 0 && now.Sub(f.last) > time.Hour {
			delete(t.failures, k)
		}
	}
	if len(t.failures) >= maxThrottled {
		clear(t.failures)
	}
}
