package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/quoka-llm/quoka/bindings/llama"
)

// Flags shared by the commands that run a model.

var modelFlag = &cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "GGUF model `FILE` (required)"}

// modelPath returns the -m flag. (Not a cli Required flag: cli would print
// the help text along with the error.)
func modelPath(c *cli.Context) (string, error) {
	if p := c.String("model"); p != "" {
		return p, nil
	}
	return "", usageErrorf("no model: give one with -m FILE")
}

// contextFlags configure the llama.cpp context.
func contextFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "ctx-size", Aliases: []string{"c"}, Usage: "context window in tokens; 0: min(the model's training context, 4096), grown to fit the prompt"},
		&cli.IntFlag{Name: "batch-size", Aliases: []string{"b"}, Value: 2048, Usage: "n_batch: most tokens per decode call"},
		&cli.IntFlag{Name: "ubatch-size", Aliases: []string{"ub"}, Value: 512, Usage: "n_ubatch: the prefill chunk (B_CP)"},
		&cli.IntFlag{Name: "threads", Aliases: []string{"t"}, Usage: "CPU threads; 0: one per CPU"},
		&cli.IntFlag{Name: "gpu-layers", Aliases: []string{"ngl"}, Value: -1, Usage: "layers to offload to a GPU; -1: all (no effect in a CPU-only build)"},
		&cli.StringFlag{Name: "rpc", Usage: "offload layers to ggml-rpc servers: `HOST:PORT,...` (rpc-server built from this checkout)"},
		&cli.StringFlag{Name: "flash-attn", Aliases: []string{"fa"}, Value: "auto", Usage: "flash attention: on, off or auto"},
		&cli.StringFlag{Name: "cache-type-k", Aliases: []string{"ctk", "cache-type"}, Value: "f16", Usage: "K cache type: f32, f16, bf16, q8_0, q4_0, q4_1, iq4_nl, q5_0, q5_1"},
		&cli.StringFlag{Name: "cache-type-v", Aliases: []string{"ctv"}, Usage: "V cache type (same names; default: the K cache type)"},
		&cli.BoolFlag{Name: "swa-full", Usage: "models with sliding-window layers (Gemma 2/3, ...): keep the whole context in their cache, not only the window (as llama.cpp's --swa-full)"},
		&cli.BoolFlag{Name: "quoka", Usage: "enable QUOKA sparse attention during prefill (implied by the other --quoka-* flags)"},
		&cli.StringFlag{Name: "quoka-budget", Usage: "B_SA, past keys kept per KV head: `N` keys, or N% of the visible past (default 1024)"},
		&cli.IntFlag{Name: "quoka-queries", Usage: "N_Q, queries per head that score the past keys (default 16)"},
		&cli.IntFlag{Name: "quoka-min-kv", Usage: "past keys up to which prefill stays dense"},
		&cli.BoolFlag{Name: "quoka-decode", Usage: "also select keys for single-token steps (decode stays dense by default)"},
		&cli.BoolFlag{Name: "quoka-force", Usage: "take the sparse path as soon as a chunk has a past, also when B_SA covers it (testing)"},
		&cli.BoolFlag{Name: "quoka-invert", Usage: "keep the worst-scoring keys instead of the best (a negative control)"},
		&cli.IntFlag{Name: "quoka-sink", Usage: "quoka+: keep the keys of each sequence's first `N` positions whatever their score (attention sinks, within B_SA)"},
		&cli.IntFlag{Name: "quoka-chunk", Usage: "quoka+: select for sub-chunks of `N` queries of each ubatch, each with its own B_SA (0: once per ubatch, the paper's B_CP = n_ubatch)"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print model, context and timing details to stderr"},
	}
}

