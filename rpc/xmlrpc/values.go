package xmlrpc

import (
	"encoding/base64"
	"encoding/xml"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// knownMethods spares an allocation for the method names Odoo clients send all the time.
var knownMethods = map[string]string{
	"execute_kw":   "execute_kw",
	"execute":      "execute",
	"authenticate": "authenticate",
	"login":        "login",
	"version":      "version",
}

// methodCall reads the content of <methodCall>: a methodName, then optional params.
func (d *decoder) methodCall() (*Call, error) {
	if err := d.expectStart("methodCall", "methodName"); err != nil {
		return nil, err
	}
	if err := d.readText(xml.Name{Local: "methodName"}); err != nil {
		return nil, err
	}
	call := &Call{Method: internMethod(d.text), Params: []any{}}

	t, err := d.tag("methodCall")
	if err != nil {
		return nil, err
	}
	if st, ok := t.(xml.StartElement); ok && isName(st.Name, "params") {
		if call.Params, err = d.params(); err != nil {
			return nil, err
		}
		return call, d.end("methodCall")
	}
	return call, checkEnd(t, xml.Name{Local: "methodCall"})
}

func internMethod(b []byte) string {
	if s, ok := knownMethods[string(b)]; ok {
		return s
	}
	return string(b)
}

// expectStart reads the start tag of child, the only thing allowed next inside parent.
func (d *decoder) expectStart(parent, child string) error {
	t, err := d.tag(parent)
	if err != nil {
		return err
	}

	st, ok := t.(xml.StartElement)
	if !ok {
		return decodeErrorf("<%s> without <%s>", parent, child)
	}
	if !isName(st.Name, child) {
		return decodeErrorf("unexpected <%s> in <%s>", tagName(st.Name), parent)
	}
	return nil
}

func (d *decoder) params() ([]any, error) {
	params := []any{}
	for {
		t, err := d.tag("params")
		if err != nil {
			return nil, err
		}
		if st, ok := t.(xml.StartElement); !ok || !isName(st.Name, "param") {
			return params, checkEnd(t, xml.Name{Local: "params"})
		}

		v, ok, err := d.param()
		if err != nil {
			return nil, err
		}
		if ok {
			params = append(params, v)
		}
	}
}

// param reads one param. kolo/xmlrpc writes an untyped nil argument as an empty
// <param></param>; Python then sees one argument fewer, and so does this decoder.
func (d *decoder) param() (any, bool, error) {
	t, err := d.tag("param")
	if err != nil {
		return nil, false, err
	}
	if st, ok := t.(xml.StartElement); !ok || !isName(st.Name, "value") {
		return nil, false, checkEnd(t, xml.Name{Local: "param"})
	}

	v, err := d.value(1)
	if err != nil {
		return nil, false, err
	}
	return v, true, d.end("param")
}

// value reads what follows a <value> start tag. Text with no type element is a string, kept
// exactly; around a type element only white space may appear.
func (d *decoder) value(depth int) (any, error) {
	if err := d.count(depth); err != nil {
		return nil, err
	}

	d.text = d.text[:0]
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}

		switch t := t.(type) {
		case xml.CharData:
			d.text = append(d.text, t...)
		case xml.EndElement:
			if err := checkEnd(t, xml.Name{Local: "value"}); err != nil {
				return nil, err
			}
			return string(d.text), nil
		case xml.StartElement:
			return d.typedValue(t, depth)
		}
	}
}

// count enforces the depth and item limits before a value is read.
func (d *decoder) count(depth int) error {
	if depth > d.lim.MaxDepth {
		return decodeErrorf("values nested deeper than %d", d.lim.MaxDepth)
	}

	d.items++
	if d.items > d.lim.MaxItems {
		return decodeErrorf("more than %d values", d.lim.MaxItems)
	}
	return nil
}

func (d *decoder) typedValue(st xml.StartElement, depth int) (any, error) {
	if !isSpace(d.text) {
		return nil, decodeErrorf("text beside <%s> in <value>", tagName(st.Name))
	}

	v, err := d.typed(st, depth)
	if err != nil {
		return nil, err
	}
	return v, d.end("value")
}

// typed reads one type element and its end tag.
func (d *decoder) typed(st xml.StartElement, depth int) (any, error) {
	name, ok := typeName(st.Name)
	if !ok {
		return nil, decodeErrorf("unknown type <%s>", tagName(st.Name))
	}

	switch name {
	case "array":
		return d.array(depth)
	case "struct":
		return d.structValue(depth)
	}

	if err := d.readText(st.Name); err != nil {
		return nil, err
	}
	return d.scalar(name)
}

// typeName accepts the standard type tags, plus the ex: prefix Apache XML-RPC puts on its
// extensions, which Python reads as well.
func typeName(n xml.Name) (string, bool) {
	switch n.Space {
	case "":
		switch n.Local {
		case "string", "int", "i4", "i8", "boolean", "double", "nil", "base64",
			"dateTime.iso8601", "array", "struct":
			return n.Local, true
		}
	case "ex":
		switch n.Local {
		case "nil", "i8":
			return n.Local, true
		}
	}
	return "", false
}

