package collectors

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// Version probes that need no credentials, used only when the package database does not say
// (a tarball or container-image install): MySQL/MariaDB send their version in the first
// handshake packet, Redis answers INFO when no password is set.

// mysqlHandshakeVersion reads the server version from the MySQL protocol v10 greeting.
func mysqlHandshakeVersion(ctx context.Context, addr string) (string, error) {
	b, err := firstBytes(ctx, addr, nil, 512)
	if err != nil {
		return "", err
	}
	return ParseMySQLHandshake(b)
}

// ParseMySQLHandshake decodes a protocol v10 greeting: 3-byte length, sequence, 0x0a, then the
// NUL-terminated version string.
func ParseMySQLHandshake(b []byte) (string, error) {
	if len(b) < 6 || b[4] != 0x0a {
		return "", errors.New("mysql handshake: not a protocol 10 greeting")
	}
	end := bytes.IndexByte(b[5:], 0)
	if end <= 0 {
		return "", errors.New("mysql handshake: no version string")
	}
	return string(b[5 : 5+end]), nil
}

// redisInfoVersion asks INFO server and reads redis_version.
func redisInfoVersion(ctx context.Context, addr string) (string, error) {
	b, err := firstBytes(ctx, addr, []byte("INFO server\r\n"), 8192)
	if err != nil {
		return "", err
	}
	return ParseRedisInfo(b)
}

// ParseRedisInfo finds redis_version in an INFO reply ("-NOAUTH ..." when a password is set).
func ParseRedisInfo(b []byte) (string, error) {
	if len(b) > 0 && b[0] == '-' {
		line, _, _ := bytes.Cut(b[1:], []byte("\r\n"))
		return "", fmt.Errorf("redis INFO: %s", line)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "redis_version:"); ok {
			return v, nil
		}
	}
	return "", errors.New("redis INFO: no redis_version")
}

// firstBytes connects, optionally sends a request, and reads what arrives within half a second.
func firstBytes(ctx context.Context, addr string, req []byte, limit int) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dl, _ := ctx.Deadline()
	_ = c.SetDeadline(dl)
	if req != nil {
		if _, err := c.Write(req); err != nil {
			return nil, err
		}
	}
	buf := make([]byte, limit)
	n, err := c.Read(buf)
	if n == 0 {
		return nil, fmt.Errorf("read from %s: %w", addr, err)
	}
	// INFO replies may come in more than one segment: read what follows briefly.
	for n < limit && req != nil {
		m, err := c.Read(buf[n:])
		n += m
		if err != nil || bytes.HasSuffix(buf[:n], []byte("\r\n\r\n")) {
			break
		}
	}
	return buf[:n], nil
}

// upstreamVersion strips a Debian epoch and revision: "1:10.11.6-0+deb12u1" → "10.11.6".
func upstreamVersion(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		v = rest
	}
	if i := strings.LastIndexByte(v, '-'); i > 0 {
		v = v[:i]
	}
	if i := strings.IndexAny(v, "~+"); i > 0 {
		v = v[:i]
	}
	return v
}

// dpkgVersion finds one installed package's version in /var/lib/dpkg/status content.
func dpkgVersion(status []byte, pkg string) string {
	return dpkgVersions(bytes.NewReader(status), func(p []byte) bool { return string(p) == pkg })[pkg]
}

// dpkgVersions streams a dpkg status file and returns the versions of the packages want
// accepts, "" for one whose first paragraph is not fully installed. It looks only at the
// "Package: " lines and, for a wanted package, its paragraph.
func dpkgVersions(r io.Reader, want func(pkg []byte) bool) map[string]string {
	out := map[string]string{}
	field := []byte("Package: ")
	_ = dpkgParagraphs(r, func(b []byte) {
		for {
			i := bytes.Index(b, field)
			if i < 0 {
				return
			}
			if i > 0 && b[i-1] != '\n' {
				b = b[i+len(field):]
				continue
			}
			para := b[i:]
			b = b[i+len(field):]
			name := b
			if nl := bytes.IndexByte(name, '\n'); nl >= 0 {
				name = name[:nl]
			}
			if !want(name) {
				continue
			}
			if _, seen := out[string(name)]; seen {
				continue // the first paragraph decides
			}
			if end := bytes.Index(para, []byte("\n\n")); end >= 0 {
				para = para[:end+1]
			}
			v := ""
			if bytes.Contains(para, []byte("\nStatus: install ok installed")) {
				for line := range bytes.Lines(para) {
					if rest, ok := bytes.CutPrefix(line, []byte("Version: ")); ok {
						v = string(bytes.TrimSpace(rest))
						break
					}
				}
			}
			out[string(name)] = v
		}
	})
	return out
}

// dpkgParagraphs calls fn with the status file's paragraphs (blank-line separated), several
// at a time, read through a small buffer that grows only for a paragraph larger than it.
func dpkgParagraphs(r io.Reader, fn func([]byte)) error {
	_, err := dpkgParagraphsIn(make([]byte, dpkgChunk), r, fn)
	return err
}

// dpkgChunk is the read size: 32 KiB, eight pages to touch, a few dozen reads for a desktop's
// status file.
const dpkgChunk = 32 << 10

// dpkgParagraphsIn is dpkgParagraphs through buf, returned (grown or not) for another pass.
func dpkgParagraphsIn(buf []byte, r io.Reader, fn func([]byte)) ([]byte, error) {
	n := 0 // bytes in buf
	for {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			if n > 0 {
				fn(buf[:n])
			}
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if i := bytes.LastIndex(buf[:n], []byte("\n\n")); i >= 0 {
			fn(buf[:i+2])
			n = copy(buf, buf[i+2:n])
		}
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
	}
}

// listeningPorts maps socket inodes to the TCP ports listening on them (/proc/net/tcp, tcp6).
func listeningPorts(tables ...string) map[string]int {
	out := map[string]int{}
	for _, t := range tables {
		first := true
		for line := range strings.Lines(t) {
			if first {
				first = false
				continue
			}
			f := strings.Fields(line)
			if len(f) < 10 || f[3] != "0A" { // 0A = LISTEN
				continue
			}
			_, portHex, ok := strings.Cut(f[1], ":")
			if !ok {
				continue
			}
			if p, err := strconv.ParseUint(portHex, 16, 16); err == nil {
				out[f[9]] = int(p)
			}
		}
	}
	return out
}
