package mail

import (
	"context"
	"testing"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
)

// The connection test reports the SIZE the server announces; a bare SIZE is none, as
// Odoo reads it.
func TestTestReportsSize(t *testing.T) {
	tests := []struct {
		max    int64 // catcher.Options.MaxMessageBytes
		ok     bool
		result int64
	}{
		{max: 5 << 20, ok: true, result: 5 << 20},
		{max: 35882577, ok: true, result: 35882577},
		{max: -1},
	}
	for _, tt := range tests {
		c := startCatcher(t, catcher.Options{MaxMessageBytes: tt.max})
		r := testSender(nil).Test(context.Background(), serverAt(t, c.Addr(), "none"),
			testUser)
		if !r.OK || !r.Greeted || r.SizeOK != tt.ok || r.MaxSize != tt.result {
			t.Errorf("SIZE %d: %+v; want size %v %d", tt.max, r, tt.ok, tt.result)
		}
	}

	r := testSender(nil).Test(context.Background(), serverAt(t, closedAddr(t), "none"),
		testUser)
	if r.OK || r.Greeted || r.SizeOK {
		t.Errorf("closed port: %+v; want nothing known of the server", r)
	}
}

// HumanSize writes sizes as Odoo's messages do.
func TestHumanSize(t *testing.T) {
	for in, want := range map[float64]string{0: "False", 512: "512.00 bytes",
		1536: "1.50 Kb", 10 << 20: "10.00 Mb", 35882577: "34.22 Mb", 3 << 40: "3.00 Tb",
		5 << 50: "5120.00 Tb"} {
		if got := HumanSize(in); got != want {
			t.Errorf("HumanSize(%v) = %q; want %q", in, got, want)
		}
	}
}
