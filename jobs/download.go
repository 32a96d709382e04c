package jobs

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omniagent/omniagent/httpclient"
)

const (
	maxResumes       = 5
	progressInterval = 500 * time.Millisecond
	copyBufSize      = 256 << 10
)

// ErrHashMismatch is wrapped by the error of a download whose digest is not the expected one.
var ErrHashMismatch = errors.New("digest mismatch")

// ErrTooLarge is wrapped by the error of a download or unpack over its size cap.
var ErrTooLarge = errors.New("size cap exceeded")

func newHash(algo string) (hash.Hash, error) {
	switch strings.ToLower(algo) {
	case "sha256":
		return sha256.New(), nil
	case "sha512":
		return sha512.New(), nil
	case "md5":
		return md5.New(), nil
	default:
		return nil, fmt.Errorf("jobs: unsupported hash algorithm %q (want sha256, sha512 or md5)", algo)
	}
}

// Download fetches one payload into the spool folder, verifying its hash while streaming.
// A dropped connection is resumed with a Range request when the server supports it. On a
// digest mismatch the file is deleted and the error (wrapping ErrHashMismatch) names both
// digests.
func (r *Runner) Download(ctx context.Context, d Download) (*File, error) {
	if d.Client == nil || d.NewRequest == nil {
		return nil, errors.New("jobs: download needs a Client and a NewRequest")
	}
	name := safeName(d.Name, "payload")
	var want hash.Hash
	if d.Want != nil {
		h, err := newHash(d.Want.Algo)
		if err != nil {
			return nil, err
		}
		if _, err := hex.DecodeString(d.Want.Hex); err != nil || len(d.Want.Hex) != 2*h.Size() {
			return nil, fmt.Errorf("jobs: download %s: expected %s digest %q is not %d hex digits", name, d.Want.Algo, d.Want.Hex, 2*h.Size())
		}
		if strings.ToLower(d.Want.Algo) != "sha256" {
			want = h
		}
	}
	max := r.maxDownload(d.MaxBytes)
	tmp, err := r.createSpool(name)
	if err != nil {
		return nil, err
	}
	defer tmp.cleanup()
	f := tmp.File

	dl := &download{r: r, d: d, name: name, max: max, f: f, sha: sha256.New(), want: want}
	if r.opts.Watch != nil {
		dl.track = r.opts.Watch.Start(r.opts.Server, name)
	}
	if err := dl.run(ctx); err != nil {
		if dl.track != nil {
			dl.track.Done(err)
		}
		return nil, err
	}
	if dl.track != nil {
		dl.track.Done(nil)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("jobs: download %s: %w", name, err)
	}
	file := &File{Path: f.Name(), Size: dl.n, SHA256: hex.EncodeToString(dl.sha.Sum(nil))}
	if d.Want != nil {
		file.Digest = file.SHA256
		if want != nil {
			file.Digest = hex.EncodeToString(want.Sum(nil))
		}
		if !strings.EqualFold(file.Digest, d.Want.Hex) {
			return nil, fmt.Errorf("jobs: download %s: %s %w: expected %s, got %s (file deleted)",
				name, strings.ToLower(d.Want.Algo), ErrHashMismatch, strings.ToLower(d.Want.Hex), file.Digest)
		}
	}
	tmp.kept = true
	r.log.Info("download verified", "name", name, "bytes", file.Size, "sha256", file.SHA256)
	return file, nil
}

// download is the state of one Download across resumed attempts.
type download struct {
	r     *Runner
	d     Download
	name  string
	max   int64
	f     *os.File
	sha   hash.Hash
	want  hash.Hash // nil when Want is sha256 or absent
	n     int64     // bytes written and hashed
	total int64     // -1 unknown
	lastP time.Time
	lastB int64
	track ProgressTracker // nil without a runner watcher
}

func (dl *download) reset() error {
	if _, err := dl.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := dl.f.Truncate(0); err != nil {
		return err
	}
	dl.sha.Reset()
	if dl.want != nil {
		dl.want.Reset()
	}
	dl.n = 0
	return nil
}

func (dl *download) progress(force bool) {
	if dl.d.Progress == nil && dl.track == nil {
		return
	}
	now := time.Now()
	if dl.n < dl.lastB {
		return // restarted from zero: stay silent until past what was reported
	}
	if !force && (now.Sub(dl.lastP) < progressInterval || dl.n == dl.lastB) {
		return
	}
	p := Progress{Bytes: dl.n, Total: dl.total, Percent: -1}
	if dl.total > 0 {
		p.Percent = float64(dl.n) * 100 / float64(dl.total)
		if p.Percent > 100 {
			p.Percent = 100
		}
	}
	dl.lastP, dl.lastB = now, dl.n
	dl.report(p)
}

func (dl *download) report(p Progress) {
	if dl.d.Progress != nil {
		dl.d.Progress(p)
	}
	if dl.track != nil {
		dl.track.Update(p)
	}
}

func (dl *download) run(ctx context.Context) error {
	dl.total = -1
	dl.lastB = -1
	for attempt := 0; ; attempt++ {
		resumable, err := dl.attempt(ctx)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("jobs: download %s canceled after %d bytes: %w", dl.name, dl.n, ctx.Err())
		}
		if !resumable || attempt >= maxResumes {
			return err
		}
		dl.r.log.Warn("download interrupted; resuming", "name", dl.name, "at", dl.n, "err", err)
		select {
		case <-time.After(time.Duration(attempt+1) * 500 * time.Millisecond):
		case <-ctx.Done():
			return fmt.Errorf("jobs: download %s canceled after %d bytes: %w", dl.name, dl.n, ctx.Err())
		}
	}
	if dl.total < 0 {
		dl.total = dl.n
	}
	dl.report(Progress{Bytes: dl.n, Total: dl.total, Percent: 100})
	return nil
}

