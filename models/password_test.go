package models

import (
	"context"
	"strings"
	"testing"
)

// Vectors computed with passlib 1.7.4 for salt bytes 0x00..0x0f.
func TestHashVectors(t *testing.T) {
	salt := []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	tests := []struct {
		password string
		rounds   int
		want     string
	}{
		{"admin", 600000, "$pbkdf2-sha512$600000$AAECAwQFBgcICQoLDA0ODw$wo5nr68L9hr/tAa6cCxILDTkJne" +
			"biD5OLdaEMIMoJV3g0cb6aLXhfhEbJ2apsxUuzgBmaR.PNHIlwsYDONlQtw"},
		{"admin", 25000, "$pbkdf2-sha512$25000$AAECAwQFBgcICQoLDA0ODw$hzjCVDG9FELw2b5EEyih3Omxf8FR" +
			"IQmndWjgpGGArUfNcobEKrNA0TCDqviQOUQRez/u2tkBEug55SdLU1CGvQ"},
		{"0123456789abcdef0123456789abcdef01234567", 6000, "$pbkdf2-sha512$6000$AAECAwQFBgcICQoL" +
			"DA0ODw$mi5LGW9qszqFb2e2hQCGiw1BOSkqeOc9PxJzSBMDM0aBX1r0bTlxQaWkuSEStC0tyULu25HAZTaEZpd" +
			"qlQ5t5Q"},
	}
	h := NewHasher(2)
	ctx := context.Background()
	for _, tt := range tests {
		got, err := h.hashWithSalt(ctx, tt.password, salt, tt.rounds)
		if err != nil || got != tt.want {
			t.Errorf("hash(%q, %d) = %q, %v; want %q", tt.password, tt.rounds, got, err, tt.want)
		}
		ok, err := h.Verify(ctx, tt.password, tt.want)
		if !ok || err != nil {
			t.Errorf("Verify(%q, vector) = %v, %v; want true", tt.password, ok, err)
		}
		ok, _ = h.Verify(ctx, tt.password+"x", tt.want)
		if ok {
			t.Errorf("Verify(%q+x, vector) = true", tt.password)
		}
	}
}

func TestVerifyForms(t *testing.T) {
	h := NewHasher(1)
	ctx := context.Background()
	tests := []struct {
		name, password, stored string
		ok, err                bool
	}{
		{"plaintext match", "secret", "secret", true, false},
		{"plaintext mismatch", "secret", "Secret", false, false},
		{"empty stored", "x", "", false, false},
		{"empty password", "", "", false, false},
		{"malformed hash", "x", "$pbkdf2-sha512$abc$def", false, true},
		{"huge rounds", "x", "$pbkdf2-sha512$999999999$AAECAwQFBgcICQoLDA0ODw$" +
			strings.Repeat("A", 86), false, true},
		{"too long", strings.Repeat("a", maxPasswordLen+1), "x", false, true},
	}
	for _, tt := range tests {
		ok, err := h.Verify(ctx, tt.password, tt.stored)
		if ok != tt.ok || (err != nil) != tt.err {
			t.Errorf("%s: Verify = %v, %v; want %v, error %v", tt.name, ok, err, tt.ok, tt.err)
		}
	}
}

func TestHashFormat(t *testing.T) {
	h := NewHasher(1)
	got, err := h.Hash(context.Background(), "s3cret-pass", 1000)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(got, "$")
	if len(parts) != 5 || parts[1] != "pbkdf2-sha512" || parts[2] != "1000" ||
		len(parts[3]) != 22 || len(parts[4]) != 86 {
		t.Fatalf("Hash = %q; want $pbkdf2-sha512$1000$<22>$<86>", got)
	}
	if HashRounds(got) != 1000 {
		t.Errorf("HashRounds = %d; want 1000", HashRounds(got))
	}
}

func TestHashCancelled(t *testing.T) {
	h := NewHasher(1)
	h.slots <- struct{}{} // every slot busy
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "x", 1000); err == nil {
		t.Fatal("Hash with a cancelled context and no free slot succeeded")
	}
}
