package ruler

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/cmd/quokarun/internal/prompt"
)

// fake tokenizer: BOS + one token per word
var words = prompt.TokenizerFunc(func(s string) (int, error) { return 1 + len(strings.Fields(s)), nil })

func TestTasks(t *testing.T) {
	answers := map[string]int{"niah_single_1": 1, "niah_single_2": 1, "niah_single_3": 1, "niah_multikey_1": 1,
		"niah_multikey_2": 1, "niah_multikey_3": 1, "niah_multivalue": 4, "niah_multiquery": 4, "vt": 5, "cwe": 10, "fwe": 3}
	require.Len(t, Tasks, len(answers))
	for _, name := range Tasks {
		for _, length := range []int{512, 2048} {
			t.Run(fmt.Sprintf("%s/%d", name, length), func(t *testing.T) {
				c, err := Build(Config{Seed: 1}, words, name, length, 0)
				require.NoError(t, err)
				again, err := Build(Config{Seed: 1}, words, name, length, 0)
				require.NoError(t, err)
				assert.Equal(t, c, again, "deterministic")
				other, err := Build(Config{Seed: 1}, words, name, length, 1)
				require.NoError(t, err)
				assert.NotEqual(t, c.Prompt, other.Prompt, "another trial")

				n, _ := words.Count(c.Prompt)
				assert.Equal(t, n, c.Tokens)
				assert.LessOrEqual(t, c.Tokens, length)
				assert.Greater(t, c.Tokens, length*95/100-30, "fills the length")
				assert.Len(t, c.Answers, answers[name])
				for _, a := range c.Answers {
					assert.Contains(t, c.Prompt, a)
				}
				assert.Greater(t, c.MaxTokens, 0)
				assert.Equal(t, name, c.Task)
			})
		}
	}
	_, err := Build(Config{}, words, "qa_1", 512, 0)
	assert.Error(t, err)
}

func TestNIAHNeedles(t *testing.T) {
	c, err := Build(Config{Seed: 3}, words, "niah_multikey_1", 1024, 0)
	require.NoError(t, err)
	needles := regexp.MustCompile(`One of the special magic numbers for (\S+) is: (\d{7})\.`).FindAllStringSubmatch(c.Prompt, -1)
	require.Len(t, needles, 4, "4 keys")
	var asked string
	for _, n := range needles {
		if n[2] == c.Answers[0] {
			asked = n[1]
		}
	}
	assert.Contains(t, c.Prompt, "for "+asked+" in the text above?")

	c, err = Build(Config{Seed: 3}, words, "niah_multikey_3", 1024, 0)
	require.NoError(t, err)
	uuid := `[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`
	all := regexp.MustCompile(`One of the special magic UUIDs for `+uuid+` is: `+uuid+`\.`).FindAllString(c.Prompt, -1)
	assert.Greater(t, len(all), 20, "the haystack is made of needles")
	assert.Equal(t, 1, strings.Count(c.Prompt, c.Answers[0]))
}

func TestVariableTracking(t *testing.T) {
	c, err := Build(Config{Seed: 5}, words, "vt", 1024, 0)
	require.NoError(t, err)
	// the chain appears in order: VAR A = 12345, VAR B = VAR A, ...
	prev := -1
	for i, v := range c.Answers {
		var stmt string
		if i == 0 {
			stmt = regexp.MustCompile(`VAR ` + v + ` = \d{5}\.`).FindString(c.Prompt)
		} else {
			stmt = "VAR " + v + " = VAR " + c.Answers[i-1] + "."
		}
		at := strings.Index(c.Prompt, stmt)
		require.GreaterOrEqual(t, at, 0, stmt)
		assert.Greater(t, at, prev)
		prev = at
	}
}

func TestAggregation(t *testing.T) {
	c, err := Build(Config{Seed: 2}, words, "cwe", 2048, 0)
	require.NoError(t, err)
	for _, w := range c.Answers {
		assert.Equal(t, 30, len(regexp.MustCompile(`\d+\. `+w+`( |\n)`).FindAllString(c.Prompt, -1)), w)
	}
	c, err = Build(Config{Seed: 2}, words, "fwe", 2048, 0)
	require.NoError(t, err)
	body := strings.Fields(strings.SplitN(strings.SplitN(c.Prompt, "\n", 2)[1], "\nQuestion", 2)[0])
	count := map[string]int{}
	for _, w := range body {
		count[w]++
	}
	for _, a := range c.Answers {
		for w, n := range count {
			if n > count[a] {
				assert.Contains(t, c.Answers, w, "%s (%d) is more frequent than the answer %s (%d)", w, n, a, count[a])
			}
		}
	}
}

func TestScoring(t *testing.T) {
	for _, tc := range []struct {
		out  string
		refs []string
		all  float64
		part float64
	}{
		{" 1234567.", []string{"1234567"}, 1, 1},
		{"The numbers are 1111111 and 2222222", []string{"1111111", "2222222", "3333333", "4444444"}, 0.5, 1},
		{"qxKAB, QXKAC", []string{"QXKAB", "qxkac", "zzzzz"}, 2.0 / 3, 1},
		{"nothing", []string{"abc"}, 0, 0},
		{"anything", nil, 0, 0},
	} {
		assert.InDelta(t, tc.all, MatchAll(tc.out, tc.refs), 1e-12, tc.out)
		assert.InDelta(t, tc.part, MatchPart(tc.out, tc.refs), 1e-12, tc.out)
	}
	assert.InDelta(t, 75.0, Score([]string{"a b", "a"}, [][]string{{"A", "B"}, {"a", "c"}}), 1e-12)
	assert.Equal(t, 0.0, Score(nil, nil))
}
