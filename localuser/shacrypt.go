package localuser

import (
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// cryptAlphabet is crypt(3)'s base-64 alphabet, also the salt alphabet.
const cryptAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

const (
	defaultRounds = 5000 // glibc's default: "rounds=" is then left out of the hash
	minRounds     = 1000
	maxRounds     = 999999999
	maxSaltLen    = 16
)

// SHA512Crypt hashes key the way glibc's crypt(3) does for "$6$" (Ulrich Drepper's SHA-crypt
// specification). rounds 0 means the default 5000 with no "rounds=" in the hash (as when the
// salt string names none); salt is cut at 16 characters.
func SHA512Crypt(key []byte, salt string, rounds int) string {
	customRounds := rounds != 0
	if rounds == 0 {
		rounds = defaultRounds
	}
	rounds = min(max(rounds, minRounds), maxRounds)
	if len(salt) > maxSaltLen {
		salt = salt[:maxSaltLen]
	}
	s := []byte(salt)

	b := sha512.New()
	b.Write(key)
	b.Write(s)
	b.Write(key)
	digB := b.Sum(nil)

	a := sha512.New()
	a.Write(key)
	a.Write(s)
	for n := len(key); n > 0; n -= 64 {
		a.Write(digB[:min(n, 64)])
	}
	for n := len(key); n > 0; n >>= 1 {
		if n&1 != 0 {
			a.Write(digB)
		} else {
			a.Write(key)
		}
	}
	digA := a.Sum(nil)

	dp := sha512.New()
	for range len(key) {
		dp.Write(key)
	}
	p := repeatTo(dp.Sum(nil), len(key))

	ds := sha512.New()
	for range 16 + int(digA[0]) {
		ds.Write(s)
	}
	sb := repeatTo(ds.Sum(nil), len(s))

	c := digA
	h := sha512.New()
	for i := range rounds {
		h.Reset()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(sb)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}
	Zero(p)

	var out strings.Builder
	out.WriteString("$6$")
	if customRounds {
		out.WriteString("rounds=" + strconv.Itoa(rounds) + "$")
	}
	out.WriteString(salt)
	out.WriteByte('$')
	for _, t := range sha512Order {
		b64From24(&out, c[t[0]], c[t[1]], c[t[2]], 4)
	}
	b64From24(&out, 0, 0, c[63], 2)
	return out.String()
}

// sha512Order is the byte permutation of the final encoding, from the specification.
var sha512Order = [21][3]int{
	{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4}, {47, 5, 26}, {6, 27, 48},
	{28, 49, 7}, {50, 8, 29}, {9, 30, 51}, {31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13},
	{56, 14, 35}, {15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19}, {62, 20, 41},
}

func b64From24(out *strings.Builder, b2, b1, b0 byte, n int) {
	w := uint32(b2)<<16 | uint32(b1)<<8 | uint32(b0)
	for range n {
		out.WriteByte(cryptAlphabet[w&0x3f])
		w >>= 6
	}
}

func repeatTo(d []byte, n int) []byte {
	out := make([]byte, n)
	for i := 0; i < n; i += len(d) {
		copy(out[i:], d)
	}
	return out
}

// NewSalt returns 16 random characters of the crypt alphabet.
func NewSalt() (string, error) {
	var raw [maxSaltLen]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("localuser: salt: %w", err)
	}
	for i, v := range raw {
		raw[i] = cryptAlphabet[v&0x3f] // 64 symbols: the mask keeps it uniform
	}
	return string(raw[:]), nil
}

// VerifySHA512Crypt says whether key hashes to hash, a "$6$[rounds=N$]salt$digest" string.
func VerifySHA512Crypt(key []byte, hash string) (bool, error) {
	rest, ok := strings.CutPrefix(hash, "$6$")
	if !ok {
		return false, errors.New("localuser: not a $6$ (SHA-512 crypt) hash")
	}
	rounds := 0
	if r, after, ok := strings.Cut(rest, "$"); ok && strings.HasPrefix(r, "rounds=") {
		n, err := strconv.Atoi(strings.TrimPrefix(r, "rounds="))
		if err != nil {
			return false, fmt.Errorf("localuser: bad rounds in hash: %w", err)
		}
		rounds, rest = n, after
	}
	salt, _, ok := strings.Cut(rest, "$")
	if !ok {
		return false, errors.New("localuser: hash has no salt separator")
	}
	return SHA512Crypt(key, salt, rounds) == hash, nil
}
