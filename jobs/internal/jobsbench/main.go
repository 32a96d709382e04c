// Command jobsbench measures the job runner for bench/rows/jobs.sh: download + SHA-256 of a
// large file from a loopback server against `sha256sum` of the same file, and the echo round
// trip of a pty shell. It prints markdown rows "| area | metric | value | note |".
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/omniagent/omniagent/jobs"
)

func main() {
	size := flag.Int64("size", 1<<30, "payload size in bytes")
	dir := flag.String("dir", os.TempDir(), "where to put the payload and the spool")
	rounds := flag.Int("echo", 200, "shell echo round trips")
	flag.Parse()
	tmp, err := os.MkdirTemp(*dir, "jobsbench-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	if err := download(tmp, *size); err != nil {
		log.Print(err)
		fmt.Printf("| jobs | download + sha256 | failed | %s |\n", oneLine(err))
	}
	if err := shellEcho(tmp, *rounds); err != nil {
		log.Print(err)
		fmt.Printf("| jobs | shell echo round trip | failed | %s |\n", oneLine(err))
	}
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "|", "/") }

func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / (1 << 20) }

func download(tmp string, size int64) error {
	src := filepath.Join(tmp, "payload.bin")
	if err := writePayload(src, size); err != nil {
		return err
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeFile(w, r, src)
	}))
	defer srv.Close()
	r := jobs.New(jobs.Options{Server: "bench", SpoolDir: filepath.Join(tmp, "spool"), MaxDownload: size})
	// Best of two rounds each, interleaved: the disk's background writeback makes single runs
	// noisy. The reference reads the file from the page cache, as the server does.
	var refDur, dlDur time.Duration
	for round := 0; round < 2; round++ {
		t0 := time.Now()
		out, err := exec.Command("sha256sum", src).Output()
		if err != nil {
			return fmt.Errorf("sha256sum: %w", err)
		}
		if d := time.Since(t0); refDur == 0 || d < refDur {
			refDur = d
		}
		want := strings.Fields(string(out))[0]
		t0 = time.Now()
		f, err := r.Download(context.Background(), jobs.Download{
			Client: srv.Client(),
			NewRequest: func(ctx context.Context) (*http.Request, error) {
				return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			},
			Name: "payload.bin",
			Want: &jobs.Hash{Algo: "sha256", Hex: want},
		})
		d := time.Since(t0)
		if err != nil {
			return err
		}
		os.Remove(f.Path) // its dirty pages go with it: no writeback left for the next round
		if dlDur == 0 || d < dlDur {
			dlDur = d
		}
	}
	ref, dl := mbps(size, refDur), mbps(size, dlDur)
	gib := float64(size) / (1 << 30)
	fmt.Printf("| jobs | download + sha256 verify, %.2g GiB loopback | %.0f MiB/s (%.2fs) | best of 2; written to the spool, hash checked |\n", gib, dl, dlDur.Seconds())
	fmt.Printf("| jobs | sha256sum of the same file | %.0f MiB/s (%.2fs) | best of 2; reference, same run, page cache |\n", ref, refDur.Seconds())
	fmt.Printf("| jobs | download+verify / sha256sum speed | %.2f | target >= 0.9 |\n", dl/ref)
	return nil
}

// writePayload writes size bytes: a random 4 MiB block repeated (hash cost does not depend on
// content; generating 1 GiB of fresh randomness would only slow the benchmark).
func writePayload(p string, size int64) error {
	block := make([]byte, 4<<20)
	rand.Read(block)
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	for left := size; left > 0; {
		n := min(left, int64(len(block)))
		if _, err := f.Write(block[:n]); err != nil {
			f.Close()
			return err
		}
		left -= n
	}
	// Flushed now, so its writeback does not compete with the measured runs.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func shellEcho(tmp string, rounds int) error {
	r := jobs.New(jobs.Options{Server: "bench", SpoolDir: filepath.Join(tmp, "spool"), Policy: jobs.Policy{AllowShell: true}, Shell: "/bin/sh"})
	s, err := r.Shell(context.Background(), jobs.ShellOptions{Env: []string{"PS1=$ "}})
	if err != nil {
		return err
	}
	defer s.Close()
	buf := make([]byte, 64<<10)
	var acc []byte
	readUntil := func(marker []byte) error {
		for !bytes.Contains(acc, marker) {
			n, err := s.Read(buf)
			acc = append(acc, buf[:n]...)
			if err != nil {
				return err
			}
		}
		acc = acc[bytes.Index(acc, marker)+len(marker):]
		return nil
	}
	// Let the shell settle, then time "echo" until its output comes back.
	io.WriteString(s, "echo re$((0))ady\n")
	if err := readUntil([]byte("re0ady\r\n")); err != nil {
		return err
	}
	var ds []time.Duration
	for i := 0; i < rounds; i++ {
		// The shell computes the marker, so a tty echo of the typed line cannot match it.
		m := fmt.Sprintf("m%d", 100000+i)
		t0 := time.Now()
		io.WriteString(s, fmt.Sprintf("echo m$((100000+%d))\n", i))
		if err := readUntil([]byte(m + "\r\n")); err != nil {
			return err
		}
		ds = append(ds, time.Since(t0))
	}
	slices.Sort(ds)
	fmt.Printf("| jobs | shell echo round trip (pty, /bin/sh) | p50 %v, p95 %v | %d rounds, write \"echo\" to output back |\n",
		ds[len(ds)/2].Round(time.Microsecond), ds[len(ds)*95/100].Round(time.Microsecond), rounds)
	return nil
}
