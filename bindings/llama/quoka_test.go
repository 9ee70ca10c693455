package llama

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/sharedtest"
	"github.com/quoka-llm/quoka/models"
)

// quokaReference is ../shared/data/quoka-reference-l0-c8.json: an independent
// implementation's QUOKA selection for stories260K, window 0 of
// tinystories-kld.txt, chunk 128, B_SA 256, N_Q 16, layer 0, chunk 8.
type quokaReference struct {
	Config struct {
		BCP int `json:"bcp"`
		BSA int `json:"bsa"`
		NQ  int `json:"nq"`
	} `json:"config"`
	ChunkIndex     int       `json:"chunk_index"`
	ChunkPositions []int     `json:"chunk_positions"`
	NHeadKV        int       `json:"n_head_kv"`
	Selected       [][]int   `json:"selected"`
	Margin         []float64 `json:"margin_at_budget"`
	TokenIDs       []int     `json:"token_ids"`
}

func loadQuokaReference(t *testing.T) quokaReference {
	t.Helper()
	data, err := os.ReadFile(sharedPath(t, "data/quoka-reference-l0-c8.json"))
	require.NoError(t, err)
	var ref quokaReference
	require.NoError(t, json.Unmarshal(data, &ref))
	require.Len(t, ref.Selected, ref.NHeadKV)
	return ref
}

// selectionAtChunk prefills the reference tokens chunk by chunk with QUOKA on and returns layer 0's
// selection (past cells per KV head) for the reference chunk.
func selectionAtChunk(t *testing.T, m *Model, ref quokaReference, cache CacheType) [][]int {
	t.Helper()
	c := newTestContext(t, m, ContextParams{
		NCtx: len(ref.TokenIDs), NBatch: ref.Config.BCP, NUBatch: ref.Config.BCP, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: cache,
		Quoka:   QuokaOptions{Enabled: true, Budget: ref.Config.BSA, Queries: ref.Config.NQ},
		Capture: []string{"quoka_sel-0"},
	})
	toks := make([]Token, len(ref.TokenIDs))
	for i, id := range ref.TokenIDs {
		toks[i] = Token(id)
	}
	b, err := NewBatch(ref.Config.BCP, 1)
	require.NoError(t, err)
	defer b.Free()
	end := ref.ChunkPositions[1]
	var sel [][]int
	for start := 0; start < end; start += ref.Config.BCP {
		b.Clear()
		for p := start; p < start+ref.Config.BCP; p++ {
			require.NoError(t, b.Add(toks[p], p, false))
		}
		require.NoError(t, c.Decode(context.Background(), b))
		got := c.Captured()
		// QUOKA engages once the past (start) exceeds B_SA
		if start <= ref.Config.BSA {
			assert.Empty(t, got, "chunk at %d should be dense", start)
			continue
		}
		require.Len(t, got, 1, "chunk at %d", start)
		if start != ref.ChunkPositions[0] {
			continue
		}
		sel = nil
		cells := got[0].Int32s()
		nSel := got[0].Shape[0]
		require.Equal(t, ref.NHeadKV, got[0].Shape[1])
		require.Equal(t, ref.Config.BSA+ref.Config.BCP, nSel)
		for h := 0; h < ref.NHeadKV; h++ {
			row := cells[h*nSel : h*nSel+ref.Config.BSA]
			past := make([]int, len(row))
			for i, v := range row {
				past[i] = int(v) // a fresh single-sequence cache: cell == position
			}
			own := cells[h*nSel+ref.Config.BSA : (h+1)*nSel]
			for i, v := range own {
				require.Equal(t, start+i, int(v), "own cells of the chunk")
			}
			sel = append(sel, past)
		}
	}
	require.NotNil(t, sel, "no selection captured for the reference chunk")
	return sel
}

func overlap(a, b []int) int {
	set := map[int]bool{}
	for _, v := range a {
		set[v] = true
	}
	n := 0
	for _, v := range b {
		if set[v] {
			n++
		}
	}
	return n
}

