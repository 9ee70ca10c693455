package llama

import (
	"context"
	"sync"
)

// LLama is a model with one context, behind the go-llama.cpp-style API:
// New, Predict, TokenizeString, SetTokenCallback, Free. Its methods may be
// called from several goroutines; predictions run one at a time.
type LLama struct {
	mu            sync.Mutex
	model         *Model
	ctx           *Context
	tokenCallback func(token string) bool
	timings       Timings
}

// New loads the model at modelPath and creates a context for it.
func New(modelPath string, opts ...ModelOption) (*LLama, error) {
	o := NewModelOptions(opts...)
	// Fail on QUOKA options before the (possibly slow) load.
	if err := CheckQuoka(o.Quoka); err != nil {
		return nil, err
	}
	m, err := LoadModel(modelPath, o.modelParams())
	if err != nil {
		return nil, err
	}
	c, err := NewContext(m, o.contextParams())
	if err != nil {
		m.Free()
		return nil, err
	}
	return &LLama{model: m, ctx: c}, nil
}

// Free releases the context and the model. It is idempotent.
func (l *LLama) Free() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ctx.Free()
	l.model.Free()
}

// Model is the underlying model.
func (l *LLama) Model() *Model { return l.model }

// Context is the underlying context. Calls on it must not overlap Predict.
func (l *LLama) Context() *Context { return l.ctx }

// SetTokenCallback streams the output of later Predict calls to fn
// (returning false stops generation); nil turns streaming off.
func (l *LLama) SetTokenCallback(fn func(token string) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tokenCallback = fn
}

// Predict generates a completion of text, starting from an empty KV cache.
func (l *LLama) Predict(text string, opts ...PredictOption) (string, error) {
	o := NewPredictOptions(opts...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return "", ErrClosed
	}
	if o.Threads > 0 {
		l.ctx.SetThreads(o.Threads, o.Threads)
	}
	onToken := o.TokenCallback
	if onToken == nil {
		onToken = l.tokenCallback
	}
	ctx := o.Context
	if ctx == nil {
		ctx = context.Background()
	}
	l.ctx.ClearKV()
	out, t, err := l.ctx.Generate(ctx, text, GenerateOptions{
		MaxTokens: o.Tokens,
		Sampler:   o.samplerParams(),
		StopWords: o.StopPrompts,
		OnToken:   onToken,
	})
	l.timings = t
	return out, err
}

// Timings are the measurements of the last Predict.
func (l *LLama) Timings() Timings {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.timings
}

// TokenizeString tokenizes text as Predict does (with BOS) and returns the
// token count and the tokens. The options are accepted for compatibility.
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
