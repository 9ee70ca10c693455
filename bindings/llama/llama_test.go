package llama

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPredictGolden(t *testing.T) {
	l, err := New(storiesPath(t), SetContext(512), SetModelThreads(1))
	require.NoError(t, err)
	defer l.Free()

	var streamed strings.Builder
	l.SetTokenCallback(func(s string) bool { streamed.WriteString(s); return true })
	for run := range 2 { // each Predict starts from an empty KV cache
		streamed.Reset()
		out, err := l.Predict(goldenPrompt, SetTokens(32), SetTemperature(0))
		require.NoError(t, err, "run %d", run)
		assert.True(t, strings.HasPrefix(out, goldenPrefix), "run %d: got %q", run, out)
		assert.Equal(t, out, streamed.String(), "streamed pieces add up to the output")
		tm := l.Timings()
		assert.Equal(t, 5, tm.PromptTokens)
		assert.Equal(t, 32, tm.GeneratedTokens)
		assert.Equal(t, StopMaxTokens, tm.StopReason)
		assert.Positive(t, tm.PrefillTokensPerSecond())
		assert.Positive(t, tm.DecodeTokensPerSecond())
		assert.GreaterOrEqual(t, tm.TTFT, tm.PrefillDuration)
	}

	n, toks, err := l.TokenizeString(goldenPrompt)
	require.NoError(t, err)
	assert.Equal(t, int32(len(toks)), n)
	assert.Equal(t, int32(l.Model().BOS()), toks[0])
}

func TestPredictOptions(t *testing.T) {
	l, err := New(storiesPath(t), SetModelThreads(1))
	require.NoError(t, err)
	defer l.Free()

	t.Run("stop word", func(t *testing.T) {
		out, err := l.Predict(goldenPrompt, SetTemperature(0), SetTokens(64), SetStopWords("Lily"))
		require.NoError(t, err)
		assert.Equal(t, ", there was a little girl named ", out)
		assert.Equal(t, StopWord, l.Timings().StopReason)
	})
	t.Run("callback stops", func(t *testing.T) {
		calls := 0
		out, err := l.Predict(goldenPrompt, SetTemperature(0), SetTokenCallback(func(string) bool {
			calls++
			return calls < 3
		}))
		require.NoError(t, err)
		assert.Equal(t, 3, calls)
		assert.True(t, strings.HasPrefix(goldenPrefix, out), "got %q", out)
		assert.Equal(t, StopCallback, l.Timings().StopReason)
	})
	t.Run("seeded sampling repeats", func(t *testing.T) {
		opts := []PredictOption{SetTemperature(1), SetTopK(40), SetTopP(0.9), SetMinP(0.05), SetSeed(42), SetTokens(24)}
		a, err := l.Predict(goldenPrompt, opts...)
		require.NoError(t, err)
		b, err := l.Predict(goldenPrompt, opts...)
		require.NoError(t, err)
		assert.Equal(t, a, b)
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := l.Predict(goldenPrompt, WithContext(ctx))
		assert.ErrorIs(t, err, context.Canceled)
	})
}

func TestGenerateLowLevel(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 512})

	// By hand: tokenize, prefill, then sample and decode token by token.
	toks, err := c.Tokenize(goldenPrompt, true, false)
	require.NoError(t, err)
	require.Equal(t, m.BOS(), toks[0])
	require.NoError(t, c.Prefill(context.Background(), toks, nil))
	assert.Equal(t, len(toks), c.NPast())
	assert.Len(t, c.Logits(-1), m.VocabSize())
	assert.Nil(t, c.Logits(1), "only the last prompt token has logits")

	smpl, err := NewSampler(SamplerParams{})
	require.NoError(t, err)
	defer smpl.Free()
	batch, err := NewBatch(1, 1)
	require.NoError(t, err)
	defer batch.Free()

	var gen []Token
	for range 32 {
		tok, err := smpl.Sample(c, -1)
		require.NoError(t, err)
		if m.IsEOG(tok) {
			break
		}
		gen = append(gen, tok)
		batch.Clear()
		require.NoError(t, batch.Add(tok, c.NPast(), true))
		require.NoError(t, c.Decode(context.Background(), batch))
	}
	byHand := m.Detokenize(gen)
	assert.True(t, strings.HasPrefix(byHand, goldenPrefix), "got %q", byHand)

	// The same through Generate.
	c.ClearKV()
	assert.Zero(t, c.NPast())
	out, tm, err := c.Generate(context.Background(), goldenPrompt, GenerateOptions{MaxTokens: 32})
	require.NoError(t, err)
	assert.Equal(t, byHand, out)
	assert.Equal(t, len(toks)+32, c.NPast(), "the KV cache holds the prompt and all generated tokens")
	assert.Equal(t, 512, tm.NCtx)
	assert.False(t, tm.Quoka.Enabled)
}

