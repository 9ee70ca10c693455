package llama

/*
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"strings"
)

// CacheType is the element type of the K or V cache, named as llama.cpp's
// -ctk/-ctv flags name it ("f16", "q8_0", ...).
type CacheType string

// The KV cache types llama.cpp accepts. F16 is its default; the quantised
// types shrink the cache (Q8_0 to about half, Q4_0 to about a quarter) and
// need flash attention for the V cache.
const (
	CacheF32    CacheType = "f32"
	CacheF16    CacheType = "f16"
	CacheBF16   CacheType = "bf16"
	CacheQ8_0   CacheType = "q8_0"
	CacheQ4_0   CacheType = "q4_0"
	CacheQ4_1   CacheType = "q4_1"
	CacheIQ4_NL CacheType = "iq4_nl"
	CacheQ5_0   CacheType = "q5_0"
	CacheQ5_1   CacheType = "q5_1"
)

// CacheTypes lists every KV cache type, in llama.cpp's order.
var CacheTypes = []CacheType{CacheF32, CacheF16, CacheBF16, CacheQ8_0, CacheQ4_0, CacheQ4_1, CacheIQ4_NL, CacheQ5_0, CacheQ5_1}

var cacheTypeC = map[CacheType]C.enum_ggml_type{
	CacheF32:    C.GGML_TYPE_F32,
	CacheF16:    C.GGML_TYPE_F16,
	CacheBF16:   C.GGML_TYPE_BF16,
	CacheQ8_0:   C.GGML_TYPE_Q8_0,
	CacheQ4_0:   C.GGML_TYPE_Q4_0,
	CacheQ4_1:   C.GGML_TYPE_Q4_1,
	CacheIQ4_NL: C.GGML_TYPE_IQ4_NL,
	CacheQ5_0:   C.GGML_TYPE_Q5_0,
	CacheQ5_1:   C.GGML_TYPE_Q5_1,
}

// ParseCacheType parses a KV cache type name (case-insensitive).
func ParseCacheType(s string) (CacheType, error) {
	t := CacheType(strings.ToLower(strings.TrimSpace(s)))
	if _, err := t.c(); err != nil {
		return "", err
	}
	return t, nil
}

// Quantized reports whether t is a block-quantised type (everything but
// f32, f16 and bf16).
func (t CacheType) Quantized() bool {
	return t != CacheF32 && t != CacheF16 && t != CacheBF16
}

func (t CacheType) c() (C.enum_ggml_type, error) {
	if v, ok := cacheTypeC[t]; ok {
		return v, nil
	}
	names := make([]string, len(CacheTypes))
	for i, ct := range CacheTypes {
		names[i] = string(ct)
	}
	return 0, fmt.Errorf("llama: unknown KV cache type %q (%s)", string(t), strings.Join(names, ", "))
}
