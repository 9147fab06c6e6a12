package models

import (
	"context"
	"testing"
	"time"
)

func BenchmarkSignToken(b *testing.B) {
	ld := int64(1796316027)
	p := SignupPayload{PartnerID: 10, UserIDs: []int64{9}, LoginDate: &ld, SignupType: "reset"}
	for b.Loop() {
		SignToken("854768f0-06ab-45a6-9e2e-d9622f2df2b2", p, 1796330536)
	}
}

func BenchmarkVerifyToken(b *testing.B) {
	ld := int64(1796316027)
	p := SignupPayload{PartnerID: 10, UserIDs: []int64{9}, LoginDate: &ld, SignupType: "reset"}
	secret := "854768f0-06ab-45a6-9e2e-d9622f2df2b2"
	tok := SignToken(secret, p, 1796330536)
	now := time.Unix(1796320000, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifyToken(secret, tok, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHashPassword is one PBKDF2-SHA512 derivation at Odoo 17+'s 600 000 rounds: the
// cost of every uncached password check and of every password set.
func BenchmarkHashPassword(b *testing.B) {
	h := NewHasher(1)
	for b.Loop() {
		if _, err := h.Hash(context.Background(), "kata-sandi-baru-2026", 600_000); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileDomain compiles a domain of the shape scripts send: a user by login or
// e-mail, active, in some companies, through a dotted path.
func BenchmarkCompileDomain(b *testing.B) {
	cat := buildCatalog(columns{"res_partner": {"complete_name": true, "parent_id": true}}, 18)
	m, _ := cat.model("res.users")
	domain := []any{"|", []any{"login", "=ilike", "siti@example.org"},
		[]any{"email", "=ilike", "siti@example.org"}, []any{"active", "=", true},
		[]any{"company_ids", "in", []any{int64(1), int64(2)}},
		[]any{"partner_id.email", "!=", false}}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := compileDomain(cat, m, domain, &sqlWhere{}); err != nil {
			b.Fatal(err)
		}
	}
}
