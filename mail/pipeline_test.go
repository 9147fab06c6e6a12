package mail

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

// relay forwards TCP connections to a server, delaying every chunk by delay in each
// direction, and records what the client sent, chunk by chunk: a command group written at
// once arrives as one chunk, commands that waited for replies as several.
type relay struct {
	ln    net.Listener
	delay time.Duration

	mu     sync.Mutex
	chunks [][]byte
}

// startRelay relays to target for the duration of the test.
func startRelay(t testing.TB, target string, delay time.Duration) *relay {
	t.Helper()
	r := &relay{delay: delay}
	r.ln = serveTCP(t, func(client net.Conn) {
		server, err := net.Dial("tcp", target)
		if err != nil {
			_ = client.Close()
			return
		}
		done := make(chan struct{})
		go func() { defer close(done); r.pipe(client, server, false) }()
		r.pipe(server, client, true)
		<-done
	})
	return r
}

// serveTCP listens on a free loopback port and runs handle for each connection; the test
// ends after the listener is closed and every handle has returned.
func serveTCP(t testing.TB, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); handle(c) }()
		}
	}()
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	return ln
}

func (r *relay) Addr() string { return r.ln.Addr().String() }

// pipe copies src to dst, each chunk delay after it was read, and closes both at the end.
func (r *relay) pipe(dst, src net.Conn, record bool) {
	type chunk struct {
		due time.Time
		b   []byte
	}
	chunks := make(chan chunk, 4096)
	go func() {
		defer close(chunks)
		buf := make([]byte, 64<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				b := bytes.Clone(buf[:n])
				if record {
					r.mu.Lock()
					r.chunks = append(r.chunks, b)
					r.mu.Unlock()
				}
				chunks <- chunk{time.Now().Add(r.delay), b}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		time.Sleep(time.Until(c.due))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	_ = dst.Close()
	_ = src.Close()
}

// sent returns the client's chunks so far.
func (r *relay) sent() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]byte(nil), r.chunks...)
}

// groups counts the client's chunks holding a MAIL FROM, and among them those holding its
// RCPT and DATA too.
func (r *relay) groups() (mails, whole int) {
	for _, c := range r.sent() {
		s := string(c)
		if !strings.Contains(s, "MAIL FROM:") {
			continue
		}
		mails++
		if strings.Contains(s, "\r\nRCPT TO:<") && strings.HasSuffix(s, "\r\nDATA\r\n") {
			whole++
		}
	}
	return mails, whole
}

// TestSendPipelines shows the commands a server sees: with pipelining, each mail's MAIL,
// RCPT and DATA arrive in one piece, so a mail costs two round trips (the group, then the
// data); one at a time, they never do.
func TestSendPipelines(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			c := startCatcher(t, catcher.Options{})
			r := startRelay(t, c.Addr(), 0)
			s := testSender(nil)
			s.NoPipelining = p.noPipelining
			mails := []models.ResetMail{mailTo("a@example.com"), mailTo("b@example.com"),
				mailTo("c@example.com")}
			results, err := s.Send(context.Background(), serverAt(t, r.Addr(), "none"), mails)
			if err != nil || results[0] != nil || results[1] != nil || results[2] != nil {
				t.Fatalf("Send = %v, %v", results, err)
			}

			n, whole := r.groups()
			want := 3
			if p.noPipelining {
				want = 0
			}
			if n != 3 || whole != want {
				t.Errorf("%d MAIL commands, %d in a whole group; want 3, %d", n, whole, want)
			}
			if got := len(c.Messages()); got != 3 {
				t.Errorf("%d messages delivered, want 3", got)
			}
		})
	}
}

// TestSendPipelinedTLS pipelines over both kinds of TLS, where go-smtp's client and the
// pipelined transaction share the TLS connection.
func TestSendPipelinedTLS(t *testing.T) {
	server, roots := testTLS(t)
	users := map[string]string{testUser: testPassword}
	for _, enc := range []string{"ssl", "starttls"} {
		t.Run(enc, func(t *testing.T) {
			c := startCatcher(t, catcher.Options{TLS: server, ImplicitTLS: enc == "ssl",
				Users: users})
			srv := serverAt(t, c.Addr(), enc)
			srv.User, srv.Password = testUser, testPassword
			mails := []models.ResetMail{mailTo("a@example.com"), mailTo("b@example.com")}
			results, err := testSender(roots).Send(context.Background(), srv, mails)
			if err != nil || results[0] != nil || results[1] != nil {
				t.Fatalf("Send = %v, %v", results, err)
			}
			msgs := c.Messages()
			if len(msgs) != 2 || !msgs[1].TLS || msgs[1].User != testUser ||
				msgs[1].Size != int64(len(msgs[1].Data)) {
				t.Errorf("messages %+v", msgs)
			}
		})
	}
}

