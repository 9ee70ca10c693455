package llama

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/models"
)

// multiSeqRun is what one prefill (alone or batched) produced for one sequence.
type multiSeqRun struct {
	sel    [][][]int // [chunk][KV head] kept past positions (chunks that ran QUOKA)
	logits []float32 // after the last prompt token
	greedy []Token   // greedy continuation (decode dense)
}

const (
	msChunk  = 64  // tokens per sequence and chunk
	msBudget = 128 // B_SA
	msLen    = 640 // prompt tokens per sequence
	msGen    = 8
)

// msModel is a model of the multi-sequence tests and the selection they capture: that of a layer
// that takes the QUOKA path.
type msModel struct {
	*Model
	name      string
	capture   string
	swaWindow bool // ContextParams.SWAWindow
}

// msModels returns stories260K (every layer full attention), a synthesized hybrid model, and
// synthesized gemma3 and gpt-oss models with an iSWA cache (layers 0 and 2 sliding-window, 1 and
// 3 full attention: QUOKA's), whose QUOKA inputs come from the full-attention cache's mask and
// cells. gemma3's sliding-window cache holds only the window (as in llama-server), so the two
// caches' cells differ; gpt-oss's (attention sinks in every layer) holds the whole context: its
// sinks give a near-tie at the cut more weight in the logits than gemma3's 1e-3 allows.
func msModels(t *testing.T) []msModel {
	return []msModel{
		{Model: loadStories(t), name: "stories260K", capture: "quoka_sel-0"},
		{Model: synthGemma3(t), name: "gemma3 iSWA", capture: "quoka_sel-1", swaWindow: true},
		{Model: synthHybrid(t), name: "lfm2 hybrid", capture: "quoka_sel-1"},
		{Model: synthGPTOSS(t), name: "gpt-oss sinks", capture: "quoka_sel-1"},
		{Model: synthMLA(t), name: "deepseek2 MLA", capture: "quoka_sel-3"},
	}
}

// synthModel synthesizes and loads a 4-layer model of architecture arch (see models.Preset), freed
// with the test.
func synthModel(t *testing.T, arch string, edit func(*models.Preset)) *Model {
	path := filepath.Join(t.TempDir(), arch+".gguf")
	p := models.Preset{Name: arch, Layers: 4, Embd: 128, Heads: 4, KVHeads: 2, HeadDim: 32, FFN: 256,
		Context: 4096, Type: models.TypeF16, Arch: arch}
	edit(&p)
	require.NoError(t, models.Synth(path, p, 5))
	m, err := LoadModel(path, ModelParams{})
	require.NoError(t, err)
	t.Cleanup(m.Free)
	return m
}

// synthGemma3 loads a synthesized gemma3 model with an iSWA cache: sliding-window layers 0 and 2
// (a 64-token window), full-attention layers 1 and 3 (QUOKA's).
func synthGemma3(t *testing.T) *Model {
	return synthModel(t, models.ArchGemma3, func(p *models.Preset) { p.SlidingWindow, p.SWAPattern = 64, 2 })
}

// synthHybrid loads a synthesized lfm2 model: a hybrid of short-convolution layers (0 and 2, a
// recurrent state) and attention layers (1 and 3, QUOKA's), as Qwen3.5, Granite 4 and others mix
// recurrent and attention layers.
func synthHybrid(t *testing.T) *Model {
	return synthModel(t, models.ArchLFM2, func(p *models.Preset) { p.AttnPattern = 2 })
}

// synthGPTOSS loads a synthesized gpt-oss model: attention sinks in every layer, sliding-window
// layers 0 and 2 (a 64-token window), full-attention layers 1 and 3 (QUOKA's), 2 experts, both
// used by every token: with fewer used than there are, a rounding difference (cells laid out
// differently alone and together, or another CPU's attention kernel) can route a near-tie token
// to other experts, which moves its keys, and with them the selections, far more than the rounding.
func synthGPTOSS(t *testing.T) *Model {
	return synthModel(t, models.ArchGPTOSS, func(p *models.Preset) {
		p.SlidingWindow, p.Experts, p.ExpertsUsed, p.FFN = 64, 2, 2, 128
	})
}