// samplingFlags configure token sampling and the generation length.
func samplingFlags(nPredict int) []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "n-predict", Aliases: []string{"n"}, Value: nPredict, Usage: "most tokens to generate; -1: until end of text or a full context"},
		&cli.Float64Flag{Name: "temp", Value: 0.8, Usage: "temperature; 0 samples greedily"},
		&cli.IntFlag{Name: "top-k", Value: 40, Usage: "top-k sampling; 0 disables"},
		&cli.Float64Flag{Name: "top-p", Value: 0.95, Usage: "top-p sampling; 1 disables"},
		&cli.Float64Flag{Name: "min-p", Value: 0.05, Usage: "min-p sampling; 0 disables"},
		&cli.Int64Flag{Name: "seed", Value: -1, Usage: "sampling seed; -1: random"},
	}
}

// contextParams reads the context flags. NCtx is left as given (0: decide
// once the prompt is known, see fitContext).
func contextParams(c *cli.Context) (llama.ContextParams, error) {
	p := llama.ContextParams{
		NCtx:    c.Int("ctx-size"),
		NBatch:  c.Int("batch-size"),
		NUBatch: c.Int("ubatch-size"),
		Threads: c.Int("threads"),
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"ctx-size", p.NCtx}, {"threads", p.Threads}} {
		if f.v < 0 {
			return p, usageErrorf("--%s %d: must not be negative", f.name, f.v)
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"batch-size", p.NBatch}, {"ubatch-size", p.NUBatch}} {
		if f.v <= 0 {
			return p, usageErrorf("--%s %d: must be positive", f.name, f.v)
		}
	}
	p.ThreadsBatch = p.Threads
	// quokarun's sessions never go back in a sequence (they clear the cache and prefill again), so
	// a sliding-window cache needs only the window, as in llama.cpp's tools
	p.SWAWindow = !c.Bool("swa-full")
	fa, err := llama.ParseFlashAttn(c.String("flash-attn"))
	if err != nil {
		return p, usageErrorf("--flash-attn: %v", err)
	}
	p.FlashAttn = fa
	if p.CacheType, err = llama.ParseCacheType(c.String("cache-type-k")); err != nil {
		return p, usageErrorf("--cache-type-k: %v", err)
	}
	p.CacheTypeV = p.CacheType
	if c.IsSet("cache-type-v") {
		if p.CacheTypeV, err = llama.ParseCacheType(c.String("cache-type-v")); err != nil {
			return p, usageErrorf("--cache-type-v: %v", err)
		}
	}
	if p.CacheTypeV.Quantized() && fa == llama.FlashAttnOff {
		return p, usageErrorf("a quantised V cache (-ctv %s) needs flash attention: use -fa on or auto", p.CacheTypeV)
	}
	if p.Quoka, err = quokaOptions(c); err != nil {
		return p, err
	}
	if p.Quoka.Enabled && fa == llama.FlashAttnOff {
		return p, usageErrorf("--quoka needs flash attention: use -fa on or auto")
	}
	return p, nil
}

// noteQuokaOff prints one line when p asked for QUOKA but llama.cpp runs this context dense: no
// layer of the model can take the sparse path (e.g. every layer sliding-window), or flash
// attention resolved to off. llama.cpp's log (QUOKA_LOG=warn) says why.
func noteQuokaOff(w io.Writer, lc *llama.Session, p llama.ContextParams) {
	if p.Quoka.Enabled && !lc.QuokaActive() {
		fmt.Fprintln(w, "quokarun: QUOKA is off for this model and context, attention stays dense (QUOKA_LOG=warn says why)")
	}
}