// scripted is an SMTP server far simpler than the catcher, for what go-smtp's server never
// does: leave PIPELINING out of EHLO, answer DATA with 354 although every recipient was
// refused (RFC 2920 §3.1 allows it), or fall silent after a command group.
type scripted struct {
	ln         net.Listener
	pipelining bool   // advertise PIPELINING
	refuse     string // RCPT of this address gets 550
	stall      bool   // read MAIL, RCPT and DATA, then say nothing
	refuseData string // the reply to DATA instead of 354, when set
	flood      bool   // answer MAIL with continuation lines that never end

	mu   sync.Mutex
	data [][]string // the message lines of each DATA, dot-stuffing removed
}

func startScripted(t *testing.T, s *scripted) *scripted {
	t.Helper()
	s.ln = serveTCP(t, s.serve)
	return s
}

func (s *scripted) serve(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	tp := textproto.NewConn(c)
	say := func(line string) bool { return tp.PrintfLine("%s", line) == nil }
	say("220 scripted ESMTP")
	recipients := 0
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(strings.ToUpper(line), ":")
		verb, _, _ = strings.Cut(verb, " ")
		var ok bool
		switch verb {
		case "EHLO":
			if s.pipelining {
				ok = say("250-scripted") && say("250 PIPELINING")
			} else {
				ok = say("250 scripted")
			}
		case "MAIL":
			recipients = 0
			for s.flood && say("250-"+strings.Repeat("x", 500)) {
			}
			ok = s.stall || say("250 2.1.0 ok")
		case "RCPT":
			if s.refuse != "" && strings.Contains(arg, strings.ToUpper(s.refuse)) {
				ok = s.stall || say("550 5.1.1 no such user")
			} else {
				recipients++
				ok = s.stall || say("250 2.1.5 ok")
			}
		case "DATA":
			if s.stall {
				_, _ = tp.ReadLine() // until the client gives up
				return
			}
			if s.refuseData != "" {
				ok = say(s.refuseData)
				break
			}
			ok = s.receive(tp, recipients)
		case "RSET", "NOOP":
			ok = say("250 2.0.0 ok")
		case "QUIT":
			say("221 2.0.0 bye")
			return
		default:
			ok = say("502 5.5.1 not here")
		}
		if !ok {
			return
		}
	}
}

// receive answers DATA with 354 whatever came before, as a pipelining server may.
func (s *scripted) receive(tp *textproto.Conn, recipients int) bool {
	if tp.PrintfLine("354 go ahead") != nil {
		return false
	}
	lines, err := tp.ReadDotLines()
	if err != nil {
		return false
	}
	s.mu.Lock()
	s.data = append(s.data, lines)
	s.mu.Unlock()
	if recipients == 0 {
		return tp.PrintfLine("554 5.5.1 no valid recipients") == nil
	}
	return tp.PrintfLine("250 2.0.0 queued") == nil
}

func (s *scripted) messages() [][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]string(nil), s.data...)
}