func TestPrefillUBatchInvariance(t *testing.T) {
	m := loadStories(t)
	var want string
	for _, ub := range []int{16, 64, 512} {
		c := newTestContext(t, m, ContextParams{NCtx: 1024, NBatch: 512, NUBatch: ub})
		require.Equal(t, ub, c.Params().NUBatch)
		prompt := m.Detokenize(storyTokens(t, m, 600))
		var steps []int
		out, tm, err := c.Generate(context.Background(), prompt, GenerateOptions{
			MaxTokens:       24,
			PrefillProgress: func(done, total int) { steps = append(steps, done) },
		})
		require.NoError(t, err, "n_ubatch %d", ub)
		assert.Equal(t, ub, tm.NUBatch)
		assert.Len(t, steps, (tm.PromptTokens+511)/512, "one progress call per n_batch piece")
		if want == "" {
			want = out
			require.NotEmpty(t, want)
			continue
		}
		assert.Equal(t, want, out, "n_ubatch %d", ub)
	}
}

func TestTokenizeRoundTrip(t *testing.T) {
	m := loadStories(t)
	for _, text := range []string{
		"Once upon a time",
		"Lily and Ben went to the park. They saw a big, red ball!",
		"  two leading spaces, a tab\tand a newline\n",
		"unicode: héllo wörld 日本 🙂",
		"",
	} {
		t.Run(text, func(t *testing.T) {
			toks, err := m.Tokenize(text, false, false)
			require.NoError(t, err)
			assert.Equal(t, text, m.Detokenize(toks))

			withBOS, err := m.Tokenize(text, true, false)
			require.NoError(t, err)
			require.Equal(t, m.BOS(), withBOS[0])
			assert.Equal(t, toks, withBOS[1:])
			assert.Equal(t, text, m.Detokenize(withBOS), "BOS is dropped")

			var pieces strings.Builder
			for _, tok := range toks {
				pieces.WriteString(m.TokenToPiece(tok))
			}
			assert.Equal(t, text, strings.TrimPrefix(pieces.String(), " "), "pieces add up (SentencePiece adds a leading space)")
		})
	}
}

func TestModelMetadata(t *testing.T) {
	m := loadStories(t)
	assert.Equal(t, 5, m.NLayer())
	assert.Equal(t, 8, m.NHead())
	assert.Equal(t, 4, m.NHeadKV())
	assert.Equal(t, 64, m.NEmbd())
	assert.Equal(t, 512, m.VocabSize())
	assert.Equal(t, 2048, m.NCtxTrain())
	assert.Contains(t, m.Desc(), "llama")
	assert.Positive(t, m.NParams())
	assert.Empty(t, m.ChatTemplate())
}

