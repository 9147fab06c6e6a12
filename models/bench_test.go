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
