package models

// GGUF metadata value types, see ggml/include/gguf.h (enum gguf_type).
const (
	ggufTypeUint8   uint32 = 0
	ggufTypeInt8    uint32 = 1
	ggufTypeUint16  uint32 = 2
	ggufTypeInt16   uint32 = 3
	ggufTypeUint32  uint32 = 4
	ggufTypeInt32   uint32 = 5
	ggufTypeFloat32 uint32 = 6
	ggufTypeBool    uint32 = 7
	ggufTypeString  uint32 = 8
	ggufTypeArray   uint32 = 9
	ggufTypeUint64  uint32 = 10
	ggufTypeInt64   uint32 = 11
	ggufTypeFloat64 uint32 = 12
)

// ggml tensor types written by Synth, see ggml/include/ggml.h (enum ggml_type).
const (
	ggmlTypeF32  uint32 = 0
	ggmlTypeF16  uint32 = 1
	ggmlTypeQ8_0 uint32 = 8
)

// Q8_0 blocks: qk8_0 weights as int8 with one F16 scale (block_q8_0 in ggml-common.h).
const (
	qk8_0         = 32
	blockQ8_0Size = 2 + qk8_0
)

// ggufVersion is the GGUF format version Synth writes.
const ggufVersion = 3

// ggufAlignment is the default GGUF alignment of the tensor data section
// and of every tensor in it (GGUF_DEFAULT_ALIGNMENT).
const ggufAlignment = 32

// ggufScalarSize returns the encoded size of a fixed-size metadata value
// type, and false for strings, arrays and unknown types.
func ggufScalarSize(typ uint32) (uint64, bool) {
	switch typ {
	case ggufTypeUint8, ggufTypeInt8, ggufTypeBool:
		return 1, true
	case ggufTypeUint16, ggufTypeInt16:
		return 2, true
	case ggufTypeUint32, ggufTypeInt32, ggufTypeFloat32:
		return 4, true
	case ggufTypeUint64, ggufTypeInt64, ggufTypeFloat64:
		return 8, true
	default:
		return 0, false
	}
}
