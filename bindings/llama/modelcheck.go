package llama

/*
#include <stdlib.h>
#include "shim.h"
#include "gguf.h"
*/
import "C"

import (
	"fmt"
	"strconv"
	"strings"
	"unsafe"
)

// Limits llama.cpp asserts on (LLAMA_MAX_LAYERS, LLAMA_MAX_EXPERTS in
// src/llama-hparams.h).
const (
	maxLayers  = 512
	maxExperts = 1024
)

// ggufMeta reads metadata values from a parsed GGUF header the way
// llama.cpp's loader does, for the checks below.
type ggufMeta struct {
	g    *C.struct_gguf_context
	arch string
}

func (m ggufMeta) find(key string) C.int64_t {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	return C.gguf_find_key(m.g, ck)
}

// archKey is "<arch>.<suffix>", as llama.cpp names per-architecture keys.
func (m ggufMeta) archKey(suffix string) string { return m.arch + "." + suffix }

// u32 returns a uint32 value, or the largest of a uint32/int32 array (what
// get_key_or_arr reads per layer). ok is false when the key is absent or of
// another type: llama.cpp's get_key then fails with an error by itself.
func (m ggufMeta) u32(key string) (v uint32, ok bool) {
	id := m.find(key)
	if id < 0 {
		return 0, false
	}
	switch C.gguf_get_kv_type(m.g, id) {
	case C.GGUF_TYPE_UINT32:
		return uint32(C.gguf_get_val_u32(m.g, id)), true
	case C.GGUF_TYPE_ARRAY:
		t := C.gguf_get_arr_type(m.g, id)
		if t != C.GGUF_TYPE_UINT32 && t != C.GGUF_TYPE_INT32 {
			return 0, false
		}
		n := int(C.gguf_get_arr_n(m.g, id))
		data := unsafe.Slice((*uint32)(C.gguf_get_arr_data(m.g, id)), n)
		for _, x := range data {
			v = max(v, x)
		}
		return v, true
	}
	return 0, false
}

// str returns a string value; ok is false when absent or not a string.
func (m ggufMeta) str(key string) (string, bool) {
	id := m.find(key)
	if id < 0 || C.gguf_get_kv_type(m.g, id) != C.GGUF_TYPE_STRING {
		return "", false
	}
	return C.GoString(C.gguf_get_val_str(m.g, id)), true
}

// checkGGUFMetadata rejects metadata that llama.cpp's loader does not
// report as an error but asserts on (GGML_ASSERT aborts the process): the
// layer and expert counts and the rope scaling type in load_hparams
// (src/llama-model.cpp), duplicate tokens in the vocabulary
// (src/llama-vocab.cpp). What llama.cpp rejects by itself, with an error
// (a missing or mistyped key, a short scores array), is left to it.
func checkGGUFMetadata(g *C.struct_gguf_context) error {
	m := ggufMeta{g: g}
	var ok bool
	if m.arch, ok = m.str("general.architecture"); !ok {
		return nil // llama.cpp fails: no architecture
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	nLayer, ok := m.u32(m.archKey("block_count"))
	if ok && (nLayer == 0 || nLayer > maxLayers) {
		bad("%s is %d, want 1 to %d", m.archKey("block_count"), nLayer, maxLayers)
	}
	for _, k := range []string{"nextn_predict_layers", "posnet.block_count", "convnext.block_count"} {
		if v, ok := m.u32(m.archKey(k)); ok && v > nLayer {
			bad("%s is %d, more than the %d layers", m.archKey(k), v, nLayer)
		}
	}

	nExpert, _ := m.u32(m.archKey("expert_count"))
	used, _ := m.u32(m.archKey("expert_used_count"))
	groups, _ := m.u32(m.archKey("expert_group_count"))
	groupUsed, _ := m.u32(m.archKey("expert_group_used_count"))
	switch {
	case nExpert > maxExperts:
		bad("%s is %d, more than %d", m.archKey("expert_count"), nExpert, maxExperts)
	case nExpert == 0 && (used != 0 || groups != 0):
		bad("no experts, but %d used and %d groups", used, groups)
	case nExpert > 0 && (used == 0 || used > nExpert):
		bad("%d experts used of %d", used, nExpert)
	case nExpert > 0 && groups >= nExpert:
		bad("%d expert groups for %d experts", groups, nExpert)
	case groups > 0 && (nExpert%groups != 0 || groupUsed == 0 || groupUsed >= groups):
		bad("%d expert groups (%d used) for %d experts", groups, groupUsed, nExpert)
	}

	if s, ok := m.str(m.archKey("rope.scaling.type")); ok {
		switch s {
		case "none", "linear", "yarn", "longrope":
		default:
			bad("%s is %q, want none, linear, yarn or longrope", m.archKey("rope.scaling.type"), s)
		}
	}

	if err := checkUniqueTokens(m); err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidMetadata, strings.Join(errs, "; "))
	}
	return nil
}

// checkUniqueTokens checks that no two vocabulary entries have the same
// text (llama.cpp renames empty ones "[EMPTY_<i>]" first, as here).
func checkUniqueTokens(m ggufMeta) error {
	id := m.find("tokenizer.ggml.tokens")
	if id < 0 || C.gguf_get_kv_type(m.g, id) != C.GGUF_TYPE_ARRAY || C.gguf_get_arr_type(m.g, id) != C.GGUF_TYPE_STRING {
		return nil // llama.cpp reports a missing or mistyped vocabulary
	}
	n := int(C.gguf_get_arr_n(m.g, id))
	seen := make(map[string]int, n)
	for i := range n {
		word := C.GoString(C.gguf_get_arr_str(m.g, id, C.size_t(i)))
		if word == "" {
			word = "[EMPTY_" + strconv.Itoa(i) + "]"
		}
		if j, dup := seen[word]; dup {
			return fmt.Errorf("tokens %d and %d are both %q", j, i, word)
		}
		seen[word] = i
	}
	return nil
}
