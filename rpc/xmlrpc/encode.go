package xmlrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ErrNone is returned, wrapped, when a value to encode holds a nil anywhere. Odoo marshals
// with allow_none disabled, so callers answer with the fault Odoo gives for that TypeError.
var ErrNone = errors.New("cannot marshal None unless allow_none is enabled")

// errIntOverflow matches the text of the OverflowError Python raises for ints beyond 32 bits.
var errIntOverflow = errors.New("int exceeds XML-RPC limits")

// Struct is an ordered XML-RPC struct: members are written in slice order.
type Struct []Member

// Member is one named value of a [Struct].
type Member struct {
	Name  string
	Value any
}

// maxEncodeDepth stops a self-referencing slice or map from exhausting the stack.
const maxEncodeDepth = 512

// The envelope Odoo 18 writes around the marshaller's output, blank line included.
const (
	responseHead = "<?xml version=\"1.0\"?>\n<methodResponse>\n<params>\n<param>\n"
	responseTail = "</param>\n</params>\n\n</methodResponse>\n"
	faultHead    = "<?xml version=\"1.0\"?>\n<methodResponse>\n<fault>\n" +
		"<value><struct>\n<member>\n<name>faultCode</name>\n"
	faultMiddle = "</member>\n<member>\n<name>faultString</name>\n"
	faultTail   = "</member>\n</struct></value>\n</fault>\n\n</methodResponse>\n"
)

var (
	timeType   = reflect.TypeFor[time.Time]()
	structType = reflect.TypeFor[Struct]()
)

// EncodeResponse writes a methodResponse holding v, byte for byte as Odoo 18 does. On error
// nothing is written to w.
func EncodeResponse(w io.Writer, v any) error {
	e := newEncoder()
	defer e.release()

	e.buf.WriteString(responseHead)
	if err := e.value(v, 0); err != nil {
		return err
	}
	e.buf.WriteString(responseTail)

	_, err := w.Write(e.buf.Bytes())
	return err
}

// EncodeFault writes a fault response with an integer faultCode, as the /xmlrpc/2 routes
// send it.
func EncodeFault(w io.Writer, code int, msg string) error {
	return encodeFault(w, code, msg)
}

// EncodeFaultString writes a fault response with a string faultCode, as the legacy
// /xmlrpc/<service> routes send it.
func EncodeFaultString(w io.Writer, code string, msg string) error {
	return encodeFault(w, code, msg)
}

func encodeFault(w io.Writer, code any, msg string) error {
	e := newEncoder()
	defer e.release()

	e.buf.WriteString(faultHead)
	if err := e.value(code, 0); err != nil {
		return err
	}
	e.buf.WriteString(faultMiddle)
	e.str(msg)
	e.buf.WriteString(faultTail)

	_, err := w.Write(e.buf.Bytes())
	return err
}

// encoder builds a whole document in memory so that a failure leaves the writer untouched.
type encoder struct {
	buf     *bytes.Buffer
	scratch []byte
}

// maxPooledBuffer keeps one huge response from pinning its memory in the pool.
const maxPooledBuffer = 64 << 10

var encoderPool = sync.Pool{New: func() any {
	return &encoder{buf: new(bytes.Buffer), scratch: make([]byte, 0, 32)}
}}

func newEncoder() *encoder {
	e := encoderPool.Get().(*encoder)
	e.buf.Reset()
	return e
}

func (e *encoder) release() {
	if e.buf.Cap() <= maxPooledBuffer {
		encoderPool.Put(e)
	}
}

// value dispatches the common types without reflection; the rest goes through reflect.
func (e *encoder) value(v any, depth int) error {
	if depth > maxEncodeDepth {
		return fmt.Errorf("xmlrpc: cannot marshal recursive or too deeply nested value")
	}

	switch v := v.(type) {
	case nil:
		return fmt.Errorf("xmlrpc: %w", ErrNone)
	case string:
		e.str(v)
	case bool:
		e.boolean(v)
	case int:
		return e.int(int64(v))
	case int64:
		return e.int(v)
	case int32:
		return e.int(int64(v))
	case float64:
		e.double(v)
	case map[string]any:
		return e.stringMap(v, depth)
	case []any:
		return e.array(v, depth)
	case Struct:
		return e.members(v, depth)
	case []Member:
		return e.members(v, depth)
	case []byte:
		e.str(string(v))
	case time.Time:
		e.datetime(v)
	default:
		return e.reflected(reflect.ValueOf(v), depth)
	}
	return nil
}

func (e *encoder) str(s string) {
	e.buf.WriteString("<value><string>")
	writeText(e.buf, s)
	e.buf.WriteString("</string></value>\n")
}

func (e *encoder) boolean(b bool) {
	if b {
		e.buf.WriteString("<value><boolean>1</boolean></value>\n")
		return
	}
	e.buf.WriteString("<value><boolean>0</boolean></value>\n")
}

func (e *encoder) int(n int64) error {
	if n < math.MinInt32 || n > math.MaxInt32 {
		return fmt.Errorf("xmlrpc: %w", errIntOverflow)
	}

	e.buf.WriteString("<value><int>")
	e.scratch = strconv.AppendInt(e.scratch[:0], n, 10)
	e.buf.Write(e.scratch)
	e.buf.WriteString("</int></value>\n")
	return nil
}

func (e *encoder) uint(n uint64) error {
	if n > math.MaxInt32 {
		return fmt.Errorf("xmlrpc: %w", errIntOverflow)
	}
	return e.int(int64(n))
}

func (e *encoder) double(f float64) {
	e.buf.WriteString("<value><double>")
	e.scratch = appendPyFloat(e.scratch[:0], f)
	e.buf.Write(e.scratch)
	e.buf.WriteString("</double></value>\n")
}

// datetime writes a time the way Odoo does: a UTC string without zone or fraction.
func (e *encoder) datetime(t time.Time) {
	e.scratch = t.UTC().AppendFormat(e.scratch[:0], time.DateTime)
	e.str(string(e.scratch))
}

func (e *encoder) array(items []any, depth int) error {
	e.buf.WriteString("<value><array><data>\n")
	for _, item := range items {
		if err := e.value(item, depth+1); err != nil {
			return err
		}
	}
	e.buf.WriteString("</data></array></value>\n")
	return nil
}

func (e *encoder) members(m []Member, depth int) error {
	e.buf.WriteString("<value><struct>\n")
	for _, mem := range m {
		if err := e.member(mem.Name, mem.Value, depth); err != nil {
			return err
		}
	}
	e.buf.WriteString("</struct></value>\n")
	return nil
}

// stringMap writes a Go map with its keys sorted, the only stable order a map offers.
func (e *encoder) stringMap(m map[string]any, depth int) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	e.buf.WriteString("<value><struct>\n")
	for _, k := range keys {
		if err := e.member(k, m[k], depth); err != nil {
			return err
		}
	}
	e.buf.WriteString("</struct></value>\n")
	return nil
}

func (e *encoder) member(name string, v any, depth int) error {
	e.buf.WriteString("<member>\n<name>")
	writeText(e.buf, name)
	e.buf.WriteString("</name>\n")

	if err := e.value(v, depth+1); err != nil {
		return err
	}
	e.buf.WriteString("</member>\n")
	return nil
}