func TestQuokaSelectionMatchesReference(t *testing.T) {
	ref := loadQuokaReference(t)
	m := loadStories(t)

	t.Run("f32 cache: identical", func(t *testing.T) {
		sel := selectionAtChunk(t, m, ref, CacheF32)
		for h := range sel {
			assert.True(t, sort.IntsAreSorted(sel[h]))
			assert.Equal(t, ref.Selected[h], sel[h], "KV head %d (margin at the cut %.2g)", h, ref.Margin[h])
		}
	})
	t.Run("f16 cache: 99.9% identical", func(t *testing.T) {
		sel := selectionAtChunk(t, m, ref, CacheF16)
		same, total := 0, 0
		for h := range sel {
			same += overlap(ref.Selected[h], sel[h])
			total += len(ref.Selected[h])
		}
		assert.GreaterOrEqual(t, float64(same)/float64(total), 0.999, "%d of %d indices identical", same, total)
	})
}

// greedyText prefills tokens in ubatches of ub with the given QUOKA options and generates n tokens;
// it also returns the number of sparse (QUOKA) prefill ubatches.
func greedyText(t *testing.T, m *Model, toks []Token, ub int, q QuokaOptions, n int) (string, int) {
	t.Helper()
	c := newTestContext(t, m, ContextParams{NCtx: 2048, NBatch: 2048, NUBatch: ub, Threads: 2,
		FlashAttn: FlashAttnOn, Quoka: q})
	out, tm, err := c.GenerateTokens(context.Background(), toks, GenerateOptions{MaxTokens: n, Sampler: SamplerParams{}})
	require.NoError(t, err)
	return out, tm.QuokaUbatches
}

// TestQuokaFullBudgetEqualsDense: with B_SA covering the whole past and Force, every chunk runs the
// selection, the gather and the compacted mask, which must give dense attention's text.
func TestQuokaFullBudgetEqualsDense(t *testing.T) {
	m := loadStories(t)
	toks := storyTokens(t, m, 1500)
	dense, n := greedyText(t, m, toks, 128, QuokaOptions{}, 24)
	require.Zero(t, n)
	chunks := (len(toks) + 127) / 128
	for _, q := range []QuokaOptions{
		{Enabled: true, Budget: 2048, Force: true},
		{Enabled: true, BudgetFraction: 1, Force: true},
	} {
		got, n := greedyText(t, m, toks, 128, q, 24)
		assert.Equal(t, chunks-1, n, "%s: every chunk after the first runs the sparse path", q)
		assert.Equal(t, dense, got, "%s", q)
	}
	// without Force the gating keeps such a budget dense: no sparse ubatch at all
	_, n = greedyText(t, m, toks, 128, QuokaOptions{Enabled: true, Budget: 2048}, 4)
	assert.Zero(t, n)
}

