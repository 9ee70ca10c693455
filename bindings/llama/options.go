package llama

import (
	"context"
	"runtime"
)

// ModelOptions configures New (the go-llama.cpp-compatible API): how the
// model is loaded and the context created for it.
type ModelOptions struct {
	ContextSize int  // context window in tokens (default 512)
	NBatch      int  // n_batch: most tokens per decode (default 512)
	NUBatch     int  // n_ubatch: the prefill chunk (default: NBatch)
	NGPULayers  int  // layers offloaded to a GPU (default 0)
	F16Memory   bool // F16 KV cache; llama.cpp's default, kept for compatibility
	MMap        bool // memory-map the weights (default true)
	MLock       bool // keep the weights resident
	Threads     int  // default threads for prediction (default: one per CPU)
	FlashAttn   FlashAttn
	Quoka       QuokaOptions

	// The fields below complete go-llama.cpp's ModelOptions; see the option
	// that sets each one (compat_options.go) for what it does today.

	Seed          int     // default sampling seed when > 0 (SetModelSeed)
	LowVRAM       bool    // no-op (EnabelLowVRAM)
	Embeddings    bool    // allow Embeddings and TokenEmbeddings (EnableEmbeddings)
	NUMA          bool    // NUMA-aware thread placement (EnableNUMA)
	MainGPU       string  // the GPU for the whole model, a device index (SetMainGPU)
	TensorSplit   string  // comma-separated shares of the model per GPU (SetTensorSplit)
	FreqRopeBase  float32 // RoPE base frequency, 0: the model's (WithRopeFreqBase)
	FreqRopeScale float32 // RoPE frequency scale, 0: the model's (WithRopeFreqScale)
	MulMatQ       *bool   // no-op (SetMulMatQ)
	LoraBase      string  // no-op (SetLoraBase)
	LoraAdapter   string  // LoRA adapter file applied to the context (SetLoraAdapter)
	Perplexity    bool    // no-op (SetPerplexity)
	// Pooling is how Embeddings pools token embeddings (quoka extension,
	// SetEmbeddingPooling); PoolingUnspecified means the model's own.
	Pooling PoolingType
}

// ModelOption sets a ModelOptions field.
type ModelOption func(*ModelOptions)

// DefaultModelOptions are the options New starts from.
var DefaultModelOptions = ModelOptions{
	ContextSize: 512,
	NBatch:      512,
	MMap:        true,
	F16Memory:   true,
	Quoka:       DefaultQuokaOptions(),
}

