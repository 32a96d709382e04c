// Package limitread reads small files whole (configs, keys, manifests), refusing one larger
// than a limit: a path that names a huge file, a device or a FIFO ends in an error, not in
// reading without end.
package limitread

import (
	"fmt"
	"io"
	"os"
)

// TooLargeError is the refusal of a file over the limit.
type TooLargeError struct {
	Path  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: larger than %d bytes", e.Path, e.Limit)
}

// File reads path whole. Open and read errors are os's (*fs.PathError); more than limit bytes
// is a *TooLargeError, and no content.
func File(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, &TooLargeError{Path: path, Limit: limit}
	}
	return b, nil
}
