package niah

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/cmd/quokarun/internal/prompt"
)

// fake tokenizers: BOS + one token per word, and BOS + one token per byte
var (
	words = prompt.TokenizerFunc(func(s string) (int, error) { return 1 + len(strings.Fields(s)), nil })
	bytes = prompt.TokenizerFunc(func(s string) (int, error) { return 1 + len(s), nil })
)

const story = `Once upon a time there was a cat. The cat liked milk! "Is it good?" asked the dog.
The dog was brown and big. They played in the sun all day. At night they slept? Yes, they slept well.`

func configs(t *testing.T) map[string]Config {
	tf, err := prompt.NewTextFiller(strings.Repeat(story+" ", 3))
	require.NoError(t, err)
	return map[string]Config{
		"generated": {Needle: DefaultNeedle, Question: DefaultQuestion, Digits: 5, Filler: prompt.Generated{}, Seed: 7},
		"text":      {Needle: DefaultNeedle, Question: DefaultQuestion, Digits: 5, Filler: tf, Seed: 7},
	}
}

func TestBuildLengthAndDepth(t *testing.T) {
	for cname, cfg := range configs(t) {
		for tname, tok := range map[string]prompt.Tokenizer{"words": words, "bytes": bytes} {
			for _, length := range []int{256, 1000, 4096} {
				for _, depth := range []float64{0, 10, 25, 50, 75, 100} {
					t.Run(fmt.Sprintf("%s/%s/L%d/D%g", cname, tname, length, depth), func(t *testing.T) {
						c, err := Build(cfg, tok, length, depth, 0)
						require.NoError(t, err)
						n, _ := tok.Count(c.Prompt)
						assert.Equal(t, n, c.Tokens)
						// at most the length, short of it by less than a sentence (+ a join)
						slack := 40
						if tname == "words" {
							slack = 12
						}
						assert.LessOrEqual(t, c.Tokens, length)
						assert.Greater(t, c.Tokens, length-slack)
						needle := strings.ReplaceAll(DefaultNeedle, AnswerPlaceholder, c.Answer)
						assert.Equal(t, 1, strings.Count(c.Prompt, needle))
						assert.True(t, strings.HasSuffix(c.Prompt, " "+DefaultQuestion) || c.Prompt == needle+" "+DefaultQuestion)
						// the needle sits at the depth: within one sentence of depth x haystack tokens
						needleTok, _ := tok.Count(needle)
						qTok, _ := tok.Count(DefaultQuestion)
						hay := c.Tokens - needleTok - qTok + 1
						want := 1 + depth/100*float64(hay)
						assert.InDelta(t, want, float64(c.NeedleToken), float64(slack), "needle at token %d of %d", c.NeedleToken, c.Tokens)
						if depth == 0 {
							assert.True(t, strings.HasPrefix(c.Prompt, needle+" "))
						}
						if depth == 100 {
							assert.True(t, strings.HasSuffix(c.Prompt, needle+" "+DefaultQuestion))
						}
					})
				}
			}
		}
	}
}

func TestBuildDeterministic(t *testing.T) {
	cfg := configs(t)["generated"]
	a, err := Build(cfg, words, 512, 50, 3)
	require.NoError(t, err)
	b, err := Build(cfg, words, 512, 50, 3)
	require.NoError(t, err)
	assert.Equal(t, a, b)
	c, err := Build(cfg, words, 512, 50, 4)
	require.NoError(t, err)
	assert.NotEqual(t, a.Prompt, c.Prompt, "another trial")
	assert.NotEqual(t, a.Answer, c.Answer)
	cfg.Seed++
	d, err := Build(cfg, words, 512, 50, 3)
	require.NoError(t, err)
	assert.NotEqual(t, a.Prompt, d.Prompt, "another seed")
	assert.Len(t, a.Answer, 5)
	seen := map[rune]bool{}
	for _, r := range a.Answer {
		assert.False(t, seen[r], "distinct digits")
		seen[r] = true
	}
}

func TestPasskeyFormat(t *testing.T) {
	// the shared passkey cases: "<filler> The secret number is 85326. Remember it. <filler> What is the
	// secret number? The secret number is"
	c, err := Build(configs(t)["text"], words, 200, 50, 0)
	require.NoError(t, err)
	assert.Regexp(t, `[.!?"] The secret number is \d{5}\. Remember it\. [A-Z"]`, c.Prompt)
	assert.Regexp(t, `[.!?"] What is the secret number\? The secret number is$`, c.Prompt)
}

func TestBuildErrors(t *testing.T) {
	cfg := configs(t)["generated"]
	_, err := Build(cfg, words, 5, 50, 0)
	assert.ErrorContains(t, err, "without filler")
	_, err = Build(cfg, words, 512, 101, 0)
	assert.Error(t, err)
	bad := cfg
	bad.Needle = "no placeholder"
	_, err = Build(bad, words, 512, 50, 0)
	assert.ErrorContains(t, err, "{answer}")
}

func TestCorrect(t *testing.T) {
	for _, tc := range []struct {
		mode   MatchMode
		output string
		want   bool
	}{
		{MatchPrefix, " 37824. Remember", true},
		{MatchPrefix, "37824", true},
		{MatchPrefix, " 3782", false},
		{MatchPrefix, " the number 37824", false},
		{MatchSubstring, " the number 37824", true},
		{MatchSubstring, " 3782", false},
	} {
		assert.Equal(t, tc.want, Correct(tc.mode, tc.output, "37824"), "%s %q", tc.mode, tc.output)
	}
	_, err := ParseMatchMode("exact")
	assert.Error(t, err)
}
