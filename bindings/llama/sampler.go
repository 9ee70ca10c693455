package llama

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
)

// RandomSeed as a SamplerParams.Seed picks a random seed.
const RandomSeed uint32 = 0xFFFFFFFF // LLAMA_DEFAULT_SEED

// SamplerParams configures a sampler chain. The zero value samples greedily.
type SamplerParams struct {
	// Temperature scales the logits; <= 0 means greedy (always the most
	// likely token; the other fields are then ignored).
	Temperature float32
	// TopK keeps the K most likely tokens; 0 disables it.
	TopK int
	// TopP keeps the most likely tokens whose probabilities sum to P
	// (nucleus sampling); 0 or 1 disables it.
	TopP float32
	// MinP drops tokens less likely than MinP times the most likely one;
	// 0 disables it.
	MinP float32
	// Seed seeds the random choice; RandomSeed picks one at random.
	Seed uint32
}

// DefaultSamplerParams returns llama.cpp's defaults: temperature 0.8, top-k
// 40, top-p 0.95, min-p 0.05, random seed.
func DefaultSamplerParams() SamplerParams {
	return SamplerParams{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, Seed: RandomSeed}
}

// Greedy reports whether the parameters select the most likely token.
func (p SamplerParams) Greedy() bool { return p.Temperature <= 0 }

// Validate reports parameters out of range.
func (p SamplerParams) Validate() error {
	var errs []error
	if p.TopK < 0 {
		errs = append(errs, fmt.Errorf("top-k %d is negative", p.TopK))
	}
	if p.TopP < 0 || p.TopP > 1 {
		errs = append(errs, fmt.Errorf("top-p %g is not in [0, 1]", p.TopP))
	}
	if p.MinP < 0 || p.MinP > 1 {
		errs = append(errs, fmt.Errorf("min-p %g is not in [0, 1]", p.MinP))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid sampler parameters: %w", err)
	}
	return nil
}

// Sampler is a llama.cpp sampler chain.
type Sampler struct {
	ptr     *C.struct_llama_sampler
	cleanup runtime.Cleanup
}

// NewSampler builds the chain top-k → top-p → min-p → temperature → random
// choice, or a greedy sampler when p.Temperature <= 0.
func NewSampler(p SamplerParams) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	initBackend()
	cp := C.llama_sampler_chain_default_params()
	cp.no_perf = true
	chain := C.llama_sampler_chain_init(cp)
	if p.Greedy() {
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_greedy())
	} else {
		if p.TopK > 0 {
			C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_k(C.int32_t(p.TopK)))
		}
		if p.TopP > 0 && p.TopP < 1 {
			C.llama_sampler_chain_add(chain, C.llama_sampler_init_top_p(C.float(p.TopP), 1))
		}
		if p.MinP > 0 {
			C.llama_sampler_chain_add(chain, C.llama_sampler_init_min_p(C.float(p.MinP), 1))
		}
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_temp(C.float(p.Temperature)))
		C.llama_sampler_chain_add(chain, C.llama_sampler_init_dist(C.uint32_t(p.Seed)))
	}
	s := &Sampler{ptr: chain}
	s.cleanup = runtime.AddCleanup(s, func(p *C.struct_llama_sampler) { C.llama_sampler_free(p) }, chain)
	return s, nil
}

// Free releases the sampler. It is idempotent.
func (s *Sampler) Free() {
	if s == nil || s.ptr == nil {
		return
	}
	s.cleanup.Stop()
	C.llama_sampler_free(s.ptr)
	s.ptr = nil
}

// Sample picks a token from the logits of the i-th output of c's last
// Decode and accepts it into the chain's state. i means what it means for
// Session.Logits: outputs are counted among the tokens whose logits were
// requested, not by batch position, and negative i counts from the end (-1
// is the last).
func (s *Sampler) Sample(c *Session, i int) (Token, error) {
	if s.ptr == nil || c.live() == nil {
		return 0, ErrClosed
	}
	row, ok := c.outputRow(i)
	if !ok {
		return 0, fmt.Errorf("llama: no logits for output %d (the last decode produced %d)", i, c.outputs)
	}
	return Token(C.llama_sampler_sample(s.ptr, c.res.ptr, row)), nil
}

// Accept records t in the chain's state (for samplers that track history)
// without sampling; Sample already accepts what it returns.
func (s *Sampler) Accept(t Token) {
	if s.ptr != nil {
		C.llama_sampler_accept(s.ptr, C.llama_token(t))
	}
}

// Reset clears the chain's state.
func (s *Sampler) Reset() {
	if s.ptr != nil {
		C.llama_sampler_reset(s.ptr)
	}
}
