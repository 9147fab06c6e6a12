package models

import (
	"context"
	"testing"

	"github.com/odoo-shim/odoo-shim/models/modeltest"
)

// BenchmarkSessionCheck is the cost every web-client call pays before its method runs:
// the session row, the user's token fields and the token, compared in constant time.
func BenchmarkSessionCheck(b *testing.B) {
	dsn, _ := modeltest.NewDatabase(b, modeltest.Own18)
	s, err := Open(context.Background(), dsn, Settings{Hasher: NewHasher(1)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sid, _, err := s.StartSession(ctx, 2)
	if err != nil {
		b.Fatal(err)
	}

	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Session(ctx, sid); err != nil {
			b.Fatal(err)
		}
	}
}