// TestQuokaForcedGatherMatchesDenseLogits: the same with an F32 cache, logit by logit, on
// stories260K, on a synthesized gemma3 model with an iSWA cache (QUOKA in its full-attention
// layers), whose sliding-window cache holds the whole context or only the window: then its cells
// differ from the full-attention cache's, and only the latter's mask and cells give dense logits,
// and on a synthesized hybrid model (QUOKA in its attention layers).
func TestQuokaForcedGatherMatchesDenseLogits(t *testing.T) {
	g := synthGemma3(t)
	for _, tc := range []struct {
		name      string
		m         *Model
		swaWindow bool
		layers    []int
	}{
		{"stories260K", loadStories(t), false, []int{0, 1, 2, 3, 4}},
		{"gemma3 iSWA, full SWA cache", g, false, []int{1, 3}},
		{"gemma3 iSWA, window-only SWA cache", g, true, []int{1, 3}},
		{"lfm2 hybrid", synthHybrid(t), false, []int{1, 3}},
		{"gpt-oss attention sinks", synthGPTOSS(t), true, []int{1, 3}},
		{"refact ALiBi", synthALiBi(t), false, []int{0, 1, 2, 3}},
		{"deepseek2 MLA", synthMLA(t), false, []int{0, 1, 2, 3}},
		{"llama, Q8_0 weights", synthModel(t, models.ArchLlama, func(p *models.Preset) { p.Type = models.TypeQ8_0 }),
			false, []int{0, 1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := tc.m
			toks := storyTokens(t, m, 700)
			logits := func(q QuokaOptions) ([]float32, int) {
				c := newTestContext(t, m, ContextParams{NCtx: 1024, NBatch: 1024, NUBatch: 128, Threads: 2,
					FlashAttn: FlashAttnOn, CacheType: CacheF32, SWAWindow: tc.swaWindow, Quoka: q})
				if q.Enabled {
					assert.Equal(t, tc.layers, c.QuokaLayers(), "the layers on the QUOKA path")
				}
				require.NoError(t, c.Prefill(context.Background(), toks, nil))
				return append([]float32(nil), c.Logits(-1)...), c.QuokaUbatches()
			}
			dense, _ := logits(QuokaOptions{})
			forced, n := logits(QuokaOptions{Enabled: true, Budget: 1024, Force: true})
			require.Equal(t, (len(toks)+127)/128-1, n)
			// the gathered K/V are converted to F16 as dense flash attention converts the cache,
			// and the compacted keys keep the cache's order: the result is dense attention's, bit
			// for bit where flash attention runs its one-row kernel (AVX-512 here); its tiled
			// kernel (e.g. AVX2 with head_dim % 8 == 0) may round the differently placed tiles
			// apart, far below the 3e-2 that F32 instead of F16 K/V gave
			require.Len(t, forced, len(dense))
			maxd := 0.0
			for i := range dense {
				maxd = math.Max(maxd, math.Abs(float64(dense[i]-forced[i])))
			}
			// a real selection (B_SA 64) moves the logits far more than the tolerance below
			sparse, _ := logits(QuokaOptions{Enabled: true, Budget: 64})
			maxs := 0.0
			for i := range dense {
				maxs = math.Max(maxs, math.Abs(float64(dense[i]-sparse[i])))
			}
			t.Logf("largest logit difference to dense: forced gather %g, B_SA 64 %g", maxd, maxs)
			require.Greater(t, maxs, 1e-2, "the logits barely depend on the selection")
			for i := range dense {
				require.InDelta(t, dense[i], forced[i], 1e-4, "logit %d", i)
			}
		})
	}
}

