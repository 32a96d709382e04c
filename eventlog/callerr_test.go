package eventlog

import (
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestCallError(t *testing.T) {
	other := syscall.Errno(5)
	tests := []struct {
		name string
		in   error
		want error
	}{
		{"no code", syscall.Errno(0), errNoCode},
		{"nil", nil, errNoCode},
		{"a real code", other, other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := callError(tt.in); !errors.Is(got, tt.want) {
				t.Errorf("callError(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	if strings.Contains(callError(syscall.Errno(0)).Error(), "success") {
		t.Error("a failure reads like a success")
	}
}
