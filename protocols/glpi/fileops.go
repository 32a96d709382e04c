package glpi

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// fileOps carries out deploy mkdir/copy/move/delete confined to the job folder and the
// configured roots: every path is opened through an os.Root, so "..", absolute paths and
// symbolic links cannot lead outside. (The job runner has no file primitives; these live here.)
type fileOps struct {
	work  string
	roots []string // absolute, cleaned; roots[0] is the job folder
	open  map[string]*os.Root
}

func newFileOps(workdir string, extra []string) (*fileOps, error) {
	f := &fileOps{work: workdir, open: map[string]*os.Root{}}
	for _, r := range append([]string{workdir}, extra...) {
		f.roots = append(f.roots, filepath.Clean(r))
	}
	return f, nil
}

func (f *fileOps) Close() {
	for _, r := range f.open {
		r.Close()
	}
}

// resolve maps a server path to (root, relative path). Relative paths are in the job folder.
func (f *fileOps) resolve(p string) (*os.Root, string, error) {
	p = expandPath(strings.TrimSpace(p))
	if p == "" {
		return nil, "", errors.New("empty path")
	}
	abs := p
	if !filepath.IsAbs(p) {
		abs = filepath.Join(f.work, p)
	}
	abs = filepath.Clean(abs)
	for _, r := range f.roots {
		rel, err := filepath.Rel(r, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			continue
		}
		root, err := f.root(r)
		if err != nil {
			return nil, "", err
		}
		return root, rel, nil
	}
	return nil, "", fmt.Errorf("path %s is outside the job folder and the deploy_file_roots", p)
}

func (f *fileOps) root(dir string) (*os.Root, error) {
	if r, ok := f.open[dir]; ok {
		return r, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	f.open[dir] = r
	return r, nil
}

func (f *fileOps) mkdir(list []string) error {
	if len(list) == 0 {
		return errors.New("mkdir: empty list")
	}
	for _, p := range list {
		r, rel, err := f.resolve(p)
		if err != nil {
			return fmt.Errorf("mkdir: %w", err)
		}
		if rel == "." {
			continue
		}
		if err := r.MkdirAll(rel, 0o755); err != nil {
			return fmt.Errorf("mkdir %s: %w", p, err)
		}
	}
	return nil
}

func (f *fileOps) remove(list []string) error {
	if len(list) == 0 {
		return errors.New("delete: empty list")
	}
	for _, p := range list {
		r, rel, err := f.resolve(p)
		if err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		if rel == "." {
			return fmt.Errorf("delete %s: refusing to delete a whole root", p)
		}
		if err := r.RemoveAll(rel); err != nil {
			return fmt.Errorf("delete %s: %w", p, err)
		}
	}
	return nil
}

// copy copies (or moves) the files and folders matching the glob from (in the job folder or a
// root) to to; a to ending with a separator or naming a folder receives them by name.
func (f *fileOps) copy(from, to string, move bool) error {
	op := "copy"
	if move {
		op = "move"
	}
	if from == "" || to == "" {
		return fmt.Errorf("%s: from and to are required", op)
	}
	sr, srel, err := f.resolve(from)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	matches, err := fs.Glob(sr.FS(), filepath.ToSlash(srel))
	if err != nil {
		return fmt.Errorf("%s: pattern %q: %w", op, from, err)
	}
	if len(matches) == 0 {
		return fmt.Errorf("%s: nothing matches %s", op, from)
	}
	dr, drel, err := f.resolve(to)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	intoDir := strings.HasSuffix(to, "/") || strings.HasSuffix(to, `\`) || len(matches) > 1
	if fi, err := dr.Stat(drel); err == nil && fi.IsDir() {
		intoDir = true
	}
	if intoDir && drel != "." {
		if err := dr.MkdirAll(drel, 0o755); err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	var made []fs.FileInfo // folders this copy created: never copied again
	for _, m := range matches {
		dst := drel
		if intoDir {
			dst = filepath.Join(drel, filepath.Base(filepath.FromSlash(m)))
		}
		if err := copyTree(sr, filepath.FromSlash(m), dr, dst, &made); err != nil {
			return fmt.Errorf("%s %s: %w", op, m, err)
		}
		if move {
			if err := sr.RemoveAll(filepath.FromSlash(m)); err != nil {
				return fmt.Errorf("%s %s: %w", op, m, err)
			}
		}
	}
	return nil
}

// copyTree copies src to dst. made collects the folders created so far: a copy into its own
// subtree (also through a link or an overlapping root) would otherwise find its own output in
// the source and recurse without end.
func copyTree(sr *os.Root, src string, dr *os.Root, dst string, made *[]fs.FileInfo) error {
	fi, err := sr.Lstat(src)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link: not copied", src)
	}
	if di, err := dr.Stat(dst); err == nil && os.SameFile(fi, di) {
		// Copying onto itself would truncate the file (and a move would then delete it).
		return fmt.Errorf("%s is its own destination", src)
	}
	if fi.IsDir() {
		for _, m := range *made {
			if os.SameFile(fi, m) {
				return fmt.Errorf("cannot copy a folder into itself (%s is part of the copy)", src)
			}
		}
		if err := dr.MkdirAll(dst, 0o755); err != nil {
			return err
		}
		di, err := dr.Stat(dst)
		if err != nil {
			return err
		}
		*made = append(*made, di)
		ents, err := fs.ReadDir(sr.FS(), filepath.ToSlash(src))
		if err != nil {
			return err
		}
		for _, e := range ents {
			if err := copyTree(sr, filepath.Join(src, e.Name()), dr, filepath.Join(dst, e.Name()), made); err != nil {
				return err
			}
		}
		return nil
	}
	if !fi.Mode().IsRegular() {
		// A FIFO would block the copy forever; devices and sockets are no deploy payload.
		return fmt.Errorf("%s is not a regular file (%s): not copied", src, fi.Mode().Type())
	}
	in, err := sr.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dr.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, fi.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// moveContents moves the entries of src into dst (an unpacked archive into the job folder).
func moveContents(src, dst string) error {
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := os.Rename(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
