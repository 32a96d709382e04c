package rdfmfake

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/coder/websocket"
)

// PartPlan is the server's part sizing: one part of the file size up to 10 MiB, else 10 MiB
// parts, at most 10 000 of them (beyond that part_size = ceil(size/10000)).
func PartPlan(size int64) (parts int64, partSize int64) {
	const mib10 = 10 << 20
	if size <= mib10 {
		return 1, size
	}
	partSize = mib10
	if (size+partSize-1)/partSize > 10000 {
		partSize = (size + 9999) / 10000
	}
	return (size + partSize - 1) / partSize, partSize
}

func (s *Server) fsRequest(ctx context.Context, msg map[string]any) (string, error) {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	msg["id"] = id
	s.mu.Lock()
	c := s.cur
	if c != nil {
		c.pending[id] = true
	}
	s.mu.Unlock()
	if c == nil {
		return "", fmt.Errorf("device not connected")
	}
	raw, _ := json.Marshal(msg)
	return id, c.c.Write(ctx, websocket.MessageText, raw)
}

// ProbeFile sends fs_file_probe; the reply arrives on Received().
func (s *Server) ProbeFile(ctx context.Context, file string) (string, error) {
	return s.fsRequest(ctx, map[string]any{"method": "fs_file_probe", "file": file})
}

// DownloadFile sends fs_file_download for a file of the probed size; the reply arrives on
// Received() and Assembled checks it.
func (s *Server) DownloadFile(ctx context.Context, file string, size int64) (string, error) {
	n, ps := PartPlan(size)
	id := make([]byte, 8)
	rand.Read(id)
	up := hex.EncodeToString(id)
	urls := make([]string, n)
	for i := range urls {
		urls[i] = fmt.Sprintf("%s/upload/%s/%d", s.URL, up, i)
	}
	s.mu.Lock()
	s.uploads[up] = map[int][]byte{}
	s.mu.Unlock()
	id2, err := s.fsRequest(ctx, map[string]any{"method": "fs_file_download", "file": file, "upload_urls": urls, "part_size": ps})
	s.mu.Lock()
	s.fsUpload[id2] = up
	s.mu.Unlock()
	return id2, err
}

func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/x-www-form-urlencoded" || mt == "multipart/form-data" {
		http.Error(w, "form content type: the real server reads an empty body", 400)
		return
	}
	if s.HoldUploads != nil {
		select {
		case <-s.HoldUploads:
		case <-r.Context().Done():
			return
		}
	}
	up := r.PathValue("up")
	i, err := strconv.Atoi(r.PathValue("i"))
	data, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	parts, ok := s.uploads[up]
	if ok && err == nil {
		parts[i] = data
	}
	s.mu.Unlock()
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("ETag", fmt.Sprintf("%s_part%d", up, i))
}

// Assembled checks the ETags of an fs_file_download_reply (verbatim, in order) and returns the
// reassembled file.
func (s *Server) Assembled(reply Message) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	up := s.fsUpload[reply["id"].(string)]
	parts := s.uploads[up]
	etags, _ := reply["etags"].([]any)
	if len(etags) != len(parts) || len(parts) == 0 {
		return nil, fmt.Errorf("%d etags for %d parts", len(etags), len(parts))
	}
	var out bytes.Buffer
	for i, e := range etags {
		if e != fmt.Sprintf("%s_part%d", up, i) {
			return nil, fmt.Errorf("etag %d = %v", i, e)
		}
		out.Write(parts[i])
	}
	return out.Bytes(), nil
}
