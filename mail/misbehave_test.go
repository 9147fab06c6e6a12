package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/models"
)

// rogue is a hand-written misbehaving SMTP server. onCmd is called for each command line
// (MAIL, RCPT, DATA, RSET, NOOP, QUIT ...) with the connection's writer; it returns what
// to write raw, and whether to close afterwards. After a "354" reply, the server reads the
// data until the dot and calls onDot.
type rogue struct {
	ln    net.Listener
	pipe  bool
	onCmd func(n int, verb, line string) (string, bool)
	onDot func(n int) (string, bool)
	mu    sync.Mutex
	dots  int
	datas []string
	log   []string
}

func startRogue(t *testing.T, s *rogue) *rogue {
	s.ln = serveTCP(t, s.serve)
	return s
}

func (s *rogue) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	br := bufio.NewReader(c)
	w := func(s string) { _, _ = c.Write([]byte(s)) }
	w("220 rogue ESMTP\r\n")
	n := 0
	inData := false
	var data strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		s.mu.Lock()
		s.log = append(s.log, strings.TrimRight(line, "\r\n"))
		s.mu.Unlock()
		if inData {
			if line == ".\r\n" {
				inData = false
				s.mu.Lock()
				s.dots++
				d := s.dots
				s.datas = append(s.datas, data.String())
				s.mu.Unlock()
				data.Reset()
				out, cl := "250 2.0.0 queued\r\n", false
				if s.onDot != nil {
					out, cl = s.onDot(d)
				}
				w(out)
				if cl {
					return
				}
				continue
			}
			data.WriteString(line)
			continue
		}
		verb, _, _ := strings.Cut(strings.ToUpper(strings.TrimSpace(line)), " ")
		verb, _, _ = strings.Cut(verb, ":")
		if verb == "EHLO" {
			if s.pipe {
				w("250-rogue\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
			} else {
				w("250 rogue\r\n")
			}
			continue
		}
		if verb == "QUIT" {
			w("221 bye\r\n")
			return
		}
		n++
		out, cl := "", false
		switch verb {
		case "MAIL", "RCPT", "RSET", "NOOP":
			out = "250 ok\r\n"
		case "DATA":
			out = "354 go\r\n"
		default:
			out = "502 no\r\n"
		}
		if s.onCmd != nil {
			if o, c2 := s.onCmd(n, verb, line); o != "-" {
				out, cl = o, c2
			}
		}
		w(out)
		if strings.Contains(out, "354 ") && !strings.Contains(out, "\r\n354 ") || strings.HasSuffix(out, "354 go\r\n") {
			inData = true
		}
		if cl {
			return
		}
	}
}

// permanent reports whether err is a refusal that will not be retried.
func permanent(err error) bool {
	de, ok := err.(*models.DeliveryError)
	return ok && !de.Temporary
}

