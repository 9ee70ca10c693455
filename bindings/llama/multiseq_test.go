package llama

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/models"
)

// TestSequencesTogetherMatchAlone: dense attention, no QUOKA. Sequences prefilled in the same
// ubatches give the logits each gives alone, on a model with only attention layers and on a
// hybrid one, whose recurrent layers see the ubatch as [n_embd, n_seq_tokens, n_seqs] (a batched
// matrix multiplication: on AMX CPUs ggml's AMX kernel misaddressed every batch after the first,
// fixed by ggml-patch 0035). The QUOKA multi-sequence tests rest on this.
func TestSequencesTogetherMatchAlone(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *Model
	}{
		{"stories260K", loadStories(t)},
		{"lfm2 hybrid", synthHybrid(t)},
		// the AMX kernels for quantized weights (F16 weights take their own AMX path)
		{"lfm2 hybrid, Q8_0 weights", synthModel(t, models.ArchLFM2, func(p *models.Preset) {
			p.AttnPattern, p.Type = 2, models.TypeQ8_0
		})},
	} {
		all := storyTokens(t, tc.m, 3*msLen)
		for _, S := range []int{2, 3} {
			t.Run(fmt.Sprintf("%s, %d sequences", tc.name, S), func(t *testing.T) {
				together := prefillDense(t, tc.m, all, S)
				for s := 0; s < S; s++ {
					alone := prefillDense(t, tc.m, all[s*msLen:], 1)
					require.Len(t, together[s], len(alone[0]))
					for i := range alone[0] {
						require.InDelta(t, alone[0][i], together[s][i], 1e-4, "sequence %d logit %d", s, i)
					}
				}
			})
		}
	}
}

// prefillDense prefills the first msLen tokens of S sequences, sequence s reading
// toks[s*msLen:], msChunk tokens of each per ubatch in a unified cache, and returns each one's
// logits after its last token.
func prefillDense(t *testing.T, m *Model, toks []Token, S int) [][]float32 {
	c := newTestContext(t, m, ContextParams{NCtx: 1024 * S, NBatch: S * msChunk, NUBatch: S * msChunk, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: CacheF32, Sequences: S, KVUnified: true})
	b, err := NewBatch(S*msChunk, 1)
	require.NoError(t, err)
	defer b.Free()
	for k := 0; k*msChunk < msLen; k++ {
		b.Clear()
		for s := 0; s < S; s++ {
			for i := 0; i < msChunk; i++ {
				p := k*msChunk + i
				require.NoError(t, b.Add(toks[s*msLen+p], p, p == msLen-1, s))
			}
		}
		require.NoError(t, c.Decode(context.Background(), b))
	}
	out := make([][]float32, S)
	for s := range out {
		out[s] = append([]float32(nil), c.Logits(s)...)
	}
	return out
}
