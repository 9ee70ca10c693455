package models

// The GGUF writer is hand-written: gguf-parser-go, used for reading, has no
// writer, and the format is small enough (see ggml/docs/gguf.md) that a
// streaming encoder is simpler than a dependency. Everything is written
// little-endian through a bufio.Writer, so multi-GB files never sit in
// memory.

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
)

// ggufKV is one metadata entry. Value must be one of uint32, int32,
// uint64, float32, bool, string, []string, []float32 or []int32.
type ggufKV struct {
	Key   string
	Value any
}

// ggufTensor is one tensor info entry.
type ggufTensor struct {
	Name string
	// Dims are the ggml ne[] dimensions, fastest-varying first.
	Dims []uint64
	// Type is ggmlTypeF32, ggmlTypeF16 or ggmlTypeQ8_0 (Dims[0] a multiple of qk8_0).
	Type uint32
	// Offset is the data offset relative to the tensor data section.
	Offset uint64
}

// Elements returns the number of elements of the tensor.
func (t ggufTensor) Elements() uint64 {
	n := uint64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Bytes returns the data size of the tensor.
func (t ggufTensor) Bytes() uint64 {
	return typeBytes(t.Type, t.Elements())
}

// typeBytes returns the size of n elements of ggml type typ (n a multiple of qk8_0 for Q8_0).
func typeBytes(typ uint32, n uint64) uint64 {
	switch typ {
	case ggmlTypeF16:
		return 2 * n
	case ggmlTypeQ8_0:
		return n / qk8_0 * blockQ8_0Size
	default:
		return 4 * n
	}
}

// ggufWriter encodes GGUF primitives, remembering the first error and the
// number of bytes written.
type ggufWriter struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func newGGUFWriter(w io.Writer) *ggufWriter {
	return &ggufWriter{w: bufio.NewWriterSize(w, 1<<20)}
}

func (g *ggufWriter) write(p []byte) {
	if g.err != nil {
		return
	}
	n, err := g.w.Write(p)
	g.n += int64(n)
	g.err = err
}

func (g *ggufWriter) u32(v uint32) {
	binary.LittleEndian.PutUint32(g.buf[:4], v)
	g.write(g.buf[:4])
}

func (g *ggufWriter) u64(v uint64) {
	binary.LittleEndian.PutUint64(g.buf[:8], v)
	g.write(g.buf[:8])
}

func (g *ggufWriter) str(s string) {
	g.u64(uint64(len(s)))
	if g.err == nil {
		n, err := g.w.WriteString(s)
		g.n += int64(n)
		g.err = err
	}
}

// pad writes zero bytes up to the next multiple of align.
func (g *ggufWriter) pad(align uint64) {
	var zero [ggufAlignment]byte
	for rem := alignUp(uint64(g.n), align) - uint64(g.n); rem > 0; {
		k := min(rem, uint64(len(zero)))
		g.write(zero[:k])
		rem -= k
	}
}

// header writes the magic, version and counts.
func (g *ggufWriter) header(tensors, kvs int) {
	g.write([]byte("GGUF"))
	g.u32(ggufVersion)
	g.u64(uint64(tensors))
	g.u64(uint64(kvs))
}

// kv writes one metadata entry.
func (g *ggufWriter) kv(e ggufKV) error {
	g.str(e.Key)
	switch v := e.Value.(type) {
	case uint32:
		g.u32(ggufTypeUint32)
		g.u32(v)
	case int32:
		g.u32(ggufTypeInt32)
		g.u32(uint32(v))
	case uint64:
		g.u32(ggufTypeUint64)
		g.u64(v)
	case float32:
		g.u32(ggufTypeFloat32)
		g.u32(math.Float32bits(v))
	case bool:
		g.u32(ggufTypeBool)
		b := byte(0)
		if v {
			b = 1
		}
		g.write([]byte{b})
	case string:
		g.u32(ggufTypeString)
		g.str(v)
	case []string:
		g.arrayHeader(ggufTypeString, len(v))
		for _, s := range v {
			g.str(s)
		}
	case []float32:
		g.arrayHeader(ggufTypeFloat32, len(v))
		for _, f := range v {
			g.u32(math.Float32bits(f))
		}
	case []int32:
		g.arrayHeader(ggufTypeInt32, len(v))
		for _, x := range v {
			g.u32(uint32(x))
		}
	default:
		return fmt.Errorf("gguf metadata %q: unsupported value type %T", e.Key, e.Value)
	}
	return g.err
}

func (g *ggufWriter) arrayHeader(elem uint32, n int) {
	g.u32(ggufTypeArray)
	g.u32(elem)
	g.u64(uint64(n))
}

// tensorInfo writes one tensor info entry.
func (g *ggufWriter) tensorInfo(t ggufTensor) {
	g.str(t.Name)
	g.u32(uint32(len(t.Dims)))
	for _, d := range t.Dims {
		g.u64(d)
	}
	g.u32(t.Type)
	g.u64(t.Offset)
}

// flush flushes the buffer and returns the first error seen.
func (g *ggufWriter) flush() error {
	if g.err != nil {
		return g.err
	}
	g.err = g.w.Flush()
	return g.err
}
