package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"unsafe"
)

const ggufMagic = "GGUF"

// checkModelFile vets a model file before llama.cpp sees it: it must exist,
// start with the GGUF magic, have a header ggml's GGUF reader accepts, and be
// long enough to hold every tensor the header lists. llama.cpp's loader
// rejects truncated files gracefully too (it checks tensor bounds), but only
// with a log message; checking here gives typed errors.
func checkModelFile(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return ErrModelNotFound
	case err != nil:
		return err
	case fi.IsDir():
		return fmt.Errorf("%w (it is a directory)", ErrNotGGUF)
	case fi.Size() == 0:
		return fmt.Errorf("%w (the file is empty)", ErrNotGGUF)
	}

	f, err := os.Open(path)
	if err != nil {
		return err
	}
	var magic [4]byte
	n, err := io.ReadFull(f, magic[:])
	f.Close()
	switch {
	case err != nil && n > 0 && string(magic[:n]) == ggufMagic[:n]:
		return fmt.Errorf("%w (%d bytes)", ErrTruncated, fi.Size())
	case err != nil && n == 0, err == io.ErrUnexpectedEOF:
		return fmt.Errorf("%w (%d bytes, no GGUF magic)", ErrNotGGUF, fi.Size())
	case err != nil:
		return err
	case string(magic[:]) != ggufMagic:
		return fmt.Errorf("%w (magic %q, want %q)", ErrNotGGUF, magic[:], ggufMagic)
	}
	return checkGGUFLayout(path, fi.Size())
}

// checkGGUFLayout parses the GGUF header with ggml (metadata only, no tensor
// data) and checks that the file holds the whole tensor data section.
func checkGGUFLayout(path string, size int64) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	params := C.struct_gguf_init_params{no_alloc: true}
	var g *C.struct_gguf_context
	msg := captureLogErrors(func() { g = C.gguf_init_from_file(cpath, params) })
	if g == nil {
		// The reader reports a short read as "failed to read ..." and an
		// oversized string as exceeding the remaining size; anything else is
		// a malformed header.
		if strings.HasPrefix(msg, "failed to read") || strings.Contains(msg, "exceeds remaining file size") {
			return fmt.Errorf("%w: the GGUF header is cut short (%d bytes)", ErrTruncated, size)
		}
		return fmt.Errorf("%w: invalid header: %s", ErrNotGGUF, msg)
	}
	defer C.gguf_free(g)
	if err := checkGGUFMetadata(g); err != nil {
		return err
	}

	dataStart := int64(C.gguf_get_data_offset(g))
	end := dataStart
	for i := range int64(C.gguf_get_n_tensors(g)) {
		ti := C.int64_t(i)
		end = max(end, dataStart+int64(C.gguf_get_tensor_offset(g, ti))+int64(C.gguf_get_tensor_size(g, ti)))
	}
	if end > size {
		return fmt.Errorf("%w: %d bytes, but its tensor data ends at byte %d", ErrTruncated, size, end)
	}
	return nil
}