func TestChatTemplate(t *testing.T) {
	m := loadStories(t)
	_, err := m.ApplyChatTemplate([]ChatMessage{{"user", "hi"}}, true)
	assert.ErrorIs(t, err, ErrNoChatTemplate)

	msgs := []ChatMessage{{"system", "Be brief."}, {"user", "hi"}, {"assistant", "Hello!"}, {"user", "bye"}}
	got, err := applyChatTemplate("chatml", msgs, true)
	require.NoError(t, err)
	assert.Equal(t, "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n"+
		"<|im_start|>assistant\nHello!<|im_end|>\n<|im_start|>user\nbye<|im_end|>\n<|im_start|>assistant\n", got)

	long := strings.Repeat("x", 10000) // more than the first buffer guess
	got, err = applyChatTemplate("chatml", []ChatMessage{{"user", long}}, false)
	require.NoError(t, err)
	assert.Contains(t, got, long)

	_, err = applyChatTemplate("{{ no template llama.cpp knows }}", msgs, true)
	assert.ErrorIs(t, err, ErrUnsupportedChatTemplate)
}

func TestPromptTooLong(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 256})
	require.Equal(t, 256, c.NCtx())
	prompt := m.Detokenize(storyTokens(t, m, 400))

	_, _, err := c.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 4})
	require.ErrorIs(t, err, ErrPromptTooLong)
	var tooLong *PromptTooLongError
	require.ErrorAs(t, err, &tooLong)
	assert.Greater(t, tooLong.Tokens, 256)
	assert.Equal(t, 256, tooLong.NCtx)
	assert.Zero(t, c.NPast(), "nothing was decoded")

	l, err := New(storiesPath(t), SetContext(256))
	require.NoError(t, err)
	defer l.Free()
	_, err = l.Predict(prompt)
	assert.ErrorIs(t, err, ErrPromptTooLong)
}

func TestContextFullEndsGeneration(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 256})
	prompt := m.Detokenize(storyTokens(t, m, 240)[1:])
	out, tm, err := c.Generate(context.Background(), prompt, GenerateOptions{})
	require.NoError(t, err)
	if tm.StopReason == StopEOG {
		t.Skip("the model ended its story before the context filled")
	}
	assert.Equal(t, StopContextFull, tm.StopReason)
	assert.Equal(t, 256, c.NPast())
	assert.NotEmpty(t, out)
}

func TestQuokaOptions(t *testing.T) {
	m := loadStories(t)
	q := DefaultQuokaOptions()
	assert.False(t, q.Enabled)
	assert.Equal(t, 16, q.Queries)
	assert.Equal(t, "off", q.String())

	q.Enabled = true
	_, err := NewContext(m, ContextParams{Quoka: q, FlashAttn: FlashAttnOff})
	assert.ErrorIs(t, err, ErrQuokaUnavailable, "QUOKA needs flash attention")
	c, err := NewContext(m, ContextParams{Quoka: q, FlashAttn: FlashAttnOn})
	require.NoError(t, err)
	assert.Equal(t, q, c.Params().Quoka)
	c.Free()
	l, err := New(storiesPath(t), EnableQuoka(QuokaOptions{Budget: 256}))
	require.NoError(t, err)
	l.Free()

	for _, bad := range []QuokaOptions{
		{Enabled: true},                      // no budget at all
		{Enabled: true, Budget: -1},          // negative budget
		{Enabled: true, BudgetFraction: 1.5}, // fraction out of range
		{Enabled: true, Budget: 8, Queries: -2},
	} {
		assert.Error(t, bad.Validate(), "%+v", bad)
		assert.NotErrorIs(t, bad.Validate(), ErrQuokaUnavailable)
	}
	assert.Equal(t, "B_SA=256 N_Q=16 min_kv=0", QuokaOptions{Enabled: true, Budget: 256}.String())
	assert.Equal(t, "B_SA=12.5% N_Q=8 min_kv=64", QuokaOptions{Enabled: true, BudgetFraction: 0.125, Queries: 8, MinKV: 64}.String())
}

func TestFlashAttnModes(t *testing.T) {
	m := loadStories(t)
	for _, s := range []string{"auto", "on", "off"} {
		fa, err := ParseFlashAttn(s)
		require.NoError(t, err)
		assert.Equal(t, s, fa.String())
		c := newTestContext(t, m, ContextParams{NCtx: 256, FlashAttn: fa})
		out, _, err := c.Generate(context.Background(), goldenPrompt, GenerateOptions{MaxTokens: 16})
		require.NoError(t, err, s)
		assert.True(t, strings.HasPrefix(goldenPrefix, out) || strings.HasPrefix(out, goldenPrefix), "%s: %q", s, out)
	}
	_, err := ParseFlashAttn("sometimes")
	assert.Error(t, err)
}

