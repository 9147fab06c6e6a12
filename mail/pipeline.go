package mail

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/models"
)

// maxReplyLine bounds one line of a server reply, as go-smtp's client does for its own
// reads: twice the 512 octets RFC 5321 §4.5.3.1.5 allows.
const maxReplyLine = 2000

// maxReplies bounds what the server may send between two writes of the client: the replies
// to one command group of up to 100 recipients take some 50 KiB.
const maxReplies = 1 << 20

// Errors for a server that sends more than replies can hold.
var (
	errReplyTooLong = errors.New("smtp reply line too long")
	errTooMuchReply = errors.New("smtp server sent more than its replies can hold")
)

// wire is the connection as go-smtp's client sees it: the clear or TLS connection over the
// deadlineConn, whose bytes from the server are all buffered in r, within limit.
//
// With pipelining the session reads the replies of its own command group from r, while
// go-smtp keeps reading its replies (EHLO, AUTH, RSET, NOOP, QUIT) through Read. Read hands
// out at most one line at a time, so go-smtp's own buffer never takes more than the reply
// it is reading: whatever the server sent beyond it stays in r for whoever sent the
// command it answers.
type wire struct {
	net.Conn
	r     *bufio.Reader
	limit *replyLimit
}

func newWire(c net.Conn) *wire {
	limit := &replyLimit{r: c}
	return &wire{Conn: c, r: bufio.NewReader(limit), limit: limit}
}

// Write implements net.Conn. What the server may send in reply starts afresh.
func (w *wire) Write(p []byte) (int, error) {
	w.limit.written()
	return w.Conn.Write(p)
}

// Read implements net.Conn: the buffered bytes up to and including the first line end.
func (w *wire) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if w.r.Buffered() == 0 {
		if _, err := w.r.Peek(1); err != nil {
			return 0, err
		}
	}

	buf, _ := w.r.Peek(w.r.Buffered())
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		buf = buf[:i+1]
	}
	n := copy(p, buf)
	_, _ = w.r.Discard(n)
	return n, nil
}

// replyLimit fails a read once a line from the server exceeds maxReplyLine, or what it sent
// since the client last wrote exceeds maxReplies, so that neither go-smtp's reader nor the
// pipelined one gathers a reply without end. Writes and reads of one session never run
// at the same time.
type replyLimit struct {
	r     io.Reader
	line  int // bytes since the last line end
	since int // bytes since the client last wrote
}

func (l *replyLimit) written() { l.since = 0 }

// Read implements io.Reader.
func (l *replyLimit) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.since += n
	if l.since > maxReplies {
		return 0, errTooMuchReply
	}
	for _, b := range p[:n] {
		l.line++
		if b == '\n' {
			l.line = 0
		}
		if l.line > maxReplyLine {
			return 0, errReplyTooLong
		}
	}
	return n, err
}

// extensions are what the server advertised that a transaction depends on, read once
// after EHLO and AUTH.
type extensions struct {
	pipelining   bool // PIPELINING, and the Sender allows it
	eightBitMIME bool // 8BITMIME: go-smtp declares BODY=8BITMIME whenever it is offered
	size         bool // SIZE
	smtpUTF8     bool // SMTPUTF8
}

func extensionsOf(c *smtp.Client, allowPipelining bool) extensions {
	has := func(name string) bool {
		ok, _ := c.Extension(name)
		return ok
	}
	return extensions{
		pipelining:   allowPipelining && has("PIPELINING"),
		eightBitMIME: has("8BITMIME"),
		size:         has("SIZE"),
		smtpUTF8:     has("SMTPUTF8"),
	}
}

// beginPipelined sends MAIL, every RCPT and DATA as one group (RFC 2920) and reads their
// replies, one round trip where step by step takes 2 or more. It returns the writer for
// the message's data when the server is ready for it; else, as the step-by-step path
// does, the mail's outcome and whether the connection is unusable.
func (ss *session) beginPipelined(ctx context.Context, from string, to []string,
	opts *smtp.MailOptions) (io.WriteCloser, bool, error) {

	if err := ss.sendGroup(ss.mailCommand(from, opts), to); err != nil {
		return nil, ss.drop(), classify(ctx, ss.label, models.StageSender, err)
	}

	mailErr := ss.reply(250)
	if mailErr != nil && connectionBroken(mailErr) {
		return nil, ss.drop(), classify(ctx, ss.label, models.StageSender, mailErr)
	}
	rcptErr := ss.recipients(to, func(string) error { return ss.reply(25) })
	if rcptErr != nil && connectionBroken(rcptErr) {
		if mailErr == nil {
			return nil, ss.drop(), classify(ctx, ss.label, models.StageRcpt, rcptErr)
		}
		// The server refused the sender, then hung up: the refusal is this mail's
		// outcome, the lost connection that of the mails after it.
		ss.lost = classify(ctx, ss.label, models.StageRcpt, rcptErr)
		return nil, ss.drop(), classify(ctx, ss.label, models.StageSender, mailErr)
	}
	dataErr := ss.reply(354)
	if dataErr != nil && connectionBroken(dataErr) {
		return nil, ss.drop(), ss.groupFailure(ctx, mailErr, rcptErr, dataErr)
	}

	var broken bool
	var err error
	switch {
	case mailErr != nil:
		broken, err = ss.refuse(ctx, models.StageSender, mailErr, dataErr == nil)
	case rcptErr != nil:
		broken, err = ss.refuse(ctx, models.StageRcpt, rcptErr, dataErr == nil)
	case dataErr != nil:
		broken, err = ss.abort(ctx, models.StageData, dataErr)
	default:
		return ss.dataWriter(), false, nil
	}
	return nil, broken, err
}

