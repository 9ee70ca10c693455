package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"encoding/binary"
	"unsafe"
)

// CapturedTensor is a copy of a graph tensor recorded during Decode (see
// ContextParams.Capture), in ggml's layout: Shape[0] is the innermost
// dimension.
type CapturedTensor struct {
	Name  string
	Type  string // ggml type name, e.g. "i32", "f32"
	Shape [4]int
	Data  []byte
}

// Int32s returns the data of an "i32" tensor.
func (t CapturedTensor) Int32s() []int32 {
	if t.Type != "i32" {
		return nil
	}
	out := make([]int32, len(t.Data)/4)
	for i := range out {
		out[i] = int32(binary.LittleEndian.Uint32(t.Data[4*i:]))
	}
	return out
}

// Captured returns the tensors recorded since the last call, in the order
// they were computed, and forgets them.
func (c *Session) Captured() []CapturedTensor {
	if c.res == nil || c.res.capture == nil {
		return nil
	}
	cap := c.res.capture
	n := int(C.quoka_capture_count(cap))
	out := make([]CapturedTensor, 0, n)
	for i := 0; i < n; i++ {
		ci := C.size_t(i)
		var size C.size_t
		data := C.quoka_capture_data(cap, ci, &size)
		t := CapturedTensor{
			Name: C.GoString(C.quoka_capture_name(cap, ci)),
			Type: C.GoString(C.quoka_capture_type(cap, ci)),
			Data: C.GoBytes(unsafe.Pointer(data), C.int(size)),
		}
		for d := 0; d < 4; d++ {
			t.Shape[d] = int(C.quoka_capture_ne(cap, ci, C.int(d)))
		}
		out = append(out, t)
	}
	C.quoka_capture_clear(cap)
	return out
}
