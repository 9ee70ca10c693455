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

func (o ModelOptions) modelParams() ModelParams {
	return ModelParams{GPULayers: o.NGPULayers, NoMMap: !o.MMap, MLock: o.MLock}
}

func (o ModelOptions) contextParams() ContextParams {
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	return ContextParams{
		NCtx: o.ContextSize, NBatch: o.NBatch, NUBatch: o.NUBatch,
		Threads: threads, ThreadsBatch: threads,
		FlashAttn: o.FlashAttn, Quoka: o.Quoka,
	}
}
