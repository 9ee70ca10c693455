package llama

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
)

// QuokaOptions configures QUOKA, query-oriented sparse attention during
// prefill: for each prefill chunk (n_ubatch tokens, the paper's B_CP) and each
// KV head, QUOKA scores the past keys against a few representative queries of
// the chunk and attends only to the best-scoring ones plus the chunk itself.
// Decoding stays dense.
type QuokaOptions struct {
	// Enabled turns QUOKA on. The other fields are ignored when it is off.
	Enabled bool
	// Budget is the number of past keys kept per KV head for each chunk
	// (the paper's B_SA). 0 means: use BudgetFraction.
	Budget int
	// BudgetFraction sets B_SA as a fraction (0, 1] of the past keys visible
	// to the chunk, used when Budget is 0.
	BudgetFraction float64
	// Queries is the number of queries per head that score the past keys
	// (the paper's N_Q). 0 means the default, 16.
	Queries int
	// MinKV is the number of past keys up to which a chunk attends densely:
	// QUOKA engages only once the past holds more keys than this (a past
	// that fits in the budget B_SA is attended densely anyway).
	MinKV int
	// Decode also applies the selection to single-token ubatches (decode).
	// Off by default: decoding stays dense.
	Decode bool
	// Force takes the sparse path (selection, gather, compacted mask) as
	// soon as a chunk has a past, also when the budget covers all of it. For
	// tests: with a budget that covers the context it must equal dense.
	Force bool
	// Invert keeps the worst-scoring keys instead of the best ones: a
	// deliberately bad selection, as a negative control for evaluations.
	Invert bool
	// Chunk splits each sequence's tokens in a ubatch into selection
	// sub-chunks of this many queries, each selecting its own Budget keys
	// among the past before the ubatch (quoka+, not in the paper): the
	// selection then follows chunks of Chunk tokens while the ubatch, and
	// so the matrix multiplications, stay large. 0 (the default) selects
	// once per sequence and ubatch, as the paper does with B_CP = n_ubatch.
	Chunk int
	// Sink keeps the keys of each sequence's first Sink positions whatever
	// their score (attention sinks, quoka+, not in the paper); they take
	// Budget slots. 0 (the default) keeps only what the scores choose.
	Sink int
}

// DefaultBudget is the default B_SA, the paper's 1024 keys per KV head.
const DefaultBudget = 1024

// DefaultQueries is the default N_Q.
const DefaultQueries = 16

// DefaultQuokaOptions returns QUOKA switched off with the defaults the other
// fields take when it is switched on: N_Q 16 and B_SA 1024 keys.
func DefaultQuokaOptions() QuokaOptions {
	return QuokaOptions{Budget: DefaultBudget, Queries: DefaultQueries}
}

// Validate reports option values that cannot work. Options that are not
// Enabled are always valid.
func (q QuokaOptions) Validate() error {
	if !q.Enabled {
		return nil
	}
	var errs []error
	if q.Budget < 0 {
		errs = append(errs, fmt.Errorf("budget %d is negative", q.Budget))
	}
	if q.Budget == 0 && !(q.BudgetFraction > 0 && q.BudgetFraction <= 1) {
		errs = append(errs, fmt.Errorf("budget fraction %g is not in (0, 1]", q.BudgetFraction))
	}
	if q.Queries < 0 {
		errs = append(errs, fmt.Errorf("queries %d is negative", q.Queries))
	}
	if q.MinKV < 0 {
		errs = append(errs, fmt.Errorf("min KV %d is negative", q.MinKV))
	}
	if q.Chunk < 0 {
		errs = append(errs, fmt.Errorf("chunk %d is negative", q.Chunk))
	}
	if q.Sink < 0 {
		errs = append(errs, fmt.Errorf("sink %d is negative", q.Sink))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid QUOKA options: %w", err)
	}
	return nil
}

// String summarises the options, e.g. "off" or "B_SA=256 N_Q=16 min_kv=512".
func (q QuokaOptions) String() string {
	if !q.Enabled {
		return "off"
	}
	budget := fmt.Sprintf("B_SA=%d", q.Budget)
	if q.Budget == 0 {
		budget = fmt.Sprintf("B_SA=%g%%", q.BudgetFraction*100)
	}
	return fmt.Sprintf("%s N_Q=%d min_kv=%d", budget, q.queries(), q.MinKV) + q.Extras()
}

