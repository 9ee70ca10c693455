package llama

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	chBudget = 64  // B_SA
	chLen    = 768 // prompt tokens per sequence
)

// chunkRun is one prefill of S sequences (sequence s holding cells [s*chLen, (s+1)*chLen) of a
// fresh unified cache, each ubatch taking ub tokens of every sequence) with QUOKA sub-chunks of
// chunk queries: per ubatch the captured layer-0 selection, per sequence the last logits.
type chunkRun struct {
	sel    [][]int32 // [ubatch] quoka_sel-0 cells ([n_slots, n_head_kv], nil when dense)
	slots  []int     // [ubatch] n_slots
	heads  int
	logits [][]float32
	sparse int
}

func chunkPrefill(t *testing.T, m *Model, seqs [][]Token, ub, chunk int) chunkRun {
	return quokaPrefill(t, m, seqs, ub, QuokaOptions{Enabled: true, Budget: chBudget, Queries: 16, Chunk: chunk})
}

func quokaPrefill(t *testing.T, m *Model, seqs [][]Token, ub int, q QuokaOptions) chunkRun {
	S := len(seqs)
	p := ContextParams{NCtx: 1024 * S, NBatch: S * ub, NUBatch: S * ub, Threads: 2,
		FlashAttn: FlashAttnOn, CacheType: CacheF32, Capture: []string{"quoka_sel-0"}, Quoka: q}
	if S > 1 {
		p.Sequences, p.KVUnified = S, true
	}
	c := newTestContext(t, m, p)
	b, err := NewBatch(S*ub, 1)
	require.NoError(t, err)
	defer b.Free()
	var run chunkRun
	for k := 0; k*ub < chLen; k++ {
		b.Clear()
		for s := range seqs {
			for i := 0; i < ub && k*ub+i < chLen; i++ {
				pos := k*ub + i
				require.NoError(t, b.Add(seqs[s][pos], pos, pos == chLen-1, s))
			}
		}
		require.NoError(t, c.Decode(context.Background(), b))
		got := c.Captured()
		if len(got) == 0 {
			run.sel, run.slots = append(run.sel, nil), append(run.slots, 0)
			continue
		}
		require.Len(t, got, 1)
		run.sel, run.slots = append(run.sel, got[0].Int32s()), append(run.slots, got[0].Shape[0])
		run.heads = got[0].Shape[1]
	}
	for s := range seqs {
		run.logits = append(run.logits, c.Logits(s))
	}
	run.sparse = c.QuokaUbatches()
	return run
}

// group returns the kept past cells of query group g in ubatch k for KV head h.
func (r chunkRun) group(k, g, h int) []int32 {
	n := r.slots[k]
	return r.sel[k][h*n+g*chBudget : h*n+(g+1)*chBudget]
}

