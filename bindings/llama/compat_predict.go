package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// DebugWriter receives what the Debug option prints (the prompt tokens, the
// sampler chain and the timings). Set it before predicting, not meanwhile.
var DebugWriter io.Writer = os.Stderr

var numaOnce sync.Once

// initNUMA spreads the CPU threads over the NUMA nodes (llama_numa_init
// with GGML_NUMA_STRATEGY_DISTRIBUTE), once per process. On a machine with
// one node it changes nothing.
func initNUMA() {
	initBackend()
	numaOnce.Do(func() { C.llama_numa_init(C.GGML_NUMA_STRATEGY_DISTRIBUTE) })
}

// loadLoRA loads the LoRA adapter at path for m; llama.cpp frees it with
// the model.
func loadLoRA(m *Model, path string) (*C.struct_llama_adapter_lora, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("lora adapter: %w", err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var a *C.struct_llama_adapter_lora
	msg := captureLogErrors(func() { a = C.llama_adapter_lora_init(m.ref.ptr, cpath) })
	if a == nil {
		return nil, fmt.Errorf("lora adapter %q: %s", path, msg)
	}
	return a, nil
}

// parseMainGPU parses go-llama.cpp's main GPU option: a device index, ""
// meaning 0.
func parseMainGPU(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("main GPU %q is not a device index", s)
	}
	return n, nil
}

// parseTensorSplit parses go-llama.cpp's tensor split option: shares per
// GPU separated by commas (or slashes, as llama.cpp's --tensor-split).
func parseTensorSplit(s string) ([]float32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []float32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '/' }) {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("tensor split %q: bad share %q", s, f)
		}
		out = append(out, float32(v))
	}
	return out, nil
}

// newContext replaces l's context by one made with p, with the LoRA
// adapter applied. The KV cache starts empty.
func (l *LLama) newContext(p ContextParams) error {
	c, err := NewContext(l.model, p)
	if err != nil {
		return err
	}
	if l.lora != nil {
		adapters := [1]*C.struct_llama_adapter_lora{l.lora}
		scales := [1]C.float{1}
		if rc := C.llama_set_adapters_lora(c.res.ptr, &adapters[0], 1, &scales[0]); rc != 0 {
			c.Free()
			return fmt.Errorf("llama: applying the lora adapter %q failed (status %d)", l.opts.LoraAdapter, rc)
		}
	}
	if l.ctx != nil {
		l.ctx.Free()
	}
	l.ctx = c
	l.past, l.reuse = nil, false
	return nil
}

// prepare applies a call's thread count and RoPE settings: a RoPE base or
// scale other than the context's needs a new context (the KV cache is then
// recomputed).
func (l *LLama) prepare(o PredictOptions) error {
	if o.Threads > 0 {
		l.ctx.SetThreads(o.Threads, o.Threads)
	}
	p := l.ctx.Params()
	base, scale := l.opts.FreqRopeBase, l.opts.FreqRopeScale
	if o.RopeFreqBase > 0 {
		base = o.RopeFreqBase
	}
	if o.RopeFreqScale > 0 {
		scale = o.RopeFreqScale
	}
	if base == p.RopeFreqBase && scale == p.RopeFreqScale {
		return nil
	}
	want := l.opts.contextParams()
	want.Threads, want.ThreadsBatch = p.Threads, p.ThreadsBatch
	want.RopeFreqBase, want.RopeFreqScale = base, scale
	if err := l.newContext(want); err != nil {
		return fmt.Errorf("llama: new context for RoPE base %g scale %g: %w", base, scale, err)
	}
	return nil
}

