package rdfm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/omniagent/omniagent/httpclient"
)

// allowedFile resolves symlinks and checks that name is a non-empty regular file under one of
// the configured folders (also resolved). It returns the resolved path and the size.
func (a *Adapter) allowedFile(name string) (string, int64, error) {
	if len(a.opts.FSAllowedPaths) == 0 {
		return "", 0, errors.New("filesystem capability is off")
	}
	if !filepath.IsAbs(name) {
		return "", 0, fmt.Errorf("%q is not an absolute path", name)
	}
	real, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", 0, err
	}
	ok := false
	for _, root := range a.opts.FSAllowedPaths {
		r, err := filepath.EvalSymlinks(root)
		if err != nil {
			continue
		}
		rel, err := filepath.Rel(r, real)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			ok = true
			break
		}
	}
	if !ok {
		return "", 0, fmt.Errorf("%q is outside fs_allowed_paths", name)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return "", 0, err
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return "", 0, fmt.Errorf("%q is not a non-empty regular file", name)
	}
	return real, fi.Size(), nil
}

// fileDownload PUTs the parts of an allowed file to the given URLs and replies with their ETags
// verbatim and in order; any failure replies status 1 with an empty list (never null).
func (s *session) fileDownload(ctx context.Context, id, name string, urls []string, partSize int64) {
	etags, err := s.a.uploadParts(ctx, name, urls, partSize)
	reply := map[string]any{"method": "fs_file_download_reply", "id": id, "status": 0, "etags": etags}
	if err != nil {
		s.a.log.Warn("rdfm: file download refused or failed", "file", name, "err", err)
		reply["status"], reply["etags"] = 1, []string{}
	}
	if err := s.send(ctx, reply); err != nil {
		s.a.log.Warn("rdfm: file download reply not sent", "err", err)
	}
}

func (a *Adapter) uploadParts(ctx context.Context, name string, urls []string, partSize int64) ([]string, error) {
	real, size, err := a.allowedFile(name)
	if err != nil {
		return nil, err
	}
	if partSize <= 0 || len(urls) == 0 || int64(len(urls)) != (size+partSize-1)/partSize {
		return nil, fmt.Errorf("%d upload URLs of %d bytes do not cover %d bytes", len(urls), partSize, size)
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	etags := make([]string, 0, len(urls))
	for i, u := range urls {
		n := min(partSize, size-int64(i)*partSize)
		// No Authorization: the URL may be presigned S3.
		req, err := http.NewRequestWithContext(httpclient.WithoutLimit(ctx), http.MethodPut, u,
			io.NewSectionReader(f, int64(i)*partSize, n))
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i, err)
		}
		req.ContentLength = n
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := a.client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("part %d: %w", i, err)
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == "" {
			return nil, fmt.Errorf("part %d: HTTP %d, ETag %q", i, resp.StatusCode, resp.Header.Get("ETag"))
		}
		etags = append(etags, resp.Header.Get("ETag"))
	}
	return etags, nil
}
