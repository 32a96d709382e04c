package selfupdate

import (
	"fmt"
	"io"
	"os"
)

// asidePath is where the running .exe is renamed before the new one takes its name: Windows
// lets a running image be renamed but not replaced or deleted. It is removed at the next start.
func asidePath(exe string) string { return exe + ".old" }

// swap copies the current executable to previous, renames the running one aside and the
// staged one into its place (renaming the running one back if that fails).
func swap(staged, exe, previous string) error {
	if err := copyReplace(exe, previous); err != nil {
		return fmt.Errorf("keep the previous binary: %w", err)
	}
	return replaceRunning(staged, exe)
}

func replaceRunning(newFile, exe string) error {
	aside := asidePath(exe)
	os.Remove(aside) // from an earlier update, if the process that ran it is gone
	if err := os.Rename(exe, aside); err != nil {
		return fmt.Errorf("rename the running %s aside: %w", exe, err)
	}
	if err := os.Rename(newFile, exe); err != nil {
		if rerr := os.Rename(aside, exe); rerr != nil {
			return fmt.Errorf("rename %s into place: %w (and putting the old one back failed: %v)", newFile, err, rerr)
		}
		return fmt.Errorf("rename %s into place: %w", newFile, err)
	}
	return nil
}

// restore puts previous back in place of exe (which may be the running image).
func restore(exe, previous string) error {
	tmp := exe + ".restore.exe"
	os.Remove(tmp)
	if err := copyReplace(previous, tmp); err != nil {
		return err
	}
	return replaceRunning(tmp, exe)
}

// cleanupAside removes the image an earlier update renamed aside.
func cleanupAside(exe string) { os.Remove(asidePath(exe)) }

func copyReplace(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := dst + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
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
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
