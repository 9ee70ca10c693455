package tests

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"testing"
)

// withMetadata copies the GGUF file src to dst with one more string
// metadata entry, e.g. to give a model a chat template. It supports GGUF
// versions 2 and 3 (little-endian), which is all the tests need.
func withMetadata(t *testing.T, src, dst, key, value string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := addStringKV(data, key, value)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	if err := os.WriteFile(dst, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

const ggufTypeString = 8

func addStringKV(data []byte, key, value string) ([]byte, error) {
	r := bytes.NewReader(data)
	var hdr struct {
		Magic    [4]byte
		Version  uint32
		NTensors uint64
		NKV      uint64
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, err
	}
	if string(hdr.Magic[:]) != "GGUF" || hdr.Version < 2 {
		return nil, fmt.Errorf("not a GGUF v2+ file")
	}
	alignment := uint64(32)
	for range hdr.NKV {
		k, err := readString(r)
		if err != nil {
			return nil, err
		}
		typ, err := readU32(r)
		if err != nil {
			return nil, err
		}
		if k == "general.alignment" && typ == 4 {
			a, err := readU32(r)
			if err != nil {
				return nil, err
			}
			alignment = uint64(a)
			continue
		}
		if err := skipValue(r, typ); err != nil {
			return nil, fmt.Errorf("key %q: %w", k, err)
		}
	}
	kvEnd := len(data) - r.Len()
	for range hdr.NTensors {
		if _, err := readString(r); err != nil {
			return nil, err
		}
		nDims, err := readU32(r)
		if err != nil {
			return nil, err
		}
		// dims, type, offset
		if _, err := r.Seek(int64(8*nDims+4+8), io.SeekCurrent); err != nil {
			return nil, err
		}
	}
	infoEnd := len(data) - r.Len()
	dataStart := alignUp(uint64(infoEnd), alignment)

	var out bytes.Buffer
	hdr.NKV++
	_ = binary.Write(&out, binary.LittleEndian, hdr)
	out.Write(data[24:kvEnd])
	writeString(&out, key)
	_ = binary.Write(&out, binary.LittleEndian, uint32(ggufTypeString))
	writeString(&out, value)
	out.Write(data[kvEnd:infoEnd])
	out.Write(make([]byte, alignUp(uint64(out.Len()), alignment)-uint64(out.Len())))
	out.Write(data[dataStart:])
	return out.Bytes(), nil
}

func alignUp(n, a uint64) uint64 { return (n + a - 1) / a * a }

func readU32(r io.Reader) (uint32, error) {
	var v uint32
	err := binary.Read(r, binary.LittleEndian, &v)
	return v, err
}

func readString(r *bytes.Reader) (string, error) {
	var n uint64
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
		return "", err
	}
	if n > uint64(r.Len()) {
		return "", io.ErrUnexpectedEOF
	}
	b := make([]byte, n)
	_, err := io.ReadFull(r, b)
	return string(b), err
}

func writeString(w *bytes.Buffer, s string) {
	_ = binary.Write(w, binary.LittleEndian, uint64(len(s)))
	w.WriteString(s)
}

// ggufScalarSize is the size of the fixed-size GGUF value types.
var ggufScalarSize = map[uint32]int64{0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

func skipValue(r *bytes.Reader, typ uint32) error {
	if size, ok := ggufScalarSize[typ]; ok {
		_, err := r.Seek(size, io.SeekCurrent)
		return err
	}
	switch typ {
	case ggufTypeString:
		_, err := readString(r)
		return err
	case 9: // array: element type, count, elements
		elem, err := readU32(r)
		if err != nil {
			return err
		}
		var n uint64
		if err := binary.Read(r, binary.LittleEndian, &n); err != nil {
			return err
		}
		if size, ok := ggufScalarSize[elem]; ok {
			_, err := r.Seek(size*int64(n), io.SeekCurrent)
			return err
		}
		for range n {
			if err := skipValue(r, elem); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown GGUF value type %d", typ)
}