// synthALiBi loads a synthesized refact model: 4 layers of full attention with ALiBi positions
// (no RoPE), as in BLOOM, MPT and Jais.
func synthALiBi(t *testing.T) *Model {
	return synthModel(t, models.ArchRefact, func(*models.Preset) {})
}

// synthMLA loads a synthesized deepseek2 model with multi-head latent attention (MLA): one latent
// KV head of 64 compressed and 16 RoPE'd dimensions, 4 query heads, dense FFNs.
func synthMLA(t *testing.T) *Model {
	return synthModel(t, models.ArchDeepSeek2, func(p *models.Preset) {
		p.KVHeads, p.HeadDim, p.KVLoraRank, p.RopeDim = 1, 48, 64, 16
	})
}

// prefillAlone prefills one sequence in chunks of msChunk and decodes msGen greedy tokens.
func prefillAlone(t *testing.T, m msModel, toks []Token) multiSeqRun {
	c := newTestContext(t, m.Model, ContextParams{NCtx: 1024, NBatch: msChunk, NUBatch: msChunk, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: CacheF32, Capture: []string{m.capture}, SWAWindow: m.swaWindow,
		Quoka: QuokaOptions{Enabled: true, Budget: msBudget, Queries: 16}})
	b, err := NewBatch(msChunk, 1)
	require.NoError(t, err)
	defer b.Free()
	var run multiSeqRun
	for k := 0; k*msChunk < len(toks); k++ {
		b.Clear()
		for i := 0; i < msChunk; i++ {
			p := k*msChunk + i
			require.NoError(t, b.Add(toks[p], p, p == len(toks)-1))
		}
		require.NoError(t, c.Decode(context.Background(), b))
		got := c.Captured()
		if len(got) == 0 {
			run.sel = append(run.sel, nil)
			continue
		}
		require.Len(t, got, 1)
		cells, n := got[0].Int32s(), got[0].Shape[0]
		var heads [][]int
		for h := 0; h < got[0].Shape[1]; h++ {
			var past []int
			for _, cell := range cells[h*n : h*n+msBudget] {
				past = append(past, int(cell)) // a fresh single-sequence cache: cell == position
			}
			heads = append(heads, past)
		}
		run.sel = append(run.sel, heads)
	}
	run.logits = c.Logits(-1)
	pos := len(toks)
	tok := argmax(run.logits)
	for g := 0; g < msGen; g++ {
		run.greedy = append(run.greedy, tok)
		b.Clear()
		require.NoError(t, b.Add(tok, pos, true))
		require.NoError(t, c.Decode(context.Background(), b))
		pos++
		tok = argmax(c.Logits(0))
	}
	require.Zero(t, c.QuokaUbatches()-countSparse(run.sel), "decode stays dense")
	return run
}

func countSparse(sel [][][]int) int {
	n := 0
	for _, s := range sel {
		if s != nil {
			n++
		}
	}
	return n
}

