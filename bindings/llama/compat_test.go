package llama

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newStories loads stories260K through the go-llama.cpp-style API.
func newStories(t *testing.T, opts ...ModelOption) *LLama {
	t.Helper()
	l, err := New(storiesPath(t), append([]ModelOption{SetModelThreads(1)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(l.Free)
	return l
}

func greedy(n int) []PredictOption {
	return []PredictOption{SetTemperature(0), SetTokens(n)}
}

// TestCompatNoOpOptions checks that the options documented as no-ops leave
// the output unchanged, for a greedy and a seeded sampled prediction.
func TestCompatNoOpOptions(t *testing.T) {
	l := newStories(t)
	sampled := []PredictOption{SetTemperature(0.8), SetSeed(7), SetTokens(24)}
	baseGreedy, err := l.Predict(goldenPrompt, greedy(24)...)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(baseGreedy, goldenPrefix[:20]), "got %q", baseGreedy)
	baseSampled, err := l.Predict(goldenPrompt, sampled...)
	require.NoError(t, err)

	for _, tc := range []struct {
		name string
		opt  PredictOption
	}{
		{"EnableF16KV", EnableF16KV},
		{"SetNKeep", SetNKeep(3)},
		{"SetBatch", SetBatch(7)},
		{"SetTailFreeSamplingZ", SetTailFreeSamplingZ(0.5)},
		{"SetPenalizeNL", SetPenalizeNL(true)},
		{"SetNegativePrompt", SetNegativePrompt("The end.")},
		{"SetNegativePromptScale", SetNegativePromptScale(2)},
		{"SetMlock", SetMlock(true)},
		{"SetMemoryMap", SetMemoryMap(false)},
		{"SetPredictionMainGPU", SetPredictionMainGPU("1")},
		{"SetPredictionTensorSplit", SetPredictionTensorSplit("1,1")},
		{"SetNDraft outside SpeculativeSampling", SetNDraft(4)},
		{"SetRopeFreqBase of the model's value", SetRopeFreqBase(10000)},
		{"SetRopeFreqScale of the model's value", SetRopeFreqScale(1)},
		{"SetPenalty 1", SetPenalty(1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := l.Predict(goldenPrompt, append(greedy(24), tc.opt)...)
			require.NoError(t, err)
			assert.Equal(t, baseGreedy, got, "greedy")
			got, err = l.Predict(goldenPrompt, append(sampled, tc.opt)...)
			require.NoError(t, err)
			assert.Equal(t, baseSampled, got, "sampled, seed 7")
		})
	}

	for _, tc := range []struct {
		name string
		opt  ModelOption
	}{
		{"EnabelLowVRAM", EnabelLowVRAM},
		{"SetMulMatQ", SetMulMatQ(false)},
		{"SetPerplexity", SetPerplexity(true)},
		{"SetLoraBase", SetLoraBase("/nonexistent/base.gguf")},
		{"EnableNUMA (one node here)", EnableNUMA},
		{"SetMainGPU (no GPU backend)", SetMainGPU("0")},
		{"SetTensorSplit (no GPU backend)", SetTensorSplit("1")},
		{"EnableEmbeddings", EnableEmbeddings},
		{"SetModelSeed 0", SetModelSeed(0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := newStories(t, tc.opt)
			got, err := m.Predict(goldenPrompt, greedy(24)...)
			require.NoError(t, err)
			assert.Equal(t, baseGreedy, got, "greedy")
			got, err = m.Predict(goldenPrompt, sampled...)
			require.NoError(t, err)
			assert.Equal(t, baseSampled, got, "sampled, seed 7")
		})
	}
}

// TestCompatSamplingOptions checks the options that change sampling do.
func TestCompatSamplingOptions(t *testing.T) {
	l := newStories(t)
	base, err := l.Predict(goldenPrompt, greedy(48)...)
	require.NoError(t, err)
	_, baseToks, err := l.TokenizeString(goldenPrompt + base)
	require.NoError(t, err)
	_, promptToks, err := l.TokenizeString(goldenPrompt)
	require.NoError(t, err)
	first := baseToks[len(promptToks)] // the first generated token (",")

	for _, tc := range []struct {
		name  string
		opts  []PredictOption
		check func(t *testing.T, out string)
	}{
		{"repeat penalty", []PredictOption{SetPenalty(1.5)}, nil},
		{"frequency penalty", []PredictOption{SetFrequencyPenalty(1)}, nil},
		{"presence penalty", []PredictOption{SetPresencePenalty(1)}, nil},
		{"logit bias bans the first token", []PredictOption{SetLogitBias(itoa(first) + "-inf")},
			func(t *testing.T, out string) {
				assert.False(t, strings.HasPrefix(out, ","), "got %q", out)
			}},
		{"logit bias forces a token", []PredictOption{SetLogitBias(itoa(baseToks[1]) + "+100")},
			func(t *testing.T, out string) {
				piece := l.Model().TokenToPiece(Token(baseToks[1]))
				assert.True(t, strings.HasPrefix(out, strings.TrimPrefix(piece, " ")) || strings.HasPrefix(out, piece), "got %q, want it to start with %q", out, piece)
			}},
		{"grammar", []PredictOption{WithGrammar(`root ::= (" yes" | " no")+ "."`)},
			func(t *testing.T, out string) {
				assert.Regexp(t, regexp.MustCompile(`^( yes| no)+\.?$`), out)
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := l.Predict(goldenPrompt, append(greedy(48), tc.opts...)...)
			require.NoError(t, err)
			assert.NotEqual(t, base, out, "the option changes the greedy output")
			if tc.check != nil {
				tc.check(t, out)
			}
			again, err := l.Predict(goldenPrompt, append(greedy(48), tc.opts...)...)
			require.NoError(t, err)
			assert.Equal(t, out, again, "deterministic")
		})
	}

	t.Run("mirostat", func(t *testing.T) {
		plain, err := l.Predict(goldenPrompt, SetTemperature(0.8), SetSeed(3), SetTokens(48))
		require.NoError(t, err)
		for _, m := range []int{1, 2} {
			a, err := l.Predict(goldenPrompt, SetTemperature(0.8), SetSeed(3), SetTokens(48), SetMirostat(m), SetMirostatTAU(3))
			require.NoError(t, err)
			b, err := l.Predict(goldenPrompt, SetTemperature(0.8), SetSeed(3), SetTokens(48), SetMirostat(m), SetMirostatTAU(3))
			require.NoError(t, err)
			assert.Equal(t, a, b, "mirostat %d with a seed repeats", m)
			assert.NotEqual(t, plain, a, "mirostat %d differs from top-k/top-p sampling", m)
		}
	})

	t.Run("invalid", func(t *testing.T) {
		for _, opt := range []PredictOption{
			WithGrammar("root ::= ("), SetLogitBias("x+1"), SetLogitBias("99999+1"),
			SetPenalty(0), SetMirostat(3),
		} {
			_, err := l.Predict(goldenPrompt, append(greedy(4), opt)...)
			assert.Error(t, err)
		}
	})
}

func itoa(t int32) string { return strconv.Itoa(int(t)) }

// TestCompatIgnoreEOS: with EOS made the likeliest token the prediction
// ends at once; IgnoreEOS bans it, giving the plain greedy output.
func TestCompatIgnoreEOS(t *testing.T) {
	l := newStories(t)
	base, err := l.Predict(goldenPrompt, greedy(24)...)
	require.NoError(t, err)
	eos := SetLogitBias(strconv.Itoa(int(l.Model().EOS())) + "+100")

	out, err := l.Predict(goldenPrompt, append(greedy(24), eos)...)
	require.NoError(t, err)
	assert.Empty(t, out)
	assert.Equal(t, StopEOG, l.Timings().StopReason)

	out, err = l.Predict(goldenPrompt, append(greedy(24), eos, IgnoreEOS)...)
	require.NoError(t, err)
	assert.Equal(t, base, out)
	assert.Equal(t, StopMaxTokens, l.Timings().StopReason)
	assert.Equal(t, 24, l.Timings().GeneratedTokens)
}

// TestCompatSeedAndRope: SetModelSeed seeds unseeded predictions; RoPE
// options change the output, the Predict and model forms agree.
func TestCompatSeedAndRope(t *testing.T) {
	a := newStories(t, SetModelSeed(11))
	b := newStories(t, SetModelSeed(11))
	sa, err := a.Predict(goldenPrompt, SetTokens(32))
	require.NoError(t, err)
	sb, err := b.Predict(goldenPrompt, SetTokens(32))
	require.NoError(t, err)
	assert.Equal(t, sa, sb, "same model seed, same sampled output")
	s11, err := a.Predict(goldenPrompt, SetTokens(32), SetSeed(11))
	require.NoError(t, err)
	assert.Equal(t, sa, s11, "the model seed is the prediction's seed")

	l := newStories(t)
	base, err := l.Predict(goldenPrompt, greedy(32)...)
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		model ModelOption
		pred  PredictOption
	}{
		{"base", WithRopeFreqBase(500), SetRopeFreqBase(500)},
		{"scale", WithRopeFreqScale(0.25), SetRopeFreqScale(0.25)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			viaPredict, err := l.Predict(goldenPrompt, append(greedy(32), tc.pred)...)
			require.NoError(t, err)
			assert.NotEqual(t, base, viaPredict)
			m := newStories(t, tc.model)
			viaModel, err := m.Predict(goldenPrompt, greedy(32)...)
			require.NoError(t, err)
			assert.Equal(t, viaPredict, viaModel)
			back, err := l.Predict(goldenPrompt, greedy(32)...)
			require.NoError(t, err)
			assert.Equal(t, base, back, "the next call without the option uses the model's RoPE again")
		})
	}
}