// TestSendAllRecipientsRefusedData354: when a pipelining server refuses every recipient
// and still answers DATA with 354, the client sends a lone end of data (RFC 2920 §3.1),
// so the server receives an empty message it has nobody to deliver to; the mail fails
// with the recipient's refusal, the outbox is never told it is about to go out, and the
// next mail goes out on the same connection.
func TestSendAllRecipientsRefusedData354(t *testing.T) {
	srv := startScripted(t, &scripted{pipelining: true, refuse: "b@example.com"})
	r := startRelay(t, srv.ln.Addr().String(), 0)
	var committed []int
	var results []error
	err := testSender(nil).SendEach(context.Background(), serverAt(t, r.Addr(), "none"),
		[]models.ResetMail{mailTo("b@example.com"), mailTo("c@example.com")},
		models.SendHooks{
			Committing: func(i int) error { committed = append(committed, i); return nil },
			Report:     func(_ int, err error) bool { results = append(results, err); return true },
		})
	if err != nil || len(results) != 2 || results[1] != nil {
		t.Fatalf("SendEach = %v, %v; want the second mail delivered", results, err)
	}

	de := deliveryError(t, results[0])
	if de.Stage != models.StageRcpt || de.Code != 550 || de.Text != "5.1.1 no such user" {
		t.Errorf("results[0] = %+v, want the recipient's 550", de)
	}
	if len(committed) != 1 || committed[0] != 1 {
		t.Errorf("committing called for %v, want only the second mail", committed)
	}
	msgs := srv.messages()
	if len(msgs) != 2 || len(msgs[0]) != 0 || len(msgs[1]) < 10 {
		t.Errorf("server received messages of %d lines; want an empty one, then the mail",
			len(msgs))
	}
	if _, whole := r.groups(); whole != 2 {
		t.Errorf("%d whole command groups, want 2", whole)
	}
}

// TestSendNotAdvertised: without PIPELINING in EHLO, commands go one at a time, and a
// refused recipient never gets as far as DATA.
func TestSendNotAdvertised(t *testing.T) {
	srv := startScripted(t, &scripted{refuse: "b@example.com"})
	r := startRelay(t, srv.ln.Addr().String(), 0)
	results, err := testSender(nil).Send(context.Background(), serverAt(t, r.Addr(), "none"),
		[]models.ResetMail{mailTo("b@example.com"), mailTo("c@example.com")})
	if err != nil || results[1] != nil {
		t.Fatalf("Send = %v, %v; want the second mail delivered", results, err)
	}
	if de := deliveryError(t, results[0]); de.Stage != models.StageRcpt || de.Code != 550 {
		t.Errorf("results[0] = %+v, want rcpt 550", de)
	}
	if n, whole := r.groups(); n != 2 || whole != 0 {
		t.Errorf("%d MAIL commands, %d in a whole group; want 2, 0", n, whole)
	}
	if msgs := srv.messages(); len(msgs) != 1 {
		t.Errorf("server received %d messages, want 1", len(msgs))
	}
}

// TestSendDataRefused: a refusal of the DATA command itself fails each mail at the data
// stage, pipelined or not, and leaves the connection fit for the next mail.
func TestSendDataRefused(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			srv := startScripted(t, &scripted{pipelining: true,
				refuseData: "451 4.3.0 Try again later"})
			r := startRelay(t, srv.ln.Addr().String(), 0)
			s := testSender(nil)
			s.NoPipelining = p.noPipelining
			results, err := s.Send(context.Background(), serverAt(t, r.Addr(), "none"),
				[]models.ResetMail{mailTo("a@example.com"), mailTo("b@example.com")})
			if err != nil {
				t.Fatal(err)
			}
			for i, res := range results {
				de := deliveryError(t, res)
				if de.Stage != models.StageData || de.Code != 451 || !de.Temporary ||
					de.Text != "4.3.0 Try again later" || de.Unconfirmed {
					t.Errorf("mail %d: %+v; want a temporary 451 at data", i, de)
				}
			}
			n, whole := r.groups()
			if want := map[bool]int{false: 2, true: 0}[p.noPipelining]; n != 2 || whole != want {
				t.Errorf("%d MAIL commands, %d in a whole group; want 2, %d", n, whole, want)
			}
		})
	}
}

// TestSendFloodedReply: a server whose reply never ends fails the mail once it has sent a
// megabyte, pipelined or not, long before the command timeout.
func TestSendFloodedReply(t *testing.T) {
	eachPath(t, func(t *testing.T, s *Sender) {
		srv := startScripted(t, &scripted{pipelining: true, flood: true})
		begin := time.Now()
		results, err := s.Send(context.Background(),
			serverAt(t, srv.ln.Addr().String(), "none"), []models.ResetMail{recordedMail()})
		if err != nil {
			t.Fatal(err)
		}
		if de := deliveryError(t, results[0]); !errors.Is(de, errTooMuchReply) ||
			de.Stage != models.StageSender {
			t.Errorf("result %+v, want errTooMuchReply at the sender stage", de)
		}
		if elapsed := time.Since(begin); elapsed > 5*time.Second {
			t.Errorf("Send took %v", elapsed)
		}
	})
}

