package models

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// passlib's pbkdf2_sha512 layout: $pbkdf2-sha512$<rounds>$<salt>$<checksum>, both in
// passlib's "adapted base64" (standard alphabet, '.' for '+', no padding).
const (
	pbkdf2Prefix   = "$pbkdf2-sha512$"
	pbkdf2SaltLen  = 16
	pbkdf2KeyLen   = 64
	maxHashRounds  = 10_000_000 // refuse to spend minutes on a corrupt or hostile row
	maxPasswordLen = 4096       // Odoo has no limit; ours bounds request handling work
)

var ab64 = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").
	WithPadding(base64.NoPadding)

// ErrPasswordTooLong is returned for passwords longer than odoo-shim accepts.
var ErrPasswordTooLong = errors.New("password too long")

// Hasher computes and checks passlib pbkdf2_sha512 hashes, the format Odoo stores in
// res_users.password and res_users_apikeys.key. At most a fixed number of derivations run at
// once, because each one costs hundreds of milliseconds of CPU at Odoo's 600 000 rounds.
type Hasher struct {
	slots chan struct{}
}

// NewHasher returns a Hasher running at most concurrency derivations at a time.
func NewHasher(concurrency int) *Hasher {
	if concurrency < 1 {
		concurrency = 1
	}
	return &Hasher{slots: make(chan struct{}, concurrency)}
}

// Hash returns a new hash of password with a random 16-byte salt.
func (h *Hasher) Hash(ctx context.Context, password string, rounds int) (string, error) {
	salt := make([]byte, pbkdf2SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	return h.hashWithSalt(ctx, password, salt, rounds)
}

func (h *Hasher) hashWithSalt(ctx context.Context, password string, salt []byte,
	rounds int) (string, error) {
	sum, err := h.derive(ctx, password, salt, rounds)
	if err != nil {
		return "", err
	}
	return pbkdf2Prefix + strconv.Itoa(rounds) + "$" + ab64.EncodeToString(salt) + "$" +
		ab64.EncodeToString(sum), nil
}

// Verify reports whether password matches stored, as passlib's CryptContext with the
// schemes pbkdf2_sha512 and plaintext does: a value that is not a pbkdf2_sha512 hash is
// compared as plain text. An empty stored value never matches.
func (h *Hasher) Verify(ctx context.Context, password, stored string) (bool, error) {
	if stored == "" || password == "" {
		return false, nil
	}
	if len(password) > maxPasswordLen {
		return false, ErrPasswordTooLong
	}
	if !strings.HasPrefix(stored, pbkdf2Prefix) {
		return subtle.ConstantTimeCompare([]byte(password), []byte(stored)) == 1, nil
	}

	rounds, salt, want, err := parsePBKDF2(stored)
	if err != nil {
		return false, err
	}
	got, err := h.derive(ctx, password, salt, rounds)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// HashRounds returns the round count stored in a pbkdf2_sha512 hash, or 0.
func HashRounds(stored string) int {
	rounds, _, _, err := parsePBKDF2(stored)
	if err != nil {
		return 0
	}
	return rounds
}

func parsePBKDF2(stored string) (rounds int, salt, sum []byte, err error) {
	parts := strings.Split(strings.TrimPrefix(stored, pbkdf2Prefix), "$")
	if len(parts) != 3 {
		return 0, nil, nil, errors.New("malformed pbkdf2_sha512 hash")
	}

	rounds, err = strconv.Atoi(parts[0])
	if err != nil || rounds < 1 || rounds > maxHashRounds {
		return 0, nil, nil, errors.New("pbkdf2_sha512 hash: bad round count")
	}
	if salt, err = ab64.DecodeString(parts[1]); err != nil {
		return 0, nil, nil, fmt.Errorf("pbkdf2_sha512 hash: salt: %w", err)
	}
	if sum, err = ab64.DecodeString(parts[2]); err != nil || len(sum) != pbkdf2KeyLen {
		return 0, nil, nil, errors.New("pbkdf2_sha512 hash: bad checksum")
	}
	return rounds, salt, sum, nil
}

func (h *Hasher) derive(ctx context.Context, password string, salt []byte,
	rounds int) ([]byte, error) {
	if len(password) > maxPasswordLen {
		return nil, ErrPasswordTooLong
	}

	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a hashing slot: %w", ctx.Err())
	}
	defer func() { <-h.slots }()

	return pbkdf2.Key(sha512.New, password, salt, rounds, pbkdf2KeyLen)
}
