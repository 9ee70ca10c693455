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
	"runtime"
	"strings"
	"unsafe"
)

// FlashAttn selects flash attention.
type FlashAttn int

const (
	FlashAttnAuto FlashAttn = iota // let llama.cpp decide per backend
	FlashAttnOn
	FlashAttnOff
)

func (f FlashAttn) String() string {
	switch f {
	case FlashAttnOn:
		return "on"
	case FlashAttnOff:
		return "off"
	default:
		return "auto"
	}
}

// ParseFlashAttn parses "auto", "on" or "off" (also "1"/"0", "true"/"false").
func ParseFlashAttn(s string) (FlashAttn, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "auto", "":
		return FlashAttnAuto, nil
	case "on", "1", "true", "enabled":
		return FlashAttnOn, nil
	case "off", "0", "false", "disabled":
		return FlashAttnOff, nil
	}
	return FlashAttnAuto, fmt.Errorf("invalid flash attention mode %q (want auto, on or off)", s)
}

func (f FlashAttn) c() C.enum_llama_flash_attn_type {
	switch f {
	case FlashAttnOn:
		return C.LLAMA_FLASH_ATTN_TYPE_ENABLED
	case FlashAttnOff:
		return C.LLAMA_FLASH_ATTN_TYPE_DISABLED
	default:
		return C.LLAMA_FLASH_ATTN_TYPE_AUTO
	}
}

// ContextParams configures NewContext. Zero fields take llama.cpp's defaults;
// Session.Params reports the values in effect.
type ContextParams struct {
	// NCtx is the context window in tokens; 0 means the model's training
	// context. llama.cpp rounds it up to a multiple of 256.
	NCtx int
	// NBatch is the most tokens one Decode call takes (llama.cpp's logical
	// batch); Prefill feeds prompts in pieces of this size. 0 means 2048,
	// capped at NCtx.
	NBatch int
	// NUBatch is the prefill chunk: llama.cpp computes each batch in
	// ubatches of at most this many tokens (the paper's B_CP, the unit QUOKA
	// selects keys for). Cancellation takes effect between (and within)
	// ubatches. 0 means 512, capped at NBatch.
	NUBatch int
	// Threads and ThreadsBatch are the CPU threads for single-token decoding
	// and for batches (prefill); 0 means runtime.NumCPU().
	Threads      int
	ThreadsBatch int
	// FlashAttn selects flash attention (auto by default).
	FlashAttn FlashAttn
	// CacheType is the K cache's element type (F16 by default), and the V
	// cache's too unless CacheTypeV is set. Quantised V caches need flash
	// attention (llama.cpp refuses them without).
	CacheType CacheType
	// CacheTypeV is the V cache's element type; empty means CacheType.
	CacheTypeV CacheType
	// Sequences is the number of sequences the KV cache holds (llama.cpp's
	// n_seq_max, 0 means 1); Decode batches may then mix sequence ids 0 to
	// Sequences-1 (see Batch.Add). NPast, ClearKV, TruncateKV, Prefill and
	// Generate work on sequence 0.
	Sequences int
	// KVUnified puts all sequences in one KV buffer (llama.cpp's kv_unified,
	// what llama-server uses). QUOKA serves several sequences per ubatch
	// either way: as query groups in a unified cache, or one selection per
	// KV stream otherwise (then without Quoka.Chunk sub-chunks).
	KVUnified bool
	// SWAWindow keeps only the last window (plus a ubatch) of positions in the
	// sliding-window cache of a model with sliding-window layers (Gemma 2 and
	// 3, ...), as llama.cpp's tools do without --swa-full: less memory, but
	// TruncateKV cannot go back past the window. Without it that cache holds
	// the whole context. No effect on other models.
	SWAWindow bool
	// Quoka configures QUOKA sparse attention for prefill (off by default).
	Quoka QuokaOptions
	// Capture names graph tensors (at most 16, e.g. "quoka_sel-0", QUOKA's
	// selection in layer 0) whose values Decode records for Captured.
	// Capturing splits the graph at those tensors; it is meant for tests
	// and inspection, not for speed.
	Capture []string
	// Embeddings makes every Decode extract embeddings too (and compute
	// all tokens' outputs). Session.Embeddings does not need it: it turns
	// extraction on for its own decode only.
	Embeddings bool
	// Pooling is how embeddings are pooled per sequence
	// (PoolingUnspecified: the model's own, none for generative models).
	Pooling PoolingType
	// RopeFreqBase and RopeFreqScale override the model's RoPE base
	// frequency and frequency scale; 0 keeps the model's.
	RopeFreqBase, RopeFreqScale float32
}

