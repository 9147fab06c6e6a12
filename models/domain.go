package models

import (
	"database/sql/driver"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Bounds on the work one domain may ask for. Odoo has none; these are far above what real
// scripts and the web client send (a few dozen terms) and keep a hostile domain cheap.
const (
	maxDomainTerms = 2000   // operators and leaves, sub-domains included
	maxDomainDepth = 256    // nesting of &, |, ! and of dotted paths and "any"
	maxDomainList  = 100000 // values in one "in" list
)

// Messages of the ValueErrors and AssertionErrors Odoo's domain parser raises (Odoo 17/18
// expression.py). The texts the specs do not record are written in the same style and
// marked so.
const (
	msgDomainForm   = "Domains to normalize must have a 'domain' form: a list or tuple of domain components"
	msgDomainSyntax = "This domain is syntactically not correct: %s"
	msgInvalidLeaf  = "Invalid leaf %s"
	msgInvalidField = "Invalid field %s.%s in leaf %s"
	msgInvalidTerm  = "Invalid domain term %s"
	msgNotStored    = "Non-stored field %s.%s cannot be searched."
	// msgDomainBound is odoo-shim's own (Odoo sets no bound), in the ValueError style.
	msgDomainBound = "Domain too large: more than %d terms, %d levels or %d values in a list"
)

// The operators a leaf may use, after lowercasing and turning <> into != (Odoo's
// TERM_OPERATORS).
var termOperators = map[string]bool{
	"=": true, "!=": true, "<=": true, "<": true, ">": true, ">=": true, "=?": true,
	"=like": true, "=ilike": true, "like": true, "not like": true, "ilike": true,
	"not ilike": true, "in": true, "not in": true, "child_of": true, "parent_of": true,
	"any": true, "not any": true,
}

// negativeOps match the rows where the column is NULL, as Odoo's SQL does for them.
var negativeOps = map[string]string{
	"!=": "=", "not like": "like", "not ilike": "ilike", "not in": "in", "not any": "any",
}

// sqlWhere is a compiled condition: SQL text with $n placeholders and the values for them.
type sqlWhere struct {
	args []any
}

// bind adds a value and returns its placeholder, cast to the value's type so that
// PostgreSQL never guesses a narrower one (an id beyond int4 must compare, not fail).
func (w *sqlWhere) bind(v any) string {
	w.args = append(w.args, v)
	ph := "$" + strconv.Itoa(len(w.args))
	switch v.(type) {
	case int64:
		return ph + "::bigint"
	case string:
		return ph + "::text"
	case bool:
		return ph + "::boolean"
	case time.Time:
		return ph + "::timestamp"
	case sqlArray:
		return ph + "::" + v.(sqlArray).elem + "[]"
	}
	return ph
}

// compiler turns one domain into SQL over a model. The SQL holds only fixed fragments and
// the whitelisted field expressions; every value goes through bind.
type compiler struct {
	cat   *catalog
	w     *sqlWhere
	terms int
}

// compileDomain compiles domain (a decoded RPC list) for model m. It also reports whether
// a top-level leaf names "active", which turns off the implicit active filter as in Odoo.
func compileDomain(cat *catalog, m *modelDef, domain any, w *sqlWhere) (string, bool,
	error) {
	c := &compiler{cat: cat, w: w}
	terms, err := domainTerms(domain)
	if err != nil {
		return "", false, err
	}
	sql, err := c.domain(m, terms, 0)
	if err != nil {
		return "", false, err
	}
	return sql, mentionsActive(terms), nil
}

// domainTerms accepts a list, and any false value as the empty domain (Odoo's
// "domain or []").
func domainTerms(domain any) ([]any, error) {
	switch d := domain.(type) {
	case []any:
		return d, nil
	case nil:
		return nil, nil
	case bool:
		if !d {
			return nil, nil
		}
	case string:
		if d == "" {
			return nil, nil
		}
	}
	return nil, NewError(KindValueError, msgDomainForm)
}

func mentionsActive(terms []any) bool {
	for _, t := range terms {
		if leaf, ok := t.([]any); ok && len(leaf) == 3 && leaf[0] == "active" {
			return true
		}
	}
	return false
}

// domain compiles a whole domain: its top-level terms are joined by an implicit "&".
func (c *compiler) domain(m *modelDef, terms []any, depth int) (string, error) {
	if depth > maxDomainDepth {
		return "", c.tooLarge()
	}
	var parts []string
	for i := 0; i < len(terms); {
		sql, next, err := c.term(m, terms, i, depth)
		if errors.Is(err, errShort) {
			return "", Errorf(KindAssertionError, msgDomainSyntax, pyValueRepr(terms))
		}
		if err != nil {
			return "", err
		}
		parts = append(parts, sql)
		i = next
	}
	return joinSQL(parts, " AND ", "TRUE"), nil
}

// errShort reports an operator missing its operands; domain turns it into Odoo's
// AssertionError quoting the whole domain.
var errShort = NewError(KindAssertionError, "domain operator without operands")

// term compiles the term at terms[i] with its operands, in prefix order, and returns the
// index after it.
func (c *compiler) term(m *modelDef, terms []any, i, depth int) (string, int, error) {
	if i >= len(terms) {
		return "", i, errShort
	}
	if c.terms++; c.terms > maxDomainTerms || depth > maxDomainDepth {
		return "", i, c.tooLarge()
	}

	switch t := terms[i].(type) {
	case string:
		return c.operator(m, terms, i, depth, t)
	case []any:
		sql, err := c.leaf(m, t, depth)
		return sql, i + 1, err
	}
	return "", i, Errorf(KindValueError, msgInvalidLeaf, pyStrOf(terms[i]))
}

// operator compiles "&", "|" or "!" and its operands. Chains of the same operator are
// flattened, so long conjunctions make flat SQL.
func (c *compiler) operator(m *modelDef, terms []any, i, depth int, op string) (string, int,
	error) {
	switch op {
	case "!":
		sql, next, err := c.term(m, terms, i+1, depth+1)
		if err != nil {
			return "", next, err
		}
		return "NOT (" + sql + ")", next, nil
	case "&", "|":
		// Odoo's n-ary form: each operator takes exactly two operands.
		a, next, err := c.term(m, terms, i+1, depth+1)
		if err != nil {
			return "", next, err
		}
		b, next, err := c.term(m, terms, next, depth+1)
		if err != nil {
			return "", next, err
		}
		sep := map[string]string{"&": " AND ", "|": " OR "}[op]
		return "(" + a + sep + b + ")", next, nil
	}
	return "", i, Errorf(KindValueError, msgInvalidLeaf, pyStrOf(op))
}

func (c *compiler) tooLarge() error {
	return Errorf(KindValueError, msgDomainBound, maxDomainTerms, maxDomainDepth,
		maxDomainList)
}

// joinSQL joins conditions, giving empty when there are none.
func joinSQL(parts []string, sep, empty string) string {
	switch len(parts) {
	case 0:
		return empty
	case 1:
		return parts[0]
	}
	return "(" + strings.Join(parts, sep) + ")"
}

// leaf is one (field, operator, value) condition, normalised as Odoo normalises it.
type leaf struct {
	path  []string
	op    string
	value any
	raw   []any // as sent, for messages
}

// pyStrOf is Python's str() of a term: a string as it is, anything else as repr().
func pyStrOf(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyValueRepr(v)
}

func (l leaf) repr() string {
	return pyTupleRepr([]any{strings.Join(l.path, "."), l.op, l.value})
}

// leaf compiles one leaf.
func (c *compiler) leaf(m *modelDef, t []any, depth int) (string, error) {
	if len(t) != 3 {
		return "", Errorf(KindValueError, msgInvalidLeaf, pyStrOf(t))
	}
	if sql, ok := constantLeaf(t); ok {
		return sql, nil
	}
	name, nameOK := t[0].(string)
	op, opOK := t[1].(string)
	if opOK {
		op = strings.ToLower(op)
		if op == "<>" {
			op = "!="
		}
	}
	if !nameOK || name == "" || !opOK || !termOperators[op] {
		return "", Errorf(KindValueError, msgInvalidLeaf, pyStrOf(t))
	}
	l := leaf{path: strings.Split(name, "."), op: op, value: t[2], raw: t}
	l.normalise()
	return c.pathLeaf(m, l, depth)
}

// constantLeaf recognises Odoo's TRUE_LEAF (1, '=', 1) and FALSE_LEAF (0, '=', 1).
func constantLeaf(t []any) (string, bool) {
	a, aok := AsInt64(t[0])
	b, bok := AsInt64(t[2])
	if !aok || !bok || t[1] != "=" || b != 1 {
		return "", false
	}
	if _, isBool := t[0].(bool); isBool {
		return "", false
	}
	switch a {
	case 1:
		return "TRUE", true
	case 0:
		return "FALSE", true
	}
	return "", false
}

// normalise applies Odoo's normalize_leaf: "in" with a boolean is "=", "=" with a list is
// "in".
func (l *leaf) normalise() {
	_, isBool := l.value.(bool)
	_, isList := l.value.([]any)
	switch {
	case isBool && l.op == "in":
		l.op = "="
	case isBool && l.op == "not in":
		l.op = "!="
	case isList && l.op == "=":
		l.op = "in"
	case isList && l.op == "!=":
		l.op = "not in"
	}
}

// pathLeaf resolves the field the leaf names, following a dotted path into the comodel.
func (c *compiler) pathLeaf(m *modelDef, l leaf, depth int) (string, error) {
	f, ok := m.fields[l.path[0]]
	if !ok {
		return "", Errorf(KindValueError, msgInvalidField, m.name, l.path[0], l.repr())
	}
	if f.private {
		return "", Errorf(KindValueError, msgNotStored, m.name, f.name)
	}
	if len(l.path) > 1 || l.op == "any" || l.op == "not any" {
		return c.subLeaf(m, f, l, depth)
	}
	if f.rel != nil {
		return c.x2manyLeaf(m, f, l, depth)
	}
	return c.fieldLeaf(m, f, l)
}

// subLeaf compiles ("rel.field", op, v) and (rel, "any", domain) as a condition on the
// comodel's records.
func (c *compiler) subLeaf(m *modelDef, f *field, l leaf, depth int) (string, error) {
	co, ok := c.cat.model(f.relation)
	if f.relation == "" || !ok {
		return "", Errorf(KindValueError, msgInvalidField, m.name, strings.Join(l.path, "."),
			l.repr())
	}

	var inner string
	var err error
	positive := true
	if len(l.path) > 1 {
		sub := leaf{path: l.path[1:], op: l.op, value: l.value, raw: l.raw}
		inner, err = c.pathLeaf(co, sub, depth+1)
	} else {
		terms, ok := l.value.([]any)
		if !ok {
			return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
		}
		inner, err = c.domain(co, terms, depth+1)
		positive = l.op == "any"
	}
	if err != nil {
		return "", err
	}

	ids := "SELECT " + co.id + " FROM " + co.from + " WHERE " + inner
	if f.rel != nil {
		sql := "EXISTS (SELECT 1 FROM " + f.rel.table + " r WHERE r." + f.rel.owner + " = " +
			m.id + relCond(f.rel) + " AND r." + f.rel.target + " IN (" + ids + "))"
		if !positive {
			return "NOT " + sql, nil
		}
		return sql, nil
	}
	if !positive {
		return "(" + f.expr + " IS NULL OR " + f.expr + " NOT IN (" + ids + "))", nil
	}
	return f.expr + " IN (" + ids + ")", nil
}

func relCond(r *relation) string {
	if r.cond == "" {
		return ""
	}
	return " AND " + r.cond
}

// fieldLeaf compiles a leaf on a field with a column expression.
func (c *compiler) fieldLeaf(m *modelDef, f *field, l leaf) (string, error) {
	switch l.op {
	case "=?":
		if l.value == nil || l.value == false {
			return "TRUE", nil
		}
		l.op = "="
		return c.fieldLeaf(m, f, l)
	case "in", "not in":
		return c.inLeaf(m, f, l)
	case "child_of", "parent_of":
		return c.hierarchyLeaf(m, f, l)
	}
	if l.value == nil || l.value == false {
		return c.falseLeaf(f, l)
	}
	if f.ftype == typeMany2one {
		if s, ok := l.value.(string); ok {
			return c.nameLeaf(f, l, s)
		}
	}
	if strings.HasSuffix(l.op, "like") {
		return c.likeLeaf(f, l)
	}
	return c.compareLeaf(f, l)
}

// falseLeaf compiles a comparison with False (or None): Odoo's "not set".
func (c *compiler) falseLeaf(f *field, l leaf) (string, error) {
	unset := f.expr + " IS NULL"
	if f.ftype == typeBoolean {
		unset = "(" + f.expr + " IS NULL OR " + f.expr + " = false)"
	}
	switch l.op {
	case "=", "like", "ilike", "=like", "=ilike":
		return unset, nil
	case "!=", "not like", "not ilike":
		return "NOT " + unset, nil
	}
	// Odoo compares with NULL here, which matches nothing.
	return "FALSE", nil
}

// compareLeaf compiles =, !=, <, <=, >, >= with a value of the field's type.
func (c *compiler) compareLeaf(f *field, l leaf) (string, error) {
	v, err := fieldValue(f, l.value)
	if err != nil {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	if f.ftype == typeBoolean {
		return c.boolLeaf(f, l.op, v.(bool))
	}
	sql := f.expr + " " + l.op + " " + c.w.bind(v)
	if l.op == "!=" {
		return "(" + sql + " OR " + f.expr + " IS NULL)", nil
	}
	return sql, nil
}

// boolLeaf treats NULL as False, as Odoo reads it.
func (c *compiler) boolLeaf(f *field, op string, v bool) (string, error) {
	col := "COALESCE(" + f.expr + ", false)"
	return col + " " + op + " " + c.w.bind(v), nil
}

// likeLeaf compiles the pattern operators; like and ilike wrap the value in %, as Odoo
// does (without escaping % and _ in it, as Odoo).
func (c *compiler) likeLeaf(f *field, l leaf) (string, error) {
	s, ok := likeText(l.value)
	if !ok {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	op := strings.TrimPrefix(l.op, "=")
	pos := strings.TrimPrefix(op, "not ")
	if op == l.op {
		s = "%" + s + "%"
	}
	sql := f.expr + "::text " + strings.ToUpper(pos) + " " + c.w.bind(s)
	if pos != op {
		return "(" + f.expr + " IS NULL OR NOT " + sql + ")", nil
	}
	if s == "%%" {
		// Odoo adds the NULL rows when the pattern is empty: it matches everything.
		return "(" + sql + " OR " + f.expr + " IS NULL)", nil
	}
	return sql, nil
}

func likeText(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case int64:
		return strconv.FormatInt(x, 10), true
	case float64:
		return pyFloat(x), true
	}
	return "", false
}

// inLeaf compiles "in" and "not in"; False in the list stands for NULL.
func (c *compiler) inLeaf(m *modelDef, f *field, l leaf) (string, error) {
	list, ok := l.value.([]any)
	if !ok {
		list = []any{l.value} // Odoo accepts a single value in place of a list
	}
	if len(list) > maxDomainList {
		return "", c.tooLarge()
	}
	if _, byName := firstString(list); byName && f.ftype == typeMany2one {
		return c.nameInLeaf(m, f, l, list)
	}
	vals, withNull, err := listValues(f, list)
	if err != nil {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}

	col := f.expr
	if f.ftype == typeBoolean {
		col = "COALESCE(" + f.expr + ", false)"
	}
	var parts []string
	if vals != nil {
		parts = append(parts, col+" = ANY("+c.w.bind(vals)+")")
	}
	if withNull {
		parts = append(parts, f.expr+" IS NULL")
	}
	in := joinSQL(parts, " OR ", "FALSE")
	if l.op == "in" {
		return in, nil
	}
	if !withNull && vals != nil {
		return "(" + f.expr + " IS NULL OR NOT " + in + ")", nil
	}
	return "NOT " + in, nil
}

func firstString(list []any) (string, bool) {
	for _, v := range list {
		if s, ok := v.(string); ok {
			return s, true
		}
	}
	return "", false
}

// sqlArray is an array parameter with the SQL type of its elements.
type sqlArray struct {
	elem string
	arr  driver.Valuer
}

// Value encodes the array for lib/pq.
func (a sqlArray) Value() (driver.Value, error) { return a.arr.Value() }

// listValues converts the values of an "in" list to one typed array for the field.
func listValues(f *field, list []any) (any, bool, error) {
	if f.ftype == typeMany2one || f.ftype == typeOne2many || f.ftype == typeMany2many {
		f = &field{ftype: typeInteger}
	}
	withNull := false
	var ints []int64
	var texts []string
	var bools []bool
	var times []string
	for _, v := range list {
		if v == nil || v == false && f.ftype != typeBoolean {
			withNull = true
			continue
		}
		x, err := fieldValue(f, v)
		if err != nil {
			return nil, false, err
		}
		switch y := x.(type) {
		case int64:
			ints = append(ints, y)
		case string:
			texts = append(texts, y)
		case bool:
			bools = append(bools, y)
		case time.Time:
			times = append(times, y.Format("2006-01-02 15:04:05"))
		}
	}
	switch {
	case ints != nil:
		return sqlArray{"bigint", pq.Int64Array(ints)}, withNull, nil
	case texts != nil:
		return sqlArray{"text", pq.StringArray(texts)}, withNull, nil
	case bools != nil:
		return sqlArray{"boolean", pq.BoolArray(bools)}, withNull, nil
	case times != nil:
		return sqlArray{"timestamp", pq.StringArray(times)}, withNull, nil
	}
	return nil, withNull, nil
}

// fieldValue converts a domain value to the Go value of the field's SQL type; an error
// means the value cannot be compared with the field.
func fieldValue(f *field, v any) (any, error) {
	switch f.ftype {
	case typeInteger, typeMany2one, typeOne2many, typeMany2many:
		if n, ok := AsInt64(v); ok {
			return n, nil
		}
	case typeChar, typeText, typeSelection:
		if s, ok := likeText(v); ok {
			return s, nil
		}
	case typeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		if n, ok := AsInt64(v); ok && (n == 0 || n == 1) {
			return n == 1, nil
		}
	case typeDatetime, typeDate:
		return timeValue(f, v)
	}
	return nil, errBadValue
}

var errBadValue = NewError(KindValueError, "value does not fit the field")

// timeValue reads Odoo's date and datetime strings; a date alone means midnight.
func timeValue(f *field, v any) (any, error) {
	var t time.Time
	var err error
	switch x := v.(type) {
	case time.Time:
		t = x.UTC()
	case string:
		t, err = time.Parse("2006-01-02 15:04:05", x)
		if err != nil {
			t, err = time.Parse("2006-01-02", x)
		}
	default:
		return nil, errBadValue
	}
	if err != nil {
		return nil, errBadValue
	}
	if f.ftype == typeDate {
		t = t.Truncate(24 * time.Hour)
	}
	return t, nil
}

// AsInt64 reads an integer the way Odoo accepts ids: ints and integral floats (bools are
// not ids).
func AsInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		if x == float64(int64(x)) {
			return int64(x), true
		}
	}
	return 0, false
}

