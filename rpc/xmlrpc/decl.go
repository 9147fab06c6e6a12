package xmlrpc

import "strings"

// declFields are the pseudo-attributes of an XML declaration, in the only order allowed.
var declFields = [...]string{"version", "encoding", "standalone"}

// checkDeclaration refuses an XML declaration that expat would refuse. encoding/xml reads
// only the version and encoding it finds and ignores everything else in it.
func checkDeclaration(inst []byte) error {
	bad := decodeErrorf("malformed XML declaration")
	s := strings.TrimLeft(string(inst), " \t\r\n")
	next := 0

	for s != "" {
		name, val, rest, ok := cutPseudoAttr(s)
		if !ok || !validDeclValue(name, val) {
			return bad
		}

		i := indexFrom(declFields[:], next, name)
		if i < 0 || (next == 0 && i != 0) {
			return bad
		}
		next = i + 1

		s = strings.TrimLeft(rest, " \t\r\n")
		if len(s) == len(rest) && s != "" {
			return bad
		}
	}

	if next == 0 {
		return bad
	}
	return nil
}

// cutPseudoAttr splits name = "value" (or 'value') off the front of s.
func cutPseudoAttr(s string) (name, val, rest string, ok bool) {
	i := 0
	for i < len(s) && s[i] >= 'a' && s[i] <= 'z' {
		i++
	}
	name, s = s[:i], strings.TrimLeft(s[i:], " \t\r\n")

	if name == "" || !strings.HasPrefix(s, "=") {
		return "", "", "", false
	}
	s = strings.TrimLeft(s[1:], " \t\r\n")

	if s == "" || (s[0] != '"' && s[0] != '\'') {
		return "", "", "", false
	}
	val, rest, ok = strings.Cut(s[1:], s[:1])
	return name, val, rest, ok
}

func validDeclValue(name, val string) bool {
	switch name {
	case "version":
		return val == "1.0"
	case "encoding":
		return validEncName(val)
	case "standalone":
		return val == "yes" || val == "no"
	}
	return false
}

// validEncName follows the XML grammar: a letter, then letters, digits, '.', '_' or '-'.
func validEncName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		other := c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
		if !letter && (i == 0 || !other) {
			return false
		}
	}
	return s != ""
}

func indexFrom(list []string, from int, s string) int {
	for i := from; i < len(list); i++ {
		if list[i] == s {
			return i
		}
	}
	return -1
}
