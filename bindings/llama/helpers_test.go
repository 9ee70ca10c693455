package llama

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/sharedtest"
)

// golden is the greedy continuation of "Once upon a time" by stories260K in
// upstream llama.cpp (BOS added), as recorded in ../shared/README.md.
const (
	goldenPrompt = "Once upon a time"
	goldenPrefix = ", there was a little girl named Lily. She loved to play outside in the park."
)

// sharedPath returns a file under ../shared beside the repository root,
// skipping the test when ../shared is absent, as on a fresh clone (in CI with
// ../shared present a skip is a failure, see sharedtest).
func sharedPath(t testing.TB, rel string) string {
	t.Helper()
	return sharedtest.Path(t, rel)
}

func storiesPath(t testing.TB) string { return sharedPath(t, "models/stories260K.gguf") }

func loadStories(t testing.TB) *Model {
	t.Helper()
	m, err := LoadModel(storiesPath(t), ModelParams{})
	require.NoError(t, err)
	t.Cleanup(m.Free)
	return m
}

func newTestContext(t testing.TB, m *Model, p ContextParams) *Session {
	t.Helper()
	if p.Threads == 0 {
		p.Threads = 1
	}
	c, err := NewContext(m, p)
	require.NoError(t, err)
	t.Cleanup(c.Free)
	return c
}

// storyTokens returns about n tokens of TinyStories text, BOS first.
func storyTokens(t testing.TB, m *Model, n int) []Token {
	t.Helper()
	data, err := os.ReadFile(sharedPath(t, "data/tinystories-sample.txt"))
	require.NoError(t, err)
	text := strings.ReplaceAll(string(data[:min(len(data), 8*n)]), "<|endoftext|>", "\n")
	toks, err := m.Tokenize(text, true, false)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(toks), n, "sample text too short")
	return toks[:n]
}
