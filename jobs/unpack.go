package jobs

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
)

// ErrUnsafeArchive is wrapped by the error of an unpack refused for an entry that would escape
// the staging folder (.., absolute path, link pointing out, hard link) or a bomb.
var ErrUnsafeArchive = errors.New("unsafe archive")

// Unpack extracts a zip or tar(.gz) archive into a fresh staging folder and returns its path.
// Entries that would escape the folder, hard links and symlinks pointing out are refused, as
// are archives over lim (zip bombs); on any error the staging folder is removed whole. All
// writes go through an os.Root, so even a link planted by an earlier entry cannot lead a
// later one outside. File modes are kept on unix (without setuid/setgid/sticky).
func (r *Runner) Unpack(ctx context.Context, archive string, lim Limits) (string, error) {
	if lim.MaxBytes <= 0 {
		lim.MaxBytes = defaultUnpackBytes
	}
	if lim.MaxEntries <= 0 {
		lim.MaxEntries = defaultUnpackFiles
	}
	kind, err := archiveKind(archive)
	if err != nil {
		return "", err
	}
	dir, err := r.NewStaging("unpack")
	if err != nil {
		return "", err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("jobs: unpack: %w", err)
	}
	u := &unpacker{ctx: ctx, root: root, lim: lim}
	switch kind {
	case "zip":
		err = u.zip(archive)
	case "tar.gz":
		err = u.tarFile(archive, true)
	case "tar":
		err = u.tarFile(archive, false)
	}
	root.Close()
	if err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("jobs: unpack %s: %w", path.Base(strings.ReplaceAll(archive, "\\", "/")), err)
	}
	r.log.Info("archive unpacked", "archive", archive, "dir", dir, "entries", u.entries, "bytes", u.bytes)
	return dir, nil
}

// archiveKind tells zip, tar.gz and tar apart by content, not by name.
func archiveKind(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", fmt.Errorf("jobs: unpack: %w", err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return "zip", nil
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		return "tar.gz", nil
	case n >= 262 && string(head[257:262]) == "ustar":
		return "tar", nil
	}
	return "", fmt.Errorf("jobs: unpack %s: not a zip, tar or tar.gz archive", path.Base(strings.ReplaceAll(p, "\\", "/")))
}

type unpacker struct {
	ctx     context.Context
	root    *os.Root
	lim     Limits
	entries int
	bytes   int64
}

// clean checks an entry name and returns it as a relative slash path ("" for the root).
func clean(name string) (string, error) {
	n := strings.ReplaceAll(name, "\\", "/")
	if strings.HasPrefix(n, "/") || (len(n) >= 2 && n[1] == ':') {
		return "", fmt.Errorf("entry %q: absolute path: %w", name, ErrUnsafeArchive)
	}
	for _, el := range strings.Split(n, "/") {
		if el == ".." {
			return "", fmt.Errorf("entry %q: path goes up with \"..\": %w", name, ErrUnsafeArchive)
		}
	}
	if strings.ContainsRune(n, 0) {
		return "", fmt.Errorf("entry %q: NUL in name: %w", name, ErrUnsafeArchive)
	}
	c := path.Clean(n)
	if c == "." {
		return "", nil
	}
	return c, nil
}

func (u *unpacker) count() error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	u.entries++
	if u.entries > u.lim.MaxEntries {
		return fmt.Errorf("more than %d entries: %w", u.lim.MaxEntries, ErrTooLarge)
	}
	return nil
}

func (u *unpacker) mkdirAll(rel string) error {
	if rel == "" {
		return nil
	}
	if err := u.root.MkdirAll(rel, 0o755); err != nil {
		return fmt.Errorf("folder %q: %w", rel, err)
	}
	return nil
}

