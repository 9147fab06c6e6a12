package models

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// FuzzCompileDomain feeds the compiler domains of any shape (as JSON, the way JSON-RPC
// decodes them): it must never panic, fail only with an Odoo error, and bind exactly the
// placeholders it writes.
func FuzzCompileDomain(f *testing.F) {
	for _, seed := range []string{
		`[["login","=","admin"]]`,
		`["|",["login","=ilike","a%"],["email","=",false]]`,
		`["!","&",["id","in",[1,2,3]],["partner_id.email","not ilike","x"]]`,
		`[["partner_id","any",[["email","=","x"]]],["company_ids","in",[1]]]`,
		`[["id","child_of",[1]],[1,"=",1],[0,"=",1],["create_date",">","2024-01-01"]]`,
		`["&"]`, `[["login; DROP","=",1]]`, `[["login","= 1 OR","x"]]`, `"x"`, `[[]]`,
		`[["partner_id","in",["Ahmad",3,false]]]`, `[["email","=?",null]]`,
	} {
		f.Add(seed)
	}
	cat := buildCatalog(columns{"res_partner": {"complete_name": true, "parent_id": true},
		"res_company": {"parent_id": true}}, 18)

	f.Fuzz(func(t *testing.T, src string) {
		dec := json.NewDecoder(strings.NewReader(src))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		for _, model := range []string{"res.users", "res.partner"} {
			m, _ := cat.model(model)
			w := &sqlWhere{}
			sql, _, err := compileDomain(cat, m, fromJSONNumbers(v), w)
			if err != nil {
				if _, ok := AsError(err); !ok {
					t.Fatalf("compile(%s) error %v is not an Odoo error", src, err)
				}
				continue
			}
			for i := range w.args {
				if !bytes.Contains([]byte(sql), []byte("$"+strconv.Itoa(i+1))) {
					t.Fatalf("compile(%s) = %s: placeholder $%d missing", src, sql, i+1)
				}
			}
		}
	})
}

// fromJSONNumbers gives JSON numbers the Go types the RPC decoders give them.
func fromJSONNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		fl, _ := x.Float64()
		return fl
	case []any:
		for i := range x {
			x[i] = fromJSONNumbers(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = fromJSONNumbers(x[k])
		}
	}
	return v
}
