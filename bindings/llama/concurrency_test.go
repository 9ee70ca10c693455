package llama

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runOutcome is what one prefill-and-generate leaves: the logits of the
// last token decoded, the greedy continuation and how many QUOKA
// selections ran.
type runOutcome struct {
	logits     []float32
	text       string
	selections int
}

// concurrencyParams is a small context whose prompts span several ubatches,
// so that QUOKA (when on) selects keys from the third chunk on.
func concurrencyParams(quoka bool) ContextParams {
	p := ContextParams{NCtx: 512, NBatch: 64, NUBatch: 64, Threads: 1, FlashAttn: FlashAttnOn,
		Capture: []string{"quoka_sel-0"}}
	if quoka {
		p.Quoka = QuokaOptions{Enabled: true, Budget: 64, Queries: 16}
	}
	return p
}

func runOnce(c *Session, prompt []Token) (runOutcome, error) {
	c.ClearKV()
	_ = c.Captured()
	text, _, err := c.GenerateTokens(context.Background(), prompt, GenerateOptions{MaxTokens: 12})
	if err != nil {
		return runOutcome{}, err
	}
	return runOutcome{logits: c.Logits(-1), text: text, selections: len(c.Captured())}, nil
}

// TestContextsConcurrentMatchSequential runs several Contexts on one Model
// from several goroutines, dense and with QUOKA, and checks every output
// equals the sequential run's (run it with -race).
func TestContextsConcurrentMatchSequential(t *testing.T) {
	m := loadStories(t)
	all := storyTokens(t, m, 420)
	prompts := [][]Token{all[:300], all[:360], all[:420]}
	modes := []bool{false, true}

	want := map[string]runOutcome{}
	key := func(quoka bool, p int) string { return fmt.Sprintf("quoka=%v/prompt=%d", quoka, p) }
	for _, quoka := range modes {
		c := newTestContext(t, m, concurrencyParams(quoka))
		for pi, p := range prompts {
			out, err := runOnce(c, p)
			require.NoError(t, err)
			if quoka {
				require.Positive(t, out.selections, "QUOKA engaged on prompt %d", pi)
			} else {
				require.Zero(t, out.selections, "dense run selected keys")
			}
			want[key(quoka, pi)] = out
		}
	}
	require.NotEqual(t, want[key(false, 2)].logits, want[key(true, 2)].logits, "QUOKA changes the logits")

	const workersPerMode, rounds = 2, 2
	type result struct {
		key string
		out runOutcome
		err error
	}
	results := make(chan result, len(modes)*workersPerMode*rounds*len(prompts))
	var wg sync.WaitGroup
	for _, quoka := range modes {
		for w := range workersPerMode {
			c := newTestContext(t, m, concurrencyParams(quoka))
			wg.Go(func() {
				for r := range rounds {
					for i := range prompts {
						pi := (i + w + r) % len(prompts) // workers interleave the prompts differently
						out, err := runOnce(c, prompts[pi])
						results <- result{key(quoka, pi), out, err}
					}
				}
			})
		}
	}
	wg.Wait()
	close(results)
	n := 0
	for r := range results {
		n++
		require.NoError(t, r.err, r.key)
		w := want[r.key]
		assert.Equal(t, w.selections, r.out.selections, "%s: QUOKA selections", r.key)
		assert.Equal(t, w.logits, r.out.logits, "%s: logits", r.key)
		assert.Equal(t, w.text, r.out.text, "%s: text", r.key)
	}
	assert.Equal(t, len(modes)*workersPerMode*rounds*len(prompts), n)
}