func TestSamplerParams(t *testing.T) {
	for _, bad := range []SamplerParams{{TopK: -1}, {TopP: 1.5}, {MinP: -0.1}} {
		_, err := NewSampler(bad)
		assert.Error(t, err, "%+v", bad)
	}
	assert.True(t, SamplerParams{}.Greedy())
	assert.False(t, DefaultSamplerParams().Greedy())
}

func TestDecodeMisuse(t *testing.T) {
	m := loadStories(t)
	c := newTestContext(t, m, ContextParams{NCtx: 256, NBatch: 32})
	ctx := context.Background()

	smpl, err := NewSampler(SamplerParams{})
	require.NoError(t, err)
	defer smpl.Free()
	_, err = smpl.Sample(c, -1)
	assert.Error(t, err, "nothing decoded yet")

	big, err := NewBatch(64, 1)
	require.NoError(t, err)
	defer big.Free()
	for i := range 33 {
		require.NoError(t, big.Add(1, i, false))
	}
	assert.Error(t, c.Decode(ctx, big), "more tokens than n_batch")

	empty, err := NewBatch(1, 1)
	require.NoError(t, err)
	defer empty.Free()
	assert.Error(t, c.Decode(ctx, empty), "empty batch")
	require.NoError(t, empty.Add(Token(m.VocabSize()+7), 0, true))
	assert.Error(t, c.Decode(ctx, empty), "token id out of range")
	assert.Error(t, empty.Add(1, 1, true), "batch full")

	assert.Error(t, c.Prefill(ctx, nil, nil), "empty prompt")
	// The context still works.
	out, _, err := c.Generate(ctx, goldenPrompt, GenerateOptions{MaxTokens: 8})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(goldenPrefix, out), "got %q", out)
}

func TestFreeIsIdempotent(t *testing.T) {
	m, err := LoadModel(storiesPath(t), ModelParams{})
	require.NoError(t, err)
	c, err := NewContext(m, ContextParams{NCtx: 256, Threads: 1})
	require.NoError(t, err)

	// The context keeps the weights alive after the model is freed.
	m.Free()
	m.Free()
	assert.Zero(t, m.NLayer())
	out, _, err := c.Generate(context.Background(), goldenPrompt, GenerateOptions{MaxTokens: 8})
	require.NoError(t, err)
	assert.NotEmpty(t, out)
	_, err = NewContext(m, ContextParams{})
	assert.ErrorIs(t, err, ErrClosed)

	c.Free()
	c.Free()
	_, _, err = c.Generate(context.Background(), goldenPrompt, GenerateOptions{})
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, c.Prefill(context.Background(), []Token{1}, nil), ErrClosed)
	_, err = c.Tokenize("x", true, false)
	assert.ErrorIs(t, err, ErrClosed)
	assert.Nil(t, c.Logits(-1))
	c.ClearKV()
	assert.False(t, c.QuokaActive())
	assert.Nil(t, c.QuokaLayers())
	assert.Zero(t, c.QuokaUbatches())

	l, err := New(storiesPath(t))
	require.NoError(t, err)
	l.Free()
	l.Free()
	_, err = l.Predict("x")
	assert.ErrorIs(t, err, ErrClosed)
}

func TestLoadProgress(t *testing.T) {
	var seen []float32
	m, err := LoadModel(storiesPath(t), ModelParams{Progress: func(p float32) bool {
		seen = append(seen, p)
		return true
	}})
	require.NoError(t, err)
	m.Free()
	require.NotEmpty(t, seen)
	assert.InDelta(t, 1.0, seen[len(seen)-1], 1e-6)

	_, err = LoadModel(storiesPath(t), ModelParams{Progress: func(float32) bool { return false }})
	assert.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, ErrTruncated))
}
