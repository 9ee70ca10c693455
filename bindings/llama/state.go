package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"
)

// SaveState writes the context's KV cache with tokens, the token sequence
// it holds, to a llama.cpp session file at path (llama_state_save_file).
// llama.cpp's state holds the KV cache only, not the last logits.
func (c *Session) SaveState(path string, tokens []Token) error {
	ptr := c.live()
	if ptr == nil {
		return ErrClosed
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var tp *C.llama_token
	if len(tokens) > 0 {
		tp = (*C.llama_token)(unsafe.Pointer(unsafe.SliceData(tokens)))
	}
	var ok C.bool
	msg := captureLogErrors(func() { ok = C.llama_state_save_file(ptr, cpath, tp, C.size_t(len(tokens))) })
	if !ok {
		return fmt.Errorf("llama: saving state to %q: %s", path, msg)
	}
	return nil
}

// LoadState replaces the context's state with the session file at path
// (llama_state_load_file) and returns the token sequence saved with it. The
// file must come from a context of the same model with room for its tokens.
// No logits come with it: decode (at least) the last token again, e.g.
// TruncateKV(len(tokens)-1) then GenerateTokens(tokens[len(tokens)-1:]).
func (c *Session) LoadState(path string) ([]Token, error) {
	ptr := c.live()
	if ptr == nil {
		return nil, ErrClosed
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	tokens := make([]Token, c.NCtx())
	var n C.size_t
	var ok C.bool
	msg := captureLogErrors(func() {
		ok = C.llama_state_load_file(ptr, cpath, (*C.llama_token)(unsafe.Pointer(unsafe.SliceData(tokens))), C.size_t(len(tokens)), &n)
	})
	c.outputs = 0 // the logits are not part of the state
	if !ok {
		return nil, fmt.Errorf("llama: loading state from %q: %s", path, msg)
	}
	return tokens[:n], nil
}

// SaveState writes the KV cache and the tokens it holds (the last Predict's
// or Eval's prompt and generated tokens) to the session file dst.
func (l *LLama) SaveState(dst string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return ErrClosed
	}
	return l.ctx.SaveState(dst, l.past)
}

// LoadState restores a session file written by SaveState (of a LLama of the
// same model). The next Predict, Eval or SpeculativeSampling whose prompt
// begins with the restored tokens reuses them from the KV cache and
// computes only the rest; one with another prompt starts afresh.
func (l *LLama) LoadState(state string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return ErrClosed
	}
	toks, err := l.ctx.LoadState(state)
	if err != nil {
		l.past, l.reuse = nil, false
		l.ctx.ClearKV()
		return err
	}
	l.past, l.reuse = toks, true
	return nil
}

// Eval feeds text (with BOS) into the KV cache without generating, so that
// SaveState can store it, e.g. as a prompt cache. It honours WithContext
// and SetThreads.
func (l *LLama) Eval(text string, opts ...PredictOption) error {
	o := NewPredictOptions(opts...)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ctx.live() == nil {
		return ErrClosed
	}
	if err := l.prepare(o); err != nil {
		return err
	}
	toks, err := l.ctx.Tokenize(text, true, false)
	if err != nil {
		return err
	}
	if len(toks) == 0 {
		return errors.New("llama: eval of an empty text")
	}
	ctx := o.callContext()
	rest := l.reusePrefix(toks)
	if len(rest) == 0 {
		return nil // all of it is in the KV cache already
	}
	err = l.ctx.Prefill(ctx, rest, nil)
	l.past = append(toks[:0:0], toks[:l.ctx.NPast()]...)
	return err
}

// reusePrefix prepares the KV cache for prompt toks and returns the tokens
// still to compute. After LoadState (or with a prompt cache) it keeps the
// longest common prefix of the cached tokens and toks; otherwise it
// empties the cache. At least one token is left to compute when the caller
// needs the logits (keepOne).
func (l *LLama) reusePrefix(toks []Token) []Token {
	return l.reusePrefixN(toks, false)
}

func (l *LLama) reusePrefixN(toks []Token, keepOne bool) []Token {
	reuse := l.reuse
	l.reuse = false
	k := 0
	if reuse {
		for k < len(l.past) && k < len(toks) && l.past[k] == toks[k] {
			k++
		}
		if keepOne && k == len(toks) {
			k--
		}
	}
	if k == 0 || l.ctx.TruncateKV(k) != nil {
		l.ctx.ClearKV()
		k = 0
	}
	l.past = append(l.past[:0:0], toks[:k]...)
	return toks[k:]
}