// TestSendPipelinedStall: a server that takes the command group and never answers holds
// the mail for the command timeout, not longer; the mail may be retried.
func TestSendPipelinedStall(t *testing.T) {
	srv := startScripted(t, &scripted{pipelining: true, stall: true})
	s := testSender(nil)
	s.Timeout = 300 * time.Millisecond
	begin := time.Now()
	results, err := s.Send(context.Background(), serverAt(t, srv.ln.Addr().String(), "none"),
		[]models.ResetMail{mailTo("a@example.com"), mailTo("b@example.com")})
	if elapsed := time.Since(begin); elapsed > 2*time.Second {
		t.Errorf("Send returned after %v, want about %v", elapsed, s.Timeout)
	}
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		var ne net.Error
		de := deliveryError(t, r)
		if !de.Temporary || de.Unconfirmed || !errors.As(r, &ne) || !ne.Timeout() {
			t.Errorf("results[%d] = %+v, want a temporary timeout", i, de)
		}
	}
}

// TestEnvelopeAddress: nothing that could end the path or the command line reaches MAIL
// FROM or RCPT TO.
func TestEnvelopeAddress(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"siti@contoh.id", true},
		{"Siti <siti@contoh.id>", true},
		{"o'brien+reset@example.com", true},
		{"siti.nurhalizà@contoh.id", true},
		{`"a>b"@example.com`, false},
		{`"a<b"@example.com`, false},
		{`"a b"@example.com`, false},
		{"\"a\tb\"@example.com", false},
		{"\"a\r\nb\"@example.com", false},
		{`"a\"b"@example.com`, false},
	}
	for _, tt := range tests {
		got, err := envelopeAddress(bareAddress(tt.in))
		if (err == nil) != tt.ok {
			t.Errorf("envelopeAddress(%q) = %q, %v; want ok=%v", tt.in, got, err, tt.ok)
		}
	}

	c := startCatcher(t, catcher.Options{})
	results, err := testSender(nil).Send(context.Background(), serverAt(t, c.Addr(), "none"),
		[]models.ResetMail{mailTo(`"x>\r\nRCPT TO:<y"@example.com`),
			mailTo(`"x>"@example.com`), mailTo("ok@example.com")})
	if err != nil || results[2] != nil {
		t.Fatalf("Send = %v, %v", results, err)
	}
	for _, r := range results[:2] {
		if de := deliveryError(t, r); de.Stage != models.StageRcpt || de.Code != 0 {
			t.Errorf("result %+v, want refused before any command", de)
		}
	}
	if msgs := c.Messages(); len(msgs) != 1 || len(msgs[0].To) != 1 {
		t.Errorf("delivered %+v", msgs)
	}
}

// TestSendSomeRecipientsRefused: as with Odoo (smtplib), a mail goes out when one of its
// recipients is accepted, and fails at RCPT only when none is; pipelined or not.
func TestSendSomeRecipientsRefused(t *testing.T) {
	eachPath(t, func(t *testing.T, s *Sender) {
		c := startCatcher(t, catcher.Options{OnRcpt: func(to string) error {
			if strings.HasPrefix(to, "b") {
				return refuse("", 550)(to)
			}
			return nil
		}})
		results, err := s.Send(context.Background(), serverAt(t, c.Addr(), "none"),
			[]models.ResetMail{mailTo("a@example.com, b@example.com"),
				mailTo("b@example.com, b2@example.com"), mailTo("c@example.com")})
		if err != nil || results[0] != nil || results[2] != nil {
			t.Fatalf("Send = %v, %v; want only the second mail refused", results, err)
		}
		if de := deliveryError(t, results[1]); de.Stage != models.StageRcpt || de.Code != 550 {
			t.Errorf("results[1] = %+v, want rcpt 550", de)
		}
		msgs := c.Messages()
		if len(msgs) != 2 || strings.Join(msgs[0].To, ",") != "a@example.com" ||
			strings.Join(msgs[1].To, ",") != "c@example.com" {
			t.Errorf("delivered %d messages: %+v", len(msgs), msgs)
		}
	})
}
