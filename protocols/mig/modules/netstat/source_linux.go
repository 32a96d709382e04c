package netstat

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
)

// osSource reads /proc.
type osSource struct{}

func (osSource) Interfaces(context.Context) ([]Interface, error) { return netInterfaces() }

var sockFiles = []struct{ file, proto string }{{"tcp", "tcp"}, {"tcp6", "tcp"}, {"udp", "udp"}, {"udp6", "udp"}}

func (osSource) Sockets(ctx context.Context, namespaces bool) ([]Socket, error) {
	var out []Socket
	var errs []error
	for _, nd := range netDirs(namespaces) {
		for _, sf := range sockFiles {
			if ctx.Err() != nil {
				return out, ctx.Err()
			}
			s, err := readWith(filepath.Join(nd.dir, sf.file), func(f *os.File) ([]Socket, error) { return parseProcNet(f, sf.proto, nd.ns) })
			if err != nil && !errors.Is(err, os.ErrNotExist) { // no IPv6: no tcp6
				errs = append(errs, err)
			}
			out = append(out, s...)
		}
	}
	return out, errors.Join(errs...)
}

func (osSource) Neighbors(ctx context.Context, namespaces bool) ([]Neighbor, error) {
	var out []Neighbor
	var errs []error
	for _, nd := range netDirs(namespaces) {
		if ctx.Err() != nil {
			return out, ctx.Err()
		}
		n, err := readWith(filepath.Join(nd.dir, "arp"), func(f *os.File) ([]Neighbor, error) { return parseARP(f, nd.ns) })
		if err != nil {
			errs = append(errs, err)
		}
		out = append(out, n...)
	}
	return out, errors.Join(errs...)
}

func readWith[T any](path string, parse func(*os.File) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := parse(f)
	if err != nil {
		return v, fmt.Errorf("parse %s: %w", path, err)
	}
	return v, nil
}

type netDir struct{ dir, ns string }

// netDirs is /proc/net ("default", as MIG names it) or, with namespaces, one /proc/PID/net per
// network namespace, named by its "net:[inode]" link.
func netDirs(namespaces bool) []netDir {
	if !namespaces {
		return []netDir{{"/proc/net", "default"}}
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return []netDir{{"/proc/net", "default"}}
	}
	seen := map[string]bool{}
	var out []netDir
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil || seen[ns] {
			continue
		}
		// The process may exit between the listing and the read; take it only if readable.
		if _, err := os.Stat(filepath.Join("/proc", e.Name(), "net", "tcp")); err != nil {
			continue
		}
		seen[ns] = true
		out = append(out, netDir{filepath.Join("/proc", e.Name(), "net"), ns})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ns < out[j].ns })
	if len(out) == 0 {
		return []netDir{{"/proc/net", "default"}}
	}
	return out
}