// NewModelOptions applies opts to DefaultModelOptions.
func NewModelOptions(opts ...ModelOption) ModelOptions {
	o := DefaultModelOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// SetContext sets the context window in tokens.
func SetContext(n int) ModelOption { return func(o *ModelOptions) { o.ContextSize = n } }

// SetNBatch sets n_batch, the most tokens one decode takes.
func SetNBatch(n int) ModelOption { return func(o *ModelOptions) { o.NBatch = n } }

// SetUBatch sets n_ubatch, the prefill chunk size.
func SetUBatch(n int) ModelOption { return func(o *ModelOptions) { o.NUBatch = n } }

// SetGPULayers sets the number of layers offloaded to a GPU.
func SetGPULayers(n int) ModelOption { return func(o *ModelOptions) { o.NGPULayers = n } }

// SetMMap turns memory-mapping of the weights on or off.
func SetMMap(b bool) ModelOption { return func(o *ModelOptions) { o.MMap = b } }

// SetModelThreads sets the default number of threads for prediction.
func SetModelThreads(n int) ModelOption { return func(o *ModelOptions) { o.Threads = n } }

// SetFlashAttn selects flash attention.
func SetFlashAttn(f FlashAttn) ModelOption { return func(o *ModelOptions) { o.FlashAttn = f } }

// EnableQuoka enables QUOKA sparse prefill attention with q (q.Enabled is
// set for you).
func EnableQuoka(q QuokaOptions) ModelOption {
	return func(o *ModelOptions) {
		q.Enabled = true
		o.Quoka = q
	}
}

// EnableF16Memory asks for an F16 KV cache, which is llama.cpp's default.
var EnableF16Memory ModelOption = func(o *ModelOptions) { o.F16Memory = true }

// EnableMLock keeps the weights resident in memory.
var EnableMLock ModelOption = func(o *ModelOptions) { o.MLock = true }

// PredictOptions configures one Predict call.
type PredictOptions struct {
	Tokens        int // most tokens to generate (default 128)
	Threads       int // 0: the model's default
	TopK          int
	TopP          float32
	MinP          float32
	Temperature   float32 // 0: greedy
	Seed          int     // negative: random
	StopPrompts   []string
	TokenCallback func(token string) bool
	Context       context.Context // cancels the prediction (default: never)

	// The fields below complete go-llama.cpp's PredictOptions; see the
	// option that sets each one (compat_options.go) for what it does today.

	Repeat            int     // penalty window: the last Repeat tokens (SetRepeat)
	Batch             int     // no-op (SetBatch)
	NKeep             int     // no-op (SetNKeep)
	Penalty           float32 // repeat penalty, 1: off (SetPenalty)
	NDraft            int     // draft tokens per speculative step (SetNDraft)
	F16KV             bool    // no-op (EnableF16KV)
	DebugMode         bool    // print the prompt tokens and timings (Debug)
	IgnoreEOS         bool    // never sample an end-of-generation token (IgnoreEOS)
	TailFreeSamplingZ float32 // no-op (SetTailFreeSamplingZ)
	TypicalP          float32 // locally typical sampling, 1: off (SetTypicalP)
	FrequencyPenalty  float32 // 0: off (SetFrequencyPenalty)
	PresencePenalty   float32 // 0: off (SetPresencePenalty)
	Mirostat          int     // 0: off, 1: mirostat, 2: mirostat 2.0 (SetMirostat)
	MirostatETA       float32 // mirostat learning rate (SetMirostatETA)
	MirostatTAU       float32 // mirostat target surprise (SetMirostatTAU)
	PenalizeNL        bool    // no-op (SetPenalizeNL)
	LogitBias         string  // "token(+|-)bias ..." pairs (SetLogitBias)
	PathPromptCache   string  // state file reused across calls (SetPathPromptCache)
	MLock             bool    // no-op (SetMlock)
	MMap              bool    // no-op (SetMemoryMap)
	PromptCacheAll    bool    // save the generated tokens too (EnablePromptCacheAll)
	PromptCacheRO     bool    // read the prompt cache, never write it (EnablePromptCacheRO)
	Grammar           string  // GBNF grammar constraining the output (WithGrammar)
	MainGPU           string  // no-op (SetPredictionMainGPU)
	TensorSplit       string  // no-op (SetPredictionTensorSplit)
	RopeFreqBase      float32 // RoPE base for this call, 0: the model options' (SetRopeFreqBase)
	RopeFreqScale     float32 // RoPE scale for this call, 0: the model options' (SetRopeFreqScale)
	// NegativePromptScale and NegativePrompt are no-ops (SetNegativePrompt).
	NegativePromptScale float32
	NegativePrompt      string
	// EmbeddingNorm is how Embeddings normalises its result (quoka
	// extension, SetEmbeddingNorm): 2 (the default) euclidean, -1 none, 0
	// max-abs scaled to int16, p > 2 the p-norm, as llama-embedding's
	// --embd-normalize.
	EmbeddingNorm int
}

// PredictOption sets a PredictOptions field.
type PredictOption func(*PredictOptions)

// DefaultOptions are the options Predict starts from.
var DefaultOptions = PredictOptions{
	Tokens:      128,
	TopK:        40,
	TopP:        0.95,
	MinP:        0.05,
	Temperature: 0.8,
	Seed:        -1,
	// llama.cpp's sampling defaults today (go-llama.cpp's were a repeat
	// penalty of 1.1 and NKeep 64): penalties off, mirostat parameters as
	// upstream.
	Repeat:            64,
	Penalty:           1.0,
	TailFreeSamplingZ: 1.0,
	TypicalP:          1.0,
	MirostatTAU:       5.0,
	MirostatETA:       0.1,
	MMap:              true,
	EmbeddingNorm:     2,
}

// NewPredictOptions applies opts to DefaultOptions.
func NewPredictOptions(opts ...PredictOption) PredictOptions {
	o := DefaultOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// SetTokens sets the most tokens to generate.
func SetTokens(n int) PredictOption { return func(o *PredictOptions) { o.Tokens = n } }

// SetThreads sets the number of threads.
func SetThreads(n int) PredictOption { return func(o *PredictOptions) { o.Threads = n } }

// SetTemperature sets the sampling temperature; 0 samples greedily.
func SetTemperature(t float32) PredictOption { return func(o *PredictOptions) { o.Temperature = t } }

// SetTopK sets top-k sampling (0 disables it).
func SetTopK(k int) PredictOption { return func(o *PredictOptions) { o.TopK = k } }

// SetTopP sets top-p (nucleus) sampling (1 disables it).
func SetTopP(p float32) PredictOption { return func(o *PredictOptions) { o.TopP = p } }

// SetMinP sets min-p sampling (0 disables it).
func SetMinP(p float32) PredictOption { return func(o *PredictOptions) { o.MinP = p } }

// SetSeed sets the sampling seed; a negative seed picks a random one.
func SetSeed(seed int) PredictOption { return func(o *PredictOptions) { o.Seed = seed } }

// SetStopWords sets words that end generation.
func SetStopWords(words ...string) PredictOption {
	return func(o *PredictOptions) { o.StopPrompts = words }
}

// SetTokenCallback streams the output to fn; returning false stops
// generation. It overrides LLama.SetTokenCallback for this call.
func SetTokenCallback(fn func(token string) bool) PredictOption {
	return func(o *PredictOptions) { o.TokenCallback = fn }
}

// WithContext makes ctx cancel the prediction.
func WithContext(ctx context.Context) PredictOption {
	return func(o *PredictOptions) { o.Context = ctx }
}

func (o PredictOptions) samplerParams() SamplerParams {
	seed := RandomSeed
	if o.Seed >= 0 {
		seed = uint32(o.Seed)
	}
	return SamplerParams{Temperature: o.Temperature, TopK: o.TopK, TopP: o.TopP, MinP: o.MinP, Seed: seed}
}

func (o ModelOptions) modelParams() (ModelParams, error) {
	p := ModelParams{GPULayers: o.NGPULayers, NoMMap: !o.MMap, MLock: o.MLock}
	var err error
	if p.MainGPU, err = parseMainGPU(o.MainGPU); err != nil {
		return p, err
	}
	if p.TensorSplit, err = parseTensorSplit(o.TensorSplit); err != nil {
		return p, err
	}
	return p, nil
}

func (o ModelOptions) contextParams() ContextParams {
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	cache := CacheF16
	if !o.F16Memory {
		cache = CacheF32
	}
	return ContextParams{
		NCtx: o.ContextSize, NBatch: o.NBatch, NUBatch: o.NUBatch,
		Threads: threads, ThreadsBatch: threads,
		FlashAttn: o.FlashAttn, Quoka: o.Quoka, CacheType: cache,
		Pooling: o.Pooling, RopeFreqBase: o.FreqRopeBase, RopeFreqScale: o.FreqRopeScale,
	}
}
