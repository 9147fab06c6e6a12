package xmlrpc

import (
	"bytes"
	"math"
	"strconv"
	"unicode/utf8"
)

// writeText writes s as XML character data. Only &, < and > are escaped, as Python's
// marshaller does; control characters other than tab, LF and CR are dropped, as Odoo 17+
// does. Invalid UTF-8 and U+FFFE/U+FFFF cannot appear in XML, so they become U+FFFD.
func writeText(buf *bytes.Buffer, s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if repl, special := asciiReplacement(c); special {
				buf.WriteString(s[start:i])
				buf.WriteString(repl)
				start = i + 1
			}
			i++
			continue
		}

		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == 0xFFFE || r == 0xFFFF {
			buf.WriteString(s[start:i])
			buf.WriteString("\uFFFD")
			start = i + size
		}
		i += size
	}
	buf.WriteString(s[start:])
}

// asciiReplacement reports whether c must not be copied as is, and what to write instead.
func asciiReplacement(c byte) (string, bool) {
	switch {
	case c == '&':
		return "&amp;", true
	case c == '<':
		return "&lt;", true
	case c == '>':
		return "&gt;", true
	case c < 0x20 && c != '\t' && c != '\n' && c != '\r':
		return "", true
	}
	return "", false
}

// appendPyFloat formats f as Python's repr() does: the shortest digits that read back as f,
// in positional form with at least one decimal for exponents -4 to 15, otherwise in
// scientific form with a signed exponent of at least two digits.
func appendPyFloat(dst []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(dst, "nan"...)
	case math.IsInf(f, 1):
		return append(dst, "inf"...)
	case math.IsInf(f, -1):
		return append(dst, "-inf"...)
	}

	start := len(dst)
	dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
	if exp := decimalExponent(dst[start:]); exp < -4 || exp >= 16 {
		return dst
	}

	dst = strconv.AppendFloat(dst[:start], f, 'f', -1, 64)
	if bytes.IndexByte(dst[start:], '.') < 0 {
		dst = append(dst, ".0"...)
	}
	return dst
}

// decimalExponent reads the exponent of a number strconv formatted with the 'e' verb.
func decimalExponent(sci []byte) int {
	i := bytes.IndexByte(sci, 'e')
	exp, _ := strconv.Atoi(string(sci[i+1:]))
	return exp
}