// prefillTogether prefills every sequence in the same ubatches (msChunk tokens of each per
// ubatch), then decodes their greedy continuations together. With unified, one KV cache holds
// them all (query groups of one selection); otherwise each has its own KV stream (one selection
// per stream).
func prefillTogether(t *testing.T, m msModel, seqs [][]Token, unified bool) ([]multiSeqRun, int) {
	S := len(seqs)
	c := newTestContext(t, m.Model, ContextParams{NCtx: 1024 * S, NBatch: S * msChunk, NUBatch: S * msChunk, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: CacheF32, Capture: []string{m.capture}, SWAWindow: m.swaWindow,
		Sequences: S, KVUnified: unified,
		Quoka: QuokaOptions{Enabled: true, Budget: msBudget, Queries: 16}})
	require.True(t, c.QuokaActive())
	b, err := NewBatch(S*msChunk, 1)
	require.NoError(t, err)
	defer b.Free()
	runs := make([]multiSeqRun, S)
	for k := 0; k*msChunk < msLen; k++ {
		b.Clear()
		for s := 0; s < S; s++ {
			for i := 0; i < msChunk; i++ {
				p := k*msChunk + i
				require.NoError(t, b.Add(seqs[s][p], p, p == msLen-1, s))
			}
		}
		require.NoError(t, c.Decode(context.Background(), b))
		got := c.Captured()
		if len(got) == 0 {
			for s := range runs {
				runs[s].sel = append(runs[s].sel, nil)
			}
			continue
		}
		if !unified {
			require.Len(t, got, S, "one selection per stream")
			for s := 0; s < S; s++ {
				cells, n := got[s].Int32s(), got[s].Shape[0]
				require.Equal(t, msBudget+msChunk, n, "stream %d: B_SA slots, then the own cells", s)
				var heads [][]int
				for h := 0; h < got[s].Shape[1]; h++ {
					var past []int
					for _, cell := range cells[h*n : h*n+msBudget] {
						past = append(past, int(cell)) // a fresh stream: cell == position
					}
					heads = append(heads, past)
				}
				runs[s].sel = append(runs[s].sel, heads)
			}
			continue
		}
		require.Len(t, got, 1)
		cells, n := got[0].Int32s(), got[0].Shape[0]
		require.Equal(t, S*msBudget+S*msChunk, n, "one group of B_SA slots per sequence, then the own cells")
		// cells are handed out in ubatch order: chunk k of sequence s sits at k*S*C + s*C + i
		seqPos := func(cell int) (int, int) {
			kk, r := cell/(S*msChunk), cell%(S*msChunk)
			return r / msChunk, kk*msChunk + r%msChunk
		}
		for j := 0; j < S*msChunk; j++ {
			require.Equal(t, k*S*msChunk+j, int(cells[S*msBudget+j]), "own cells")
		}
		for s := 0; s < S; s++ {
			var heads [][]int
			for h := 0; h < got[0].Shape[1]; h++ {
				var past []int
				for _, cell := range cells[h*n+s*msBudget : h*n+(s+1)*msBudget] {
					cs, p := seqPos(int(cell))
					require.Equal(t, s, cs, "group %d kept a cell of sequence %d", s, cs)
					past = append(past, p)
				}
				heads = append(heads, past)
			}
			runs[s].sel = append(runs[s].sel, heads)
		}
	}
	sparse := c.QuokaUbatches()
	decodeTogether(t, c, b, runs)
	require.Equal(t, sparse, c.QuokaUbatches(), "one token per sequence: decode stays dense")
	return runs, sparse
}

// decodeTogether records each sequence's logits after its prompt (the last decode's outputs, one
// per sequence in order) and decodes msGen greedy tokens of every sequence in the same batches.
func decodeTogether(t *testing.T, c *Session, b *Batch, runs []multiSeqRun) {
	for s := range runs {
		runs[s].logits = c.Logits(s)
	}
	next := make([]Token, len(runs))
	for s := range next {
		next[s] = argmax(runs[s].logits)
	}
	for g := 0; g < msGen; g++ {
		b.Clear()
		for s := range runs {
			runs[s].greedy = append(runs[s].greedy, next[s])
			require.NoError(t, b.Add(next[s], msLen+g, true, s))
		}
		require.NoError(t, c.Decode(context.Background(), b))
		for s := range runs {
			next[s] = argmax(c.Logits(s))
		}
	}
}

