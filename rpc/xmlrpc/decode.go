package xmlrpc

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Call is a decoded methodCall.
type Call struct {
	Method string
	Params []any
}

// Limits bound the work done on hostile input. A zero or negative field takes its value from
// [DefaultLimits].
type Limits struct {
	MaxBytes int64 // size of the request body
	MaxDepth int   // nesting of values; a param's own value is at depth 1
	MaxItems int   // total number of values decoded, at every depth
}

// DefaultLimits fit any call a real Odoo client makes, with a wide margin.
var DefaultLimits = Limits{MaxBytes: 4 << 20, MaxDepth: 64, MaxItems: 1 << 20}

// DecodeError reports a request that is not a methodCall this package accepts.
type DecodeError struct {
	Msg string
}

// Error returns the message with the package prefix.
func (e *DecodeError) Error() string { return "xmlrpc: " + e.Msg }

func decodeErrorf(format string, args ...any) *DecodeError {
	return &DecodeError{Msg: fmt.Sprintf(format, args...)}
}

var errTooLarge = &DecodeError{Msg: "request too large"}

// DecodeCall reads a methodCall document from r, which it consumes to the end to make sure
// nothing follows the document; on error it may stop early. Zero fields of lim take the
// values of [DefaultLimits]. Every error is a *DecodeError, read errors from r included.
func DecodeCall(r io.Reader, lim Limits) (*Call, error) {
	lim = lim.withDefaults()
	lr := &limitReader{r: r, left: lim.MaxBytes}
	br := bufio.NewReader(lr)
	skipBOM(br)

	d := newDecoder(br, lim)
	call, err := d.document()
	if lr.exceeded {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, err
	}
	return call, nil
}

func (lim Limits) withDefaults() Limits {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = DefaultLimits.MaxBytes
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = DefaultLimits.MaxDepth
	}
	if lim.MaxItems <= 0 {
		lim.MaxItems = DefaultLimits.MaxItems
	}
	return lim
}

// limitReader fails once more than left bytes arrive, remembering that it did so that the
// XML parser's resulting error can be reported as what it really is.
type limitReader struct {
	r        io.Reader
	left     int64
	exceeded bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errTooLarge
	}

	// One byte past the limit is enough to tell a body of exactly MaxBytes from a larger one.
	if room := l.left + 1; room > 0 && int64(len(p)) > room {
		p = p[:room]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.exceeded = true
		return 0, errTooLarge
	}
	return n, err
}

// skipBOM drops a UTF-8 byte order mark, which expat accepts and encoding/xml does not.
func skipBOM(br *bufio.Reader) {
	if b, err := br.Peek(3); err == nil && string(b) == "\xEF\xBB\xBF" {
		_, _ = br.Discard(3)
	}
}

type decoder struct {
	x     *xml.Decoder
	lim   Limits
	items int
	text  []byte // character data of the element being read, reused between elements
}

func newDecoder(r io.Reader, lim Limits) *decoder {
	x := xml.NewDecoder(r)
	x.CharsetReader = charsetReader
	return &decoder{x: x, lim: lim}
}

// charsetReader admits the encodings expat reads itself besides UTF-8: US-ASCII, a subset
// of UTF-8, and ISO-8859-1, which Python's xmlrpc.client sends when told to. Every other
// declared encoding is refused; UTF-8 itself never reaches it.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "us-ascii", "ascii":
		return &asciiReader{r: input}, nil
	case "iso-8859-1", "iso8859-1", "latin-1", "latin1":
		return &latin1Reader{r: input}, nil
	}
	return nil, decodeErrorf("unsupported encoding %q", clip(charset))
}

