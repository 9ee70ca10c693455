// Package ggufedit rewrites the metadata of GGUF files for tests: parse a
// file, change, add or drop key/value pairs, and write it back with the
// tensor infos and data untouched (the data section is re-aligned, tensor
// offsets are relative to it). It reads little-endian GGUF v2/v3 only and
// trusts nothing: malformed input gives an error.
package ggufedit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// GGUF value types (enum gguf_type).
const (
	TypeUint8   uint32 = 0
	TypeInt8    uint32 = 1
	TypeUint16  uint32 = 2
	TypeInt16   uint32 = 3
	TypeUint32  uint32 = 4
	TypeInt32   uint32 = 5
	TypeFloat32 uint32 = 6
	TypeBool    uint32 = 7
	TypeString  uint32 = 8
	TypeArray   uint32 = 9
	TypeUint64  uint32 = 10
	TypeInt64   uint32 = 11
	TypeFloat64 uint32 = 12
)

var scalarSize = map[uint32]int{
	TypeUint8: 1, TypeInt8: 1, TypeUint16: 2, TypeInt16: 2, TypeUint32: 4, TypeInt32: 4,
	TypeFloat32: 4, TypeBool: 1, TypeUint64: 8, TypeInt64: 8, TypeFloat64: 8,
}

// ErrFormat is wrapped by every parse error.
var ErrFormat = errors.New("ggufedit: malformed GGUF")

// KV is one metadata pair: its key, type and encoded value (the bytes after
// the type field: a scalar, a length-prefixed string, or an array's element
// type, count and elements).
type KV struct {
	Key   string
	Type  uint32
	Value []byte
}

// File is a parsed GGUF file.
type File struct {
	Version  uint32
	KVs      []KV
	NTensors uint64
	// Infos are the encoded tensor infos, as in the file.
	Infos []byte
	// Data is the tensor data section.
	Data []byte
}

type reader struct {
	b   []byte
	off int
}

func (r *reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)-r.off) {
		return nil, fmt.Errorf("%w: %d bytes wanted at offset %d of %d", ErrFormat, n, r.off, len(r.b))
	}
	p := r.b[r.off : r.off+int(n)]
	r.off += int(n)
	return p, nil
}

func (r *reader) u32() (uint32, error) {
	p, err := r.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(p), nil
}

func (r *reader) u64() (uint64, error) {
	p, err := r.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(p), nil
}

func (r *reader) str() (string, error) {
	n, err := r.u64()
	if err != nil {
		return "", err
	}
	p, err := r.take(n)
	return string(p), err
}

// value skips one value of type typ and returns its encoding.
func (r *reader) value(typ uint32, depth int) ([]byte, error) {
	start := r.off
	switch {
	case scalarSize[typ] > 0:
		if _, err := r.take(uint64(scalarSize[typ])); err != nil {
			return nil, err
		}
	case typ == TypeString:
		if _, err := r.str(); err != nil {
			return nil, err
		}
	case typ == TypeArray && depth < 4:
		elem, err := r.u32()
		if err != nil {
			return nil, err
		}
		n, err := r.u64()
		if err != nil {
			return nil, err
		}
		if size := scalarSize[elem]; size > 0 {
			if n > uint64(len(r.b)) {
				return nil, fmt.Errorf("%w: array of %d elements", ErrFormat, n)
			}
			if _, err := r.take(n * uint64(size)); err != nil {
				return nil, err
			}
			break
		}
		for range n {
			if _, err := r.value(elem, depth+1); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("%w: value type %d", ErrFormat, typ)
	}
	return r.b[start:r.off], nil
}

// Parse parses a GGUF file held in data.
func Parse(data []byte) (*File, error) {
	r := &reader{b: data}
	magic, err := r.take(4)
	if err != nil || string(magic) != "GGUF" {
		return nil, fmt.Errorf("%w: no GGUF magic", ErrFormat)
	}
	f := &File{}
	if f.Version, err = r.u32(); err != nil {
		return nil, err
	}
	if f.Version != 2 && f.Version != 3 {
		return nil, fmt.Errorf("%w: version %d", ErrFormat, f.Version)
	}
	if f.NTensors, err = r.u64(); err != nil {
		return nil, err
	}
	nKV, err := r.u64()
	if err != nil {
		return nil, err
	}
	for range nKV {
		var kv KV
		if kv.Key, err = r.str(); err != nil {
			return nil, err
		}
		if kv.Type, err = r.u32(); err != nil {
			return nil, err
		}
		if kv.Value, err = r.value(kv.Type, 0); err != nil {
			return nil, fmt.Errorf("key %q: %w", kv.Key, err)
		}
		f.KVs = append(f.KVs, kv)
	}
	infoStart := r.off
	for range f.NTensors {
		if _, err := r.str(); err != nil {
			return nil, err
		}
		nDims, err := r.u32()
		if err != nil {
			return nil, err
		}
		if _, err := r.take(uint64(nDims)*8 + 4 + 8); err != nil { // dims, type, offset
			return nil, err
		}
	}
	f.Infos = data[infoStart:r.off]
	start := alignUp(uint64(r.off), f.Alignment())
	if start > uint64(len(data)) {
		return nil, fmt.Errorf("%w: the data section starts past the end", ErrFormat)
	}
	f.Data = data[start:]
	return f, nil
}

// Alignment is general.alignment (a u32) or GGUF's default of 32.
func (f *File) Alignment() uint64 {
	if kv := f.Get("general.alignment"); kv != nil && kv.Type == TypeUint32 && len(kv.Value) == 4 {
		if a := binary.LittleEndian.Uint32(kv.Value); a > 0 {
			return uint64(a)
		}
	}
	return 32
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

// Get returns the pair with key, or nil.
func (f *File) Get(key string) *KV {
	for i := range f.KVs {
		if f.KVs[i].Key == key {
			return &f.KVs[i]
		}
	}
	return nil
}

// Set replaces the value of key, or appends the pair when key is new.
func (f *File) Set(key string, typ uint32, value []byte) {
	if kv := f.Get(key); kv != nil {
		kv.Type, kv.Value = typ, value
		return
	}
	f.KVs = append(f.KVs, KV{Key: key, Type: typ, Value: value})
}

// Delete drops key (a no-op when absent).
func (f *File) Delete(key string) {
	for i := range f.KVs {
		if f.KVs[i].Key == key {
			f.KVs = append(f.KVs[:i], f.KVs[i+1:]...)
			return
		}
	}
}

// Bytes encodes the file.
func (f *File) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("GGUF")
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(f.Version)
	w(f.NTensors)
	w(uint64(len(f.KVs)))
	for _, kv := range f.KVs {
		b.Write(Str(kv.Key))
		w(kv.Type)
		b.Write(kv.Value)
	}
	b.Write(f.Infos)
	b.Write(make([]byte, alignUp(uint64(b.Len()), f.Alignment())-uint64(b.Len())))
	b.Write(f.Data)
	return b.Bytes()
}

// Str encodes a string value.
func Str(s string) []byte {
	return append(binary.LittleEndian.AppendUint64(nil, uint64(len(s))), s...)
}

// U32 encodes a uint32 value.
func U32(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// Bool encodes a bool value.
func Bool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

// Array encodes an array of n elements of type elem, given their encoding.
func Array(elem uint32, n uint64, elems []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, elem)
	b = binary.LittleEndian.AppendUint64(b, n)
	return append(b, elems...)
}