// predict is Predict with l.mu held.
func (l *LLama) predict(text string, o PredictOptions) (string, error) {
	if err := l.prepare(o); err != nil {
		return "", err
	}
	toks, err := l.ctx.Tokenize(text, true, false)
	if err != nil {
		return "", err
	}
	if len(toks) == 0 {
		return "", errors.New("llama: predict of an empty prompt")
	}
	ctx := o.callContext()
	onToken := l.onToken(o)
	cache := o.PathPromptCache
	if cache != "" {
		l.loadPromptCache(cache)
	}
	smpl, err := predictSampler(l.ctx.res.ref, l.ctx.NCtx(), o, l.opts.Seed, toks)
	if err != nil {
		return "", err
	}
	defer smpl.Free()

	rest := l.reusePrefixN(toks, true)
	if o.DebugMode {
		l.debugPrompt(toks, len(toks)-len(rest), smpl)
	}
	prefilled := 0
	if cache != "" && !o.PromptCacheRO && !o.PromptCacheAll && len(rest) > 1 {
		// Save the prompt but its last token, which the generation below
		// decodes for the first logits.
		if err := l.ctx.Prefill(ctx, rest[:len(rest)-1], nil); err != nil {
			l.past = append(toks[:0:0], toks[:l.ctx.NPast()]...)
			return "", err
		}
		prefilled = len(rest) - 1
		rest = rest[len(rest)-1:]
		if err := l.ctx.SaveState(cache, toks[:len(toks)-1]); err != nil {
			return "", fmt.Errorf("prompt cache: %w", err)
		}
	}

	var gen []Token
	out, t, err := l.ctx.GenerateTokens(ctx, rest, GenerateOptions{
		MaxTokens: o.Tokens,
		StopWords: o.StopPrompts,
		OnToken:   onToken,
		Chain:     smpl,
		OnTokenID: func(t Token) { gen = append(gen, t) },
	})
	t.PromptTokens += prefilled
	l.timings = t
	all := append(toks[:len(toks):len(toks)], gen...)
	l.past = all[:min(len(all), l.ctx.NPast())]
	if o.DebugMode {
		fmt.Fprintf(DebugWriter, "llama: prompt %d tokens (%d reused) in %v, generated %d tokens in %v, stop: %s\n",
			len(toks), len(toks)-len(rest)-prefilled, t.PrefillDuration, t.GeneratedTokens, t.DecodeDuration, t.StopReason)
	}
	if err == nil && cache != "" && !o.PromptCacheRO && o.PromptCacheAll {
		if err := l.ctx.SaveState(cache, l.past); err != nil {
			return out, fmt.Errorf("prompt cache: %w", err)
		}
	}
	return out, err
}

// loadPromptCache loads the prompt cache file at path, when there is one,
// for the next reusePrefix; a missing or unreadable file just means no
// reuse (it is rewritten later).
func (l *LLama) loadPromptCache(path string) {
	if _, err := os.Stat(path); err != nil {
		return
	}
	toks, err := l.ctx.LoadState(path)
	if err != nil {
		l.ctx.ClearKV()
		l.past, l.reuse = nil, false
		return
	}
	l.past, l.reuse = toks, true
}

// debugPrompt prints the prompt's tokens and the sampler chain.
func (l *LLama) debugPrompt(toks []Token, reused int, smpl *Sampler) {
	w := DebugWriter
	fmt.Fprintf(w, "llama: prompt: %d tokens, %d reused from the KV cache\n", len(toks), reused)
	for _, t := range toks {
		fmt.Fprintf(w, "%6d -> %q\n", t, l.ctx.TokenToPiece(t))
	}
	var names []string
	for i := range int(C.llama_sampler_chain_n(smpl.ptr)) {
		names = append(names, C.GoString(C.llama_sampler_name(C.llama_sampler_chain_get(smpl.ptr, C.int32_t(i)))))
	}
	fmt.Fprintf(w, "llama: sampler chain: %s\n", strings.Join(names, " -> "))
}

// callContext is o.Context, or context.Background() when none is set.
func (o PredictOptions) callContext() context.Context {
	if o.Context == nil {
		return context.Background()
	}
	return o.Context
}

// onToken is o.TokenCallback, or the callback set with SetTokenCallback.
func (l *LLama) onToken(o PredictOptions) func(string) bool {
	if o.TokenCallback != nil {
		return o.TokenCallback
	}
	return l.tokenCallback
}
