//go:build !windows

package rdfm_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/omniagent/omniagent/protocols/rdfm"
)

func TestParseResize(t *testing.T) {
	tests := []struct {
		in         string
		ok         bool
		rows, cols uint16
	}{
		{"resize 24 80", true, 24, 80},
		{"resize 24", false, 0, 0},
		{"resize a b", false, 0, 0},
		{"RESIZE 1 2", false, 0, 0},
		{"resize -1 80", false, 0, 0},
		{"resize 0 80", false, 0, 0},
		{"hello", false, 0, 0},
	}
	for _, tt := range tests {
		sz, ok := rdfm.ParseResize(tt.in)
		if ok != tt.ok || sz.Rows != tt.rows || sz.Cols != tt.cols {
			t.Errorf("ParseResize(%q) = %+v, %v", tt.in, sz, ok)
		}
	}
}

func TestInteractiveShell(t *testing.T) {
	e := newEnv(t)
	e.shell = true
	e.opts.Shell = true
	_, ctx, caps := e.serving()
	if caps["shell"] != true {
		t.Fatalf("capabilities = %v", caps)
	}
	c, err := e.fake.OpenShell(ctx, "aa:bb:cc:dd:ee:01")
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(1 << 20)
	rctx, rcancel := context.WithTimeout(ctx, 15*time.Second)
	defer rcancel()
	if err := c.Write(rctx, websocket.MessageText, []byte("resize 40 120")); err != nil {
		t.Fatal(err)
	}
	if err := c.Write(rctx, websocket.MessageBinary, []byte("stty size; echo mark-$((6*7))\n")); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for !strings.Contains(out.String(), "mark-42") {
		typ, data, err := c.Read(rctx)
		if err != nil {
			t.Fatalf("reading shell output: %v (so far %q)", err, out.String())
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("text frame from the device: %q", data)
		}
		out.Write(data)
	}
	if !strings.Contains(out.String(), "40 120") {
		t.Fatalf("stty size did not report the resize: %q", out.String())
	}
	if err := c.Write(rctx, websocket.MessageBinary, []byte("exit\n")); err != nil {
		t.Fatal(err)
	}
	for {
		_, _, err := c.Read(rctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("after exit: %v, want close 1000", err)
			}
			break
		}
	}
}

// A shell_attach naming another device (or a path) still attaches as this device.
func TestShellAttachUsesOwnMAC(t *testing.T) {
	e := newEnv(t)
	e.shell = true
	e.opts.Shell = true
	_, ctx, _ := e.serving()
	c, err := e.fake.OpenShell(ctx, "../../other")
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
	if got := e.fake.AttachMACs(); len(got) != 1 || got[0] != "aa:bb:cc:dd:ee:01" {
		t.Fatalf("attach URLs named %q, want this device's MAC", got)
	}
}
