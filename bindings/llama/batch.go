package llama

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Token is a vocabulary token id.
type Token int32

// Batch is a set of tokens to decode (a llama_batch): each token has a
// position, the sequences it belongs to and whether its logits are wanted.
type Batch struct {
	c        C.struct_llama_batch
	capacity int
	nSeqMax  int
	nOutputs int
	freed    bool
	cleanup  runtime.Cleanup
}

// NewBatch allocates a batch for up to capacity tokens, each in at most
// nSeqMax sequences (1 for single-sequence use).
func NewBatch(capacity, nSeqMax int) (*Batch, error) {
	if capacity <= 0 || nSeqMax <= 0 {
		return nil, fmt.Errorf("llama: invalid batch size %d x %d sequences", capacity, nSeqMax)
	}
	b := &Batch{
		c:        C.llama_batch_init(C.int32_t(capacity), 0, C.int32_t(nSeqMax)),
		capacity: capacity,
		nSeqMax:  nSeqMax,
	}
	b.cleanup = runtime.AddCleanup(b, func(c C.struct_llama_batch) { C.llama_batch_free(c) }, b.c)
	return b, nil
}

// Free releases the batch. It is idempotent.
func (b *Batch) Free() {
	if b == nil || b.freed {
		return
	}
	b.cleanup.Stop()
	C.llama_batch_free(b.c)
	b.freed = true
	b.c = C.struct_llama_batch{}
}

// Len is the number of tokens in the batch.
func (b *Batch) Len() int { return int(b.c.n_tokens) }

// Cap is the most tokens the batch holds.
func (b *Batch) Cap() int { return b.capacity }

// Outputs is the number of tokens whose logits were requested.
func (b *Batch) Outputs() int { return b.nOutputs }

// Clear empties the batch for reuse.
func (b *Batch) Clear() {
	b.c.n_tokens = 0
	b.nOutputs = 0
}

// Add appends token at position pos, in the given sequences (sequence 0 when
// none are given). With logits set, Decode computes the token's logits; they
// are then read with Session.Logits or sampled with Sampler.Sample.
func (b *Batch) Add(token Token, pos int, logits bool, seqIDs ...int) error {
	switch {
	case b.freed:
		return ErrClosed
	case b.Len() >= b.capacity:
		return fmt.Errorf("llama: batch is full (%d tokens)", b.capacity)
	case len(seqIDs) > b.nSeqMax:
		return fmt.Errorf("llama: token in %d sequences, batch allows %d", len(seqIDs), b.nSeqMax)
	}
	b.add(token, pos, logits, seqIDs...)
	return nil
}

// add is Add without the checks, for callers that sized the batch.
func (b *Batch) add(token Token, pos int, logits bool, seqIDs ...int) {
	i := b.Len()
	unsafe.Slice(b.c.token, b.capacity)[i] = C.llama_token(token)
	unsafe.Slice(b.c.pos, b.capacity)[i] = C.llama_pos(pos)
	seqs := unsafe.Slice(unsafe.Slice(b.c.seq_id, b.capacity)[i], b.nSeqMax)
	if len(seqIDs) == 0 {
		seqs[0] = 0
		unsafe.Slice(b.c.n_seq_id, b.capacity)[i] = 1
	} else {
		for j, s := range seqIDs {
			seqs[j] = C.llama_seq_id(s)
		}
		unsafe.Slice(b.c.n_seq_id, b.capacity)[i] = C.int32_t(len(seqIDs))
	}
	var out C.int8_t
	if logits {
		out = 1
		b.nOutputs++
	}
	unsafe.Slice(b.c.logits, b.capacity)[i] = out
	b.c.n_tokens++
}