// DefaultContextParams returns a 4096-token context with llama.cpp's default
// batch sizes and one thread per CPU.
func DefaultContextParams() ContextParams {
	return ContextParams{
		NCtx: 4096, NBatch: 2048, NUBatch: 512,
		Threads: runtime.NumCPU(), ThreadsBatch: runtime.NumCPU(),
		Quoka: DefaultQuokaOptions(),
	}
}

// Session is an inference session on a Model, a llama.cpp context: a KV
// cache holding one token sequence (sequence 0 for Prefill and Generate;
// Decode accepts any batch), the logits of the last decode and the scratch
// state to compute them. NewContext creates one. A Session is not safe for
// concurrent use.
//
// (It is not called Context so that programs written for go-llama.cpp, whose
// ginkgo tests dot-import both this package and ginkgo's Context, compile.)
type Session struct {
	model   *Model
	res     *ctxResources // nil once freed
	params  ContextParams
	batch   *Batch // scratch batch for Prefill and Generate, NBatch tokens
	cleanup runtime.Cleanup

	// outputs is the number of logit rows the last successful Decode left
	// (0 after a failure or ClearKV): Logits and Sample check indices against it.
	outputs int
}

// ctxResources is the C side of a Session, freed by Free or, as a safety
// net, by a runtime cleanup.
type ctxResources struct {
	ptr     *C.struct_llama_context
	abort   *C.int    // the flag llama_decode polls, see armAbort
	ref     *modelRef // the model's weights and vocabulary, kept alive
	capture *C.struct_quoka_capture
}

func (r *ctxResources) free() {
	C.llama_free(r.ptr)
	C.quoka_capture_free(r.capture)
	C.quoka_abort_flag_free(r.abort)
	r.ref.release()
}

// NewContext creates a context on m.
func NewContext(m *Model, p ContextParams) (*Session, error) {
	if m.live() == nil {
		return nil, ErrClosed
	}
	if p.NCtx < 0 || p.NBatch < 0 || p.NUBatch < 0 || p.Threads < 0 || p.ThreadsBatch < 0 {
		return nil, fmt.Errorf("llama: invalid context parameters %+v", p)
	}
	cp := C.llama_context_default_params()
	if p.NCtx > 0 {
		cp.n_ctx = C.uint32_t(p.NCtx)
	}
	if p.NBatch > 0 {
		cp.n_batch = C.uint32_t(p.NBatch)
	}
	if p.NUBatch > 0 {
		cp.n_ubatch = C.uint32_t(p.NUBatch)
	}
	if p.Threads == 0 {
		p.Threads = runtime.NumCPU()
	}
	if p.ThreadsBatch == 0 {
		p.ThreadsBatch = p.Threads
	}
	cp.n_threads = C.int32_t(p.Threads)
	cp.n_threads_batch = C.int32_t(p.ThreadsBatch)
	cp.flash_attn_type = p.FlashAttn.c()
	if p.CacheType == "" {
		p.CacheType = CacheF16
	}
	if p.CacheTypeV == "" {
		p.CacheTypeV = p.CacheType
	}
	tk, err := p.CacheType.c()
	if err != nil {
		return nil, err
	}
	tv, err := p.CacheTypeV.c()
	if err != nil {
		return nil, err
	}
	if p.CacheTypeV.Quantized() && p.FlashAttn == FlashAttnOff {
		return nil, fmt.Errorf("llama: a quantised V cache (%s) needs flash attention", p.CacheTypeV)
	}
	cp.type_k, cp.type_v = tk, tv
	if p.Sequences < 0 {
		return nil, fmt.Errorf("llama: %d sequences: must not be negative", p.Sequences)
	}
	if p.Sequences == 0 {
		p.Sequences = 1
	}
	cp.n_seq_max = C.uint32_t(p.Sequences)
	cp.kv_unified = C.bool(p.KVUnified)
	cp.swa_full = C.bool(!p.SWAWindow)
	applyExtraContextParams(&cp, p)
	if err := applyQuoka(&cp, p.Quoka); err != nil {
		return nil, err
	}
	var capture *C.struct_quoka_capture
	if len(p.Capture) > 0 {
		if len(p.Capture) > 16 {
			return nil, fmt.Errorf("llama: at most 16 tensors can be captured, got %d", len(p.Capture))
		}
		capture = C.quoka_capture_new()
		for _, name := range p.Capture {
			cs := C.CString(name)
			C.quoka_capture_add_name(capture, cs)
			C.free(unsafe.Pointer(cs))
		}
		C.quoka_capture_install(&cp, capture)
	}

	var ptr *C.struct_llama_context
	msg := captureLogErrors(func() { ptr = C.llama_init_from_model(m.ref.ptr, cp) })
	if ptr == nil {
		C.quoka_capture_free(capture)
		return nil, fmt.Errorf("llama: creating context (n_ctx %d, n_batch %d, n_ubatch %d): %s",
			cp.n_ctx, cp.n_batch, cp.n_ubatch, msg)
	}
	res := &ctxResources{ptr: ptr, abort: C.quoka_abort_flag_new(), ref: m.ref, capture: capture}
	m.ref.acquire()
	C.quoka_set_abort_callback(ptr, res.abort)

	p.NCtx = int(C.llama_n_ctx(ptr))
	p.NBatch = int(C.llama_n_batch(ptr))
	p.NUBatch = int(C.llama_n_ubatch(ptr))
	p.Pooling = poolingFromC(C.llama_pooling_type(ptr))
	batch, err := NewBatch(p.NBatch, 1)
	if err != nil {
		res.free()
		return nil, err
	}
	c := &Session{model: m, res: res, params: p, batch: batch}
	c.cleanup = runtime.AddCleanup(c, (*ctxResources).free, res)
	return c, nil
}

