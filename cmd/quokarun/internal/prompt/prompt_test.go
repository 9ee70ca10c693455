package prompt

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var words = TokenizerFunc(func(s string) (int, error) { return 1 + len(strings.Fields(s)), nil })

func TestSplitSentences(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"One. Two!  Three?", []string{"One.", "Two!", "Three?"}},
		{"He said \"hi.\" Then\nleft. tail", []string{"He said \"hi.\"", "Then left.", "tail"}},
		{"Story one.<|endoftext|>Story two.", []string{"Story one.", "Story two."}},
		{"3.14 is pi. Yes.", []string{"3.14 is pi.", "Yes."}},
		{"   ", nil},
	} {
		assert.Equal(t, tc.want, SplitSentences(tc.in), tc.in)
	}
}

func TestAssemble(t *testing.T) {
	units := []string{"a.", "b.", "c.", "d."}
	counts := []int{1, 1, 1, 1}
	for _, tc := range []struct {
		depth float64
		body  string
		at    int
	}{
		{0, "N a. b. c. d.", 0},
		{0.5, "a. b. N c. d.", 2},
		{1, "a. b. c. d. N", 4},
		{0.3, "a. N b. c. d.", 1},
	} {
		l := Assemble(units, counts, 4, []Item{{Text: "N", Depth: tc.depth}}, " ")
		assert.Equal(t, tc.body, l.Body)
		assert.Equal(t, []int{tc.at}, l.ItemAt)
		assert.Equal(t, strings.TrimSpace(strings.SplitN(tc.body, "N", 2)[0]), l.Before[0])
	}
	l := Assemble(units, counts, 2, []Item{{"X", 0}, {"Y", 0}}, " ")
	assert.Equal(t, "X Y a. b.", l.Body, "items at one boundary keep their order")
}

func TestFit(t *testing.T) {
	build := func(n int) (string, error) { return strings.Repeat("w ", n), nil }
	n, s, c, err := Fit(words, 10, 100, build)
	require.NoError(t, err)
	assert.Equal(t, 9, n)
	assert.Equal(t, 10, c)
	assert.Equal(t, strings.Repeat("w ", 9), s)
	n, _, _, err = Fit(words, 1000, 20, build)
	require.NoError(t, err)
	assert.Equal(t, 20, n, "capped at max")
	_, _, _, err = Fit(words, 0, 20, build)
	assert.Error(t, err)
}

func TestFillers(t *testing.T) {
	tf, err := NewTextFiller("A cat sat. A dog ran. The end.")
	require.NoError(t, err)
	for name, f := range map[string]Filler{"text": tf, "generated": Generated{}} {
		u1, c1, err := f.Units(RNG(1, "x"), words, 50)
		require.NoError(t, err, name)
		u2, c2, _ := f.Units(RNG(1, "x"), words, 50)
		assert.Equal(t, u1, u2, name)
		assert.Equal(t, c1, c2, name)
		sum := 0
		for _, c := range c1 {
			sum += c
		}
		assert.GreaterOrEqual(t, sum, 50, name)
	}
	_, err = NewTextFiller("  ")
	assert.Error(t, err)
	assert.NotEqual(t, GenerateSentence(rand.New(rand.NewPCG(1, 2))), GenerateSentence(rand.New(rand.NewPCG(1, 3))))
}

func TestDigitsAndHash(t *testing.T) {
	assert.Len(t, Digits(RNG(1, "a"), 7), 7)
	assert.Len(t, Digits(RNG(1, "a"), 12), 12)
	assert.Equal(t, Digits(RNG(1, "a"), 5), Digits(RNG(1, "a"), 5))
	assert.Len(t, Hash("x"), 16)
	assert.NotEqual(t, Hash("x"), Hash("y"))
}
