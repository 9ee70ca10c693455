package tests

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/models"
)

// synthFile synthesizes a 4-layer model of architecture arch (256 wide, 4 heads of 64, 2 KV heads,
// F16) edited by edit into dir/name.gguf.
func synthFile(t *testing.T, dir, name, arch string, seed uint64, edit func(*models.Preset)) string {
	t.Helper()
	path := filepath.Join(dir, name+".gguf")
	p := models.Preset{Name: name, Layers: 4, Embd: 256, Heads: 4, KVHeads: 2, HeadDim: 64, FFN: 512,
		Context: 4096, Type: models.TypeF16, Arch: arch}
	edit(&p)
	require.NoError(t, models.Synth(path, p, seed))
	return path
}

// gemma3Model synthesizes a gemma3 model with a 64-token sliding window; with pattern 2 layers 0
// and 2 are sliding-window layers and 1 and 3 full-attention ones (an iSWA cache), with a pattern
// longer than the model every layer is a sliding-window one.
func gemma3Model(t *testing.T, dir string, pattern int) string {
	return synthFile(t, dir, fmt.Sprintf("gemma3-p%d", pattern), models.ArchGemma3, 11, func(p *models.Preset) {
		p.SlidingWindow, p.SWAPattern = 64, pattern
	})
}

// lfm2Model synthesizes an lfm2 hybrid: short-convolution layers 0 and 2, attention layers 1 and
// 3; with a window > 0 every attention layer is a sliding-window one.
func lfm2Model(t *testing.T, dir string, window int) string {
	return synthFile(t, dir, fmt.Sprintf("lfm2-w%d", window), models.ArchLFM2, 13, func(p *models.Preset) {
		p.AttnPattern, p.SlidingWindow = 2, window
	})
}

// gptossModel synthesizes a gpt-oss model: attention sinks in every layer, sliding-window layers 0
// and 2 (a 64-token window), full-attention layers 1 and 3, 4 experts of 256 of which 2 per token.
func gptossModel(t *testing.T, dir string) string {
	return synthFile(t, dir, "gpt-oss", models.ArchGPTOSS, 17, func(p *models.Preset) {
		p.SlidingWindow, p.Experts, p.ExpertsUsed, p.FFN = 64, 4, 2, 256
	})
}

// alibiModel synthesizes a refact model: full attention in every layer, positions given by ALiBi
// (no RoPE).
func alibiModel(t *testing.T, dir string) string {
	return synthFile(t, dir, "refact", models.ArchRefact, 19, func(*models.Preset) {})
}

// mlaModel synthesizes a deepseek2 model with multi-head latent attention: one latent KV head of 64
// compressed and 32 RoPE'd dimensions (K 96, V 64: Q8_0 blocks divide both), 4 query heads of 64,
// dense FFNs.
func mlaModel(t *testing.T, dir string) string {
	return synthFile(t, dir, "deepseek2", models.ArchDeepSeek2, 23, func(p *models.Preset) {
		p.KVHeads, p.KVLoraRank, p.RopeDim = 1, 64, 32
	})
}

// randomText writes about n bytes of lowercase words drawn with seed (one token per byte with the
// synthesized models' byte vocabulary) to dir/text.txt.
func randomText(t *testing.T, dir string, n int, seed int64) string {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	var sb strings.Builder
	for sb.Len() < n {
		sb.WriteByte(byte('a' + rng.Intn(26)))
		if rng.Intn(6) == 0 {
			sb.WriteByte(' ')
		}
	}
	path := filepath.Join(dir, "text.txt")
	require.NoError(t, os.WriteFile(path, []byte(sb.String()), 0o644))
	return path
}

// TestQuokaSlidingWindowModel: in a model with an iSWA cache (Gemma 2/3 and others), the
// full-attention layers take the QUOKA path and the sliding-window ones stay dense
// (checkSomeLayersSparse). A model whose layers are all sliding-window ones runs dense and says so
// in one line.
func TestQuokaSlidingWindowModel(t *testing.T) {
	dir := t.TempDir()
	text := randomText(t, dir, 1300, 3)
	checkSomeLayersSparse(t, gemma3Model(t, dir, 2), text)

	t.Run("every layer sliding-window", func(t *testing.T) {
		all := gemma3Model(t, dir, 8)
		checkQuokaOff(t, all, text)

		bin := filepath.Join(repoRoot, "build", "llama-build", "bin", "llama-completion")
		cmd := exec.Command(bin, "-m", all, "-f", text, "-n", "2", "-no-cnv", "--temp", "0", "-t", "2", "-c", "2048",
			"-ub", "128", "-fa", "on", "--quoka", "--quoka-budget", "64")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Equal(t, 1, strings.Count(string(out), "no layer of this model and K cache can take the QUOKA path"), tail(string(out), 20))
		assert.NotContains(t, string(out), "quoka ubatches", "an all-sliding-window model ran sparse")
	})
}