// nameLeaf compiles (many2one, op, "text"): Odoo matches the text against the target's
// display name with the same operator, then compares ids.
func (c *compiler) nameLeaf(f *field, l leaf, s string) (string, error) {
	co, ok := c.cat.model(f.relation)
	if !ok {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	op, negative := l.op, false
	if pos, ok := negativeOps[op]; ok {
		op, negative = pos, true
	}
	var cond string
	switch op {
	case "=", "like", "ilike", "=like", "=ilike":
		name := &field{ftype: typeChar, expr: co.nameExpr}
		var err error
		if op == "=" {
			cond, err = c.compareLeaf(name, leaf{op: "=", value: s})
		} else {
			cond, err = c.likeLeaf(name, leaf{op: op, value: s})
		}
		if err != nil {
			return "", err
		}
	default:
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	ids := "SELECT " + co.id + " FROM " + co.from + " WHERE " + cond
	if negative {
		return "(" + f.expr + " IS NULL OR " + f.expr + " NOT IN (" + ids + "))", nil
	}
	return f.expr + " IN (" + ids + ")", nil
}

// nameInLeaf compiles (many2one, "in", ["name", ...]): names match exactly.
func (c *compiler) nameInLeaf(m *modelDef, f *field, l leaf, list []any) (string, error) {
	var parts []string
	for _, v := range list {
		one := leaf{path: l.path, op: "=", value: v, raw: l.raw}
		sql, err := c.fieldLeaf(m, f, one)
		if err != nil {
			return "", err
		}
		parts = append(parts, sql)
	}
	in := joinSQL(parts, " OR ", "FALSE")
	if l.op == "not in" {
		return "NOT " + in, nil
	}
	return in, nil
}

// x2manyLeaf compiles a leaf on a one2many or many2many: the record matches when one of
// its linked records does (or, for the negative operators, when none does).
func (c *compiler) x2manyLeaf(m *modelDef, f *field, l leaf, depth int) (string, error) {
	link := "SELECT 1 FROM " + f.rel.table + " r WHERE r." + f.rel.owner + " = " + m.id +
		relCond(f.rel)
	if l.value == nil || l.value == false {
		switch l.op {
		case "=", "in":
			return "NOT EXISTS (" + link + ")", nil
		case "!=", "not in":
			return "EXISTS (" + link + ")", nil
		}
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}

	op, negative := l.op, false
	if pos, ok := negativeOps[op]; ok && op != "not like" && op != "not ilike" {
		op, negative = pos, true
	}
	if op != "=" && op != "in" {
		sub := leaf{path: []string{f.name, "display_name"}, op: l.op, value: l.value,
			raw: l.raw}
		return c.subLeaf(m, f, sub, depth+1)
	}
	list, ok := l.value.([]any)
	if !ok {
		list = []any{l.value}
	}
	if len(list) > maxDomainList {
		return "", c.tooLarge()
	}
	vals, _, err := listValues(&field{ftype: typeInteger}, list)
	if err != nil || vals == nil {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	sql := "EXISTS (" + link + " AND r." + f.rel.target + " = ANY(" + c.w.bind(vals) + "))"
	if negative {
		return "NOT " + sql, nil
	}
	return sql, nil
}

// hierarchyLeaf compiles child_of and parent_of: the given records with all their
// descendants (or ancestors) along the target model's parent_id. On a model without a
// hierarchy (res.users) they mean "in", as there is nothing to follow.
func (c *compiler) hierarchyLeaf(m *modelDef, f *field, l leaf) (string, error) {
	target := m
	if f.ftype == typeMany2one {
		target, _ = c.cat.model(f.relation)
	} else if f.name != "id" {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	list, isList := l.value.([]any)
	if !isList {
		list = []any{l.value}
	}
	if len(list) > maxDomainList {
		return "", c.tooLarge()
	}
	vals, _, err := listValues(&field{ftype: typeInteger}, list)
	if err != nil {
		return "", Errorf(KindValueError, msgInvalidTerm, l.repr())
	}
	if vals == nil {
		return "FALSE", nil
	}
	if target == nil || target.hierarchy == "" {
		return f.expr + " = ANY(" + c.w.bind(vals) + ")", nil
	}

	tbl, parent := target.table, target.hierarchy
	step := "SELECT x.id FROM " + tbl + " x JOIN tree t ON x." + parent + " = t.id"
	if l.op == "parent_of" {
		step = "SELECT x." + parent + " FROM " + tbl + " x JOIN tree t ON x.id = t.id " +
			"WHERE x." + parent + " IS NOT NULL"
	}
	// UNION (not UNION ALL) stops at records already seen, so a cycle ends.
	return f.expr + " IN (WITH RECURSIVE tree(id) AS (SELECT x.id FROM " + tbl +
		" x WHERE x.id = ANY(" + c.w.bind(vals) + ") UNION " + step +
		") SELECT id FROM tree)", nil
}
