package llama_test

import "github.com/quoka-llm/quoka/bindings/llama"

// Every exported identifier of go-skynet/go-llama.cpp's llama package (its
// llama.go and options.go at commit 6a8041ef6b46d4712afc3ae791d1c2d73da0ad1c)
// with its exact type: this file compiles only if the signatures match.

var (
	_ func(string, ...llama.ModelOption) (*llama.LLama, error)                         = llama.New
	_ func(*llama.LLama)                                                               = (*llama.LLama).Free
	_ func(*llama.LLama, string) error                                                 = (*llama.LLama).LoadState
	_ func(*llama.LLama, string) error                                                 = (*llama.LLama).SaveState
	_ func(*llama.LLama, []int, ...llama.PredictOption) ([]float32, error)             = (*llama.LLama).TokenEmbeddings
	_ func(*llama.LLama, string, ...llama.PredictOption) ([]float32, error)            = (*llama.LLama).Embeddings
	_ func(*llama.LLama, string, ...llama.PredictOption) error                         = (*llama.LLama).Eval
	_ func(*llama.LLama, *llama.LLama, string, ...llama.PredictOption) (string, error) = (*llama.LLama).SpeculativeSampling
	_ func(*llama.LLama, string, ...llama.PredictOption) (string, error)               = (*llama.LLama).Predict
	_ func(*llama.LLama, string, ...llama.PredictOption) (int32, []int32, error)       = (*llama.LLama).TokenizeString
	_ func(*llama.LLama, func(token string) bool)                                      = (*llama.LLama).SetTokenCallback

	_ func(...llama.ModelOption) llama.ModelOptions     = llama.NewModelOptions
	_ func(...llama.PredictOption) llama.PredictOptions = llama.NewPredictOptions
	_ llama.ModelOptions                                = llama.DefaultModelOptions
	_ llama.PredictOptions                              = llama.DefaultOptions

	// ModelOption constructors and values
	_ func(bool) llama.ModelOption    = llama.SetMulMatQ
	_ func(string) llama.ModelOption  = llama.SetLoraBase
	_ func(string) llama.ModelOption  = llama.SetLoraAdapter
	_ func(int) llama.ModelOption     = llama.SetContext
	_ func(float32) llama.ModelOption = llama.WithRopeFreqBase
	_ func(float32) llama.ModelOption = llama.WithRopeFreqScale
	_ func(int) llama.ModelOption     = llama.SetModelSeed
	_ func(bool) llama.ModelOption    = llama.SetMMap
	_ func(int) llama.ModelOption     = llama.SetNBatch
	_ func(string) llama.ModelOption  = llama.SetTensorSplit
	_ func(string) llama.ModelOption  = llama.SetMainGPU
	_ func(bool) llama.ModelOption    = llama.SetPerplexity
	_ func(int) llama.ModelOption     = llama.SetGPULayers
	_ llama.ModelOption               = llama.EnabelLowVRAM
	_ llama.ModelOption               = llama.EnableNUMA
	_ llama.ModelOption               = llama.EnableEmbeddings
	_ llama.ModelOption               = llama.EnableF16Memory
	_ llama.ModelOption               = llama.EnableMLock

	// PredictOption constructors and values
	_ func(string) llama.PredictOption            = llama.SetPredictionTensorSplit
	_ func(string) llama.PredictOption            = llama.SetPredictionMainGPU
	_ func(float32) llama.PredictOption           = llama.SetRopeFreqBase
	_ func(float32) llama.PredictOption           = llama.SetRopeFreqScale
	_ func(int) llama.PredictOption               = llama.SetNDraft
	_ func(float32) llama.PredictOption           = llama.SetNegativePromptScale
	_ func(string) llama.PredictOption            = llama.SetNegativePrompt
	_ func(string) llama.PredictOption            = llama.WithGrammar
	_ func(bool) llama.PredictOption              = llama.SetMlock
	_ func(bool) llama.PredictOption              = llama.SetMemoryMap
	_ func(func(string) bool) llama.PredictOption = llama.SetTokenCallback
	_ func(...string) llama.PredictOption         = llama.SetStopWords
	_ func(int) llama.PredictOption               = llama.SetSeed
	_ func(int) llama.PredictOption               = llama.SetThreads
	_ func(int) llama.PredictOption               = llama.SetTokens
	_ func(int) llama.PredictOption               = llama.SetTopK
	_ func(float32) llama.PredictOption           = llama.SetTopP
	_ func(float32) llama.PredictOption           = llama.SetTemperature
	_ func(string) llama.PredictOption            = llama.SetPathPromptCache
	_ func(float32) llama.PredictOption           = llama.SetPenalty
	_ func(int) llama.PredictOption               = llama.SetRepeat
	_ func(int) llama.PredictOption               = llama.SetBatch
	_ func(int) llama.PredictOption               = llama.SetNKeep
	_ func(float32) llama.PredictOption           = llama.SetTailFreeSamplingZ
	_ func(float32) llama.PredictOption           = llama.SetTypicalP
	_ func(float32) llama.PredictOption           = llama.SetFrequencyPenalty
	_ func(float32) llama.PredictOption           = llama.SetPresencePenalty
	_ func(int) llama.PredictOption               = llama.SetMirostat
	_ func(float32) llama.PredictOption           = llama.SetMirostatETA
	_ func(float32) llama.PredictOption           = llama.SetMirostatTAU
	_ func(bool) llama.PredictOption              = llama.SetPenalizeNL
	_ func(string) llama.PredictOption            = llama.SetLogitBias
	_ llama.PredictOption                         = llama.EnableF16KV
	_ llama.PredictOption                         = llama.Debug
	_ llama.PredictOption                         = llama.EnablePromptCacheAll
	_ llama.PredictOption                         = llama.EnablePromptCacheRO
	_ llama.PredictOption                         = llama.IgnoreEOS

	// The option types are functions of a pointer to the options, so that
	// go-llama.cpp programs may write their own.
	_ llama.ModelOption   = func(*llama.ModelOptions) {}
	_ llama.PredictOption = func(*llama.PredictOptions) {}
)

