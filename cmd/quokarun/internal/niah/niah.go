// Package niah generates needle-in-a-haystack cases: a needle sentence holding a random number
// placed at a requested depth of a haystack, a question at the end, and the whole prompt fitted to a
// requested length in tokens of the model's tokenizer. Pure Go; see package prompt.
package niah

import (
	"errors"
	"fmt"
	"strings"

	"github.com/quoka-llm/quoka/cmd/quokarun/internal/prompt"
)

// Default templates: the passkey format of the project's shared test data, so that the passkey
// models retrieve with them.
const (
	DefaultNeedle   = "The secret number is {answer}. Remember it."
	DefaultQuestion = "What is the secret number? The secret number is"
	// AnswerPlaceholder is replaced by the answer in the needle template.
	AnswerPlaceholder = "{answer}"
)

// Config describes how cases are built.
type Config struct {
	// Needle is the needle template; it must contain AnswerPlaceholder.
	Needle string
	// Question ends the prompt.
	Question string
	// Digits is the length of the answer; the digits are distinct when it is at most 10.
	Digits int
	// Filler supplies the haystack.
	Filler prompt.Filler
	// Format wraps the body (haystack with the needle) and the question into the prompt (e.g. a
	// chat template); nil joins them with a space.
	Format func(body, question string) (string, error)
	// Seed makes the cases reproducible.
	Seed uint64
}

// Validate reports a config that cannot build cases.
func (c Config) Validate() error {
	switch {
	case !strings.Contains(c.Needle, AnswerPlaceholder):
		return fmt.Errorf("needle template %q has no %s", c.Needle, AnswerPlaceholder)
	case c.Digits < 1 || c.Digits > 32:
		return fmt.Errorf("answer digits %d: want 1..32", c.Digits)
	case c.Filler == nil:
		return errors.New("no haystack")
	}
	return nil
}

// Case is one prompt of the grid.
type Case struct {
	ID     string  `json:"id"`
	Length int     `json:"length"` // requested length in tokens
	Depth  float64 `json:"depth"`  // requested needle depth in percent
	Trial  int     `json:"trial"`
	Prompt string  `json:"-"`
	Answer string  `json:"answer"`
	// Tokens is the prompt's length in tokens (at most Length, short of it by less than one
	// haystack sentence).
	Tokens int `json:"tokens"`
	// NeedleToken is the number of prompt tokens before the needle.
	NeedleToken int `json:"needle_token"`
}

// CaseID names a case of the grid.
func CaseID(length int, depth float64, trial int) string {
	return fmt.Sprintf("niah/L%d/D%g/T%d", length, depth, trial)
}

// Join is the default Format: the body, a space and the question.
func Join(body, question string) (string, error) {
	if body == "" {
		return question, nil
	}
	return body + " " + question, nil
}

// Build makes the case of the grid cell (length, depth in percent) and trial.
func Build(cfg Config, tok prompt.Tokenizer, length int, depth float64, trial int) (Case, error) {
	if err := cfg.Validate(); err != nil {
		return Case{}, err
	}
	if depth < 0 || depth > 100 {
		return Case{}, fmt.Errorf("depth %g%%: want 0..100", depth)
	}
	format := cfg.Format
	if format == nil {
		format = Join
	}
	id := CaseID(length, depth, trial)
	rng := prompt.RNG(cfg.Seed, id)
	answer := prompt.Digits(rng, cfg.Digits)
	needle := strings.ReplaceAll(cfg.Needle, AnswerPlaceholder, answer)
	// more filler than the length: counts of sentences alone only approximate their count in the text
	units, counts, err := cfg.Filler.Units(rng, tok, length+length/8+16)
	if err != nil {
		return Case{}, err
	}
	items := []prompt.Item{{Text: needle, Depth: depth / 100}}
	_, text, ntok, err := prompt.Fit(tok, length, len(units), func(n int) (string, error) {
		return format(prompt.Assemble(units, counts, n, items, " ").Body, cfg.Question)
	})
	if err != nil {
		return Case{}, fmt.Errorf("case %s: %w", id, err)
	}
	// the prompt text before the needle, as it stands in the prompt (Format may wrap it)
	before := text[:strings.Index(text, needle)]
	nb, err := tok.Count(strings.TrimRight(before, " "))
	if err != nil {
		return Case{}, fmt.Errorf("tokenize: %w", err)
	}
	return Case{ID: id, Length: length, Depth: depth, Trial: trial, Prompt: text, Answer: answer,
		Tokens: ntok, NeedleToken: nb}, nil
}

// MatchMode says when an output answers the question.
type MatchMode string

// Match modes.
const (
	// MatchPrefix: the continuation starts with the answer (after leading white space).
	MatchPrefix MatchMode = "prefix"
	// MatchSubstring: the answer appears anywhere in the output, ignoring case (RULER's rule).
	MatchSubstring MatchMode = "substring"
)

// ParseMatchMode parses "prefix" or "substring".
func ParseMatchMode(s string) (MatchMode, error) {
	switch m := MatchMode(s); m {
	case MatchPrefix, MatchSubstring:
		return m, nil
	}
	return "", fmt.Errorf("unknown match rule %q (prefix, substring)", s)
}

// Correct reports whether output answers with answer under the mode.
func Correct(mode MatchMode, output, answer string) bool {
	if mode == MatchSubstring {
		return strings.Contains(strings.ToLower(output), strings.ToLower(answer))
	}
	return strings.HasPrefix(strings.TrimLeft(output, " \t\n"), answer)
}