func TestQuokaSparsePrefill(t *testing.T) {
	stories := loadStories(t)
	passkey, err := LoadModel(sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf"), ModelParams{})
	require.NoError(t, err)
	defer passkey.Free()
	for _, tc := range []struct {
		name  string
		m     *Model
		cache CacheType
		layer string
	}{
		{"stories260K f16 cache", stories, CacheF16, "quoka_sel-4"},
		{"passkey f16 cache", passkey, CacheF16, "quoka_sel-2"},
		{"passkey q8_0 cache", passkey, CacheQ8_0, "quoka_sel-2"}, // Q8_0 needs head_dim % 32 == 0
	} {
		t.Run(tc.name, func(t *testing.T) { testQuokaSparsePrefill(t, tc.m, tc.cache, tc.layer) })
	}
}

// testQuokaSparsePrefill prefills 1500 tokens in chunks of 128 with B_SA 512 and checks the
// selections captured in the last layer and that the run produces finite logits.
func testQuokaSparsePrefill(t *testing.T, m *Model, cache CacheType, layer string) {
	toks := storyTokens(t, m, 1500)
	c := newTestContext(t, m, ContextParams{NCtx: 2048, NBatch: 2048, NUBatch: 128, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: cache, Quoka: QuokaOptions{Enabled: true, Budget: 512, Queries: 16},
		Capture: []string{layer}})
	require.NoError(t, c.Prefill(context.Background(), toks, nil))
	got := c.Captured()
	// chunks whose past exceeds 512 keys took the QUOKA path in the last layer
	wantChunks := 0
	for start := 0; start < len(toks); start += 128 {
		if start > 512 {
			wantChunks++
		}
	}
	assert.Len(t, got, wantChunks)
	for _, g := range got {
		assert.Equal(t, "i32", g.Type)
		cells := g.Int32s()
		for h := 0; h < g.Shape[1]; h++ {
			past := cells[h*g.Shape[0] : h*g.Shape[0]+512]
			for i := 1; i < len(past); i++ {
				require.Less(t, past[i-1], past[i], "kept cells ascending and distinct")
			}
		}
	}
	logits := c.Logits(-1)
	require.Len(t, logits, m.VocabSize())
	for _, v := range logits {
		require.False(t, math.IsNaN(float64(v)) || math.IsInf(float64(v), 0))
	}
}

// passkeyCase is one line of ../shared/data/passkey-cases.jsonl.
type passkeyCase struct {
	Answer       string  `json:"answer"`
	TargetLength int     `json:"target_length"`
	Depth        float64 `json:"depth"`
	Tokens       []int   `json:"tokens"`
}

// TestQuokaPasskeyRetrieval: the long passkey model retrieves every 2048-token passkey densely; with
// QUOKA (B_SA 256 = 12.5% of the context, chunks of 512, decode dense) the reference implementation
// also retrieves 50/50. A needle kept by the selection is what makes this pass.
func TestQuokaPasskeyRetrieval(t *testing.T) {
	if testing.Short() {
		sharedtest.Skipf(t, "passkey retrieval takes ~20 s")
	}
	m, err := LoadModel(sharedPath(t, "models/passkey-llama-3L256d-long-f16.gguf"), ModelParams{})
	require.NoError(t, err)
	defer m.Free()
	data, err := os.ReadFile(sharedPath(t, "data/passkey-cases.jsonl"))
	require.NoError(t, err)
	var cases []passkeyCase
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var pc passkeyCase
		require.NoError(t, json.Unmarshal([]byte(line), &pc))
		if pc.TargetLength == 2048 {
			cases = append(cases, pc)
		}
	}
	require.Len(t, cases, 50)

	run := func(q QuokaOptions) (int, int) {
		c := newTestContext(t, m, ContextParams{NCtx: 2304, NBatch: 2048, NUBatch: 512, Threads: 2,
			FlashAttn: FlashAttnOn, Quoka: q})
		ok, sparse := 0, 0
		for _, pc := range cases {
			c.ClearKV()
			toks := make([]Token, len(pc.Tokens))
			for i, id := range pc.Tokens {
				toks[i] = Token(id)
			}
			out, tm, err := c.GenerateTokens(context.Background(), toks, GenerateOptions{MaxTokens: 6})
			require.NoError(t, err)
			sparse += tm.QuokaUbatches
			if strings.HasPrefix(out, " "+pc.Answer) {
				ok++
			}
		}
		return ok, sparse
	}
	dense, nd := run(QuokaOptions{})
	quoka, nq := run(QuokaOptions{Enabled: true, Budget: 256, Queries: 16})
	// the answer's digits come from decode steps, which stay dense and see the needle whatever the
	// prefill kept: select for decode too, with the right and with an inverted selection
	quokaDec, nqd := run(QuokaOptions{Enabled: true, Budget: 256, Queries: 16, Decode: true})
	// negative control: the same budget keeping the worst-scoring keys must lose the needle
	inverted, ni := run(QuokaOptions{Enabled: true, Budget: 256, Queries: 16, Invert: true, Decode: true})
	t.Logf("with selection in decode too: QUOKA %d/50, inverted %d/50", quokaDec, inverted)
	t.Logf("passkey 2048 tokens: dense %d/50, QUOKA B_SA 256 %d/50, inverted selection %d/50", dense, quoka, inverted)
	assert.Zero(t, nd)
	assert.GreaterOrEqual(t, nq, 50*3, "chunks 2-4 of every case are sparse")
	assert.Equal(t, nq, nqd, "sparse prefill ubatches (Timings count the prefill)")
	assert.Equal(t, nq, ni)
	assert.GreaterOrEqual(t, quokaDec, 45)
	assert.GreaterOrEqual(t, dense, 49)
	assert.GreaterOrEqual(t, quoka, 48)
	assert.LessOrEqual(t, inverted, dense-20, "an inverted selection must lose retrieval")
}
