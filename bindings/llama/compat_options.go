package llama

// The rest of go-llama.cpp's options (its options.go at commit 6a8041e), so
// that its programs compile against this package with only the import path
// changed. Each doc comment says what the option does with today's
// llama.cpp; those marked "No-op" are accepted and change nothing, because
// llama.cpp no longer has the feature (or the setting is fixed elsewhere).

// Model options.

// EnableEmbeddings allows Embeddings and TokenEmbeddings on the model (they
// fail with ErrEmbeddingsDisabled otherwise). Generation is unaffected:
// embeddings are extracted only during those calls.
var EnableEmbeddings ModelOption = func(o *ModelOptions) { o.Embeddings = true }

// EnableNUMA spreads the CPU threads over the machine's NUMA nodes
// (llama_numa_init with the distribute strategy, once per process); on a
// machine with a single node it changes nothing.
var EnableNUMA ModelOption = func(o *ModelOptions) { o.NUMA = true }

// EnabelLowVRAM (go-llama.cpp's spelling) is a no-op: llama.cpp dropped its
// low-VRAM mode; offload is chosen with SetGPULayers.
var EnabelLowVRAM ModelOption = func(o *ModelOptions) { o.LowVRAM = true }

// SetMulMatQ is a no-op: llama.cpp always uses its quantized matrix
// multiplication kernels where they apply.
func SetMulMatQ(b bool) ModelOption { return func(o *ModelOptions) { o.MulMatQ = &b } }

// SetPerplexity is a no-op: it used to make the context keep every token's
// logits, which the Session API requests per batch instead.
func SetPerplexity(b bool) ModelOption { return func(o *ModelOptions) { o.Perplexity = b } }

// SetLoraBase is a no-op: llama.cpp applies LoRA adapters to the loaded
// model itself and has no base-model option any more.
func SetLoraBase(s string) ModelOption { return func(o *ModelOptions) { o.LoraBase = s } }

// SetLoraAdapter applies the LoRA adapter in the GGUF file s (scale 1) to
// the model's context; New fails when it cannot be loaded.
func SetLoraAdapter(s string) ModelOption { return func(o *ModelOptions) { o.LoraAdapter = s } }

// WithRopeFreqBase sets the RoPE base frequency of the context (0 keeps the
// model's).
func WithRopeFreqBase(f float32) ModelOption { return func(o *ModelOptions) { o.FreqRopeBase = f } }

// WithRopeFreqScale sets the RoPE frequency scale of the context (0 keeps
// the model's).
func WithRopeFreqScale(f float32) ModelOption { return func(o *ModelOptions) { o.FreqRopeScale = f } }

// SetModelSeed sets the sampling seed of the predictions that set none of
// their own (SetSeed negative, the default); a seed <= 0 leaves them random.
func SetModelSeed(seed int) ModelOption { return func(o *ModelOptions) { o.Seed = seed } }

// SetTensorSplit sets each GPU's share of the model, e.g. "3,1"
// (llama_model_params.tensor_split). It matters only with several GPUs;
// in a CPU-only build it changes nothing.
func SetTensorSplit(split string) ModelOption { return func(o *ModelOptions) { o.TensorSplit = split } }

// SetMainGPU sets the device index of the GPU that holds the model when it
// is not split (llama_model_params.main_gpu). It matters only with GPU
// backends.
func SetMainGPU(gpu string) ModelOption { return func(o *ModelOptions) { o.MainGPU = gpu } }

// SetEmbeddingPooling (a quoka extension) sets how Embeddings pools the
// token embeddings; the default, PoolingUnspecified, is the model's own.
func SetEmbeddingPooling(p PoolingType) ModelOption { return func(o *ModelOptions) { o.Pooling = p } }

// Predict options.

// Debug prints the prompt's tokens, the sampler chain and the timings of
// the prediction to DebugWriter (stderr by default).
var Debug PredictOption = func(o *PredictOptions) { o.DebugMode = true }

// IgnoreEOS keeps generating past the end of the text: end-of-generation
// tokens get a logit bias of -inf, so generation stops only at the token
// limit, a stop word or a full context.
var IgnoreEOS PredictOption = func(o *PredictOptions) { o.IgnoreEOS = true }

// EnableF16KV is a no-op: the KV cache type is fixed when the context is
// created (F16 unless ModelOptions.F16Memory is false, which selects F32).
var EnableF16KV PredictOption = func(o *PredictOptions) { o.F16KV = true }

// EnablePromptCacheAll makes the prompt cache (SetPathPromptCache) store
// the generated tokens too, not only the prompt.
var EnablePromptCacheAll PredictOption = func(o *PredictOptions) { o.PromptCacheAll = true }

// EnablePromptCacheRO makes the prompt cache (SetPathPromptCache) read-only:
// it is loaded and reused but never written.
var EnablePromptCacheRO PredictOption = func(o *PredictOptions) { o.PromptCacheRO = true }

// WithGrammar constrains the output to the GBNF grammar s (start symbol
// "root"), llama.cpp's grammar sampler. An invalid grammar makes the
// prediction fail.
func WithGrammar(s string) PredictOption { return func(o *PredictOptions) { o.Grammar = s } }

// SetPenalty sets the repeat penalty applied to the last SetRepeat tokens
// (prompt included); 1 disables it (the default, as in llama.cpp today).
func SetPenalty(penalty float32) PredictOption {
	return func(o *PredictOptions) { o.Penalty = penalty }
}

