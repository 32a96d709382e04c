package eventlog

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestReadJournalReal(t *testing.T) {
	if _, err := exec.LookPath("journalctl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("journalctl is missing and CI is set")
		}
		t.Skip("journalctl not installed: skipping the real journal read")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Whatever this machine's journal holds, the call must succeed, respect the limit and the
	// since bound.
	since := time.Now().Add(-24 * time.Hour)
	evs, err := Read(ctx, Query{Log: JournalLog, Query: `{"priority":"0,1,2,3,4,5,6,7"}`, Since: since, Limit: 5})
	if err != nil {
		t.Fatalf("read journal: %v", err)
	}
	if len(evs) > 5 {
		t.Fatalf("limit 5 gave %d events", len(evs))
	}
	for _, e := range evs {
		if !e.Timestamp.After(since) || e.Level == nil {
			t.Errorf("event %+v outside the query", e)
		}
	}
	t.Logf("%d journal events in the last 24h (limit 5)", len(evs))
}

func TestReadUnsupportedLogOnLinux(t *testing.T) {
	_, err := Read(context.Background(), Query{Log: "System", Query: "<QueryList/>"})
	if !errors.Is(err, ErrUnsupportedLog) {
		t.Fatalf("err = %v, want ErrUnsupportedLog", err)
	}
}