// mailCommand is MAIL FROM with the parameters go-smtp's Mail sends for opts: BODY=8BITMIME
// and SIZE when the server offers them, SMTPUTF8 when asked for (envelope has checked the
// server offers it). from has passed checkEnvelopeAddress.
func (ss *session) mailCommand(from string, opts *smtp.MailOptions) string {
	var b strings.Builder
	b.WriteString("MAIL FROM:<" + from + ">")
	if ss.ext.eightBitMIME {
		b.WriteString(" BODY=8BITMIME")
	}
	if ss.ext.size && opts.Size != 0 {
		fmt.Fprintf(&b, " SIZE=%d", opts.Size)
	}
	if opts.UTF8 {
		b.WriteString(" SMTPUTF8")
	}
	return b.String()
}

// sendGroup writes MAIL, the RCPTs and DATA in one write, within the command timeout.
func (ss *session) sendGroup(mail string, to []string) error {
	var b bytes.Buffer
	b.WriteString(mail + "\r\n")
	for _, addr := range to {
		b.WriteString("RCPT TO:<" + addr + ">\r\n")
	}
	b.WriteString("DATA\r\n")

	if err := ss.wire.SetDeadline(time.Time{}); err != nil {
		return err
	}
	_, err := ss.wire.Write(b.Bytes())
	return err
}

// reply reads the next reply of the group, as go-smtp would report it.
func (ss *session) reply(expect int) error {
	_, _, err := textproto.NewReader(ss.wire.r).ReadResponse(expect)
	var te *textproto.Error
	if errors.As(err, &te) {
		return replyError(te)
	}
	return err
}

// replyError turns a refusal into the *smtp.SMTPError go-smtp returns for it, with the
// enhanced status code (RFC 3463) taken out of the text.
func replyError(te *textproto.Error) *smtp.SMTPError {
	se := &smtp.SMTPError{Code: te.Code, EnhancedCode: smtp.NoEnhancedCode, Message: te.Msg}
	first, rest, ok := strings.Cut(te.Msg, " ")
	if !ok {
		return se
	}
	var ec smtp.EnhancedCode
	var extra string
	if n, _ := fmt.Sscanf(first, "%d.%d.%d%s", &ec[0], &ec[1], &ec[2], &extra); n != 3 {
		return se
	}
	se.EnhancedCode = ec
	// Each line of a multi-line reply repeats the enhanced code (RFC 2034 §4).
	se.Message = strings.ReplaceAll(rest, "\n"+first+" ", "\n")
	return se
}

// groupFailure is the outcome of a group whose DATA reply never came: the refusal before
// it when there was one, which the lost connection does not change.
func (ss *session) groupFailure(ctx context.Context, mailErr, rcptErr,
	dataErr error) error {
	ss.lost = classify(ctx, ss.label, models.StageData, dataErr)
	switch {
	case mailErr != nil:
		return classify(ctx, ss.label, models.StageSender, mailErr)
	case rcptErr != nil:
		return classify(ctx, ss.label, models.StageRcpt, rcptErr)
	}
	return ss.lost
}

// refuse ends a transaction the server refused before its data. A pipelining server may
// still have answered DATA with 354 (RFC 2920 §3.1): it then waits for the message, and a
// lone end of data, which gives it nothing to deliver, ends the transaction before RSET.
func (ss *session) refuse(ctx context.Context, stage string, err error, dataOpen bool) (
	bool, error) {
	if dataOpen {
		if werr := ss.endEmpty(); werr != nil {
			ss.lost = classify(ctx, ss.label, models.StageData, werr)
			return ss.drop(), classify(ctx, ss.label, stage, err)
		}
	}
	return ss.abort(ctx, stage, err)
}

// endEmpty sends the end of data of a transaction without recipients and reads the reply,
// whatever it says: the server has no recipient to deliver to.
func (ss *session) endEmpty() error {
	if err := ss.wire.SetDeadline(time.Time{}); err != nil {
		return err
	}
	if _, err := ss.wire.Write([]byte(".\r\n")); err != nil {
		return err
	}
	err := ss.reply(250)
	if err != nil && !connectionBroken(err) {
		ss.log.Debug("smtp_empty_data_refused", "server", ss.label, "error", err)
		return nil
	}
	return err
}

// drop closes a connection whose replies can no longer be matched to their commands; like
// hangUp, it sends nothing more. It reports the connection as broken.
func (ss *session) drop() bool {
	ss.hangUp()
	return true
}

// pipelinedData writes a message's data after a pipelined DATA; Close sends the end of
// data and reads the server's verdict, as go-smtp's DataCommand does.
type pipelinedData struct {
	ss  *session
	buf *bufio.Writer
	dot io.WriteCloser
}

func (ss *session) dataWriter() *pipelinedData {
	buf := bufio.NewWriter(ss.wire)
	return &pipelinedData{ss: ss, buf: buf, dot: textproto.NewWriter(buf).DotWriter()}
}

// Write implements io.Writer, within the command timeout.
func (d *pipelinedData) Write(p []byte) (int, error) {
	if err := d.ss.wire.SetDeadline(time.Time{}); err != nil {
		return 0, err
	}
	return d.dot.Write(p)
}

// Close implements io.Closer.
func (d *pipelinedData) Close() error {
	if err := d.ss.wire.SetDeadline(time.Time{}); err != nil {
		return err
	}
	if err := d.dot.Close(); err != nil {
		return err
	}
	return d.ss.reply(250)
}