// SetRepeat sets how many of the last tokens the penalties look at (default
// 64; 0 disables the penalties, -1 means the whole context).
func SetRepeat(n int) PredictOption { return func(o *PredictOptions) { o.Repeat = n } }

// SetFrequencyPenalty sets the penalty per earlier occurrence of a token in
// the penalty window; 0 disables it.
func SetFrequencyPenalty(p float32) PredictOption {
	return func(o *PredictOptions) { o.FrequencyPenalty = p }
}

// SetPresencePenalty sets the penalty for a token present in the penalty
// window at all; 0 disables it.
func SetPresencePenalty(p float32) PredictOption {
	return func(o *PredictOptions) { o.PresencePenalty = p }
}

// SetMirostat selects mirostat sampling: 1 for mirostat, 2 for mirostat
// 2.0, 0 (the default) for top-k/top-p/min-p sampling. Mirostat replaces
// top-k, typical, top-p and min-p; the temperature still applies.
func SetMirostat(m int) PredictOption { return func(o *PredictOptions) { o.Mirostat = m } }

// SetMirostatETA sets mirostat's learning rate (default 0.1).
func SetMirostatETA(eta float32) PredictOption {
	return func(o *PredictOptions) { o.MirostatETA = eta }
}

// SetMirostatTAU sets mirostat's target surprise (default 5).
func SetMirostatTAU(tau float32) PredictOption {
	return func(o *PredictOptions) { o.MirostatTAU = tau }
}

// SetTypicalP sets locally typical sampling's p; 1 (the default) disables
// it.
func SetTypicalP(p float32) PredictOption { return func(o *PredictOptions) { o.TypicalP = p } }

// SetLogitBias adds biases to token logits, as TOKEN(+|-)BIAS pairs
// separated by commas or spaces, e.g. "15043+1,2-inf" (see ParseLogitBias).
func SetLogitBias(lb string) PredictOption { return func(o *PredictOptions) { o.LogitBias = lb } }

// SetPathPromptCache makes Predict use the session file f as a prompt
// cache: when it exists, its KV cache is loaded and the prefix of the
// prompt it holds is not recomputed; the prompt (with EnablePromptCacheAll
// also the output) is then saved to it, unless EnablePromptCacheRO.
func SetPathPromptCache(f string) PredictOption {
	return func(o *PredictOptions) { o.PathPromptCache = f }
}

// SetNDraft sets how many tokens the draft model proposes per step of
// SpeculativeSampling (default 16).
func SetNDraft(n int) PredictOption { return func(o *PredictOptions) { o.NDraft = n } }

// SetRopeFreqBase sets the RoPE base frequency for this prediction (0:
// WithRopeFreqBase's, else the model's). A value other than the context's
// recreates the context, so the KV cache is recomputed.
func SetRopeFreqBase(f float32) PredictOption { return func(o *PredictOptions) { o.RopeFreqBase = f } }

// SetRopeFreqScale sets the RoPE frequency scale for this prediction, like
// SetRopeFreqBase.
func SetRopeFreqScale(f float32) PredictOption {
	return func(o *PredictOptions) { o.RopeFreqScale = f }
}

// SetNKeep is a no-op: generation stops when the context is full (see
// Timings.StopReason) instead of shifting it, so there is nothing to keep.
func SetNKeep(n int) PredictOption { return func(o *PredictOptions) { o.NKeep = n } }

// SetBatch is a no-op: the batch size is fixed when the context is created
// (SetNBatch).
func SetBatch(size int) PredictOption { return func(o *PredictOptions) { o.Batch = size } }

// SetTailFreeSamplingZ is a no-op: llama.cpp removed tail-free sampling.
func SetTailFreeSamplingZ(z float32) PredictOption {
	return func(o *PredictOptions) { o.TailFreeSamplingZ = z }
}

// SetPenalizeNL is a no-op: llama.cpp removed the option; newlines are
// penalised like any token.
func SetPenalizeNL(b bool) PredictOption { return func(o *PredictOptions) { o.PenalizeNL = b } }

// SetNegativePrompt is a no-op: llama.cpp removed classifier-free guidance.
func SetNegativePrompt(np string) PredictOption {
	return func(o *PredictOptions) { o.NegativePrompt = np }
}

// SetNegativePromptScale is a no-op, like SetNegativePrompt.
func SetNegativePromptScale(s float32) PredictOption {
	return func(o *PredictOptions) { o.NegativePromptScale = s }
}

// SetMlock is a no-op: memory locking is chosen at load time (EnableMLock).
func SetMlock(b bool) PredictOption { return func(o *PredictOptions) { o.MLock = b } }

// SetMemoryMap is a no-op: memory mapping is chosen at load time (SetMMap).
func SetMemoryMap(b bool) PredictOption { return func(o *PredictOptions) { o.MMap = b } }

// SetPredictionMainGPU is a no-op: the model's placement is fixed at load
// time (SetMainGPU).
func SetPredictionMainGPU(gpu string) PredictOption {
	return func(o *PredictOptions) { o.MainGPU = gpu }
}

// SetPredictionTensorSplit is a no-op: the model's placement is fixed at
// load time (SetTensorSplit).
func SetPredictionTensorSplit(split string) PredictOption {
	return func(o *PredictOptions) { o.TensorSplit = split }
}

// SetEmbeddingNorm (a quoka extension) sets how Embeddings normalises its
// result, as llama-embedding's --embd-normalize: 2 (the default) euclidean,
// -1 none, 0 max-abs scaled to the int16 range, p > 2 the p-norm.
func SetEmbeddingNorm(n int) PredictOption { return func(o *PredictOptions) { o.EmbeddingNorm = n } }