// latin1Reader turns ISO-8859-1 into UTF-8: each byte is the code point of its value.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.out) == 0 {
		if cap(l.buf) < len(p)/2+1 {
			l.buf = make([]byte, len(p)/2+1)
		}
		n, err := l.r.Read(l.buf[:len(p)/2+1])
		for _, c := range l.buf[:n] {
			l.out = utf8.AppendRune(l.out, rune(c))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// asciiReader holds a document to the US-ASCII it declared.
type asciiReader struct {
	r io.Reader
}

func (a *asciiReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	for _, c := range p[:n] {
		if c >= utf8.RuneSelf {
			return 0, decodeErrorf("non-ASCII byte in a US-ASCII document")
		}
	}
	return n, err
}

// document reads the prolog, the methodCall element and what follows it.
func (d *decoder) document() (*Call, error) {
	root, err := d.prolog()
	if err != nil {
		return nil, err
	}
	if !isName(root.Name, "methodCall") {
		return nil, decodeErrorf("root element is <%s>, want <methodCall>", tagName(root.Name))
	}

	call, err := d.methodCall()
	if err != nil {
		return nil, err
	}

	if err := d.epilog(); err != nil {
		return nil, err
	}
	return call, nil
}

// prolog returns the root element, after at most an XML declaration (which must come first,
// as in expat), comments, processing instructions and white space.
func (d *decoder) prolog() (xml.StartElement, error) {
	for first := true; ; first = false {
		t, err := d.x.RawToken()
		if err == io.EOF {
			return xml.StartElement{}, decodeErrorf("no methodCall element")
		}
		if err != nil {
			return xml.StartElement{}, d.fail(err)
		}

		switch t := t.(type) {
		case xml.StartElement:
			return t, nil
		case xml.ProcInst:
			if err := checkProlog(t, first); err != nil {
				return xml.StartElement{}, err
			}
		case xml.CharData:
			if !isSpace(t) {
				return xml.StartElement{}, decodeErrorf("text before <methodCall>")
			}
		case xml.Directive:
			return xml.StartElement{}, decodeErrorf("DOCTYPE and other declarations are refused")
		}
	}
}

// checkProlog admits an XML declaration only as the very first thing, as expat does.
func checkProlog(pi xml.ProcInst, first bool) error {
	switch {
	case pi.Target != "xml":
		return nil
	case !first:
		return decodeErrorf("misplaced XML declaration")
	}
	return checkDeclaration(pi.Inst)
}

// epilog accepts only white space, comments and processing instructions up to the end.
func (d *decoder) epilog() error {
	for {
		t, err := d.x.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return d.fail(err)
		}

		switch t := t.(type) {
		case xml.Comment:
		case xml.ProcInst:
			if t.Target == "xml" {
				return decodeErrorf("misplaced XML declaration")
			}
		case xml.CharData:
			if !isSpace(t) {
				return decodeErrorf("trailing data after </methodCall>")
			}
		default:
			return decodeErrorf("trailing data after </methodCall>")
		}
	}
}

// token returns the next element or text token inside the document element, skipping
// comments and processing instructions as XML allows.
func (d *decoder) token() (xml.Token, error) {
	for {
		t, err := d.x.RawToken()
		if err != nil {
			return nil, d.fail(err)
		}

		switch t := t.(type) {
		case xml.StartElement, xml.EndElement, xml.CharData:
			return t, nil
		case xml.ProcInst:
			if t.Target == "xml" {
				return nil, decodeErrorf("misplaced XML declaration")
			}
		case xml.Directive:
			return nil, decodeErrorf("DOCTYPE and other declarations are refused")
		}
	}
}

// tag returns the next start or end tag, where only white space may come before it.
func (d *decoder) tag(parent string) (xml.Token, error) {
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}

		if cd, ok := t.(xml.CharData); ok {
			if !isSpace(cd) {
				return nil, decodeErrorf("unexpected text in <%s>", parent)
			}
			continue
		}
		return t, nil
	}
}

// end reads the closing tag of name, where only white space may come before it.
func (d *decoder) end(name string) error {
	t, err := d.tag(name)
	if err != nil {
		return err
	}
	return checkEnd(t, xml.Name{Local: name})
}

// checkEnd verifies that t closes want: RawToken leaves tag matching to its caller.
func checkEnd(t xml.Token, want xml.Name) error {
	switch t := t.(type) {
	case xml.EndElement:
		if t.Name != want {
			return decodeErrorf("</%s> closes <%s>", tagName(t.Name), tagName(want))
		}
		return nil
	case xml.StartElement:
		return decodeErrorf("unexpected <%s> in <%s>", tagName(t.Name), tagName(want))
	}
	return decodeErrorf("malformed <%s>", tagName(want))
}

// readText collects the character data of the element name up to its end tag, in d.text.
// CDATA sections and entity references are joined as one text, as expat delivers them.
func (d *decoder) readText(name xml.Name) error {
	d.text = d.text[:0]
	for {
		t, err := d.token()
		if err != nil {
			return err
		}

		if cd, ok := t.(xml.CharData); ok {
			d.text = append(d.text, cd...)
			continue
		}
		return checkEnd(t, name)
	}
}

// fail turns an error from encoding/xml or from the reader into a *DecodeError.
func (d *decoder) fail(err error) error {
	var de *DecodeError
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &de):
		return de
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return decodeErrorf("unexpected end of request")
	case errors.As(err, &se) && se.Msg == "unexpected EOF":
		return decodeErrorf("unexpected end of request")
	case errors.As(err, &se):
		return decodeErrorf("malformed XML at line %d: %s", se.Line, clipTo(se.Msg, 100))
	}
	return decodeErrorf("reading request: %v", err)
}

func isName(n xml.Name, local string) bool {
	return n.Space == "" && n.Local == local
}

func tagName(n xml.Name) string {
	if n.Space == "" {
		return clip(n.Local)
	}
	return clip(n.Space + ":" + n.Local)
}

// isSpace reports whether b holds only the white space XML allows between elements.
func isSpace(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return true
}

func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\r\n")
}

// clip keeps echoes of client input in error messages short.
func clip(s string) string {
	return clipTo(s, 40)
}

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "..."
}