// The exported fields of go-llama.cpp's option structs, with their types.
var _ = llama.ModelOptions{
	ContextSize: int(0), Seed: int(0), NBatch: int(0),
	F16Memory: false, MLock: false, MMap: false, LowVRAM: false, Embeddings: false, NUMA: false,
	NGPULayers: int(0), MainGPU: "", TensorSplit: "",
	FreqRopeBase: float32(0), FreqRopeScale: float32(0),
	MulMatQ: (*bool)(nil), LoraBase: "", LoraAdapter: "", Perplexity: false,
}

var _ = llama.PredictOptions{
	Seed: int(0), Threads: int(0), Tokens: int(0), TopK: int(0), Repeat: int(0), Batch: int(0), NKeep: int(0),
	TopP: float32(0), Temperature: float32(0), Penalty: float32(0),
	NDraft: int(0), F16KV: false, DebugMode: false, StopPrompts: []string(nil), IgnoreEOS: false,
	TailFreeSamplingZ: float32(0), TypicalP: float32(0), FrequencyPenalty: float32(0), PresencePenalty: float32(0),
	Mirostat: int(0), MirostatETA: float32(0), MirostatTAU: float32(0), PenalizeNL: false, LogitBias: "",
	TokenCallback:   (func(string) bool)(nil),
	PathPromptCache: "", MLock: false, MMap: false, PromptCacheAll: false, PromptCacheRO: false,
	Grammar: "", MainGPU: "", TensorSplit: "",
	RopeFreqBase: float32(0), RopeFreqScale: float32(0),
	NegativePromptScale: float32(0), NegativePrompt: "",
}

// Untyped constants would convert silently: pin the field types exactly.
func fieldTypes(m llama.ModelOptions, p llama.PredictOptions) {
	var (
		_ int     = m.ContextSize
		_ int     = m.Seed
		_ int     = m.NBatch
		_ int     = m.NGPULayers
		_ string  = m.MainGPU
		_ string  = m.TensorSplit
		_ float32 = m.FreqRopeBase
		_ float32 = m.FreqRopeScale
		_ *bool   = m.MulMatQ
		_ bool    = m.Perplexity

		_ int               = p.Seed
		_ int               = p.NDraft
		_ float32           = p.TopP
		_ float32           = p.Penalty
		_ []string          = p.StopPrompts
		_ func(string) bool = p.TokenCallback
		_ int               = p.Mirostat
		_ string            = p.LogitBias
		_ string            = p.Grammar
		_ float32           = p.RopeFreqBase
		_ float32           = p.NegativePromptScale
	)
}

var _ = fieldTypes