// TestCompatDebug: Debug prints the prompt tokens, the chain and timings.
func TestCompatDebug(t *testing.T) {
	l := newStories(t)
	var buf bytes.Buffer
	DebugWriter = &buf
	t.Cleanup(func() { DebugWriter = os.Stderr })
	quiet, err := l.Predict(goldenPrompt, greedy(8)...)
	require.NoError(t, err)
	assert.Zero(t, buf.Len(), "nothing printed without Debug")
	out, err := l.Predict(goldenPrompt, append(greedy(8), Debug)...)
	require.NoError(t, err)
	assert.Equal(t, quiet, out)
	_, toks, err := l.TokenizeString(goldenPrompt)
	require.NoError(t, err)
	s := buf.String()
	assert.Contains(t, s, "prompt: 5 tokens")
	for _, tok := range toks {
		assert.Contains(t, s, strconv.Itoa(int(tok))+" -> ")
	}
	assert.Contains(t, s, "sampler chain: greedy")
	assert.Contains(t, s, "generated 8 tokens")
}

// TestCompatEmbeddings checks Embeddings and TokenEmbeddings.
func TestCompatEmbeddings(t *testing.T) {
	plain := newStories(t)
	_, err := plain.Embeddings("hello")
	require.ErrorIs(t, err, ErrEmbeddingsDisabled)

	l := newStories(t, EnableEmbeddings)
	e, err := l.Embeddings(goldenPrompt)
	require.NoError(t, err)
	require.Len(t, e, l.Model().NEmbd())
	assert.InDelta(t, 1, norm2(e), 1e-5, "unit length")

	_, toks, err := l.TokenizeString(goldenPrompt)
	require.NoError(t, err)
	ints := make([]int, len(toks))
	for i, tok := range toks {
		ints[i] = int(tok)
	}
	te, err := l.TokenEmbeddings(ints)
	require.NoError(t, err)
	assert.Equal(t, e, te, "TokenEmbeddings of the same tokens")

	raw, err := l.Embeddings(goldenPrompt, SetEmbeddingNorm(-1))
	require.NoError(t, err)
	n := norm2(raw)
	require.Greater(t, n, 0.0)
	for i := range raw {
		assert.InDelta(t, float64(raw[i])/n, e[i], 1e-6)
	}

	other, err := l.Embeddings("The dog ran to the park.")
	require.NoError(t, err)
	assert.NotEqual(t, e, other)

	// Embeddings do not disturb generation on the same model.
	out, err := l.Predict(goldenPrompt, greedy(24)...)
	require.NoError(t, err)
	base, err := plain.Predict(goldenPrompt, greedy(24)...)
	require.NoError(t, err)
	assert.Equal(t, base, out)
	again, err := l.Embeddings(goldenPrompt)
	require.NoError(t, err)
	assert.Equal(t, e, again, "the same after a prediction")

	mean := newStories(t, EnableEmbeddings, SetEmbeddingPooling(PoolingMean))
	me, err := mean.Embeddings(goldenPrompt)
	require.NoError(t, err)
	assert.NotEqual(t, e, me, "mean pooling differs from the last token's")
	assert.InDelta(t, 1, norm2(me), 1e-5)

	_, err = l.TokenEmbeddings([]int{1, 100000})
	assert.Error(t, err)
}