// quokaOptions reads the --quoka* flags; any of them enables QUOKA.
func quokaOptions(c *cli.Context) (llama.QuokaOptions, error) {
	q := llama.DefaultQuokaOptions()
	q.Enabled = c.Bool("quoka") || c.IsSet("quoka-budget") || c.IsSet("quoka-queries") || c.IsSet("quoka-min-kv") ||
		c.Bool("quoka-decode") || c.Bool("quoka-force") || c.Bool("quoka-invert") || c.IsSet("quoka-chunk") || c.IsSet("quoka-sink")
	q.Decode = c.Bool("quoka-decode")
	q.Force = c.Bool("quoka-force")
	q.Invert = c.Bool("quoka-invert")
	if !q.Enabled {
		return q, nil
	}
	if c.IsSet("quoka-budget") {
		n, frac, err := parseBudget(c.String("quoka-budget"))
		if err != nil {
			return q, usageErrorf("--quoka-budget: %v", err)
		}
		q.Budget, q.BudgetFraction = n, frac
	}
	if c.IsSet("quoka-queries") {
		q.Queries = c.Int("quoka-queries")
		if q.Queries <= 0 {
			return q, usageErrorf("--quoka-queries %d: must be positive", q.Queries)
		}
	}
	if c.IsSet("quoka-min-kv") {
		q.MinKV = c.Int("quoka-min-kv")
		if q.MinKV < 0 {
			return q, usageErrorf("--quoka-min-kv %d: must not be negative", q.MinKV)
		}
	}
	if c.IsSet("quoka-sink") {
		q.Sink = c.Int("quoka-sink")
		if q.Sink < 0 {
			return q, usageErrorf("--quoka-sink %d: must not be negative", q.Sink)
		}
	}
	if c.IsSet("quoka-chunk") {
		q.Chunk = c.Int("quoka-chunk")
		if q.Chunk < 0 {
			return q, usageErrorf("--quoka-chunk %d: must not be negative", q.Chunk)
		}
	}
	if err := q.Validate(); err != nil {
		return q, usageErrorf("%v", err)
	}
	return q, nil
}

// parseBudget parses "256" (keys: n = 256) or "12.5%" (a fraction: 0.125).
func parseBudget(s string) (n int, frac float64, err error) {
	s = strings.TrimSpace(s)
	if pct, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(pct), 64)
		if err != nil || math.IsNaN(f) || f <= 0 || f > 100 {
			return 0, 0, fmt.Errorf("invalid value %q (want a percentage in (0, 100])", s)
		}
		return 0, f / 100, nil
	}
	n, err = strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("invalid value %q (want N keys or N%%)", s)
	}
	return n, 0, nil
}

// generateOptions reads the sampling flags.
func generateOptions(c *cli.Context) (llama.GenerateOptions, error) {
	sp := llama.SamplerParams{
		Temperature: float32(c.Float64("temp")),
		TopK:        c.Int("top-k"),
		TopP:        float32(c.Float64("top-p")),
		MinP:        float32(c.Float64("min-p")),
		Seed:        llama.RandomSeed,
	}
	switch seed := c.Int64("seed"); {
	case seed >= 0 && seed < int64(llama.RandomSeed):
		sp.Seed = uint32(seed)
	case seed != -1:
		return llama.GenerateOptions{}, usageErrorf("--seed %d: want -1 (random) or 0..%d", seed, llama.RandomSeed-1)
	}
	if err := sp.Validate(); err != nil {
		return llama.GenerateOptions{}, usageErrorf("%v", err)
	}
	n := c.Int("n-predict")
	if n < -1 || n == 0 {
		return llama.GenerateOptions{}, usageErrorf("--n-predict %d: want a positive count or -1", n)
	}
	return llama.GenerateOptions{MaxTokens: max(n, 0), Sampler: sp}, nil
}

// defaultCtx is the context size used when -c is 0 and the prompt fits.
const defaultCtx = 4096

// fitContext picks the context size for -c 0: min(train, 4096), grown up
// to the training context to fit the prompt and the tokens to generate.
func fitContext(requested, train, promptTokens, nPredict int) int {
	if requested > 0 {
		return requested
	}
	if train <= 0 {
		train = defaultCtx
	}
	need := promptTokens + max(nPredict, 0)
	return min(train, max(defaultCtx, need))
}