// scalar converts the text in d.text according to the type tag name.
func (d *decoder) scalar(name string) (any, error) {
	switch name {
	case "string":
		return string(d.text), nil
	case "int", "i4", "i8":
		return parseInt(d.text)
	case "boolean":
		return parseBool(d.text)
	case "double":
		return parseDouble(d.text)
	case "nil":
		if !isSpace(d.text) {
			return nil, decodeErrorf("text in <nil/>")
		}
		return nil, nil
	case "base64":
		return parseBase64(d.text)
	}
	return parseDateTime(d.text)
}

// array reads an array's content. A missing <data> is read as empty, as Python does.
func (d *decoder) array(depth int) (any, error) {
	t, err := d.tag("array")
	if err != nil {
		return nil, err
	}
	st, ok := t.(xml.StartElement)
	if !ok || !isName(st.Name, "data") {
		return []any{}, checkEnd(t, xml.Name{Local: "array"})
	}

	items, err := d.data(depth)
	if err != nil {
		return nil, err
	}
	return items, d.end("array")
}

func (d *decoder) data(depth int) ([]any, error) {
	items := []any{}
	for {
		t, err := d.tag("data")
		if err != nil {
			return nil, err
		}
		if st, ok := t.(xml.StartElement); !ok || !isName(st.Name, "value") {
			return items, checkEnd(t, xml.Name{Local: "data"})
		}

		v, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
}

func (d *decoder) structValue(depth int) (any, error) {
	m := map[string]any{}
	for {
		t, err := d.tag("struct")
		if err != nil {
			return nil, err
		}
		if st, ok := t.(xml.StartElement); !ok || !isName(st.Name, "member") {
			return m, checkEnd(t, xml.Name{Local: "struct"})
		}

		name, v, err := d.member(depth)
		if err != nil {
			return nil, err
		}
		m[name] = v
	}
}

// member reads <name> then <value>, in that order, as Python pairs them.
func (d *decoder) member(depth int) (string, any, error) {
	if err := d.expectStart("member", "name"); err != nil {
		return "", nil, err
	}
	if err := d.readText(xml.Name{Local: "name"}); err != nil {
		return "", nil, err
	}
	name := string(d.text)

	if err := d.expectStart("member", "value"); err != nil {
		return "", nil, err
	}
	v, err := d.value(depth + 1)
	if err != nil {
		return "", nil, err
	}
	return name, v, d.end("member")
}

// parseInt accepts what Python's int() reads from XML text, bounded to int64.
func parseInt(text []byte) (any, error) {
	s := trimSpace(text)
	n, err := strconv.ParseInt(string(s), 10, 64)
	if errors.Is(err, strconv.ErrRange) {
		return nil, decodeErrorf("int %q out of range", clip(string(s)))
	}
	if err != nil {
		return nil, decodeErrorf("bad int %q", clip(string(s)))
	}
	return n, nil
}

// parseBool accepts exactly "1" and "0": Python refuses anything else, white space included.
func parseBool(text []byte) (any, error) {
	switch string(text) {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return nil, decodeErrorf("bad boolean %q", clip(string(text)))
}

// parseDouble accepts Python's float() syntax except digit-group underscores; Go's own
// extensions (hexadecimal floats) are refused first.
func parseDouble(text []byte) (any, error) {
	s := string(trimSpace(text))
	if f, ok := parseSpecialFloat(s); ok {
		return f, nil
	}
	if !isDecimalFloat(s) {
		return nil, decodeErrorf("bad double %q", clip(s))
	}

	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return nil, decodeErrorf("bad double %q", clip(s))
	}
	return f, nil
}

func parseSpecialFloat(s string) (float64, bool) {
	sign := 1.0
	if s != "" && (s[0] == '+' || s[0] == '-') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}

	switch strings.ToLower(s) {
	case "inf", "infinity":
		return math.Inf(int(sign)), true
	case "nan":
		return math.NaN(), true
	}
	return 0, false
}

func isDecimalFloat(s string) bool {
	digits := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits = true
		case c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-':
		default:
			return false
		}
	}
	return digits
}

// parseBase64 reads standard padded base64, ignoring the line breaks clients insert.
func parseBase64(text []byte) (any, error) {
	clean := text[:0] // text is the decoder's scratch buffer, free to overwrite
	for _, c := range text {
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			clean = append(clean, c)
		}
	}

	out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
	n, err := base64.StdEncoding.Decode(out, clean)
	if err != nil {
		return nil, decodeErrorf("bad base64")
	}
	return out[:n], nil
}

// parseDateTime reads 20060102T15:04:05 or 2006-01-02T15:04:05, with an optional Z or
// numeric offset; a time without zone is taken as UTC.
func parseDateTime(text []byte) (any, error) {
	s := string(trimSpace(text))
	layout := "20060102T15:04:05"
	if len(s) > 4 && s[4] == '-' {
		layout = time.DateOnly + "T" + time.TimeOnly
	}

	for _, zone := range [...]string{"", "Z07:00", "Z0700", "Z07"} {
		if t, err := time.Parse(layout+zone, s); err == nil {
			return t.UTC(), nil
		}
	}
	return nil, decodeErrorf("bad dateTime %q", clip(s))
}
