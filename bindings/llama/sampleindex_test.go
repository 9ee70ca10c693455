package llama

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// argmax is the most likely token of logits (the first of ties).
func argmax(logits []float32) Token {
	best := 0
	for i, v := range logits {
		if v > logits[best] {
			best = i
		}
	}
	return Token(best)
}

// TestSampleAndLogitsAgreeOnIndex decodes a batch that wants logits at some
// positions only, and checks that Sampler.Sample(c, i) samples the very row
// that Session.Logits(i) returns, for every output index i, from the start
// and from the end.
func TestSampleAndLogitsAgreeOnIndex(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 256})
	toks, err := m.Tokenize(goldenPrompt+", there was", true, false)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(toks), 6)

	// logits at batch positions 0, 2, 3 and 5: output k is not batch position k
	wants := []int{0, 2, 3, 5}
	b, err := NewBatch(len(toks), 1)
	require.NoError(t, err)
	defer b.Free()
	for p, tok := range toks {
		require.NoError(t, b.Add(tok, p, slices.Contains(wants, p)))
	}
	require.NoError(t, c.Decode(context.Background(), b))

	// the rows differ, so sampling the wrong one shows
	greedy := make([]Token, len(wants))
	for k := range wants {
		greedy[k] = argmax(c.Logits(k))
	}
	require.NotEqual(t, greedy[1], greedy[2], "outputs 1 and 2 should predict different tokens")

	smpl, err := NewSampler(SamplerParams{})
	require.NoError(t, err)
	defer smpl.Free()
	n := len(wants)
	// i = 2 first: batch position 2 holds output 1, the mix-up this guards against
	for _, i := range []int{2, 0, 3, 1, -1, -2, -3, -4} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			k := (i + n) % n
			logits := c.Logits(i)
			require.Len(t, logits, m.VocabSize())
			assert.Equal(t, c.Logits(k), logits, "Logits(%d) is output %d", i, k)
			tok, err := smpl.Sample(c, i)
			require.NoError(t, err)
			assert.Equal(t, greedy[k], tok, "Sample(c, %d) samples output %d", i, k)
		})
	}

	for _, i := range []int{n, -n - 1, 100} {
		assert.Nil(t, c.Logits(i), "Logits(%d)", i)
		_, err := smpl.Sample(c, i)
		assert.Error(t, err, "Sample(c, %d)", i)
	}
}