// attempt makes one request and streams its body; resumable says a retry may continue.
func (dl *download) attempt(ctx context.Context) (resumable bool, err error) {
	req, err := dl.d.NewRequest(httpclient.WithoutLimit(ctx))
	if err != nil {
		return false, fmt.Errorf("jobs: download %s: build request: %w", dl.name, err)
	}
	if dl.n > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(dl.n, 10)+"-")
	}
	resp, err := dl.d.Client.Do(req)
	if err != nil {
		// Network errors before any answer: worth another try only once bytes have come.
		return dl.n > 0, fmt.Errorf("jobs: download %s: %w", dl.name, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
		if dl.n > 0 {
			// The server ignored the Range: start over.
			if err := dl.reset(); err != nil {
				return false, fmt.Errorf("jobs: download %s: %w", dl.name, err)
			}
		}
		dl.total = resp.ContentLength
	case resp.StatusCode == http.StatusPartialContent && dl.n > 0:
		start, total, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || start != dl.n {
			return false, fmt.Errorf("jobs: download %s: resume at %d got Content-Range %q", dl.name, dl.n, resp.Header.Get("Content-Range"))
		}
		dl.total = total
	default:
		return false, fmt.Errorf("jobs: download %s: HTTP %s", dl.name, resp.Status)
	}
	if dl.d.CheckResponse != nil {
		if err := dl.d.CheckResponse(resp); err != nil {
			return false, fmt.Errorf("jobs: download %s: %w", dl.name, err)
		}
	}
	if dl.total > dl.max {
		return false, fmt.Errorf("jobs: download %s: %d bytes announced, over the %d byte cap: %w", dl.name, dl.total, dl.max, ErrTooLarge)
	}
	canResume := resp.StatusCode == http.StatusPartialContent || resp.Header.Get("Accept-Ranges") == "bytes"
	dl.progress(true)
	return dl.stream(resp.Body, canResume)
}

// stream reads the body and hashes it in this goroutine while another writes the file: on a
// fast link the disk, not the hash, is the limit, and the two overlap. At most writeBufs
// buffers are in flight.
func (dl *download) stream(body io.Reader, canResume bool) (resumable bool, err error) {
	const writeBufs = 4
	free := make(chan []byte, writeBufs)
	for range writeBufs {
		free <- make([]byte, copyBufSize)
	}
	full := make(chan []byte, writeBufs)
	wdone := make(chan error, 1)
	var failed atomic.Bool
	go func() {
		var werr error
		for b := range full {
			if werr == nil {
				if _, werr = dl.f.Write(b); werr != nil {
					failed.Store(true)
				}
			}
			free <- b[:cap(b)]
		}
		wdone <- werr
	}()
	finish := func(resumable bool, err error) (bool, error) {
		close(full)
		if werr := <-wdone; werr != nil {
			return false, fmt.Errorf("jobs: download %s: write: %w", dl.name, werr)
		}
		return resumable, err
	}
	for {
		if failed.Load() {
			return finish(false, nil)
		}
		buf := <-free
		// Fill the buffer: fewer, larger writes are what the disk likes.
		n, rerr := fill(body, buf)
		if n > 0 {
			if dl.n+int64(n) > dl.max {
				free <- buf
				return finish(false, fmt.Errorf("jobs: download %s: more than the %d byte cap: %w", dl.name, dl.max, ErrTooLarge))
			}
			dl.sha.Write(buf[:n])
			if dl.want != nil {
				dl.want.Write(buf[:n])
			}
			full <- buf[:n]
			dl.n += int64(n)
			dl.progress(false)
		} else {
			free <- buf
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return finish(canResume, fmt.Errorf("jobs: download %s: read after %d bytes: %w", dl.name, dl.n, rerr))
		}
	}
	if r, err := finish(false, nil); err != nil {
		return r, err
	}
	if dl.total >= 0 && dl.n < dl.total {
		return canResume, fmt.Errorf("jobs: download %s: connection closed after %d of %d bytes: %w", dl.name, dl.n, dl.total, io.ErrUnexpectedEOF)
	}
	return false, nil
}

// parseContentRange reads "bytes start-end/total" (total may be "*": -1).
func parseContentRange(s string) (start, total int64, err error) {
	rest, ok := strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	a, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	if start, err = strconv.ParseInt(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("bad Content-Range %q", s)
	}
	total = -1
	if tot != "*" {
		if total, err = strconv.ParseInt(tot, 10, 64); err != nil {
			return 0, 0, fmt.Errorf("bad Content-Range %q", s)
		}
	}
	return start, total, nil
}

// fill reads until buf is full or the reader fails; unlike io.ReadFull it passes the reader's
// own error through (a cut chunked body's io.ErrUnexpectedEOF must not look like an end).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// maxDownload is the size cap of one download: its own, else the runner's, else the default.
func (r *Runner) maxDownload(own int64) int64 {
	for _, m := range []int64{own, r.opts.MaxDownload} {
		if m > 0 {
			return m
		}
	}
	return defaultMaxDownload
}

// spoolTemp is a download's file in the spool folder, removed by cleanup unless kept.
type spoolTemp struct {
	*os.File
	kept bool
}

func (r *Runner) createSpool(name string) (*spoolTemp, error) {
	dir, err := r.spool()
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, "dl-*-"+name)
	if err != nil {
		return nil, fmt.Errorf("jobs: download %s: %w", name, err)
	}
	return &spoolTemp{File: f}, nil
}

func (t *spoolTemp) cleanup() {
	if !t.kept {
		t.Close()
		os.Remove(t.Name())
	}
}
