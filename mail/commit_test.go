package mail

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/odoo-shim/odoo-shim/mail/catcher"
	"github.com/odoo-shim/odoo-shim/models"
)

// Committing runs once per mail, after its content and before its end of data. When it
// fails the mail is abandoned: the server, never given the end of data, keeps nothing.
// When the server takes the whole mail and its answer is lost, the error says the mail
// is unconfirmed; a refusal at the end of data is a definite answer.
func TestSendCommitting(t *testing.T) {
	refused := errors.New("outbox unavailable")
	tests := []struct {
		name        string
		opt         catcher.Options
		commit      error
		kept        int
		unconfirmed bool
		code        int
	}{
		{"accepted", catcher.Options{}, nil, 1, false, 0},
		{"commit fails", catcher.Options{}, refused, 0, false, 0},
		{"answer lost", catcher.Options{DropAfterData: func() bool { return true }}, nil, 1,
			true, 0},
		{"refused at end of data", catcher.Options{OnData: func([]byte) error {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0},
				Message: "content rejected"}
		}}, nil, 0, false, 554},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachPath(t, func(t *testing.T, s *Sender) {
				c := startCatcher(t, tt.opt)
				s.Timeout = 2 * time.Second
				var commits, reports int
				var got error
				err := s.SendEach(context.Background(), serverAt(t, c.Addr(), "none"),
					[]models.ResetMail{recordedMail()}, models.SendHooks{
						Committing: func(int) error { commits++; return tt.commit },
						Report:     func(_ int, err error) bool { reports++; got = err; return true },
					})
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(50 * time.Millisecond) // the catcher stores what it took
				if commits != 1 || reports != 1 || len(c.Messages()) != tt.kept {
					t.Fatalf("%d commits, %d reports, %d kept; want 1, 1, %d", commits, reports,
						len(c.Messages()), tt.kept)
				}
				if tt.kept == 1 && !tt.unconfirmed {
					if got != nil {
						t.Fatalf("outcome %v; want accepted", got)
					}
					return
				}
				de := deliveryError(t, got)
				if de.Unconfirmed != tt.unconfirmed || de.Code != tt.code ||
					de.Stage != models.StageData {
					t.Errorf("error %+v; want unconfirmed %v, code %d at data", de, tt.unconfirmed,
						tt.code)
				}
				if errors.Is(tt.commit, refused) && (!errors.Is(de, refused) || !de.Temporary) {
					t.Errorf("error %v; want the commit's error, temporary", de)
				}
			})
		})
	}
}

// When the server's answer to the first mail of a batch is lost, only that mail is in
// doubt: the next, never sent, gets the connection's failure without the doubt.
func TestSendBatchAfterLostAnswer(t *testing.T) {
	eachPath(t, testSendBatchAfterLostAnswer)
}

func testSendBatchAfterLostAnswer(t *testing.T, s *Sender) {
	first := true
	c := startCatcher(t, catcher.Options{DropAfterData: func() bool {
		was := first
		first = false
		return was
	}})
	s.Timeout = 2 * time.Second
	var errs []error
	err := s.SendEach(context.Background(), serverAt(t, c.Addr(), "none"),
		[]models.ResetMail{recordedMail(), recordedMail()}, models.SendHooks{
			Committing: func(int) error { return nil },
			Report:     func(_ int, err error) bool { errs = append(errs, err); return true },
		})
	if err != nil || len(errs) != 2 {
		t.Fatalf("SendEach = %v with %d reports", err, len(errs))
	}
	if de := deliveryError(t, errs[0]); !de.Unconfirmed {
		t.Errorf("first mail: %+v; want unconfirmed", de)
	}
	if de := deliveryError(t, errs[1]); de.Unconfirmed || !de.Temporary {
		t.Errorf("second mail: %+v; want a temporary failure, not in doubt", de)
	}
}
