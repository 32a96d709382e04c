package glpi

import (
	"context"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/omniagent/omniagent/lazyre"
)

var percentVar = &lazyre.Regexp{Expr: `%([A-Za-z_][A-Za-z0-9_]*)%`}

// expandPath expands $VAR, ${VAR} and %VAR%.
func expandPath(p string) string {
	p = percentVar.Get().ReplaceAllStringFunc(p, func(m string) string { return os.Getenv(m[1 : len(m)-1]) })
	return os.ExpandEnv(p)
}

// runChecks evaluates checks in order; report (nil for action checks) sends each result.
func (a *Adapter) runChecks(ctx context.Context, checks []deployCheck, step string, report func(kv ...string)) error {
	for i, c := range checks {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := strconv.Itoa(i + 1)
		name := firstNonEmpty(c.Name, c.Type)
		ok, err := evalCheck(c)
		if err == nil && ok {
			if report != nil {
				report("currentStep", step, "checknum", n, "msg", fmt.Sprintf("check #%s, %s passed", n, name))
			}
			continue
		}
		why := "not successful"
		if err != nil {
			why = err.Error()
		}
		ret := strings.ToLower(firstNonEmpty(c.Return, "error"))
		if report != nil {
			report("currentStep", step, "checknum", n, "msg", fmt.Sprintf("check #%s, %s %s (%s)", n, name, why, ret))
		}
		switch ret {
		case "skip":
			return fmt.Errorf("check %s: %w", name, errSkip)
		case "startnow":
			return nil
		case "info", "warning", "ignore":
			continue
		default: // error, abort, ko
			return fmt.Errorf("check #%s %s failed: %s", n, name, why)
		}
	}
	return nil
}

// evalCheck says whether a check's condition holds.
func evalCheck(c deployCheck) (bool, error) {
	p := expandPath(c.Path)
	val := strings.TrimSpace(string(c.Value))
	num := func() (int64, error) {
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("value %q is not a number", val)
		}
		return n, nil
	}
	switch c.Type {
	case "directoryExists", "directoryMissing":
		fi, err := os.Stat(p)
		exists := err == nil && fi.IsDir()
		return exists == (c.Type == "directoryExists"), nil
	case "fileExists", "fileMissing":
		fi, err := os.Stat(p)
		exists := err == nil && !fi.IsDir()
		return exists == (c.Type == "fileExists"), nil
	case "fileSizeEquals", "fileSizeGreater", "fileSizeLower":
		fi, err := os.Stat(p)
		if err != nil {
			return false, fmt.Errorf("no file %s", p)
		}
		n, err := num()
		if err != nil {
			return false, err
		}
		switch c.Type {
		case "fileSizeEquals":
			return fi.Size() == n, nil
		case "fileSizeGreater":
			return fi.Size() > n, nil
		}
		return fi.Size() < n, nil
	case "fileSHA512", "fileSHA512mismatch":
		// Only regular files: opening a FIFO blocks and /dev/zero never ends.
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			return c.Type == "fileSHA512mismatch", nil
		}
		f, err := os.Open(p)
		if err != nil {
			return c.Type == "fileSHA512mismatch", nil
		}
		defer f.Close()
		if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
			return c.Type == "fileSHA512mismatch", nil // swapped since the first look
		}
		h := sha512.New()
		if _, err := io.Copy(h, f); err != nil {
			return false, fmt.Errorf("read %s: %w", p, err)
		}
		eq := strings.EqualFold(hex.EncodeToString(h.Sum(nil)), val)
		return eq == (c.Type == "fileSHA512"), nil
	case "freespaceGreater":
		n, err := num()
		if err != nil {
			return false, err
		}
		free, err := freeBytes(p)
		if err != nil {
			return false, err
		}
		return free > uint64(n)<<20, nil
	case "winkeyExists", "winkeyMissing", "winvalueExists", "winvalueMissing", "winkeyEquals", "winkeyNotEquals", "winvalueType":
		return evalRegistry(c.Type, c.Path, val)
	}
	return false, fmt.Errorf("unknown check type %q", c.Type)
}
