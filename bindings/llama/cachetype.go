package llama

/*
#include "shim.h"
*/
import "C"

import "fmt"

// CacheType is the element type of the KV cache.
type CacheType string

// KV cache types: F16 is llama.cpp's default; Q8_0 halves the cache again.
const (
	CacheF16  CacheType = "f16"
	CacheF32  CacheType = "f32"
	CacheQ8_0 CacheType = "q8_0"
)

// ParseCacheType parses "f16", "f32" or "q8_0".
func ParseCacheType(s string) (CacheType, error) {
	t := CacheType(s)
	if _, err := t.c(); err != nil {
		return "", err
	}
	return t, nil
}

func (t CacheType) c() (C.enum_ggml_type, error) {
	switch t {
	case CacheF16:
		return C.GGML_TYPE_F16, nil
	case CacheF32:
		return C.GGML_TYPE_F32, nil
	case CacheQ8_0:
		return C.GGML_TYPE_Q8_0, nil
	}
	return 0, fmt.Errorf("llama: unknown KV cache type %q (f16, f32, q8_0)", string(t))
}
