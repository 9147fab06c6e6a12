package mail

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// maxIdlePerServer bounds the connections kept open to one server between batches.
const maxIdlePerServer = 2

// pool keeps authenticated connections between batches, keyed by everything that decides
// how a connection was opened, so a changed password or host never reuses an old one.
type pool struct {
	mu   sync.Mutex
	idle map[string][]*idleSession
}

type idleSession struct {
	sess  *session
	timer *time.Timer
}

func poolKey(srv models.MailServer) string {
	secret := sha256.Sum256([]byte(srv.Password + "\x00" + string(srv.Certificate) + "\x00" +
		string(srv.PrivateKey) + "\x00" + srv.AccessToken))
	return fmt.Sprintf("%d|%s|%d|%s|%s|%s|%x", srv.ID, srv.Host, srv.Port, srv.Encryption,
		srv.Authentication, srv.User, secret[:8])
}

// session returns an idle connection for key, bound to ctx, or a new one.
func (s *Sender) session(ctx context.Context, key string, srv models.MailServer) (*session,
	bool, error) {
	if sess := s.pool.take(key); sess != nil {
		sess.stop = sess.conn.bind(ctx)
		sess.delivered = 0 // counts this batch only
		return sess, true, nil
	}
	sess, err := s.open(ctx, srv)
	return sess, false, err
}

// release keeps sess for the next batch when it is healthy and KeepAlive allows, else ends
// it: with QUIT when it is healthy, at once when it is broken (a server that stopped
// answering would only make QUIT wait for its timeout).
func (s *Sender) release(key string, sess *session) {
	sess.stop()
	if sess.broken {
		sess.close()
		return
	}
	if s.KeepAlive <= 0 || !s.pool.put(key, sess, s.KeepAlive) {
		sess.quit()
		sess.close()
	}
}

// Close ends every idle connection.
func (s *Sender) Close() error {
	for _, sess := range s.pool.drain() {
		sess.quit()
		sess.close()
	}
	return nil
}

func (p *pool) take(key string) *session {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[key]
	if len(list) == 0 {
		return nil
	}
	is := list[len(list)-1]
	p.idle[key] = list[:len(list)-1]
	is.timer.Stop()
	return is.sess
}

func (p *pool) put(key string, sess *session, keep time.Duration) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.idle == nil {
		p.idle = make(map[string][]*idleSession)
	}
	if len(p.idle[key]) >= maxIdlePerServer {
		return false
	}
	is := &idleSession{sess: sess}
	is.timer = time.AfterFunc(keep, func() { p.expire(key, is) })
	p.idle[key] = append(p.idle[key], is)
	return true
}

// expire closes an idle connection whose time is up, unless a batch took it meanwhile.
func (p *pool) expire(key string, is *idleSession) {
	p.mu.Lock()
	list := p.idle[key]
	found := false
	for i, x := range list {
		if x == is {
			p.idle[key] = append(list[:i], list[i+1:]...)
			found = true
			break
		}
	}
	p.mu.Unlock()
	if found {
		is.sess.quit()
		is.sess.close()
	}
}

func (p *pool) drain() []*session {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []*session
	for key, list := range p.idle {
		for _, is := range list {
			is.timer.Stop()
			out = append(out, is.sess)
		}
		delete(p.idle, key)
	}
	return out
}