// checkSomeLayersSparse runs eval kld on a model of which only some layers take the QUOKA path,
// with F16, F32 and Q8_0 caches: the chunks with more past than B_SA are counted sparse, the
// selection changes the distributions (and the inverted one changes them differently), and with
// B_SA covering the past (--quoka-force) the gathered attention equals dense attention.
func checkSomeLayersSparse(t *testing.T, model, text string) {
	t.Helper()
	kld := func(extra ...string) kldResult {
		args := append([]string{"eval", "kld", "-m", model, "-f", text, "-c", "1024", "--chunks", "1", "-ub", "128",
			"-t", "2", "--json"}, extra...)
		r := runQuokarunTimeout(t, 120, "", args...)
		require.Equal(t, 0, r.code, "%v: %s", extra, r.stderr)
		assert.NotContains(t, r.stderr, "QUOKA is off")
		var rep kldResult
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
		return rep
	}
	for _, ct := range []string{"f16", "f32", "q8_0"} {
		t.Run(ct, func(t *testing.T) {
			cache := []string{"-ctk", ct, "-ctv", ct}
			got := kld(append(cache, "--quoka-budget", "64")...)
			// 8 chunks of 128: all but the first have more past than B_SA
			require.Equal(t, 1024/128-1, got.Sparse, "sparse chunks")
			require.Greater(t, got.Pooled.MeanKL, 0.0, "QUOKA changed nothing")
			inv := kld(append(cache, "--quoka-budget", "64", "--quoka-invert")...)
			assert.Equal(t, got.Sparse, inv.Sparse)
			assert.False(t, math.Abs(inv.Pooled.MeanKL-got.Pooled.MeanKL) <= 1e-2*got.Pooled.MeanKL,
				"the inverted selection's mean KL %g is within 1%% of QUOKA's %g", inv.Pooled.MeanKL, got.Pooled.MeanKL)
			t.Logf("mean KL %.4g (inverted %.4g)", got.Pooled.MeanKL, inv.Pooled.MeanKL)
			if ct == "q8_0" {
				return // dense attention dots quantized queries with the keys, QUOKA dequantized keys
			}
			full := kld(append(cache, "--quoka-budget", "1024", "--quoka-force")...)
			assert.Equal(t, got.Sparse, full.Sparse, "forced sparse chunks")
			assert.Less(t, full.Pooled.MeanKL, 1e-6, "a selection of every past key differs from dense attention")
			assert.Equal(t, 1.0, full.Pooled.Top1)
		})
	}
}

// checkQuokaOff runs eval kld with QUOKA asked for on a model none of whose layers can take the
// QUOKA path: it runs dense (no sparse chunk, the distributions dense's) and says so in one line.
func checkQuokaOff(t *testing.T, model, text string) {
	t.Helper()
	r := runQuokarunTimeout(t, 120, "", "eval", "kld", "-m", model, "-f", text, "-c", "1024", "--chunks", "1",
		"-ub", "128", "-t", "2", "--quoka-budget", "64", "--json")
	require.Equal(t, 0, r.code, r.stderr)
	var rep kldResult
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	assert.Zero(t, rep.Sparse)
	assert.Zero(t, rep.Pooled.MeanKL)
	assert.Equal(t, 1, strings.Count(r.stderr, "QUOKA is off for this model"), r.stderr)
}

// TestQuokaHybridModel: in a hybrid model (recurrent layers and attention layers: Qwen3.5,
// Qwen3-Next, Granite 4, LFM2, ...), the attention layers take the QUOKA path with the QUOKA
// inputs of the hybrid memory's KV cache (a synthesized lfm2 model: short-convolution layers 0 and
// 2, attention layers 1 and 3). Before, those inputs were missing: QUOKA ran without them, and
// llama-server with a KV stream per slot aborted (TestQuokaSeveralSequences covers that layout).
func TestQuokaHybridModel(t *testing.T) {
	dir := t.TempDir()
	text := randomText(t, dir, 1300, 3)
	checkSomeLayersSparse(t, lfm2Model(t, dir, 0), text)

	t.Run("every attention layer sliding-window", func(t *testing.T) {
		// lfm2 with a window: its hybrid memory's attention cache is an iSWA one, every layer of it
		// sliding-window, so QUOKA has no layer to serve
		checkQuokaOff(t, lfm2Model(t, dir, 64), text)
	})
}

