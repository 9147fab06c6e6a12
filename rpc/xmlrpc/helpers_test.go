package xmlrpc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// decodeResponse reads a methodResponse body through DecodeCall, by renaming its envelope,
// so that the tests need no second decoder. It returns the value, or the fault struct.
func decodeResponse(t *testing.T, body string) (v any, fault bool) {
	t.Helper()

	fault = strings.Contains(body, "<fault>")
	call := strings.Replace(body, "<methodResponse>",
		"<methodCall><methodName>response</methodName>", 1)
	call = strings.Replace(call, "</methodResponse>", "</methodCall>", 1)
	call = strings.Replace(call, "<fault>", "<params><param>", 1)
	call = strings.Replace(call, "</fault>", "</param></params>", 1)

	c, err := DecodeCall(strings.NewReader(call), DefaultLimits)
	if err != nil {
		t.Fatalf("decoding response %q: %v", body, err)
	}
	if len(c.Params) != 1 {
		t.Fatalf("response holds %d values, want 1", len(c.Params))
	}
	return c.Params[0], fault
}

// encodeAndDecode sends v through EncodeResponse and reads it back.
func encodeAndDecode(t *testing.T, v any) (any, error) {
	t.Helper()

	var buf bytes.Buffer
	if err := EncodeResponse(&buf, v); err != nil {
		if buf.Len() != 0 {
			t.Errorf("EncodeResponse wrote %d bytes before failing with %v", buf.Len(), err)
		}
		return nil, err
	}
	got, _ := decodeResponse(t, buf.String())
	return got, nil
}

// odooView is what a decoded value becomes after EncodeResponse and a new decode: Odoo's
// marshaller turns bytes and times into strings and cleans strings, and XML parsers read
// every raw CR as LF. It fails where EncodeResponse must fail.
func odooView(v any) (any, error) {
	switch v := v.(type) {
	case nil:
		return nil, ErrNone
	case int64:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return nil, errIntOverflow
		}
		return v, nil
	case string:
		return cleanText(v), nil
	case []byte:
		return cleanText(string(v)), nil
	case time.Time:
		return v.UTC().Format(time.DateTime), nil
	case []any:
		return odooViewSlice(v)
	case map[string]any:
		return odooViewMap(v)
	}
	return v, nil
}

func odooViewSlice(s []any) (any, error) {
	out := make([]any, len(s))
	for i, item := range s {
		w, err := odooView(item)
		if err != nil {
			return nil, err
		}
		out[i] = w
	}
	return out, nil
}

// odooViewMap replays the encoder's sorted order so that keys which clean to the same text
// keep the value a decoder sees last.
func odooViewMap(m map[string]any) (any, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)

	out := make(map[string]any, len(m))
	for _, k := range keys {
		w, err := odooView(m[k])
		if err != nil {
			return nil, err
		}
		out[cleanText(k)] = w
	}
	return out, nil
}

// cleanText restates the encoder's text rules independently, then the parser's CR rule.
func cleanText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
		case r == 0xFFFE || r == 0xFFFF:
			b.WriteRune(0xFFFD)
		default:
			b.WriteRune(r)
		}
	}
	out := strings.ReplaceAll(b.String(), "\r\n", "\n")
	return strings.ReplaceAll(out, "\r", "\n")
}

// equalValues compares decoded values; unlike reflect.DeepEqual it takes NaN as equal to
// NaN, compares times as instants and sees no difference between nil and empty bytes.
func equalValues(a, b any) bool {
	switch a := a.(type) {
	case float64:
		bf, ok := b.(float64)
		return ok && (a == bf && math.Signbit(a) == math.Signbit(bf) ||
			math.IsNaN(a) && math.IsNaN(bf))
	case []byte:
		bb, ok := b.([]byte)
		return ok && bytes.Equal(a, bb)
	case time.Time:
		bt, ok := b.(time.Time)
		return ok && a.Equal(bt)
	case []any:
		bs, ok := b.([]any)
		return ok && slices.EqualFunc(a, bs, equalValues)
	case map[string]any:
		return equalMaps(a, b)
	}
	return a == b
}

func equalMaps(a map[string]any, b any) bool {
	bm, ok := b.(map[string]any)
	if !ok || len(a) != len(bm) {
		return false
	}
	for k, v := range a {
		w, ok := bm[k]
		if !ok || !equalValues(v, w) {
			return false
		}
	}
	return true
}

// checkRoundTrip asserts that a decoded value survives EncodeResponse and a new decode in
// its Odoo form, or that EncodeResponse refuses it for the reason Odoo would.
func checkRoundTrip(t *testing.T, v any) {
	t.Helper()

	want, wantErr := odooView(v)
	got, err := encodeAndDecode(t, v)
	switch {
	case wantErr != nil && !errors.Is(err, wantErr):
		t.Fatalf("EncodeResponse(%#v) error = %v, want %v", v, err, wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("EncodeResponse(%#v): %v", v, err)
	case wantErr == nil && !equalValues(got, want):
		t.Fatalf("round trip of %#v gave %#v, want %#v", v, got, want)
	}
}

// call builds a methodCall body around param values written as XML.
func call(method string, values ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\"?><methodCall><methodName>%s</methodName><params>",
		method)
	for _, v := range values {
		fmt.Fprintf(&b, "<param>%s</param>", v)
	}
	b.WriteString("</params></methodCall>")
	return b.String()
}

// value builds a methodCall whose only param is the given <value> content.
func value(inner string) string {
	return call("m", "<value>"+inner+"</value>")
}

func utc(year int, month time.Month, day, hour, min, sec int) time.Time {
	return time.Date(year, month, day, hour, min, sec, 0, time.UTC)
}
