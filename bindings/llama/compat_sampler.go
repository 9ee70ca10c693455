package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"unsafe"
)

// LogitBias is a bias added to one token's logit before sampling
// (math.Inf(-1) bans the token).
type LogitBias struct {
	Token Token
	Bias  float32
}

// ParseLogitBias parses go-llama.cpp's (and llama.cpp's --logit-bias)
// notation: TOKEN(+|-)BIAS, e.g. "15043+1" or "2-inf"; several pairs may be
// separated by commas or spaces.
func ParseLogitBias(s string) ([]LogitBias, error) {
	var out []LogitBias
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		i := strings.IndexAny(f, "+-")
		if i <= 0 {
			return nil, fmt.Errorf("logit bias %q: want TOKEN+BIAS or TOKEN-BIAS", f)
		}
		tok, err := strconv.ParseInt(f[:i], 10, 32)
		if err != nil || tok < 0 {
			return nil, fmt.Errorf("logit bias %q: bad token id %q", f, f[:i])
		}
		v, err := strconv.ParseFloat(f[i+1:], 32)
		if err != nil || math.IsNaN(v) {
			return nil, fmt.Errorf("logit bias %q: bad bias %q", f, f[i+1:])
		}
		if f[i] == '-' {
			v = -v
		}
		out = append(out, LogitBias{Token: Token(tok), Bias: float32(v)})
	}
	return out, nil
}

// predictSampler builds the sampler chain of one Predict call, in
// llama.cpp's order: logit bias (with the end-of-generation tokens banned
// under IgnoreEOS), repeat/frequency/presence penalties (primed with the
// prompt), the grammar, then greedy choice, mirostat (v1 or v2 after
// temperature) or top-k → typical → top-p → min-p → temperature → random
// choice. modelSeed seeds the choice when o.Seed is negative and it is
// positive.
func predictSampler(r *modelRef, nCtx int, o PredictOptions, modelSeed int, prompt []Token) (*Sampler, error) {
	sp := o.samplerParams()
	if o.Seed < 0 && modelSeed > 0 {
		sp.Seed = uint32(modelSeed)
	}
	var errs []error
	if err := sp.Validate(); err != nil {
		errs = append(errs, err)
	}
	if o.Penalty <= 0 {
		errs = append(errs, fmt.Errorf("repeat penalty %g is not positive", o.Penalty))
	}
	if o.Mirostat < 0 || o.Mirostat > 2 {
		errs = append(errs, fmt.Errorf("mirostat %d is not 0, 1 or 2", o.Mirostat))
	}
	bias, err := ParseLogitBias(o.LogitBias)
	if err != nil {
		errs = append(errs, err)
	}
	nVocab := r.nVocab()
	for _, b := range bias {
		if int(b.Token) >= nVocab {
			errs = append(errs, fmt.Errorf("logit bias on token %d: the vocabulary has %d tokens", b.Token, nVocab))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("invalid predict options: %w", err)
	}
	if o.IgnoreEOS {
		for t := range nVocab {
			if r.isEOG(Token(t)) {
				bias = append(bias, LogitBias{Token: Token(t), Bias: float32(math.Inf(-1))})
			}
		}
	}

	initBackend()
	cp := C.llama_sampler_chain_default_params()
	cp.no_perf = true
	chain := C.llama_sampler_chain_init(cp)
	s := &Sampler{ptr: chain}
	s.cleanup = runtime.AddCleanup(s, func(p *C.struct_llama_sampler) { C.llama_sampler_free(p) }, chain)
	add := func(x *C.struct_llama_sampler) { C.llama_sampler_chain_add(chain, x) }

	if len(bias) > 0 {
		cb := make([]C.llama_logit_bias, len(bias))
		for i, b := range bias {
			cb[i] = C.llama_logit_bias{token: C.llama_token(b.Token), bias: C.float(b.Bias)}
		}
		// llama_sampler_init_logit_bias copies the array.
		add(C.llama_sampler_init_logit_bias(C.int32_t(nVocab), C.int32_t(len(cb)), unsafe.SliceData(cb)))
	}
	if o.Penalty != 1 || o.FrequencyPenalty != 0 || o.PresencePenalty != 0 {
		lastN := o.Repeat
		if lastN < 0 {
			lastN = nCtx
		}
		pen := C.llama_sampler_init_penalties(C.int32_t(nVocab), C.int32_t(lastN), C.float(o.Penalty),
			C.float(o.FrequencyPenalty), C.float(o.PresencePenalty))
		for _, t := range prompt {
			C.llama_sampler_accept(pen, C.llama_token(t))
		}
		add(pen)
	}
	if o.Grammar != "" {
		gs := C.CString(o.Grammar)
		root := C.CString("root")
		var g *C.struct_llama_sampler
		msg := captureLogErrors(func() { g = C.llama_sampler_init_grammar(r.vocab, gs, root) })
		C.free(unsafe.Pointer(gs))
		C.free(unsafe.Pointer(root))
		if g == nil {
			s.Free()
			return nil, fmt.Errorf("invalid grammar: %s", msg)
		}
		add(g)
	}
	switch {
	case o.Mirostat == 1:
		add(C.llama_sampler_init_temp(C.float(o.Temperature)))
		add(C.llama_sampler_init_mirostat(C.int32_t(nVocab), C.uint32_t(sp.Seed), C.float(o.MirostatTAU), C.float(o.MirostatETA), 100))
	case o.Mirostat == 2:
		add(C.llama_sampler_init_temp(C.float(o.Temperature)))
		add(C.llama_sampler_init_mirostat_v2(C.uint32_t(sp.Seed), C.float(o.MirostatTAU), C.float(o.MirostatETA)))
	case sp.Greedy():
		add(C.llama_sampler_init_greedy())
	default:
		if sp.TopK > 0 {
			add(C.llama_sampler_init_top_k(C.int32_t(sp.TopK)))
		}
		if o.TypicalP > 0 && o.TypicalP < 1 {
			add(C.llama_sampler_init_typical(C.float(o.TypicalP), 1))
		}
		if sp.TopP > 0 && sp.TopP < 1 {
			add(C.llama_sampler_init_top_p(C.float(sp.TopP), 1))
		}
		if sp.MinP > 0 {
			add(C.llama_sampler_init_min_p(C.float(sp.MinP), 1))
		}
		add(C.llama_sampler_init_temp(C.float(sp.Temperature)))
		add(C.llama_sampler_init_dist(C.uint32_t(sp.Seed)))
	}
	return s, nil
}