// Free releases the context and its KV cache. It is idempotent.
func (c *Session) Free() {
	if c == nil || c.res == nil {
		return
	}
	c.cleanup.Stop()
	c.batch.Free()
	c.res.free()
	c.res = nil
}

func (c *Session) live() *C.struct_llama_context {
	if c == nil || c.res == nil {
		return nil
	}
	return c.res.ptr
}

// Model is the model the context was created on.
func (c *Session) Model() *Model { return c.model }

// Params are the parameters in effect (NCtx, NBatch, NUBatch as llama.cpp
// adjusted them, thread counts filled in).
func (c *Session) Params() ContextParams { return c.params }

// NCtx is the size of the context window in tokens.
func (c *Session) NCtx() int { return c.params.NCtx }

// NPast is the number of positions of sequence 0 held in the KV cache: the
// position the next token of the sequence takes.
func (c *Session) NPast() int {
	ptr := c.live()
	if ptr == nil {
		return 0
	}
	return int(C.llama_memory_seq_pos_max(C.llama_get_memory(ptr), 0)) + 1
}

// ClearKV empties the KV cache, starting a fresh sequence.
func (c *Session) ClearKV() {
	if ptr := c.live(); ptr != nil {
		C.llama_memory_clear(C.llama_get_memory(ptr), true)
		c.outputs = 0
	}
}

// TruncateKV drops the positions from n on of sequence 0 from the KV cache,
// keeping the first n.
func (c *Session) TruncateKV(n int) error {
	ptr := c.live()
	if ptr == nil {
		return ErrClosed
	}
	if !C.llama_memory_seq_rm(C.llama_get_memory(ptr), 0, C.llama_pos(n), -1) {
		return fmt.Errorf("llama: cannot truncate the KV cache to %d positions", n)
	}
	c.outputs = 0
	return nil
}

// SetThreads changes the thread counts (0 keeps the current value).
func (c *Session) SetThreads(threads, threadsBatch int) {
	ptr := c.live()
	if ptr == nil {
		return
	}
	if threads > 0 {
		c.params.Threads = threads
	}
	if threadsBatch > 0 {
		c.params.ThreadsBatch = threadsBatch
	}
	C.llama_set_n_threads(ptr, C.int32_t(c.params.Threads), C.int32_t(c.params.ThreadsBatch))
}

