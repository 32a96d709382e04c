package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Duration is a TOML string such as "90s" or "1h". An integer is refused: BurntSushi/toml would
// otherwise read `interval = 3600` as 3.6 µs.
type Duration time.Duration

// UnmarshalText parses a Go duration string and refuses bare numbers.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "" {
		return fmt.Errorf("empty duration: write a string with a unit, such as \"90s\" or \"1h\"")
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return fmt.Errorf("duration %s has no unit: durations are strings with a unit, such as \"%ss\" or \"1h\"", s, s)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: %w", s, err)
	}
	if v < 0 {
		return fmt.Errorf("negative duration %q", s)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration back in Go form.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// Or returns d, or def when d is zero.
func (d Duration) Or(def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return time.Duration(d)
}

// ByteSize is a size such as "10MB", "512KiB" or a plain integer number of bytes.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"tb", 1000 * 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30},
	{"b", 1},
}

// UnmarshalText parses "10MB", "1GiB", "4096".
func (b *ByteSize) UnmarshalText(t []byte) error {
	s := strings.ToLower(strings.TrimSpace(string(t)))
	if s == "" {
		return fmt.Errorf("empty size")
	}
	mult := int64(1)
	for _, u := range byteUnits {
		if strings.HasSuffix(s, u.suffix) {
			mult = u.mult
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	// ParseFloat takes "inf" and "nan" too; a size past int64 would wrap to a negative one.
	if err != nil || n < 0 || math.IsNaN(n) || math.IsInf(n, 0) {
		return fmt.Errorf("invalid size %q: use bytes or a unit such as \"10MB\" or \"1GiB\"", string(t))
	}
	if n*float64(mult) >= math.MaxInt64 {
		return fmt.Errorf("size %q is too large", string(t))
	}
	*b = ByteSize(n * float64(mult))
	return nil
}

// MarshalText writes the size in bytes.
func (b ByteSize) MarshalText() ([]byte, error) { return []byte(strconv.FormatInt(int64(b), 10)), nil }

// Or returns b, or def when b is zero.
func (b ByteSize) Or(def int64) int64 {
	if b == 0 {
		return def
	}
	return int64(b)
}
