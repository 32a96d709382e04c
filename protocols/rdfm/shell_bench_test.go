//go:build !windows

package rdfm_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/coder/websocket"
)

// openBenchShell connects a device with shell enabled and returns the manager's socket.
func openBenchShell(b *testing.B) (*websocket.Conn, context.Context) {
	e := newEnvTB(b)
	e.shell = true
	e.opts.Shell = true
	_, ctx, _ := e.serving()
	c, err := e.fake.OpenShell(ctx, "aa:bb:cc:dd:ee:01")
	if err != nil {
		b.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	b.Cleanup(func() { c.CloseNow() })
	// Quiet the terminal so only command output comes back.
	readUntil(b, ctx, c, "stty -echo; echo ready-$((1+1))\n", []byte("ready-2"))
	return c, ctx
}

func readUntil(b *testing.B, ctx context.Context, c *websocket.Conn, send string, mark []byte) int {
	if err := c.Write(ctx, websocket.MessageBinary, []byte(send)); err != nil {
		b.Fatal(err)
	}
	total := 0
	var tail []byte
	for {
		_, data, err := c.Read(ctx)
		if err != nil {
			b.Fatal(err)
		}
		total += len(data)
		tail = append(tail, data...)
		if bytes.Contains(tail, mark) {
			return total
		}
		if len(tail) > 64 {
			tail = tail[len(tail)-64:]
		}
	}
}

// BenchmarkShellEcho: one command line typed and its output read back over the attach socket.
func BenchmarkShellEcho(b *testing.B) {
	c, ctx := openBenchShell(b)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		i++
		readUntil(b, ctx, c, fmt.Sprintf("echo m$((%d+1))\n", i), []byte(fmt.Sprintf("m%d\r\n", i+1)))
	}
}

// BenchmarkShellThroughput: 16 MiB of terminal output per op through pty → WebSocket.
func BenchmarkShellThroughput(b *testing.B) {
	c, ctx := openBenchShell(b)
	const n = 16 << 20
	b.SetBytes(n)
	b.ResetTimer()
	for b.Loop() {
		readUntil(b, ctx, c, fmt.Sprintf("head -c %d /dev/zero | tr '\\0' x; echo; echo done-$((2*3))\n", n), []byte("done-6"))
	}
}
