package llama

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// Tokenize converts text to tokens. addSpecial adds the BOS/EOS tokens the
// model is configured to add; parseSpecial turns the text of special tokens
// (e.g. "<|im_start|>" in a chat prompt) into those tokens instead of
// tokenizing it as plain text.
func (m *Model) Tokenize(text string, addSpecial, parseSpecial bool) ([]Token, error) {
	if m.live() == nil {
		return nil, ErrClosed
	}
	return m.ref.tokenize(text, addSpecial, parseSpecial)
}

// TokenToPiece returns the text of one token. Control tokens (BOS, EOS,
// chat markers) render as "". A piece may be part of a UTF-8 character that
// the following tokens complete.
func (m *Model) TokenToPiece(t Token) string {
	if m.live() == nil {
		return ""
	}
	return string(m.ref.piece(t))
}

// Detokenize converts tokens back to text, dropping the BOS/EOS tokens the
// tokenizer adds and rendering no other control tokens either: it inverts
// Tokenize, with or without addSpecial.
func (m *Model) Detokenize(tokens []Token) string {
	if m.live() == nil {
		return ""
	}
	return m.ref.detokenize(tokens)
}

// BOS is the beginning-of-sequence token (-1 when the model has none).
func (m *Model) BOS() Token {
	if m.live() == nil {
		return -1
	}
	return Token(C.llama_vocab_bos(m.ref.vocab))
}

// AddBOS reports whether the model wants its BOS token at the start of a
// sequence (llama_vocab_get_add_bos: the GGUF key
// tokenizer.ggml.add_bos_token, else the tokenizer's default). Tokenize
// with addSpecial adds it only then; callers that assemble token sequences
// themselves must do the same.
func (m *Model) AddBOS() bool {
	return m.live() != nil && bool(C.llama_vocab_get_add_bos(m.ref.vocab))
}

// EOS is the end-of-sequence token (-1 when the model has none).
func (m *Model) EOS() Token {
	if m.live() == nil {
		return -1
	}
	return Token(C.llama_vocab_eos(m.ref.vocab))
}

// IsEOG reports whether t ends generation (EOS, EOT and the like).
func (m *Model) IsEOG(t Token) bool {
	return m.live() != nil && m.ref.isEOG(t)
}

// Tokenize is Model.Tokenize with the context's model.
func (c *Session) Tokenize(text string, addSpecial, parseSpecial bool) ([]Token, error) {
	if c.live() == nil {
		return nil, ErrClosed
	}
	return c.res.ref.tokenize(text, addSpecial, parseSpecial)
}

// TokenToPiece is Model.TokenToPiece with the context's model.
func (c *Session) TokenToPiece(t Token) string {
	if c.live() == nil {
		return ""
	}
	return string(c.res.ref.piece(t))
}

// Detokenize is Model.Detokenize with the context's model.
func (c *Session) Detokenize(tokens []Token) string {
	if c.live() == nil {
		return ""
	}
	return c.res.ref.detokenize(tokens)
}

func (r *modelRef) isEOG(t Token) bool {
	return bool(C.llama_vocab_is_eog(r.vocab, C.llama_token(t)))
}

func (r *modelRef) tokenize(text string, addSpecial, parseSpecial bool) ([]Token, error) {
	if len(text) > math.MaxInt32 {
		return nil, fmt.Errorf("llama: text of %d bytes is too long to tokenize", len(text))
	}
	// Go string bytes may be passed to C for the duration of the call.
	var ctext *C.char
	if len(text) > 0 {
		ctext = (*C.char)(unsafe.Pointer(unsafe.StringData(text)))
	} else {
		ctext = (*C.char)(unsafe.Pointer(&[1]byte{}))
	}
	tokens := make([]Token, len(text)+2) // a token covers at least one byte, plus BOS/EOS
	for {
		n := C.llama_tokenize(r.vocab, ctext, C.int32_t(len(text)),
			(*C.llama_token)(unsafe.Pointer(unsafe.SliceData(tokens))), C.int32_t(len(tokens)),
			C.bool(addSpecial), C.bool(parseSpecial))
		switch {
		case n >= 0:
			return tokens[:n], nil
		case n == math.MinInt32:
			return nil, fmt.Errorf("llama: tokenizing %d bytes overflows", len(text))
		default:
			tokens = make([]Token, -n)
		}
	}
}

// piece returns the bytes of token t without control tokens.
func (r *modelRef) piece(t Token) []byte {
	buf := make([]byte, 32)
	for {
		n := C.llama_token_to_piece(r.vocab, C.llama_token(t),
			(*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.int32_t(len(buf)), 0, false)
		if n >= 0 {
			return buf[:n]
		}
		buf = make([]byte, -n)
	}
}

func (r *modelRef) detokenize(tokens []Token) string {
	// llama.cpp keeps the tokenizer's leading space (SentencePiece's space
	// prefix) when it drops a leading BOS itself, but strips it when there is
	// no BOS; drop the BOS here so both round-trip to the original text.
	if len(tokens) > 0 && C.llama_vocab_get_add_bos(r.vocab) && tokens[0] == Token(C.llama_vocab_bos(r.vocab)) {
		tokens = tokens[1:]
	}
	if len(tokens) == 0 {
		return ""
	}
	buf := make([]byte, 8*len(tokens)+16)
	for {
		n := C.llama_detokenize(r.vocab,
			(*C.llama_token)(unsafe.Pointer(unsafe.SliceData(tokens))), C.int32_t(len(tokens)),
			(*C.char)(unsafe.Pointer(unsafe.SliceData(buf))), C.int32_t(len(buf)), true, false)
		if n >= 0 {
			return string(buf[:n])
		}
		buf = make([]byte, -n)
	}
}
