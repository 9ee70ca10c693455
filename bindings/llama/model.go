package llama

/*
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"context"
	"fmt"
	"runtime"
	"runtime/cgo"
	"sync/atomic"
	"unsafe"
)

// ModelParams configures LoadModel. The zero value loads on the CPU with
// llama.cpp's default load mode (mmap when supported).
type ModelParams struct {
	// GPULayers is the number of layers to offload to a GPU; negative means
	// all. It has no effect in a CPU-only build.
	GPULayers int
	// NoMMap reads the weights into memory instead of memory-mapping the file.
	NoMMap bool
	// MLock asks the OS to keep the weights resident (no swapping).
	MLock bool
	// VocabOnly loads only the vocabulary (tokenizer) and metadata.
	VocabOnly bool
	// MainGPU is the device index that holds the whole model when it is not
	// split (llama_model_params.main_gpu); it matters only with GPU backends.
	MainGPU int
	// TensorSplit is each GPU's share of the model (llama_model_params.
	// tensor_split); nil splits by free memory. At most llama_max_devices()
	// entries; it matters only with several GPUs.
	TensorSplit []float32
	// RPCServers are ggml-rpc servers ("host:port", started with upstream's
	// rpc-server built from this checkout) to offload layers to, as
	// llama.cpp's --rpc does: GPULayers layers (all when negative) are split
	// across their devices, the rest stays on the local CPU. A server that
	// cannot be reached or speaks another protocol is ErrRPCUnavailable.
	// Models loaded without RPCServers never use RPC devices.
	RPCServers []string
	// Progress, when set, is called with the load progress in [0, 1].
	// Returning false aborts the load: LoadModel then fails with an error
	// satisfying errors.Is(err, context.Canceled).
	Progress func(progress float32) bool
}

// DefaultModelParams returns llama.cpp's defaults: all layers offloaded when
// a GPU backend is present, mmap when supported.
func DefaultModelParams() ModelParams {
	return ModelParams{GPULayers: -1}
}

// Model is a loaded GGUF model: weights, vocabulary and metadata. It is safe
// for concurrent use by several Contexts.
type Model struct {
	ref     *modelRef
	path    string
	cleanup runtime.Cleanup
}

// modelRef owns the C model. The Model holds one reference and every live
// Session one more, so llama_model_free runs only after the last of them is
// freed, whatever order Free (or the runtime's cleanups) come in.
type modelRef struct {
	ptr   *C.struct_llama_model
	vocab *C.struct_llama_vocab
	refs  atomic.Int32
}

func (r *modelRef) acquire() { r.refs.Add(1) }

func (r *modelRef) nVocab() int { return int(C.llama_vocab_n_tokens(r.vocab)) }

func (r *modelRef) release() {
	if r.refs.Add(-1) == 0 {
		C.llama_model_free(r.ptr)
		r.ptr, r.vocab = nil, nil
	}
}

// LoadModel loads the GGUF model at path. The file is checked in Go first
// (it exists, starts with the GGUF magic, its header parses and its tensor
// data is all there), so bad files fail with ErrModelNotFound, ErrNotGGUF or
// ErrTruncated rather than whatever llama.cpp makes of them.
func LoadModel(path string, p ModelParams) (*Model, error) {
	initBackend()
	if err := checkModelFile(path); err != nil {
		return nil, fmt.Errorf("model %q: %w", path, err)
	}
	ptr, err := loadModel(path, p)
	if err != nil {
		return nil, fmt.Errorf("model %q: %w", path, err)
	}
	ref := &modelRef{ptr: ptr, vocab: C.llama_model_get_vocab(ptr)}
	ref.refs.Store(1)
	m := &Model{ref: ref, path: path}
	m.cleanup = runtime.AddCleanup(m, (*modelRef).release, ref)
	return m, nil
}

// loadModel calls llama.cpp's loader without checking the file first.
func loadModel(path string, p ModelParams) (*C.struct_llama_model, error) {
	mp := C.llama_model_default_params()
	mp.n_gpu_layers = C.int32_t(p.GPULayers)
	switch {
	case p.NoMMap && p.MLock:
		mp.load_mode = C.LLAMA_LOAD_MODE_MLOCK
	case p.NoMMap:
		mp.load_mode = C.LLAMA_LOAD_MODE_NONE
	case p.MLock:
		mp.load_mode = C.LLAMA_LOAD_MODE_MMAP_MLOCK
	}
	mp.vocab_only = C.bool(p.VocabOnly)
	mp.main_gpu = C.int32_t(p.MainGPU)
	if len(p.TensorSplit) > 0 {
		n := int(C.llama_max_devices())
		if len(p.TensorSplit) > n {
			return nil, fmt.Errorf("tensor split has %d entries, llama.cpp handles at most %d devices", len(p.TensorSplit), n)
		}
		split := (*C.float)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.float(0)))))
		defer C.free(unsafe.Pointer(split))
		for i, f := range p.TensorSplit {
			unsafe.Slice(split, n)[i] = C.float(f)
		}
		mp.tensor_split = split
	}

	var aborted bool
	if p.Progress != nil {
		h := cgo.NewHandle(func(f float32) bool {
			ok := p.Progress(f)
			aborted = aborted || !ok
			return ok
		})
		defer h.Delete()
		C.quoka_model_params_set_progress(&mp, C.uintptr_t(h))
	}

	devs, err := offloadDevices(p.RPCServers)
	if err != nil {
		return nil, err
	}
	if devs != nil {
		list := (*C.ggml_backend_dev_t)(C.calloc(C.size_t(len(devs)+1), C.size_t(unsafe.Sizeof(devs[0]))))
		defer C.free(unsafe.Pointer(list))
		copy(unsafe.Slice(list, len(devs)+1), devs)
		mp.devices = list
	}

	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var ptr *C.struct_llama_model
	msg := captureLogErrors(func() { ptr = C.llama_model_load_from_file(cpath, mp) })
	switch {
	case ptr != nil:
		return ptr, nil
	case aborted:
		return nil, fmt.Errorf("load aborted by the progress callback: %w", context.Canceled)
	case msg != "":
		return nil, fmt.Errorf("llama.cpp failed to load it: %s", msg)
	default:
		return nil, fmt.Errorf("llama.cpp failed to load it")
	}
}

//export quokaGoProgress
func quokaGoProgress(progress C.float, handle C.uintptr_t) C.bool {
	f := cgo.Handle(handle).Value().(func(float32) bool)
	return C.bool(f(float32(progress)))
}

// Free releases the model. Contexts created from it keep the weights alive
// until they are freed too. Free is idempotent; the Model must not be used
// afterwards.
func (m *Model) Free() {
	if m == nil || m.ref == nil {
		return
	}
	m.cleanup.Stop()
	m.ref.release()
	m.ref = nil
}

// live returns the C model, or nil once freed.
func (m *Model) live() *C.struct_llama_model {
	if m == nil || m.ref == nil {
		return nil
	}
	return m.ref.ptr
}

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// The metadata accessors below return zero values on a freed Model.

// NCtxTrain is the context length the model was trained with.
func (m *Model) NCtxTrain() int {
	if ptr := m.live(); ptr != nil {
		return int(C.llama_model_n_ctx_train(ptr))
	}
	return 0
}

// NLayer is the number of transformer layers.
func (m *Model) NLayer() int {
	if ptr := m.live(); ptr != nil {
		return int(C.llama_model_n_layer(ptr))
	}
	return 0
}

// NHead is the number of attention (query) heads.
func (m *Model) NHead() int {
	if ptr := m.live(); ptr != nil {
		return int(C.llama_model_n_head(ptr))
	}
	return 0
}

// NHeadKV is the number of key/value heads (fewer than NHead with GQA).
func (m *Model) NHeadKV() int {
	if ptr := m.live(); ptr != nil {
		return int(C.llama_model_n_head_kv(ptr))
	}
	return 0
}

// NEmbd is the embedding (hidden) size.
func (m *Model) NEmbd() int {
	if ptr := m.live(); ptr != nil {
		return int(C.llama_model_n_embd(ptr))
	}
	return 0
}

// VocabSize is the number of tokens in the vocabulary.
func (m *Model) VocabSize() int {
	if m.live() == nil {
		return 0
	}
	return m.ref.nVocab()
}

// NParams is the number of model parameters.
func (m *Model) NParams() int64 {
	ptr := m.live()
	if ptr == nil {
		return 0
	}
	return int64(C.llama_model_n_params(ptr))
}

// Size is the total size of the model's tensors in bytes.
func (m *Model) Size() int64 {
	ptr := m.live()
	if ptr == nil {
		return 0
	}
	return int64(C.llama_model_size(ptr))
}

// Desc describes the model, e.g. "llama ?B all F32".
func (m *Model) Desc() string {
	ptr := m.live()
	if ptr == nil {
		return ""
	}
	var buf [256]C.char
	n := C.llama_model_desc(ptr, &buf[0], C.size_t(len(buf)))
	if n < 0 {
		return ""
	}
	return C.GoStringN(&buf[0], C.int(min(int(n), len(buf)-1)))
}

// ChatTemplate is the model's default chat template from its GGUF metadata
// (tokenizer.chat_template), or "" when it has none.
func (m *Model) ChatTemplate() string {
	ptr := m.live()
	if ptr == nil {
		return ""
	}
	if t := C.llama_model_chat_template(ptr, nil); t != nil {
		return C.GoString(t)
	}
	return ""
}