func norm2(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

// TestCompatState: SaveState/LoadState carry the KV cache to another LLama,
// and a prompt that extends the saved tokens reuses them.
func TestCompatState(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "state.bin")
	l := newStories(t)
	want, err := l.Predict(goldenPrompt+", there was a little", greedy(24)...)
	require.NoError(t, err)
	wantPrompt := l.Timings().PromptTokens

	require.NoError(t, l.Eval(goldenPrompt))
	require.NoError(t, l.SaveState(file))

	m := newStories(t)
	require.NoError(t, m.LoadState(file))
	got, err := m.Predict(goldenPrompt+", there was a little", greedy(24)...)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, saved, err := l.TokenizeString(goldenPrompt)
	require.NoError(t, err)
	assert.Equal(t, wantPrompt-len(saved), m.Timings().PromptTokens, "the saved tokens are not recomputed")

	// Without LoadState nothing is reused.
	got, err = m.Predict(goldenPrompt+", there was a little", greedy(24)...)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, wantPrompt, m.Timings().PromptTokens)

	// A state saved after a prediction holds its KV cache (not its logits):
	// decoding its last token again continues that prediction.
	full, err := l.Predict(goldenPrompt, greedy(12)...)
	require.NoError(t, err)
	require.NoError(t, l.SaveState(file))
	longer, err := l.Predict(goldenPrompt, greedy(20)...)
	require.NoError(t, err)
	require.NoError(t, m.LoadState(file))
	require.Len(t, m.past, len(saved)+12)
	assert.Equal(t, len(m.past), m.Session().NPast())
	assert.Nil(t, m.Session().Logits(-1), "no logits come with a state")
	last := len(m.past) - 1
	require.NoError(t, m.Session().TruncateKV(last))
	cont, _, err := m.Session().GenerateTokens(context.Background(), m.past[last:], GenerateOptions{MaxTokens: 8})
	require.NoError(t, err)
	assert.Equal(t, longer, full+cont)

	assert.Error(t, m.LoadState(filepath.Join(dir, "missing.bin")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.bin"), []byte("not a session"), 0o600))
	assert.Error(t, m.LoadState(filepath.Join(dir, "junk.bin")))
	got, err = m.Predict(goldenPrompt, greedy(12)...)
	require.NoError(t, err, "usable after a failed load")
	assert.Equal(t, full, got)
}

// TestCompatPromptCache: SetPathPromptCache saves the prompt and reuses it.
func TestCompatPromptCache(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cache.bin")
	l := newStories(t)
	want, err := l.Predict(goldenPrompt, greedy(16)...)
	require.NoError(t, err)

	ro, err := l.Predict(goldenPrompt, append(greedy(16), SetPathPromptCache(file), EnablePromptCacheRO)...)
	require.NoError(t, err)
	assert.Equal(t, want, ro)
	assert.NoFileExists(t, file, "read-only cache is not written")

	got, err := l.Predict(goldenPrompt, append(greedy(16), SetPathPromptCache(file))...)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, 5, l.Timings().PromptTokens, "first use computes the whole prompt")
	require.FileExists(t, file)

	m := newStories(t)
	got, err = m.Predict(goldenPrompt, append(greedy(16), SetPathPromptCache(file))...)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, 1, m.Timings().PromptTokens, "all but the last prompt token come from the cache")
}

