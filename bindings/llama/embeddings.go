package llama

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// PoolingType is how the token embeddings of a sequence are pooled into one
// vector (llama.cpp's enum llama_pooling_type). The zero value,
// PoolingUnspecified, means the model's own.
type PoolingType int

// Pooling types. Generative models (llama and the like) have none: their
// sequence embedding is then the last token's.
const (
	PoolingUnspecified PoolingType = iota // the model's own
	PoolingNone
	PoolingMean
	PoolingCLS
	PoolingLast
	PoolingRank
)

// c is p as llama.cpp's enum (whose values are one less).
func (p PoolingType) c() C.enum_llama_pooling_type {
	return C.enum_llama_pooling_type(int(p) - 1)
}

func poolingFromC(p C.enum_llama_pooling_type) PoolingType { return PoolingType(int(p) + 1) }

func (p PoolingType) String() string {
	switch p {
	case PoolingNone:
		return "none"
	case PoolingMean:
		return "mean"
	case PoolingCLS:
		return "cls"
	case PoolingLast:
		return "last"
	case PoolingRank:
		return "rank"
	case PoolingUnspecified:
		return "unspecified"
	}
	return fmt.Sprintf("pooling(%d)", int(p))
}

// ErrEmbeddingsDisabled is returned by LLama.Embeddings and
// LLama.TokenEmbeddings when the model was loaded without EnableEmbeddings.
var ErrEmbeddingsDisabled = errors.New("model loaded without embeddings (use EnableEmbeddings)")

// applyExtraContextParams copies the embeddings, pooling and RoPE fields of
// p into llama.cpp's context parameters.
func applyExtraContextParams(cp *C.struct_llama_context_params, p ContextParams) {
	cp.embeddings = C.bool(p.Embeddings)
	cp.pooling_type = p.Pooling.c()
	if p.RopeFreqBase > 0 {
		cp.rope_freq_base = C.float(p.RopeFreqBase)
	}
	if p.RopeFreqScale > 0 {
		cp.rope_freq_scale = C.float(p.RopeFreqScale)
	}
}

// Embeddings computes the embedding of tokens as one sequence, pooled with
// the context's pooling type (Params().Pooling) and normalised with norm
// (see NormalizeEmbedding), as llama.cpp's llama-embedding tool does. With
// no pooling the result is the last token's embedding.
//
// It starts from an empty KV cache and leaves it empty: embeddings do not
// mix with a sequence being generated. The tokens must fit in one n_batch
// decode, and with mean, CLS or rank pooling in one n_ubatch, since
// llama.cpp pools per ubatch.
func (c *Session) Embeddings(ctx context.Context, tokens []Token, norm int) ([]float32, error) {
	ptr := c.live()
	if ptr == nil {
		return nil, ErrClosed
	}
	pool := c.params.Pooling
	limit := c.params.NBatch
	if pool == PoolingMean || pool == PoolingCLS || pool == PoolingRank {
		limit = min(limit, c.params.NUBatch)
	}
	switch {
	case len(tokens) == 0:
		return nil, errors.New("llama: embeddings of an empty input")
	case len(tokens) > limit:
		return nil, fmt.Errorf("llama: embeddings of %d tokens: %s pooling takes at most %d (n_batch %d, n_ubatch %d)",
			len(tokens), pool, limit, c.params.NBatch, c.params.NUBatch)
	case len(tokens) > c.NCtx():
		return nil, &PromptTooLongError{Tokens: len(tokens), Available: c.NCtx(), NCtx: c.NCtx()}
	}
	n := int(C.llama_model_n_embd_out(c.res.ref.ptr))
	if pool == PoolingRank {
		n = int(C.llama_model_n_cls_out(c.res.ref.ptr))
	}

	c.ClearKV()
	defer c.ClearKV()
	if !c.params.Embeddings {
		C.llama_set_embeddings(ptr, true)
		defer C.llama_set_embeddings(ptr, false)
	}
	c.batch.Clear()
	for i, t := range tokens {
		c.batch.add(t, i, true)
	}
	if err := c.Decode(ctx, c.batch); err != nil {
		return nil, fmt.Errorf("llama: embeddings: %w", err)
	}
	var p *C.float
	if pool == PoolingNone {
		p = C.llama_get_embeddings_ith(ptr, -1)
	} else {
		p = C.llama_get_embeddings_seq(ptr, 0)
	}
	if p == nil {
		return nil, fmt.Errorf("llama: embeddings: llama.cpp returned none (pooling %s)", pool)
	}
	out := make([]float32, n)
	NormalizeEmbedding(out, unsafe.Slice((*float32)(unsafe.Pointer(p)), n), norm)
	return out, nil
}

// NormalizeEmbedding writes in normalised into out (they may be the same
// slice) exactly as llama.cpp's common_embd_normalize: norm -1 leaves the
// values as they are, 0 scales the largest magnitude to 32760 (int16
// range), 2 divides by the euclidean norm, any other p by the p-norm. An
// all-zero input stays zero.
func NormalizeEmbedding(out, in []float32, norm int) {
	var sum float64
	switch norm {
	case -1:
		sum = 1
	case 0:
		for _, v := range in {
			sum = max(sum, math.Abs(float64(v)))
		}
		sum /= 32760.0
	case 2:
		for _, v := range in {
			sum += float64(v * v)
		}
		sum = math.Sqrt(sum)
	default:
		for _, v := range in {
			sum += math.Pow(math.Abs(float64(v)), float64(norm))
		}
		sum = math.Pow(sum, 1.0/float64(norm))
	}
	var scale float32
	if sum > 0 {
		scale = float32(1.0 / sum)
	}
	for i, v := range in {
		out[i] = v * scale
	}
}

// Embeddings returns the embedding of text (tokenized with BOS and special
// tokens parsed, as llama-embedding does): pooled with the model's pooling
// type (or SetEmbeddingPooling's), the last token's for models without
// pooling, and normalised to unit euclidean length (SetEmbeddingNorm
// changes that). The model must be loaded with EnableEmbeddings. Of the
// options only SetEmbeddingNorm and WithContext apply.
func (l *LLama) Embeddings(text string, opts ...PredictOption) ([]float32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return nil, ErrClosed
	}
	if !l.opts.Embeddings {
		return nil, ErrEmbeddingsDisabled
	}
	toks, err := l.ctx.Tokenize(text, true, true)
	if err != nil {
		return nil, err
	}
	return l.embeddings(toks, NewPredictOptions(opts...))
}

// TokenEmbeddings is Embeddings of already tokenized input (token ids as
// ints, as go-llama.cpp takes them; no BOS is added).
func (l *LLama) TokenEmbeddings(tokens []int, opts ...PredictOption) ([]float32, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return nil, ErrClosed
	}
	if !l.opts.Embeddings {
		return nil, ErrEmbeddingsDisabled
	}
	nVocab := l.model.VocabSize()
	toks := make([]Token, len(tokens))
	for i, t := range tokens {
		if t < 0 || t >= nVocab {
			return nil, fmt.Errorf("llama: token %d at %d is not in the vocabulary (%d tokens)", t, i, nVocab)
		}
		toks[i] = Token(t)
	}
	return l.embeddings(toks, NewPredictOptions(opts...))
}

func (l *LLama) embeddings(toks []Token, o PredictOptions) ([]float32, error) {
	ctx := o.callContext()
	l.past = nil // the KV cache is emptied
	return l.ctx.Embeddings(ctx, toks, o.EmbeddingNorm)
}