// Servers that misbehave, pipelined and step by step. A refusal followed by a hang-up is
// the refused mail's outcome only; replies out of step with the commands never make a
// mail "sent" or "refused for good": the connection is dropped and the mails tried again
// (the one whose end of data went out is unconfirmed).
func TestSendMisbehavingServers(t *testing.T) {
	senderBlocked := func() *rogue {
		return &rogue{onCmd: func(_ int, verb, _ string) (string, bool) {
			if verb == "MAIL" {
				return "550 5.7.1 sender blocked\r\n", true
			}
			return "-", false
		}}
	}
	resetRefused := func() *rogue {
		refused := false
		return &rogue{onCmd: func(_ int, verb, line string) (string, bool) {
			switch {
			case verb == "RCPT" && strings.Contains(line, "b@"):
				refused = true
				return "550 5.1.1 no such user b\r\n", false
			case verb == "DATA" && refused:
				return "554 5.5.1 no valid recipients\r\n", false
			case verb == "RSET":
				return "421 4.7.0 too many errors, closing\r\n", true
			}
			return "-", false
		}}
	}
	mailTwice := func() *rogue {
		return &rogue{onCmd: func(_ int, verb, _ string) (string, bool) {
			if verb == "MAIL" {
				return "250 ok\r\n250 ok again\r\n", false
			}
			return "-", false
		}}
	}
	strayVerdict := func() *rogue {
		return &rogue{onDot: func(d int) (string, bool) {
			if d == 1 {
				return "250 stray\r\n554 5.7.1 spam rejected\r\n", false
			}
			return "554 5.7.1 spam rejected\r\n", false
		}}
	}

	tests := []struct {
		name  string
		srv   func() *rogue // a fresh server for each run
		mails int
		check func(t *testing.T, res []error)
	}{
		{"sender refused, then hang-up", senderBlocked, 2, func(t *testing.T, res []error) {
			de := deliveryError(t, res[0])
			if de.Stage != models.StageSender || de.Code != 550 || de.Temporary {
				t.Errorf("a: %+v; want the 550 at MAIL", de)
			}
			if permanent(res[1]) {
				t.Errorf("b: %v; want a temporary failure", res[1])
			}
		}},
		{"RSET refused after a refusal", resetRefused, 4, func(t *testing.T, res []error) {
			if res[0] != nil {
				t.Errorf("a: %v; want sent", res[0])
			}
			if de := deliveryError(t, res[1]); de.Code != 550 {
				t.Errorf("b: %+v; want its 550", de)
			}
			for i, err := range res[2:] {
				if de := deliveryError(t, err); !de.Temporary || de.Code != 0 {
					t.Errorf("mail %d: %+v; want a temporary failure of its own", i+2, de)
				}
			}
		}},
		{"MAIL answered twice", mailTwice, 2, func(t *testing.T, res []error) {
			for i, err := range res {
				if permanent(err) {
					t.Errorf("mail %d: %v; want sent or tried again", i, err)
				}
			}
		}},
		{"a stray 250 before the verdict", strayVerdict, 2, func(t *testing.T, res []error) {
			if de := deliveryError(t, res[0]); !de.Unconfirmed {
				t.Errorf("a: %+v; want unconfirmed, not sent", de)
			}
			if permanent(res[1]) {
				t.Errorf("b: %v; want a temporary failure", res[1])
			}
		}},
	}
	for _, tt := range tests {
		for _, pipelined := range []bool{true, false} {
			name := tt.name + map[bool]string{true: " pipelined", false: " stepwise"}[pipelined]
			t.Run(name, func(t *testing.T) {
				srv := tt.srv()
				srv.pipe = true
				s := startRogue(t, srv)
				snd := testSender(nil)
				snd.NoPipelining = !pipelined
				snd.Timeout = 2 * time.Second
				var ms []models.ResetMail
				for i := range tt.mails {
					ms = append(ms, mailTo(string(rune('a'+i))+"@example.com"))
				}
				res, err := snd.Send(context.Background(),
					serverAt(t, s.ln.Addr().String(), "none"), ms)
				if err != nil {
					t.Fatal(err)
				}
				tt.check(t, res)
			})
		}
	}
}

// A stray reply left on an idle connection: the next batch does not read it as its own
// answer, but takes a fresh connection.
func TestSendStrayReplyOnIdleConnection(t *testing.T) {
	for _, pipelined := range []bool{true, false} {
		s := startRogue(t, &rogue{pipe: true, onDot: func(d int) (string, bool) {
			if d == 1 {
				return "250 2.0.0 queued\r\n250 2.0.0 stray\r\n", false
			}
			return "250 2.0.0 queued\r\n", false
		}})
		snd := testSender(nil)
		snd.NoPipelining = !pipelined
		snd.KeepAlive = 5 * time.Second
		srv := serverAt(t, s.ln.Addr().String(), "none")
		if _, err := snd.Send(context.Background(), srv,
			[]models.ResetMail{mailTo("a@example.com")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		res, err := snd.Send(context.Background(), srv,
			[]models.ResetMail{mailTo("b@example.com"), mailTo("c@example.com")})
		snd.Close()
		if err != nil || res[0] != nil || res[1] != nil {
			t.Errorf("pipelined %v: second batch %v, %v; want both sent", pipelined, err, res)
		}
	}
}
