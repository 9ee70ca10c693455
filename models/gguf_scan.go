package models

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"

	gguf "github.com/gpustack/gguf-parser-go"
)

// ggufLayout is what scanGGUF learns about a file's structure.
type ggufLayout struct {
	Version     uint32
	TensorCount uint64
	KVCount     uint64
	Alignment   uint64
	// DataStart is the absolute offset of the tensor data section.
	DataStart int64
	// DataEnd is the absolute offset one past the last tensor byte.
	DataEnd int64
}

// maxArrayDepth bounds the nesting of metadata arrays scanGGUF follows.
const maxArrayDepth = 8

// ggufScanner walks a GGUF header without keeping any of it, tracking the
// position so it can tell truncation (the header or the tensor data run
// past the end of the file) from corruption.
type ggufScanner struct {
	r    *bufio.Reader
	bo   binary.ByteOrder
	pos  int64
	size int64
	buf  [8]byte
}

// scanGGUF validates the structure of the GGUF file of the given size read
// from r: the magic, the version, every metadata value and tensor info, and
// that the tensor data the header declares fits in the file. It returns
// errors wrapping ErrNotGGUF, ErrTruncated or ErrMalformed.
//
// It exists so that ReadInfo reports these cases with typed errors before
// handing the file to gguf-parser-go, whose errors are untyped strings.
func scanGGUF(r io.Reader, size int64) (ggufLayout, error) {
	s := &ggufScanner{r: bufio.NewReaderSize(r, 1<<16), bo: binary.LittleEndian, size: size}
	var l ggufLayout

	magic := make([]byte, 4)
	if _, err := io.ReadFull(s.r, magic); err != nil {
		return l, fmt.Errorf("%w: file is %d bytes, shorter than the magic", ErrNotGGUF, size)
	}
	s.pos = 4
	if string(magic) != "GGUF" {
		return l, fmt.Errorf("%w: magic is %q, want \"GGUF\"", ErrNotGGUF, magic)
	}

	version, err := s.u32()
	if err != nil {
		return l, fmt.Errorf("read version: %w", err)
	}
	switch {
	case version == 2 || version == 3:
	case bits.ReverseBytes32(version) == 2 || bits.ReverseBytes32(version) == 3:
		s.bo = binary.BigEndian
		version = bits.ReverseBytes32(version)
	default:
		return l, fmt.Errorf("%w: unsupported GGUF version %d (want 2 or 3)", ErrMalformed, version)
	}
	l.Version = version

	if l.TensorCount, err = s.u64(); err != nil {
		return l, fmt.Errorf("read tensor count: %w", err)
	}
	if l.KVCount, err = s.u64(); err != nil {
		return l, fmt.Errorf("read metadata count: %w", err)
	}

	l.Alignment = 32
	for i := uint64(0); i < l.KVCount; i++ {
		align, err := s.kv()
		if err != nil {
			return l, fmt.Errorf("metadata entry %d: %w", i, err)
		}
		if align != 0 {
			l.Alignment = align
		}
	}

	var dataSize uint64
	for i := uint64(0); i < l.TensorCount; i++ {
		end, err := s.tensorInfo()
		if err != nil {
			return l, fmt.Errorf("tensor info %d: %w", i, err)
		}
		dataSize = max(dataSize, end)
	}

	l.DataStart = s.pos
	if l.TensorCount > 0 {
		l.DataStart = int64(alignUp(uint64(s.pos), l.Alignment))
	}
	end, carry := bits.Add64(uint64(l.DataStart), dataSize, 0)
	if carry != 0 || end > math.MaxInt64 {
		return l, fmt.Errorf("%w: tensor data size %d overflows", ErrMalformed, dataSize)
	}
	l.DataEnd = int64(end)
	if l.DataEnd > size {
		return l, fmt.Errorf("%w: tensor data ends at byte %d but the file has %d bytes",
			ErrTruncated, l.DataEnd, size)
	}
	return l, nil
}

// kv skips one metadata key/value pair. It returns the value of
// general.alignment when that is the key, and 0 otherwise.
func (s *ggufScanner) kv() (uint64, error) {
	n, err := s.length("key")
	if err != nil {
		return 0, err
	}
	isAlign := false
	const alignKey = "general.alignment"
	if n == uint64(len(alignKey)) {
		key := make([]byte, n)
		if err := s.read(key); err != nil {
			return 0, fmt.Errorf("read key: %w", err)
		}
		isAlign = string(key) == alignKey
	} else if err := s.discard(n); err != nil {
		return 0, fmt.Errorf("read key: %w", err)
	}

	typ, err := s.u32()
	if err != nil {
		return 0, fmt.Errorf("read value type: %w", err)
	}
	if isAlign {
		if typ != ggufTypeUint32 {
			return 0, fmt.Errorf("%w: %s has value type %d, want uint32", ErrMalformed, alignKey, typ)
		}
		v, err := s.u32()
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", alignKey, err)
		}
		if v == 0 || v&(v-1) != 0 {
			return 0, fmt.Errorf("%w: %s is %d, not a power of two", ErrMalformed, alignKey, v)
		}
		return uint64(v), nil
	}
	return 0, s.skipValue(typ, 0)
}

