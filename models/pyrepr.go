package models

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxReprLen bounds a value printed into a message, so that a huge domain cannot make a
// huge fault. Odoo prints the whole value; a cut one ends with "...".
const maxReprLen = 500

// pyValueRepr prints a decoded RPC value as Python's repr() would print it, so that messages
// quoting a caller's domain read as Odoo's do.
func pyValueRepr(v any) string {
	var b strings.Builder
	writeRepr(&b, v, false)
	s := b.String()
	if len(s) > maxReprLen {
		s = strings.ToValidUTF8(s[:maxReprLen], "") + "..."
	}
	return s
}

// pyTupleRepr prints a list as a Python tuple, the form Odoo gives a normalised leaf.
func pyTupleRepr(items []any) string {
	var b strings.Builder
	writeRepr(&b, items, true)
	return b.String()
}

func writeRepr(b *strings.Builder, v any, tuple bool) {
	if b.Len() > maxReprLen {
		return // the rest would be cut anyway
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case bool:
		b.WriteString(map[bool]string{true: "True", false: "False"}[x])
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case int:
		b.WriteString(strconv.Itoa(x))
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		b.WriteString(pyRepr(x))
	case []byte:
		b.WriteString("b" + pyRepr(string(x)))
	case time.Time:
		b.WriteString(x.UTC().Format("datetime.datetime(2006, 1, 2, 15, 4, 5)"))
	case []any:
		writeSeq(b, x, tuple)
	case map[string]any:
		writeDict(b, x)
	default:
		b.WriteString("<object>")
	}
}

func writeSeq(b *strings.Builder, items []any, tuple bool) {
	open, end := "[", "]"
	if tuple {
		open, end = "(", ")"
	}
	b.WriteString(open)
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeRepr(b, it, false)
	}
	if tuple && len(items) == 1 {
		b.WriteString(",")
	}
	b.WriteString(end)
}

func writeDict(b *strings.Builder, m map[string]any) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyRepr(k) + ": ")
		writeRepr(b, m[k], false)
	}
	b.WriteString("}")
}

// pyFloat prints f as Python's repr of a float.
func pyFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	switch s {
	case "+Inf":
		return "inf"
	case "-Inf":
		return "-inf"
	case "NaN":
		return "nan"
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}
