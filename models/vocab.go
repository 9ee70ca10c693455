package models

import "fmt"

// Special token ids of the synthetic vocabulary (the SPM defaults).
const (
	tokenUNK = 0
	tokenBOS = 1
	tokenEOS = 2
)

// llama.cpp token types (enum llama_token_type).
const (
	tokenTypeUnknown int32 = 2
	tokenTypeControl int32 = 3
	tokenTypeByte    int32 = 6
)

// byteVocabSize is 3 special tokens plus one token per byte value.
const byteVocabSize = 3 + 256

// byteVocab returns the synthetic vocabulary: <unk>, <s>, </s> and the 256
// byte tokens "<0x00>".."<0xFF>".
//
// With tokenizer.ggml.model "llama" (SPM) this needs no other token: the
// SPM tokenizer of llama.cpp (llm_tokenizer_spm_session::resegment in
// src/llama-vocab.cpp) emits every symbol it finds no token for as its
// bytes through byte_to_token, which looks up "<0xXX>", so any text,
// including the "▁" space marker, tokenizes to byte tokens; and the
// newline token is byte_to_token('\n'), present here.
func byteVocab() []string {
	v := make([]string, 0, byteVocabSize)
	v = append(v, "<unk>", "<s>", "</s>")
	for b := 0; b < 256; b++ {
		v = append(v, fmt.Sprintf("<0x%02X>", b))
	}
	return v
}

// byteVocabTypes returns the token types matching byteVocab.
func byteVocabTypes() []int32 {
	t := make([]int32, byteVocabSize)
	t[tokenUNK] = tokenTypeUnknown
	t[tokenBOS] = tokenTypeControl
	t[tokenEOS] = tokenTypeControl
	for i := 3; i < byteVocabSize; i++ {
		t[i] = tokenTypeByte
	}
	return t
}