// TestQuokaChunk: with --quoka-chunk the queries of a ubatch select in sub-chunks, each among the
// past before the ubatch. The first sub-chunk selects what a ubatch of exactly those queries
// selects (the layer-0 queries and keys do not depend on the chunking); the others select with
// their own queries (other cells); a sub-chunk as large as the ubatch is the paper's QUOKA.
func TestQuokaChunk(t *testing.T) {
	m := loadStories(t)
	toks := storyTokens(t, m, 2*chLen)
	one := [][]Token{toks[:chLen]}
	const ub, chunk = 256, 64

	plain := chunkPrefill(t, m, one, ub, 0)
	sub := chunkPrefill(t, m, one, ub, chunk)
	small := chunkPrefill(t, m, one, chunk, 0)

	// ubatches 1 and 2 have a past of 256 and 512 > B_SA: sparse, 4 groups each
	require.Equal(t, 2, plain.sparse)
	require.Equal(t, 2, sub.sparse, "sub-chunks: the same ubatches are sparse")
	require.Nil(t, sub.sel[0])
	for k := 1; k < 3; k++ {
		require.Equal(t, ub/chunk*chBudget+ub, sub.slots[k], "ubatch %d: one group of B_SA slots per sub-chunk, then the own cells", k)
		require.Equal(t, chBudget+ub, plain.slots[k])
		for h := 0; h < sub.heads; h++ {
			for g := 0; g < ub/chunk; g++ {
				cells := sub.group(k, g, h)
				assert.True(t, sort.SliceIsSorted(cells, func(i, j int) bool { return cells[i] < cells[j] }), "ascending")
				for _, c := range cells {
					require.True(t, c >= 0 && int(c) < k*ub, "ubatch %d group %d: cell %d is not in the past before the ubatch", k, g, c)
				}
			}
			// the first sub-chunk of ubatch k holds the queries of small's ubatch k*ub/chunk, over the same past
			assert.Equal(t, small.group(k*ub/chunk, 0, h), sub.group(k, 0, h), "ubatch %d head %d: first sub-chunk vs a ubatch of %d", k, h, chunk)
		}
		differ := false
		for h := 0; h < sub.heads; h++ {
			differ = differ || fmt.Sprint(sub.group(k, 1, h)) != fmt.Sprint(sub.group(k, 0, h))
		}
		assert.True(t, differ, "ubatch %d: the second sub-chunk selects with its own queries", k)
	}
	diff := 0.0
	for i := range plain.logits[0] {
		diff = max(diff, float64(abs32(plain.logits[0][i]-sub.logits[0][i])))
	}
	assert.Greater(t, diff, 1e-3, "sub-chunks change what the ubatch attends to")

	whole := chunkPrefill(t, m, one, ub, ub)
	assert.Equal(t, plain.sel, whole.sel, "a sub-chunk of the ubatch size is one group")
	assert.Equal(t, plain.logits, whole.logits)

	// two sequences in one ubatch: groups are numbered sequence by sequence, each sequence's
	// sub-chunks select exactly what they select alone
	two := chunkPrefill(t, m, [][]Token{toks[:chLen], toks[chLen:]}, ub, chunk)
	alone := chunkPrefill(t, m, [][]Token{toks[chLen:]}, ub, chunk)
	require.Equal(t, 2, two.sparse)
	G := ub / chunk
	for k := 1; k < 3; k++ {
		require.Equal(t, 2*G*chBudget+2*ub, two.slots[k])
		for h := 0; h < two.heads; h++ {
			for g := 0; g < G; g++ {
				// sequence s's cells of ubatch kk are [kk*2*ub + s*ub, kk*2*ub + (s+1)*ub): map back to positions
				for s, want := range []chunkRun{sub, alone} {
					var pos []int32
					for _, c := range two.group(k, s*G+g, h) {
						kk, r := int(c)/(2*ub), int(c)%(2*ub)
						require.Equal(t, s, r/ub, "sequence %d's group %d kept a cell of another sequence", s, g)
						pos = append(pos, int32(kk*ub+r%ub))
					}
					assert.Equal(t, want.group(k, g, h), pos, "ubatch %d head %d: sequence %d sub-chunk %d", k, h, s, g)
				}
			}
		}
	}
}

// TestQuokaSink: with Sink n every group keeps the cells of its sequence's first n positions
// (within its B_SA slots), which the scores alone do not always keep; with several sequences
// each group keeps its own sequence's.
func TestQuokaSink(t *testing.T) {
	m := loadStories(t)
	toks := storyTokens(t, m, 2*chLen)
	const ub = 128
	opts := func(sink int) QuokaOptions {
		return QuokaOptions{Enabled: true, Budget: chBudget, Queries: 16, Sink: sink}
	}
	has := func(cells []int32, c int32) bool {
		for _, x := range cells {
			if x == c {
				return true
			}
		}
		return false
	}
	plain := quokaPrefill(t, m, [][]Token{toks[:chLen]}, ub, opts(0))
	sink := quokaPrefill(t, m, [][]Token{toks[:chLen]}, ub, opts(2))
	require.Equal(t, chLen/ub-1, sink.sparse)
	missing := 0
	for k := 1; k < chLen/ub; k++ {
		require.Equal(t, chBudget+ub, sink.slots[k], "the sinks take B_SA slots")
		for h := 0; h < sink.heads; h++ {
			for _, c := range []int32{0, 1} {
				assert.True(t, has(sink.group(k, 0, h), c), "ubatch %d head %d: sink cell %d", k, h, c)
				if !has(plain.group(k, 0, h), c) {
					missing++
				}
			}
		}
	}
	assert.Positive(t, missing, "without sinks the scores alone drop some of the first cells (else this test shows nothing)")

	// two sequences: sequence s's first cell is s*ub (ubatch 0 holds ub tokens of each)
	two := quokaPrefill(t, m, [][]Token{toks[:chLen], toks[chLen:]}, ub, opts(1))
	for k := 1; k < chLen/ub; k++ {
		for h := 0; h < two.heads; h++ {
			for s := 0; s < 2; s++ {
				assert.True(t, has(two.group(k, s, h), int32(s*ub)), "ubatch %d head %d: sequence %d's sink", k, h, s)
				assert.False(t, has(two.group(k, s, h), int32((1-s)*ub)), "ubatch %d head %d: sequence %d kept the other's sink", k, h, s)
			}
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
