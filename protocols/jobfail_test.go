package protocols

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestSplitJobFailures(t *testing.T) {
	job := JobFailure(errors.New("exit status 3"))
	net := errors.New("connection refused")
	tests := []struct {
		name     string
		err      error
		jobs     int
		jobsOnly bool
	}{
		{"nil", nil, 0, false},
		{"exchange", net, 0, false},
		{"one job", job, 1, true},
		{"wrapped job", fmt.Errorf("deploy: %w", fmt.Errorf("job 1: %w", job)), 1, true},
		{"joined jobs", errors.Join(job, JobFailure(errors.New("hash mismatch"))), 2, true},
		{"job and exchange", errors.Join(job, net), 1, false},
		{"wrapped join", fmt.Errorf("deploy: %w", errors.Join(nil, job)), 1, true},
		{"context", fmt.Errorf("job: %w", context.Canceled), 0, false},
		{"nil marker", JobFailure(nil), 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n, only := SplitJobFailures(tc.err)
			if n != tc.jobs || only != tc.jobsOnly {
				t.Errorf("SplitJobFailures(%v) = %d, %v; want %d, %v", tc.err, n, only, tc.jobs, tc.jobsOnly)
			}
		})
	}
	if got := JobFailure(net).Error(); got != net.Error() {
		t.Errorf("JobFailure changes the message: %q", got)
	}
}