// TestQuokaAttentionSinksModel: in a model with attention sinks (gpt-oss, a learned logit per head
// in the softmax), the full-attention layers take the QUOKA path with the sinks given to flash
// attention over the kept keys: with B_SA covering the past the result is dense attention's
// (checkSomeLayersSparse; without the sinks the KL is far from 0). Before, such layers stayed
// dense: gpt-oss ran without QUOKA.
func TestQuokaAttentionSinksModel(t *testing.T) {
	dir := t.TempDir()
	checkSomeLayersSparse(t, gptossModel(t, dir), randomText(t, dir, 1300, 3))
}

// TestQuokaALiBiModel: in a model with ALiBi positions (BLOOM, MPT, Refact, Jais), every layer
// takes the QUOKA path, the compacted mask carrying the kept keys' distances to flash attention
// with the model's ALiBi bias: with B_SA covering the past the result is dense attention's
// (checkSomeLayersSparse). Before, such models ran without QUOKA.
func TestQuokaALiBiModel(t *testing.T) {
	dir := t.TempDir()
	checkSomeLayersSparse(t, alibiModel(t, dir), randomText(t, dir, 1300, 3))
}

// TestQuokaMLAModel: in a model with multi-head latent attention (DeepSeek V2/V3, Kimi K2,
// GLM-4.7-Flash), every layer takes the QUOKA path in the latent space llama.cpp attends in: the
// absorbed queries select among the latent keys, the kept ones are attended and each head's
// values expanded after (checkSomeLayersSparse). Before, such models ran without QUOKA (and on CPUs
// with AMX they aborted, QUOKA or not: ggml-patch 0037).
func TestQuokaMLAModel(t *testing.T) {
	dir := t.TempDir()
	checkSomeLayersSparse(t, mlaModel(t, dir), randomText(t, dir, 1300, 3))
}

// TestEvalCheckSparseSlidingWindowModel: --check-sparse captures the selection of the first
// layer on the QUOKA path (layer 1 of a model whose layer 0 is a sliding-window one), so the
// chunks that took it are counted on such models too.
func TestEvalCheckSparseSlidingWindowModel(t *testing.T) {
	dir := t.TempDir()
	model := gemma3Model(t, dir, 2)
	results := filepath.Join(dir, "niah.jsonl")
	r := runQuokarunTimeout(t, 120, "", "eval", "niah", "-m", model, "--lengths", "512", "--depths", "50",
		"--trials", "1", "--quoka-budget", "64", "-ub", "64", "-t", "2", "--check-sparse", "-n", "2",
		"--results", results)
	require.Equal(t, 0, r.code, r.stderr)
	recs := readRecords(t, results)
	require.Len(t, recs, 2, "dense and QUOKA")
	for _, rec := range recs {
		if isDense(rec) {
			assert.Equal(t, 0, rec.SparseChunks, "dense never selects")
		} else {
			assert.Equal(t, (rec.Tokens-1)/64-1, rec.SparseChunks, "QUOKA engaged in %s", rec.ID)
		}
	}
}

// TestSlidingWindowCacheSize: quokarun keeps only the window in a model's sliding-window cache (as
// llama.cpp's tools do; its sessions never go back in a sequence), and the whole context with
// --swa-full. llama.cpp logs one KV cache line per cache: the full-attention layers', then the
// sliding-window layers'.
func TestSlidingWindowCacheSize(t *testing.T) {
	dir := t.TempDir()
	model := gemma3Model(t, dir, 2)
	re := regexp.MustCompile(`llama_kv_cache: size = .*\(\s*(\d+) cells`)
	cells := func(extra ...string) []string {
		args := append([]string{"run", "-m", model, "-p", "hello there", "-n", "2", "--temp", "0", "-c", "4096"}, extra...)
		r := runQuokarunEnv(t, []string{"QUOKA_LOG=info"}, 60, "", args...)
		require.Equal(t, 0, r.code, r.stderr)
		var out []string
		for _, m := range re.FindAllStringSubmatch(r.stderr, -1) {
			out = append(out, m[1])
		}
		return out
	}
	window := cells()
	require.Len(t, window, 2, "a base and a sliding-window cache")
	assert.Equal(t, "4096", window[0], "the full-attention layers' cache holds the context")
	n, err := strconv.Atoi(window[1])
	require.NoError(t, err)
	assert.Less(t, n, 1024, "the sliding-window cache holds about the 64-token window plus a ubatch")
	assert.Equal(t, []string{"4096", "4096"}, cells("--swa-full"))
}
