//go:build !windows

package selfupdate

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// swap keeps the current executable as previous (a hard link to the same file, a copy where
// links are not possible) and renames the staged file over it: both steps are atomic, and a
// process still running the old binary keeps its inode.
func swap(staged, exe, previous string) error {
	if err := keepPrevious(exe, previous); err != nil {
		return err
	}
	if err := os.Rename(staged, exe); err != nil {
		return fmt.Errorf("rename %s over %s: %w", staged, exe, err)
	}
	syncDir(filepath.Dir(exe))
	return nil
}

func keepPrevious(exe, previous string) error {
	tmp := previous + ".tmp"
	os.Remove(tmp)
	if err := os.Link(exe, tmp); err != nil {
		if err := copyFile(exe, tmp); err != nil {
			return fmt.Errorf("keep the previous binary: %w", err)
		}
	}
	if err := os.Rename(tmp, previous); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("keep the previous binary: %w", err)
	}
	return nil
}

// restore puts previous back in place of exe, atomically.
func restore(exe, previous string) error {
	tmp := exe + ".restore"
	os.Remove(tmp)
	if err := copyFile(previous, tmp); err != nil {
		return fmt.Errorf("copy %s: %w", previous, err)
	}
	if err := os.Rename(tmp, exe); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s over %s: %w", tmp, exe, err)
	}
	syncDir(filepath.Dir(exe))
	return nil
}

// cleanupAside has nothing to do on Unix: a replaced executable needs no renaming aside.
func cleanupAside(string) {}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
	}
	return err
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