func (u *unpacker) file(rel string, mode fs.FileMode, src io.Reader) error {
	if rel == "" {
		return fmt.Errorf("file entry with an empty name: %w", ErrUnsafeArchive)
	}
	if err := u.mkdirAll(path.Dir(rel)); err != nil {
		return err
	}
	perm := mode.Perm()
	if perm == 0 {
		perm = 0o644
	}
	f, err := u.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm|0o200)
	if err != nil {
		return fmt.Errorf("entry %q: %w", rel, err)
	}
	room := u.lim.MaxBytes - u.bytes
	n, err := io.Copy(f, &ctxReader{ctx: u.ctx, r: io.LimitReader(src, room+1)})
	u.bytes += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("entry %q: %w", rel, err)
	}
	if u.bytes > u.lim.MaxBytes {
		return fmt.Errorf("more than %d bytes uncompressed: %w (%w)", u.lim.MaxBytes, ErrTooLarge, ErrUnsafeArchive)
	}
	if runtime.GOOS != "windows" && perm&0o200 == 0 {
		return u.root.Chmod(rel, perm)
	}
	return nil
}

// symlink allows only targets that stay inside the staging folder.
func (u *unpacker) symlink(rel, target string) error {
	if rel == "" {
		return fmt.Errorf("symlink with an empty name: %w", ErrUnsafeArchive)
	}
	t := strings.ReplaceAll(target, "\\", "/")
	if t == "" || strings.HasPrefix(t, "/") || (len(t) >= 2 && t[1] == ':') {
		return fmt.Errorf("symlink %q -> %q points outside the staging folder: %w", rel, target, ErrUnsafeArchive)
	}
	resolved := path.Join(path.Dir(rel), t)
	if resolved == ".." || strings.HasPrefix(resolved, "../") {
		return fmt.Errorf("symlink %q -> %q points outside the staging folder: %w", rel, target, ErrUnsafeArchive)
	}
	if err := u.mkdirAll(path.Dir(rel)); err != nil {
		return err
	}
	if err := u.root.Symlink(t, rel); err != nil {
		return fmt.Errorf("symlink %q: %w", rel, err)
	}
	return nil
}

func (u *unpacker) zip(p string) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return err
	}
	defer zr.Close()
	if len(zr.File) > u.lim.MaxEntries {
		return fmt.Errorf("%d entries, more than %d: %w", len(zr.File), u.lim.MaxEntries, ErrTooLarge)
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
	}
	if declared > uint64(u.lim.MaxBytes) {
		return fmt.Errorf("%d bytes uncompressed declared, more than %d: %w (%w)", declared, u.lim.MaxBytes, ErrTooLarge, ErrUnsafeArchive)
	}
	for _, f := range zr.File {
		if err := u.count(); err != nil {
			return err
		}
		rel, err := clean(f.Name)
		if err != nil {
			return err
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			err = u.mkdirAll(rel)
		case mode&fs.ModeSymlink != 0:
			err = u.zipSymlink(f, rel)
		case mode.IsRegular():
			err = u.zipFile(f, rel, mode)
		default:
			err = fmt.Errorf("entry %q: unsupported type %v: %w", f.Name, mode.Type(), ErrUnsafeArchive)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (u *unpacker) zipFile(f *zip.File, rel string, mode fs.FileMode) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	return u.file(rel, mode, rc)
}

func (u *unpacker) zipSymlink(f *zip.File, rel string) error {
	rc, err := f.Open()
	if err != nil {
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	t, err := io.ReadAll(io.LimitReader(rc, 4096))
	if err != nil {
		return fmt.Errorf("entry %q: %w", f.Name, err)
	}
	return u.symlink(rel, string(t))
}

func (u *unpacker) tarFile(p string, gz bool) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	var src io.Reader = bufio.NewReaderSize(f, 64<<10)
	if gz {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	tr := tar.NewReader(src)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read tar: %w", err)
		}
		if h.Typeflag == tar.TypeXGlobalHeader {
			continue
		}
		if err := u.count(); err != nil {
			return err
		}
		rel, err := clean(h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = u.mkdirAll(rel)
		case tar.TypeReg, tar.TypeRegA:
			err = u.file(rel, fs.FileMode(h.Mode), tr)
		case tar.TypeSymlink:
			err = u.symlink(rel, h.Linkname)
		case tar.TypeLink:
			err = fmt.Errorf("entry %q: hard link to %q refused: %w", h.Name, h.Linkname, ErrUnsafeArchive)
		default:
			err = fmt.Errorf("entry %q: unsupported tar entry type %q: %w", h.Name, h.Typeflag, ErrUnsafeArchive)
		}
		if err != nil {
			return err
		}
	}
}