// Extras lists the options beyond the budget, N_Q and min_kv as String writes them, each with a
// leading space: " chunk=N", " sink=N", " decode", " force", " inverted"; empty when none is set.
func (q QuokaOptions) Extras() string {
	var s string
	if q.Chunk > 0 {
		s += fmt.Sprintf(" chunk=%d", q.Chunk)
	}
	if q.Sink > 0 {
		s += fmt.Sprintf(" sink=%d", q.Sink)
	}
	if q.Decode {
		s += " decode"
	}
	if q.Force {
		s += " force"
	}
	if q.Invert {
		s += " inverted"
	}
	return s
}

func (q QuokaOptions) queries() int {
	if q.Queries == 0 {
		return DefaultQueries
	}
	return q.Queries
}

// applyQuoka writes q into the llama.cpp context parameters
// (llama_context_params.quoka_*, from the patch series). QUOKA needs flash
// attention; with flash attention explicitly off it is refused.
func applyQuoka(p *C.struct_llama_context_params, q QuokaOptions) error {
	if err := q.Validate(); err != nil {
		return err
	}
	p.quoka = C.bool(q.Enabled)
	if !q.Enabled {
		return nil
	}
	if p.flash_attn_type == C.LLAMA_FLASH_ATTN_TYPE_DISABLED {
		return fmt.Errorf("%w: QUOKA needs flash attention (use -fa on or auto)", ErrQuokaUnavailable)
	}
	p.quoka_budget = C.int32_t(q.Budget)
	p.quoka_budget_frac = C.float(q.BudgetFraction)
	p.quoka_queries = C.int32_t(q.queries())
	p.quoka_min_kv = C.int32_t(q.MinKV)
	p.quoka_decode = C.bool(q.Decode)
	p.quoka_force = C.bool(q.Force)
	p.quoka_chunk = C.int32_t(q.Chunk)
	p.quoka_sink = C.int32_t(q.Sink)
	p.quoka_mode = 0
	if q.Invert {
		p.quoka_mode = C.GGML_QUOKA_MODE_MIN
	}
	return nil
}

// CheckQuoka reports whether NewContext would accept q (with flash attention
// on auto): it fails with a validation error. Use it to fail before loading a
// model.
func CheckQuoka(q QuokaOptions) error {
	p := C.llama_context_default_params()
	return applyQuoka(&p, q)
}

// QuokaActive reports whether QUOKA is on for this context. It is false when
// QUOKA was not asked for or the session is freed, and also when llama.cpp could not serve it (for
// example flash attention "auto" resolved to off on this backend);
// llama.cpp then logs the reason once and attention stays dense.
func (c *Session) QuokaActive() bool {
	ptr := c.live()
	return ptr != nil && bool(C.llama_quoka_enabled(ptr))
}

// QuokaLayers returns the layers whose attention takes the QUOKA path in a
// sparse ubatch, as llama.cpp planned them when the context was created, in
// increasing order; nil when QUOKA is off or B_SA covers the whole context
// (attention is then never sparse). The other layers stay dense: the
// sliding-window layers of a model with an iSWA cache (Gemma 2 and 3, ...),
// layers with a KQ bias, and layers whose KV device cannot run the QUOKA ops.
// (Attention sinks, ALiBi and MLA take the QUOKA path.) QUOKA's selection
// of layer il is captured as "quoka_sel-<il>" (ContextParams.Capture).
func (c *Session) QuokaLayers() []int {
	ptr := c.live()
	if ptr == nil {
		return nil
	}
	n := int(C.llama_quoka_layers(ptr, nil, 0))
	if n <= 0 {
		return nil
	}
	buf := make([]C.int32_t, n)
	n = int(C.llama_quoka_layers(ptr, &buf[0], C.int32_t(n)))
	out := make([]int, 0, n)
	for _, l := range buf[:min(n, len(buf))] {
		out = append(out, int(l))
	}
	return out
}

// QuokaUbatches is the number of ubatches computed with QUOKA sparse
// attention (in at least one layer) since the context was created: the proof
// that QUOKA engaged.
func (c *Session) QuokaUbatches() int {
	ptr := c.live()
	if ptr == nil {
		return 0
	}
	return int(C.llama_perf_context(ptr).n_quoka)
}
