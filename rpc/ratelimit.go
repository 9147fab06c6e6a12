package rpc

import (
	"sync"
	"time"
)

// Link requests from the public form are bounded per client address and per login: the
// form needs no account, and every request mails someone and spends the mail server's
// quota. Odoo sets no bound.
const (
	linkRequestsPerAddress = 10
	linkRequestsPerLogin   = 3
	linkRequestWindow      = 15 * time.Minute
	maxLimiterKeys         = 100_000
)

// windowLimiter allows max events per key in each fixed window. It remembers at most
// maxLimiterKeys keys; past that it forgets the expired ones, then everything, so a flood of
// distinct keys cannot grow it without bound. It is per process: several instances each
// apply it.
type windowLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	hits   map[string]windowHits
}

type windowHits struct {
	start time.Time
	n     int
}

func newWindowLimiter(max int, window time.Duration, now func() time.Time) *windowLimiter {
	return &windowLimiter{max: max, window: window, now: now,
		hits: make(map[string]windowHits)}
}

// allow counts an event for key and reports whether it is within the bound.
func (l *windowLimiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	h, ok := l.hits[key]
	if !ok || now.Sub(h.start) >= l.window {
		if !ok && len(l.hits) >= maxLimiterKeys {
			l.prune(now)
		}
		h = windowHits{start: now}
	}
	if h.n >= l.max {
		return false
	}
	h.n++
	l.hits[key] = h
	return true
}

func (l *windowLimiter) prune(now time.Time) {
	for k, h := range l.hits {
		if now.Sub(h.start) >= l.window {
			delete(l.hits, k)
		}
	}
	if len(l.hits) >= maxLimiterKeys {
		clear(l.hits)
	}
}