// TestQuokaSeveralSequences: on a model with only full-attention layers and on one with an iSWA
// cache, two or three sequences prefilled in the same ubatches, in a unified
// cache (as llama-server's slots with --kv-unified) or in a KV stream each (a non-unified cache),
// select exactly what each selects alone with the same chunk boundaries, and give the same
// logits and greedy continuations.
func TestQuokaSeveralSequences(t *testing.T) {
	for _, m := range msModels(t) {
		all := storyTokens(t, m.Model, 3*msLen)
		for _, tc := range []struct {
			S       int
			unified bool
		}{{2, true}, {3, true}, {2, false}, {3, false}} {
			layout := "unified cache"
			if !tc.unified {
				layout = "a stream each"
			}
			S := tc.S
			t.Run(fmt.Sprintf("%s, %d sequences, %s", m.name, S, layout), func(t *testing.T) {
				seqs := make([][]Token, S)
				for s := range seqs {
					seqs[s] = all[s*msLen : (s+1)*msLen]
				}
				together, sparse := prefillTogether(t, m, seqs, tc.unified)
				wantSparse := 0
				for k := 0; k*msChunk < msLen; k++ {
					if k*msChunk > msBudget {
						wantSparse++
					}
				}
				require.Equal(t, wantSparse, sparse, "sparse ubatches")
				for s := 0; s < S; s++ {
					alone := prefillAlone(t, m, seqs[s])
					require.Equal(t, len(alone.sel), len(together[s].sel))
					require.Equal(t, wantSparse, countSparse(alone.sel), "sequence %d alone: captured selections", s)
					for k := range alone.sel {
						if !m.swaWindow {
							assert.Equal(t, alone.sel[k], together[s].sel[k], "sequence %d chunk %d: selection", s, k)
							continue
						}
						// the sliding-window layer before the captured one attends densely over a
						// window-only cache whose cells lie differently alone and together, so its
						// output may round apart and tip a near-tie at the cut: at most 1% of the
						// kept cells may differ
						require.Len(t, together[s].sel[k], len(alone.sel[k]))
						for h := range alone.sel[k] {
							same := overlap(alone.sel[k][h], together[s].sel[k][h])
							assert.GreaterOrEqual(t, float64(same), 0.99*float64(len(alone.sel[k][h])),
								"sequence %d chunk %d KV head %d: %d of %d kept cells the same", s, k, h, same, len(alone.sel[k][h]))
						}
					}
					require.Len(t, together[s].logits, len(alone.logits))
					for i := range alone.logits {
						require.InDelta(t, alone.logits[i], together[s].logits[i], 1e-3, "sequence %d logit %d", s, i)
					}
					assert.Equal(t, alone.greedy, together[s].greedy, "sequence %d greedy continuation", s)
				}
			})
		}
	}
}

// TestQuokaSecondStreamAlone: a ubatch of one sequence in the second stream of a non-unified
// cache (its cells are addressed past the first stream's) selects what it selects alone.
func TestQuokaSecondStreamAlone(t *testing.T) {
	m := msModel{Model: loadStories(t), capture: "quoka_sel-0"}
	toks := storyTokens(t, m.Model, msLen)
	c := newTestContext(t, m.Model, ContextParams{NCtx: 2048, NBatch: msChunk, NUBatch: msChunk, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: CacheF32, Sequences: 2, KVUnified: false,
		Quoka: QuokaOptions{Enabled: true, Budget: msBudget, Queries: 16}})
	b, err := NewBatch(msChunk, 1)
	require.NoError(t, err)
	defer b.Free()
	for k := 0; k*msChunk < msLen; k++ {
		b.Clear()
		for i := 0; i < msChunk; i++ {
			p := k*msChunk + i
			require.NoError(t, b.Add(toks[p], p, p == msLen-1, 1))
		}
		require.NoError(t, c.Decode(context.Background(), b))
	}
	require.Positive(t, c.QuokaUbatches())
	alone := prefillAlone(t, m, toks)
	got := c.Logits(-1)
	require.Len(t, got, len(alone.logits))
	for i := range got {
		require.InDelta(t, alone.logits[i], got[i], 1e-3, "logit %d", i)
	}
}
