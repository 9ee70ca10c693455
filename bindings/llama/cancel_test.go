package llama

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCancelPrefill(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 4096, NUBatch: 16, Threads: 1})
	prompt := storyTokens(t, m, 4000)

	ctx, cancel := context.WithCancel(context.Background())
	var cancelledAt time.Time
	timer := time.AfterFunc(20*time.Millisecond, func() {
		cancelledAt = time.Now()
		cancel()
	})
	defer timer.Stop()
	start := time.Now()
	err := c.Prefill(ctx, prompt, nil)
	returned := time.Now()
	if err == nil {
		t.Skip("the 4000-token prefill finished within 20 ms: too fast to test cancellation here")
	}
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, returned.Sub(cancelledAt), time.Second, "Prefill returns promptly after cancel")

	// The KV cache keeps whole ubatches only.
	past := c.NPast()
	t.Logf("cancelled %v into the prefill, returned %v later with %d of %d tokens in the KV cache: %v",
		cancelledAt.Sub(start), returned.Sub(cancelledAt), past, len(prompt), err)
	assert.Less(t, past, len(prompt))
	assert.Zero(t, past%16, "the KV cache holds whole ubatches")

	// The context is usable afterwards.
	c.ClearKV()
	out, _, err := c.Generate(context.Background(), goldenPrompt, GenerateOptions{MaxTokens: 32})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(out, goldenPrefix), "got %q", out)
}

func TestCancelDecodeResume(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 1024, NBatch: 256, NUBatch: 16, FlashAttn: FlashAttnOff})
	prompt := storyTokens(t, m, 900)

	// Cancel 10 ms into the second n_batch piece, in the middle of a
	// llama_decode call.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := c.Prefill(ctx, prompt, func(done, _ int) {
		if done == 256 {
			time.AfterFunc(10*time.Millisecond, cancel)
		}
	})
	if err == nil {
		t.Skip("prefill finished before the cancellation")
	}
	require.ErrorIs(t, err, context.Canceled)
	past := c.NPast()
	t.Logf("%d of %d tokens in the KV cache: %v", past, len(prompt), err)
	assert.GreaterOrEqual(t, past, 256, "the first piece stays in the KV cache")
	assert.Zero(t, past%16, "the KV cache holds whole ubatches")

	// Resume from where the KV cache stopped: the result matches an
	// uninterrupted prefill.
	require.NoError(t, c.Prefill(context.Background(), prompt[past:], nil))
	resumed := c.Logits(-1)
	c.ClearKV()
	require.NoError(t, c.Prefill(context.Background(), prompt, nil))
	whole := c.Logits(-1)
	require.Len(t, resumed, len(whole))
	assert.InDeltaSlice(t, whole, resumed, 1e-3)
}

func TestCancelGenerate(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 2048})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	out, tm, err := c.Generate(ctx, goldenPrompt, GenerateOptions{OnToken: func(string) bool {
		if n++; n == 5 {
			cancel()
		}
		return true
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, StopCanceled, tm.StopReason)
	assert.True(t, strings.HasPrefix(goldenPrefix, out), "the text so far comes back: %q", out)
	assert.Equal(t, 5, tm.GeneratedTokens)
}
