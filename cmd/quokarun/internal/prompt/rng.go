package prompt

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
)

// RNG returns a generator for one case, derived from the run's seed and the case's identity, so
// that a case does not change when others are added to or removed from a grid.
func RNG(seed uint64, id string) *rand.Rand {
	h := sha256.Sum256([]byte(id))
	return rand.New(rand.NewPCG(seed, binary.LittleEndian.Uint64(h[:8])))
}

// Hash is a short stable hash of a prompt (16 hex digits of its SHA-256).
func Hash(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:8])
}

// Digits draws an n-digit number as text; the digits are distinct when n is at most 10.
func Digits(rng *rand.Rand, n int) string {
	b := make([]byte, 0, n)
	if n <= 10 {
		for _, d := range rng.Perm(10)[:n] {
			b = append(b, byte('0'+d))
		}
		return string(b)
	}
	for range n {
		b = append(b, byte('0'+rng.IntN(10)))
	}
	return string(b)
}
