// Package xmlrpc reads XML-RPC method calls and writes method responses and faults the way
// Odoo 18 writes them, byte for byte.
//
// Decoding ([DecodeCall]) accepts what real Odoo clients send (Python's xmlrpc.client, the
// Node xmlrpc package, kolo/xmlrpc) and maps values onto Go types:
//
//	<string>, untyped text       string
//	<int>, <i4>, <i8>            int64 (any int64, since Node sends large ints as <int>)
//	<boolean>                    bool (only "0" and "1")
//	<double>                     float64 (also inf and nan, as Python's float() reads them)
//	<nil/>                       nil
//	<array>                      []any
//	<struct>                     map[string]any (a repeated member name: the last one wins)
//	<base64>                     []byte
//	<dateTime.iso8601>           time.Time in UTC
//
// It is strict where Python's expat parser is strict (tag names are case-sensitive, nothing may
// follow the document element) and refuses DOCTYPE and entity declarations outright. Where
// Python's reader is lenient and a client relies on it, so is this one: an empty <param/>
// (kolo/xmlrpc's untyped nil) adds no argument, and an <array> without <data> is empty.
// [Limits] bound the size, depth and number of values of a request.
//
// Encoding ([EncodeResponse], [EncodeFault], [EncodeFaultString]) follows Odoo 18's
// marshaller, which runs with allow_none disabled:
//
//   - nil anywhere is refused with [ErrNone];
//   - integers must fit in 32 bits, as Python refuses larger ones;
//   - []byte is sent as a UTF-8 <string>, never as <base64>;
//   - time.Time is sent as the string "2006-01-02 15:04:05" in UTC, never as a dateTime;
//   - strings lose the control characters 0x00-0x1F other than tab, LF and CR, and only
//     &, < and > are escaped;
//   - float32 values are widened to float64 and printed as Python's repr() prints floats.
//
// Two deliberate departures keep the output well-formed where Odoo's would not be: invalid
// UTF-8 and the non-characters U+FFFE and U+FFFF become U+FFFD, and struct member names are
// cleaned like string values. Go maps have no order, so their members are written with the
// keys sorted; use [Struct] to choose the order, as Odoo's Python dicts keep insertion order.
package xmlrpc
