package llama

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"sync"
)

// LLama is a model with one context, behind the go-llama.cpp-style API:
// New, Predict, TokenizeString, SetTokenCallback, Free. Its methods may be
// called from several goroutines; predictions run one at a time.
type LLama struct {
	mu            sync.Mutex
	opts          ModelOptions
	model         *Model
	ctx           *Session
	lora          *C.struct_llama_adapter_lora
	tokenCallback func(token string) bool
	timings       Timings
	// past is the token sequence the KV cache holds; reuse says whether the
	// next call may continue from it (after LoadState or a prompt cache).
	past  []Token
	reuse bool
	// speculation is the last SpeculativeSampling's draft statistics.
	speculation SpeculationStats
}

// New loads the model at modelPath and creates a context for it.
func New(modelPath string, opts ...ModelOption) (*LLama, error) {
	o := NewModelOptions(opts...)
	// Fail on QUOKA options before the (possibly slow) load.
	if err := CheckQuoka(o.Quoka); err != nil {
		return nil, err
	}
	mp, err := o.modelParams()
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", modelPath, err)
	}
	if o.NUMA {
		initNUMA()
	}
	m, err := LoadModel(modelPath, mp)
	if err != nil {
		return nil, err
	}
	l := &LLama{opts: o, model: m}
	if o.LoraAdapter != "" {
		if l.lora, err = loadLoRA(m, o.LoraAdapter); err != nil {
			m.Free()
			return nil, err
		}
	}
	if err := l.newContext(o.contextParams()); err != nil {
		m.Free()
		return nil, err
	}
	return l, nil
}

// Free releases the context and the model. It is idempotent.
func (l *LLama) Free() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ctx.Free()
	l.model.Free()
	l.lora, l.past, l.reuse = nil, nil, false
}

// Model is the underlying model.
func (l *LLama) Model() *Model { return l.model }

// Session is the underlying llama.cpp context. Calls on it must not overlap
// Predict. A Predict with a RoPE setting different from the context's
// replaces it: call Session again afterwards.
func (l *LLama) Session() *Session { return l.ctx }

// SetTokenCallback streams the output of later Predict calls to fn
// (returning false stops generation); nil turns streaming off.
func (l *LLama) SetTokenCallback(fn func(token string) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokenCallback = fn
}

// Predict generates a completion of text, starting from an empty KV cache
// (or, after LoadState or with SetPathPromptCache, from the cached prefix of
// its tokens).
func (l *LLama) Predict(text string, opts ...PredictOption) (string, error) {
	o := NewPredictOptions(opts...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return "", ErrClosed
	}
	return l.predict(text, o)
}

// Timings are the measurements of the last Predict.
func (l *LLama) Timings() Timings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.timings
}

// TokenizeString tokenizes text as Predict does (with BOS) and returns the
// token count and the tokens. The options are accepted for compatibility
// and change nothing (tokenizing depends on the model only).
func (l *LLama) TokenizeString(text string, _ ...PredictOption) (int32, []int32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	toks, err := l.ctx.Tokenize(text, true, false)
	if err != nil {
		return 0, nil, err
	}
	out := make([]int32, len(toks))
	for i, t := range toks {
		out[i] = int32(t)
	}
	return int32(len(out)), out, nil
}
