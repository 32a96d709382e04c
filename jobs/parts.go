package jobs

import (
	"compress/gzip"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// DownloadParts fetches every part, verifies each (its Want is over the bytes as stored on the
// server, so over the compressed bytes of a gzip part), and joins them — gunzipped where marked,
// multi-member gzip streams included — into one file named name. The returned File's SHA512
// (and Digest) is the digest of the joined file, for the caller to compare with the whole-file
// key (GLPI deploy). The joined size is capped by the runner's MaxDownload.
func (r *Runner) DownloadParts(ctx context.Context, name string, parts []Part) (*File, error) {
	return r.DownloadPartsWant(ctx, name, parts, nil)
}

// DownloadPartsWant is DownloadParts that also checks the joined file against want, deleting
// it and failing (wrapping ErrHashMismatch) on a mismatch.
func (r *Runner) DownloadPartsWant(ctx context.Context, name string, parts []Part, want *Hash) (*File, error) {
	name = safeName(name, "payload")
	if len(parts) == 0 {
		return nil, fmt.Errorf("jobs: download %s: no parts", name)
	}
	var wantH hash.Hash
	if want != nil {
		h, err := newHash(want.Algo)
		if err != nil {
			return nil, err
		}
		wantH = h
	}
	max := r.maxDownload(0)
	tmp, err := r.createSpool(name)
	if err != nil {
		return nil, err
	}
	defer tmp.cleanup()
	out := tmp.File
	s256, s512 := sha256.New(), sha512.New()
	hashes := []io.Writer{out, s256, s512}
	if wantH != nil {
		hashes = append(hashes, wantH)
	}
	w := io.MultiWriter(hashes...)
	var total int64
	for i, p := range parts {
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s.part%d", name, i+1)
		}
		pf, err := r.Download(ctx, p.Download)
		if err != nil {
			return nil, fmt.Errorf("jobs: %s part %d of %d: %w", name, i+1, len(parts), err)
		}
		n, err := appendPart(ctx, w, pf.Path, p.Gunzip, max-total)
		os.Remove(pf.Path)
		total += n
		if err != nil {
			return nil, fmt.Errorf("jobs: %s part %d of %d: %w", name, i+1, len(parts), err)
		}
	}
	if err := out.Close(); err != nil {
		return nil, fmt.Errorf("jobs: download %s: %w", name, err)
	}
	f := &File{Path: out.Name(), Size: total, SHA256: hex.EncodeToString(s256.Sum(nil)), SHA512: hex.EncodeToString(s512.Sum(nil))}
	f.Digest = f.SHA512
	if want != nil {
		got := hex.EncodeToString(wantH.Sum(nil))
		f.Digest = got
		if !equalFoldHex(got, want.Hex) {
			return nil, fmt.Errorf("jobs: download %s: joined file %s %w: expected %s, got %s (file deleted)",
				name, want.Algo, ErrHashMismatch, want.Hex, got)
		}
	}
	tmp.kept = true
	return f, nil
}

func equalFoldHex(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// appendPart copies (or gunzips) one verified part into w, at most room bytes.
func appendPart(ctx context.Context, w io.Writer, path string, gz bool, room int64) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var src io.Reader = f
	if gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	n, err := io.Copy(w, &ctxReader{ctx: ctx, r: io.LimitReader(src, room+1)})
	if err != nil {
		if gz && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			return n, fmt.Errorf("gunzip: %w", err)
		}
		return n, err
	}
	if n > room {
		return n, fmt.Errorf("joined file over the download cap: %w", ErrTooLarge)
	}
	return n, nil
}

// ctxReader stops a long copy when the context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