// Decode runs the model on b, extending the KV cache.
//
// Cancelling ctx aborts the computation: llama.cpp polls an abort flag
// between graph nodes, so Decode returns within one node's compute time with
// an error satisfying errors.Is(err, context.Canceled) (or
// context.DeadlineExceeded). The KV cache stays consistent: the ubatches
// computed before the abort remain (NPast tells how far), the interrupted
// one is removed. Callers can resume from NPast or ClearKV.
func (c *Session) Decode(ctx context.Context, b *Batch) error {
	ptr := c.live()
	switch {
	case ptr == nil || b.freed:
		return ErrClosed
	case b.Len() == 0:
		return errors.New("llama: decode of an empty batch")
	case b.Len() > c.params.NBatch:
		// llama_decode asserts on this; reject it here instead.
		return fmt.Errorf("llama: batch of %d tokens exceeds n_batch %d", b.Len(), c.params.NBatch)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("llama: decode: %w", err)
	}
	c.outputs = 0

	var rc C.int32_t
	disarm := armAbort(ctx, c.res.abort)
	msg := captureLogErrors(func() { rc = C.llama_decode(ptr, b.c) })
	disarm()

	switch {
	case rc == 0:
		c.outputs = b.nOutputs
		return nil
	case rc == 1:
		return fmt.Errorf("llama: decode of %d tokens at position %d: %w", b.Len(), c.NPast(), ErrContextFull)
	case rc == 2 && ctx.Err() != nil:
		return fmt.Errorf("llama: decode aborted: %w", ctx.Err())
	case rc == 2:
		return errors.New("llama: decode aborted")
	case rc == -1:
		return fmt.Errorf("llama: invalid batch: %s", msg)
	default:
		return fmt.Errorf("llama: decode failed (status %d): %s", rc, msg)
	}
}

// armAbort raises the abort flag that llama_decode polls once ctx is done,
// until the returned disarm is called; disarm waits for a raise in progress
// and lowers the flag again for the next call.
func armAbort(ctx context.Context, flag *C.int) (disarm func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	raised := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		C.quoka_abort_flag_store(flag, 1)
		close(raised)
	})
	return func() {
		if !stop() {
			<-raised
			C.quoka_abort_flag_store(flag, 0)
		}
	}
}

// Prefill feeds tokens into the KV cache after the NPast positions already
// there, in pieces of NBatch tokens (each computed in NUBatch ubatches), and
// requests the logits of the last token only. progress, when set, is called
// after each piece with the tokens done so far.
//
// A prompt that does not fit in the free positions fails with a
// *PromptTooLongError before anything is computed. On cancellation (see
// Decode) the pieces and ubatches completed stay in the KV cache.
func (c *Session) Prefill(ctx context.Context, tokens []Token, progress func(done, total int)) error {
	if c.live() == nil {
		return ErrClosed
	}
	if len(tokens) == 0 {
		return errors.New("llama: prefill of an empty prompt")
	}
	past := c.NPast()
	if free := c.NCtx() - past; len(tokens) > free {
		return &PromptTooLongError{Tokens: len(tokens), Available: free, NCtx: c.NCtx()}
	}
	for done := 0; done < len(tokens); {
		n := min(c.params.NBatch, len(tokens)-done)
		c.batch.Clear()
		for i := done; i < done+n; i++ {
			c.batch.add(tokens[i], past+i, i == len(tokens)-1)
		}
		if err := c.Decode(ctx, c.batch); err != nil {
			return fmt.Errorf("prefill stopped after %d of %d tokens: %w", max(c.NPast()-past, 0), len(tokens), err)
		}
		done += n
		if progress != nil {
			progress(done, len(tokens))
		}
	}
	return nil
}

// Logits returns a copy of the logits (one per vocabulary token) of the i-th
// output of the last Decode, counting only tokens whose logits were
// requested; negative i counts from the end (-1 is the last). It returns nil
// when there is no such output. Sampler.Sample takes i the same way.
func (c *Session) Logits(i int) []float32 {
	row, ok := c.outputRow(i)
	if !ok {
		return nil
	}
	p := C.llama_get_logits_ith(c.res.ptr, row)
	if p == nil {
		return nil
	}
	return append([]float32(nil), unsafe.Slice((*float32)(unsafe.Pointer(p)), c.res.ref.nVocab())...)
}

// outputRow maps the i-th output of the last Decode (negative i from the
// end) to the index llama_get_logits_ith and llama_sampler_sample take. For
// idx >= 0 they take a position in the batch, for idx < 0 an output row
// counted from the end (-1 the last, see output_resolve_row in llama.cpp),
// so the output index is passed as a negative one, which means the i-th
// output whichever batch positions asked for logits. ok is false when there
// is no such output (or the context is freed).
func (c *Session) outputRow(i int) (idx C.int32_t, ok bool) {
	if !c.validOutput(i) {
		return 0, false
	}
	if i >= 0 {
		i -= c.outputs
	}
	return C.int32_t(i), true
}

func (c *Session) validOutput(i int) bool {
	return c.live() != nil && i < c.outputs && i >= -c.outputs
}