// TestCompatSpeculative: greedy speculative sampling gives the target's
// greedy output, with the drafts accepted when the draft is the target's
// twin, and with a different draft model of the same vocabulary.
func TestCompatSpeculative(t *testing.T) {
	target := newStories(t)
	want, err := target.Predict(goldenPrompt, greedy(64)...)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(want, goldenPrefix))

	passkey, err := New(sharedPath(t, "models/passkey-llama-3L256d-f32.gguf"), SetModelThreads(1))
	require.NoError(t, err)
	t.Cleanup(passkey.Free)

	for _, tc := range []struct {
		name     string
		draft    *LLama
		nDraft   int
		accepted func(t *testing.T, s SpeculationStats)
	}{
		{"twin draft", newStories(t), 8, func(t *testing.T, s SpeculationStats) {
			assert.Equal(t, s.Drafted, s.Accepted, "a twin's drafts are all accepted")
			assert.Less(t, s.Steps, 64/2, "several tokens per target decode")
		}},
		{"other model draft", passkey, 4, func(t *testing.T, s SpeculationStats) {
			assert.Less(t, s.Accepted, s.Drafted, "a different model's drafts are not all accepted")
		}},
		{"default n draft", newStories(t), 0, func(t *testing.T, s SpeculationStats) {
			assert.Equal(t, s.Drafted, s.Accepted)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var streamed strings.Builder
			got, err := target.SpeculativeSampling(tc.draft, goldenPrompt, append(greedy(64), SetNDraft(tc.nDraft),
				SetTokenCallback(func(s string) bool { streamed.WriteString(s); return true }))...)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			assert.Equal(t, got, streamed.String())
			assert.Equal(t, 64, target.Timings().GeneratedTokens)
			s := target.LastSpeculation()
			assert.Positive(t, s.Drafted)
			tc.accepted(t, s)
		})
	}

	t.Run("stop word", func(t *testing.T) {
		got, err := target.SpeculativeSampling(newStories(t), goldenPrompt, append(greedy(64), SetStopWords("Lily"))...)
		require.NoError(t, err)
		assert.Equal(t, ", there was a little girl named ", got)
	})
	t.Run("self is rejected", func(t *testing.T) {
		_, err := target.SpeculativeSampling(target, goldenPrompt)
		assert.Error(t, err)
	})
}
