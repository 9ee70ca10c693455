// Package prompt builds long evaluation prompts of a requested length in tokens: filler text cut at
// sentence boundaries (a real text or a built-in deterministic generator), items (needles) inserted
// at requested depths, and a search for the most filler that fits the length. It is pure Go; the
// tokenizer is an interface so that tests can use a fake and the CLI the model's own.
package prompt

import (
	"fmt"
	"strings"
)

// Tokenizer counts the tokens of a complete prompt as the model receives it (BOS included when
// the model adds one).
type Tokenizer interface {
	Count(text string) (int, error)
}

// TokenizerFunc adapts a function to Tokenizer.
type TokenizerFunc func(text string) (int, error)

// Count calls f.
func (f TokenizerFunc) Count(text string) (int, error) { return f(text) }

// Item is text to place into the filler at a depth: Depth is the share in [0, 1] of the filler's
// tokens that precede it.
type Item struct {
	Text  string
	Depth float64
}

// Layout is an assembled body: filler units with the items placed between them.
type Layout struct {
	// Body is the filler and the items joined by Sep.
	Body string
	// Units is the number of filler units used.
	Units int
	// ItemAt[i] is the number of filler units before item i.
	ItemAt []int
	// Before[i] is the body text before item i (to count the tokens preceding it).
	Before []string
}

// Assemble places items between the first n filler units. unitTokens[k] is the token count of unit
// k (alone); an item goes to the unit boundary whose preceding token count is nearest to its depth
// times the tokens of the n units. Items at the same boundary keep their order.
func Assemble(units []string, unitTokens []int, n int, items []Item, sep string) Layout {
	cum := make([]int, n+1)
	for k := 0; k < n; k++ {
		cum[k+1] = cum[k] + unitTokens[k]
	}
	at := make([]int, len(items))
	for i, it := range items {
		target := it.Depth * float64(cum[n])
		best := 0
		for k := 1; k <= n; k++ {
			if abs(float64(cum[k])-target) < abs(float64(cum[best])-target) {
				best = k
			}
		}
		at[i] = best
	}
	var parts []string
	before := make([]string, len(items))
	for k := 0; k <= n; k++ {
		for i := range items {
			if at[i] == k {
				before[i] = strings.Join(parts, sep)
				parts = append(parts, items[i].Text)
			}
		}
		if k < n {
			parts = append(parts, units[k])
		}
	}
	return Layout{Body: strings.Join(parts, sep), Units: n, ItemAt: at, Before: before}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// Fit finds the largest n in [0, max] for which build(n) has at most limit tokens, assuming the
// count grows with n (binary search). It fails when even build(0) is too long.
func Fit(tok Tokenizer, limit, max int, build func(n int) (string, error)) (int, string, int, error) {
	count := func(n int) (string, int, error) {
		s, err := build(n)
		if err != nil {
			return "", 0, err
		}
		c, err := tok.Count(s)
		if err != nil {
			return "", 0, fmt.Errorf("tokenize: %w", err)
		}
		return s, c, nil
	}
	s, c, err := count(0)
	if err != nil {
		return 0, "", 0, err
	}
	if c > limit {
		return 0, "", 0, fmt.Errorf("the prompt without filler already has %d tokens, more than %d", c, limit)
	}
	lo, loS, loC := 0, s, c // build(lo) fits
	hi := max + 1           // build(hi) does not fit (or is out of range)
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		s, c, err := count(mid)
		if err != nil {
			return 0, "", 0, err
		}
		if c <= limit {
			lo, loS, loC = mid, s, c
		} else {
			hi = mid
		}
	}
	return lo, loS, loC, nil
}