// skipValue skips one metadata value of type typ.
func (s *ggufScanner) skipValue(typ uint32, depth int) error {
	if size, ok := ggufScalarSize(typ); ok {
		return s.discard(size)
	}
	switch typ {
	case ggufTypeString:
		n, err := s.length("string")
		if err != nil {
			return err
		}
		return s.discard(n)
	case ggufTypeArray:
		if depth >= maxArrayDepth {
			return fmt.Errorf("%w: metadata arrays nested deeper than %d", ErrMalformed, maxArrayDepth)
		}
		elem, err := s.u32()
		if err != nil {
			return fmt.Errorf("read array type: %w", err)
		}
		count, err := s.u64()
		if err != nil {
			return fmt.Errorf("read array length: %w", err)
		}
		if size, ok := ggufScalarSize(elem); ok {
			hi, total := bits.Mul64(count, size)
			if hi != 0 {
				return fmt.Errorf("%w: array of %d items overflows", ErrMalformed, count)
			}
			return s.discard(total)
		}
		if elem != ggufTypeString && elem != ggufTypeArray {
			return fmt.Errorf("%w: unknown array item type %d", ErrMalformed, elem)
		}
		for i := uint64(0); i < count; i++ {
			if err := s.skipValue(elem, depth+1); err != nil {
				return fmt.Errorf("array item %d: %w", i, err)
			}
		}
		return nil
	default:
		return fmt.Errorf("%w: unknown value type %d", ErrMalformed, typ)
	}
}

// tensorInfo reads one tensor info and returns the end of its data,
// relative to the start of the tensor data section.
func (s *ggufScanner) tensorInfo() (uint64, error) {
	n, err := s.length("tensor name")
	if err != nil {
		return 0, err
	}
	if err := s.discard(n); err != nil {
		return 0, fmt.Errorf("read tensor name: %w", err)
	}
	nDims, err := s.u32()
	if err != nil {
		return 0, fmt.Errorf("read dimension count: %w", err)
	}
	if nDims == 0 || nDims > gguf.GGMLMaxDims {
		return 0, fmt.Errorf("%w: tensor has %d dimensions", ErrMalformed, nDims)
	}
	dims := make([]uint64, nDims)
	for i := range dims {
		if dims[i], err = s.u64(); err != nil {
			return 0, fmt.Errorf("read dimension %d: %w", i, err)
		}
	}
	typ, err := s.u32()
	if err != nil {
		return 0, fmt.Errorf("read tensor type: %w", err)
	}
	offset, err := s.u64()
	if err != nil {
		return 0, fmt.Errorf("read tensor offset: %w", err)
	}
	nbytes, err := tensorBytes(gguf.GGMLType(typ), dims)
	if err != nil {
		return 0, err
	}
	end, carry := bits.Add64(offset, nbytes, 0)
	if carry != 0 {
		return 0, fmt.Errorf("%w: tensor offset %d + size %d overflows", ErrMalformed, offset, nbytes)
	}
	return end, nil
}

// tensorBytes returns the data size of a tensor of type t and shape dims,
// as ggml_nbytes computes it for a contiguous tensor.
func tensorBytes(t gguf.GGMLType, dims []uint64) (uint64, error) {
	tt, ok := t.Trait()
	if !ok || tt.BlockSize == 0 {
		return 0, fmt.Errorf("%w: unknown tensor type %d", ErrMalformed, uint32(t))
	}
	if dims[0]%tt.BlockSize != 0 {
		return 0, fmt.Errorf("%w: first dimension %d is not a multiple of the %v block size %d",
			ErrMalformed, dims[0], t, tt.BlockSize)
	}
	total := dims[0] / tt.BlockSize * tt.TypeSize
	for _, d := range dims[1:] {
		hi, lo := bits.Mul64(total, d)
		if hi != 0 {
			return 0, fmt.Errorf("%w: tensor size overflows", ErrMalformed)
		}
		total = lo
	}
	return total, nil
}

// length reads a string or key length and checks that the file can hold it.
func (s *ggufScanner) length(what string) (uint64, error) {
	n, err := s.u64()
	if err != nil {
		return 0, fmt.Errorf("read %s length: %w", what, err)
	}
	if n > uint64(s.size-s.pos) {
		return 0, fmt.Errorf("%w: %s of %d bytes at offset %d runs past the end of the file (%d bytes)",
			ErrTruncated, what, n, s.pos, s.size)
	}
	return n, nil
}

func (s *ggufScanner) read(p []byte) error {
	n, err := io.ReadFull(s.r, p)
	s.pos += int64(n)
	return s.eof(err)
}

func (s *ggufScanner) discard(n uint64) error {
	if n > uint64(s.size-s.pos) {
		return fmt.Errorf("%w: %d bytes at offset %d run past the end of the file (%d bytes)",
			ErrTruncated, n, s.pos, s.size)
	}
	for n > 0 {
		chunk := int(min(n, 1<<30))
		d, err := s.r.Discard(chunk)
		s.pos += int64(d)
		n -= uint64(d)
		if err != nil {
			return s.eof(err)
		}
	}
	return nil
}

func (s *ggufScanner) u32() (uint32, error) {
	if err := s.read(s.buf[:4]); err != nil {
		return 0, err
	}
	return s.bo.Uint32(s.buf[:4]), nil
}

func (s *ggufScanner) u64() (uint64, error) {
	if err := s.read(s.buf[:8]); err != nil {
		return 0, err
	}
	return s.bo.Uint64(s.buf[:8]), nil
}

// eof maps an end-of-file read error to ErrTruncated.
func (s *ggufScanner) eof(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: header ends early at offset %d of %d bytes", ErrTruncated, s.pos, s.size)
	}
	return err
}

// alignUp rounds n up to a multiple of align, a power of two.
func alignUp(n, align uint64) uint64 {
	return (n + align - 1) &^ (align - 1)
}
