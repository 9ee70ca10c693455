package llama

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadPasskey(t *testing.T) *Model {
	t.Helper()
	m, err := LoadModel(sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf"), ModelParams{})
	require.NoError(t, err)
	t.Cleanup(m.Free)
	return m
}

// TestQuokaEveryCacheType: every KV cache type llama.cpp accepts runs QUOKA (sparse ubatches
// counted) with finite logits whose top token agrees with dense attention on the same cache type
// most of the time; mixed K/V types too.
func TestQuokaEveryCacheType(t *testing.T) {
	m := loadPasskey(t) // head_dim 64: every block size divides it
	toks := storyTokens(t, m, 1100)
	type kv struct{ k, v CacheType }
	cases := []kv{}
	for _, ct := range CacheTypes {
		cases = append(cases, kv{ct, ct})
	}
	cases = append(cases, kv{CacheQ8_0, CacheF16}, kv{CacheF16, CacheQ4_0}, kv{CacheQ4_0, CacheQ8_0})
	for _, tc := range cases {
		t.Run(fmt.Sprintf("k %s v %s", tc.k, tc.v), func(t *testing.T) {
			run := func(q QuokaOptions) ([]float32, int) {
				c := newTestContext(t, m, ContextParams{NCtx: 1280, NBatch: 1280, NUBatch: 128, Threads: 2,
					FlashAttn: FlashAttnOn, CacheType: tc.k, CacheTypeV: tc.v, Quoka: q})
				b, err := NewBatch(len(toks), 1)
				require.NoError(t, err)
				defer b.Free()
				for p, tok := range toks {
					require.NoError(t, b.Add(tok, p, p >= len(toks)-64))
				}
				require.NoError(t, c.Decode(context.Background(), b))
				var out []float32
				for i := 0; i < 64; i++ {
					out = append(out, c.Logits(i)...)
				}
				return out, c.QuokaUbatches()
			}
			dense, nd := run(QuokaOptions{})
			sparse, ns := run(QuokaOptions{Enabled: true, Budget: 256, Queries: 16})
			assert.Zero(t, nd)
			assert.Equal(t, (len(toks)+127)/128-3, ns, "chunks whose past exceeds B_SA 256 (from position 384) are sparse")
			nv := m.VocabSize()
			agree := 0
			for i := 0; i < 64; i++ {
				row := sparse[i*nv : (i+1)*nv]
				for _, v := range row {
					require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0), "finite logits")
				}
				if argmax(row) == argmax(dense[i*nv:(i+1)*nv]) {
					agree++
				}
			}
			t.Logf("top-1 agreement with dense over the last 64 positions: %d/64", agree)
			assert.GreaterOrEqual(t, agree, 48)
		})
	}
}

// TestQuokaRefusedCacheTypeIsAnError: a configuration stock llama.cpp refuses (a K cache type
// whose blocks do not divide the head: stories260K has head_dim 8) is the same clear error with
// QUOKA, never an abort.
func TestQuokaRefusedCacheTypeIsAnError(t *testing.T) {
	m := loadStories(t)
	for _, q := range []QuokaOptions{{}, {Enabled: true, Budget: 64}} {
		_, err := NewContext(m, ContextParams{NCtx: 512, FlashAttn: FlashAttnOn, CacheType: CacheQ4_0, Quoka: q})
		require.Error(t, err, "%s", q)
		assert.Contains(t, err.Error(), "does not divide")
	}
}
