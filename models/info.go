package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	gguf "github.com/gpustack/gguf-parser-go"
)

// Metadata keys Synth writes to mark its output.
const (
	// KeySynthetic is the bool metadata key set to true in files written by Synth.
	KeySynthetic = "quoka.synthetic"
	// KeySyntheticPreset is the string metadata key naming the Synth preset.
	KeySyntheticPreset = "quoka.synthetic.preset"
)

// Info summarises a GGUF model file.
type Info struct {
	// Path is the file the Info was read from.
	Path string
	// FileSize is the size of the file in bytes.
	FileSize int64

	// Architecture is general.architecture, e.g. "llama".
	Architecture string
	// Name is general.name, empty when the file has none.
	Name string

	// Layers is the number of transformer blocks.
	Layers int
	// EmbeddingLength is the hidden size (n_embd).
	EmbeddingLength int
	// FeedForwardLength is the FFN inner size of the first layer.
	FeedForwardLength int
	// Heads is the number of attention (query) heads.
	Heads int
	// KVHeads is the number of key/value heads (equal to Heads without GQA).
	KVHeads int
	// HeadDim is attention.key_length if present, else EmbeddingLength/Heads.
	HeadDim int
	// ContextLength is the training context length (n_ctx_train).
	ContextLength int
	// VocabSize is the number of tokens in the vocabulary.
	VocabSize int
	// RopeFreqBase is rope.freq_base, 0 when the file has none.
	RopeFreqBase float64
	// SlidingWindow is attention.sliding_window, the window of the model's
	// sliding-window layers (QUOKA serves its other layers), 0 when it has none.
	SlidingWindow int
	// Experts and ExpertsUsed are expert_count and expert_used_count of a
	// mixture-of-experts model, 0 otherwise.
	Experts, ExpertsUsed int
	// KVLoraRank is attention.kv_lora_rank of a model with multi-head latent
	// attention (MLA: DeepSeek V2/V3 and others), 0 otherwise.
	KVLoraRank int

	// FileType is general.file_type as gguf names it, e.g. "MOSTLY_F16".
	FileType string
	// TensorTypes counts tensors by ggml type name, e.g. {"F16": 112, "F32": 33}.
	TensorTypes map[string]int
	// TensorCount is the number of tensors.
	TensorCount int
	// Parameters is the total number of tensor elements.
	Parameters int64

	// ChatTemplate is tokenizer.chat_template, empty when the file has none.
	ChatTemplate string

	// Synthetic is true when the file was written by Synth
	// (metadata key "quoka.synthetic" = true): its weights are random.
	Synthetic bool
	// SyntheticPreset is the Synth preset the file was written from.
	SyntheticPreset string
}

// ReadInfo reads the metadata of the GGUF file at path.
//
// It first validates the file cheaply itself, so that the common failures
// come back as errors wrapping ErrNotFound, ErrNotGGUF, ErrTruncated or
// ErrMalformed (test with errors.Is), then parses it with gguf-parser-go.
func ReadInfo(path string) (*Info, error) {
	size, err := checkGGUF(path)
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", path, err)
	}
	info, err := parseInfo(path)
	if err != nil {
		return nil, fmt.Errorf("models: read %s: %w", path, err)
	}
	info.Path = path
	info.FileSize = size
	return info, nil
}

// checkGGUF stats and scans the file, returning its size.
func checkGGUF(path string) (int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("%w: %w", ErrNotFound, err)
		}
		return 0, fmt.Errorf("stat: %w", err)
	}
	if st.IsDir() {
		return 0, fmt.Errorf("%w: is a directory", ErrNotGGUF)
	}
	if st.Size() == 0 {
		return 0, fmt.Errorf("%w: empty file", ErrNotGGUF)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	if _, err := scanGGUF(f, st.Size()); err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// parseInfo parses the file with gguf-parser-go and extracts its Info,
// turning the library's errors and panics (it panics on some malformed
// metadata) into errors wrapping ErrMalformed.
func parseInfo(path string) (info *Info, err error) {
	defer func() {
		if r := recover(); r != nil {
			info, err = nil, fmt.Errorf("%w: gguf parser panicked: %v", ErrMalformed, r)
		}
	}()
	gf, err := gguf.ParseGGUFFile(path, gguf.SkipLargeMetadata())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return infoFrom(gf), nil
}

// infoFrom extracts an Info from a parsed file. It may panic on
// pathological metadata, which parseInfo recovers.
func infoFrom(gf *gguf.GGUFFile) *Info {
	md := gf.Metadata()
	arch := gf.Architecture()
	info := &Info{
		Architecture:    arch.Architecture,
		Name:            md.Name,
		Layers:          int(arch.BlockCount),
		EmbeddingLength: int(arch.EmbeddingLength),
		Heads:           int(arch.AttentionHeadCount),
		KVHeads:         int(arch.AttentionHeadCountKV),
		ContextLength:   int(arch.MaximumContextLength),
		VocabSize:       int(arch.VocabularyLength),
		RopeFreqBase:    float64(arch.RoPEFrequencyBase),
		FileType:        md.FileType.String(),
		TensorTypes:     make(map[string]int),
		TensorCount:     len(gf.TensorInfos),
		Parameters:      int64(gf.ModelParameters),
	}
	if len(arch.FeedForwardLength) > 0 {
		info.FeedForwardLength = int(arch.FeedForwardLength[0])
	}
	switch {
	case arch.AttentionKeyLength > 0:
		info.HeadDim = int(arch.AttentionKeyLength)
	case info.Heads > 0:
		info.HeadDim = info.EmbeddingLength / info.Heads
	}
	for _, ti := range gf.TensorInfos {
		info.TensorTypes[ti.Type.String()]++
	}

	kvs := gf.Header.MetadataKV
	if v, ok := kvs.Get("tokenizer.chat_template"); ok && v.ValueType == gguf.GGUFMetadataValueTypeString {
		info.ChatTemplate = v.ValueString()
	}
	intKey := func(key string) int {
		v, ok := kvs.Get(arch.Architecture + "." + key)
		if !ok {
			return 0
		}
		switch v.ValueType {
		case gguf.GGUFMetadataValueTypeUint32:
			return int(v.ValueUint32())
		case gguf.GGUFMetadataValueTypeInt32:
			return int(v.ValueInt32())
		}
		return 0
	}
	info.SlidingWindow = intKey("attention.sliding_window")
	info.Experts = intKey("expert_count")
	info.ExpertsUsed = intKey("expert_used_count")
	info.KVLoraRank = intKey("attention.kv_lora_rank")
	if v, ok := kvs.Get(KeySynthetic); ok && v.ValueType == gguf.GGUFMetadataValueTypeBool {
		info.Synthetic = v.ValueBool()
	}
	if v, ok := kvs.Get(KeySyntheticPreset); ok && v.ValueType == gguf.GGUFMetadataValueTypeString {
		info.SyntheticPreset = v.ValueString()
	}
	return info
}
