package models

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sync"
)

// Synthetic model constants.
const (
	// synthStd is the standard deviation of the random weights.
	synthStd = 0.02
	// synthRopeFreqBase is llama.rope.freq_base (Llama 3).
	synthRopeFreqBase = 500000
	// synthRMSEps is llama.attention.layer_norm_rms_epsilon.
	synthRMSEps = 1e-5
	// chunkElems is the number of weights generated per parallel chunk.
	chunkElems = 1 << 20
	// lfm2ConvCache is lfm2.shortconv.l_cache, the short convolution's kernel size (LFM2's).
	lfm2ConvCache = 3
	// sinkStd is the standard deviation of gpt-oss's attention sinks: logits of the order of
	// the log of the number of keys, so that they take a visible share of the softmax.
	sinkStd = 3
)

// fillKind says how a tensor's data is generated.
type fillKind int

const (
	fillRandom fillKind = iota // approximately N(0, synthStd)
	fillOnes                   // 1.0, for norm weights
	fillSink                   // approximately N(0, sinkStd), for attention sinks (F32)
)

// synthTensor is a tensor of the synthetic model and how to fill it.
type synthTensor struct {
	ggufTensor
	Fill fillKind
}

// Synth writes a synthetic llama GGUF (version 3) file with the shapes of
// preset p and deterministic random weights derived from seed: the same
// preset and seed always give the same bytes. The vocabulary is a
// byte-level SPM one (see byteVocab), so any text tokenizes.
//
// The file is written to a temporary file in the target directory and
// renamed into place, so path never holds a partial model. The output
// loads in llama.cpp as architecture "llama" (or the preset's Arch) but produces noise: use it
// only for benchmarking.
func Synth(path string, p Preset, seed uint64) (err error) {
	if err := p.Validate(); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("models: synth %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := writeSynth(tmp, p, seed); err != nil {
		return fmt.Errorf("models: synth %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("models: synth %s: sync: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("models: synth %s: chmod: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("models: synth %s: close: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("models: synth %s: rename: %w", path, err)
	}
	return nil
}

// writeSynth streams the whole GGUF file to w.
func writeSynth(w io.Writer, p Preset, seed uint64) error {
	kvs := synthMetadata(p, seed)
	tensors := synthTensors(p)

	g := newGGUFWriter(w)
	g.header(len(tensors), len(kvs))
	for _, kv := range kvs {
		if err := g.kv(kv); err != nil {
			return fmt.Errorf("write metadata: %w", err)
		}
	}
	for _, t := range tensors {
		g.tensorInfo(t.ggufTensor)
	}
	g.pad(ggufAlignment)
	if g.err != nil {
		return fmt.Errorf("write header: %w", g.err)
	}

	dataStart := uint64(g.n)
	gen := newChunkGen()
	for _, t := range tensors {
		if uint64(g.n)-dataStart != t.Offset {
			return fmt.Errorf("tensor %s: at data offset %d, want %d", t.Name, uint64(g.n)-dataStart, t.Offset)
		}
		if err := gen.write(g, t, nameSeed(seed, t.Name)); err != nil {
			return fmt.Errorf("write tensor %s: %w", t.Name, err)
		}
		g.pad(ggufAlignment)
	}
	if err := g.flush(); err != nil {
		return fmt.Errorf("write tensor data: %w", err)
	}
	return nil
}

// synthTensors lays out the tensors llama.cpp's llama, gemma3, lfm2, gpt-oss, refact
// or deepseek2 architecture loads (src/models/llama.cpp, gemma3.cpp, lfm2.cpp,
// openai-moe.cpp, refact.cpp, deepseek2.cpp), with ggml ne[] shapes and aligned data
// offsets.
func synthTensors(p Preset) []synthTensor {
	wt := ggmlTypeF16
	switch p.Type {
	case TypeF32:
		wt = ggmlTypeF32
	case TypeQ8_0:
		wt = ggmlTypeQ8_0
	}
	var (
		embd  = uint64(p.Embd)
		vocab = uint64(len(byteVocab()))
		q     = uint64(p.Heads * p.HeadDim)
		kv    = uint64(p.KVHeads * p.HeadDim)
		ffn   = uint64(p.FFN)
	)
	var ts []synthTensor
	add := func(name string, typ uint32, fill fillKind, dims ...uint64) {
		if typ == ggmlTypeQ8_0 && dims[0]%qk8_0 != 0 {
			typ = ggmlTypeF16 // rows of partial blocks
		}
		ts = append(ts, synthTensor{ggufTensor: ggufTensor{Name: name, Dims: dims, Type: typ}, Fill: fill})
	}
	add("token_embd.weight", wt, fillRandom, embd, vocab)
	for i := 0; i < p.Layers; i++ {
		blk := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", i, s) }
		add(blk("attn_norm"), ggmlTypeF32, fillOnes, embd)
		if p.arch() == ArchLFM2 {
			if p.isAttn(i) {
				add(blk("attn_q_norm"), ggmlTypeF32, fillOnes, uint64(p.HeadDim))
				add(blk("attn_k_norm"), ggmlTypeF32, fillOnes, uint64(p.HeadDim))
				add(blk("attn_q"), wt, fillRandom, embd, q)
				add(blk("attn_k"), wt, fillRandom, embd, kv)
				add(blk("attn_v"), wt, fillRandom, embd, kv)
				add(blk("attn_output"), wt, fillRandom, q, embd)
			} else {
				add(blk("shortconv.conv"), ggmlTypeF32, fillRandom, lfm2ConvCache, embd)
				add(blk("shortconv.in_proj"), wt, fillRandom, embd, 3*embd)
				add(blk("shortconv.out_proj"), wt, fillRandom, embd, embd)
			}
			add(blk("ffn_norm"), ggmlTypeF32, fillOnes, embd)
			add(blk("ffn_gate"), wt, fillRandom, embd, ffn)
			add(blk("ffn_up"), wt, fillRandom, embd, ffn)
			add(blk("ffn_down"), wt, fillRandom, ffn, embd)
			continue
		}
		if p.arch() == ArchDeepSeek2 {
			// MLA (src/models/deepseek2.cpp, no Q LoRA): the KV cache holds the normed compressed
			// KV and the RoPE'd key part, one head for all
			var (
				rank = uint64(p.KVLoraRank)
				rope = uint64(p.RopeDim)
				nope = uint64(p.HeadDim - p.RopeDim)
				nh   = uint64(p.Heads)
			)
			add(blk("attn_kv_a_norm"), ggmlTypeF32, fillOnes, rank)
			add(blk("attn_q"), wt, fillRandom, embd, nh*uint64(p.HeadDim))
			add(blk("attn_kv_a_mqa"), wt, fillRandom, embd, rank+rope)
			add(blk("attn_k_b"), wt, fillRandom, nope, rank, nh)
			add(blk("attn_v_b"), wt, fillRandom, rank, nope, nh)
			add(blk("attn_output"), wt, fillRandom, nh*nope, embd)
			add(blk("ffn_norm"), ggmlTypeF32, fillOnes, embd)
			add(blk("ffn_gate"), wt, fillRandom, embd, ffn)
			add(blk("ffn_up"), wt, fillRandom, embd, ffn)
			add(blk("ffn_down"), wt, fillRandom, ffn, embd)
			continue
		}
		if p.arch() == ArchGPTOSS {
			bias := func(s string) string { return fmt.Sprintf("blk.%d.%s.bias", i, s) }
			nexp := uint64(p.Experts)
			add(blk("post_attention_norm"), ggmlTypeF32, fillOnes, embd)
			add(blk("attn_q"), wt, fillRandom, embd, q)
			add(bias("attn_q"), ggmlTypeF32, fillRandom, q)
			add(blk("attn_k"), wt, fillRandom, embd, kv)
			add(bias("attn_k"), ggmlTypeF32, fillRandom, kv)
			add(blk("attn_v"), wt, fillRandom, embd, kv)
			add(bias("attn_v"), ggmlTypeF32, fillRandom, kv)
			add(blk("attn_output"), wt, fillRandom, q, embd)
			add(bias("attn_output"), ggmlTypeF32, fillRandom, embd)
			add(blk("attn_sinks"), ggmlTypeF32, fillSink, uint64(p.Heads))
			add(blk("ffn_gate_inp"), ggmlTypeF32, fillRandom, embd, nexp)
			add(bias("ffn_gate_inp"), ggmlTypeF32, fillRandom, nexp)
			add(blk("ffn_gate_exps"), wt, fillRandom, embd, ffn, nexp)
			add(bias("ffn_gate_exps"), ggmlTypeF32, fillRandom, ffn, nexp)
			add(blk("ffn_up_exps"), wt, fillRandom, embd, ffn, nexp)
			add(bias("ffn_up_exps"), ggmlTypeF32, fillRandom, ffn, nexp)
			add(blk("ffn_down_exps"), wt, fillRandom, ffn, embd, nexp)
			add(bias("ffn_down_exps"), ggmlTypeF32, fillRandom, embd, nexp)
			continue
		}
		add(blk("attn_q"), wt, fillRandom, embd, q)
		add(blk("attn_k"), wt, fillRandom, embd, kv)
		add(blk("attn_v"), wt, fillRandom, embd, kv)
		add(blk("attn_output"), wt, fillRandom, q, embd)
		if p.arch() == ArchGemma3 {
			add(blk("attn_q_norm"), ggmlTypeF32, fillOnes, uint64(p.HeadDim))
			add(blk("attn_k_norm"), ggmlTypeF32, fillOnes, uint64(p.HeadDim))
			add(blk("post_attention_norm"), ggmlTypeF32, fillOnes, embd)
		}
		add(blk("ffn_norm"), ggmlTypeF32, fillOnes, embd)
		add(blk("ffn_gate"), wt, fillRandom, embd, ffn)
		add(blk("ffn_up"), wt, fillRandom, embd, ffn)
		add(blk("ffn_down"), wt, fillRandom, ffn, embd)
		if p.arch() == ArchGemma3 {
			add(blk("post_ffw_norm"), ggmlTypeF32, fillOnes, embd)
		}
	}
	if p.arch() == ArchLFM2 {
		add("token_embd_norm.weight", ggmlTypeF32, fillOnes, embd) // lfm2's output norm
	} else {
		add("output_norm.weight", ggmlTypeF32, fillOnes, embd)
	}
	add("output.weight", wt, fillRandom, embd, vocab)

	var off uint64
	for i := range ts {
		ts[i].Offset = off
		off += alignUp(ts[i].Bytes(), ggufAlignment)
	}
	return ts
}

// synthMetadata returns the metadata entries of the synthetic model, with
// the value types llama.cpp's loader requires (it rejects e.g. a uint64
// where it reads a uint32).
func synthMetadata(p Preset, seed uint64) []ggufKV {
	fileType := uint32(1) // LLAMA_FTYPE_MOSTLY_F16
	switch p.Type {
	case TypeF32:
		fileType = 0 // LLAMA_FTYPE_ALL_F32
	case TypeQ8_0:
		fileType = 7 // LLAMA_FTYPE_MOSTLY_Q8_0
	}
	vocab := byteVocab()
	a := p.arch()
	kvs := []ggufKV{
		{"general.architecture", a},
		{"general.name", "quoka-synth-" + p.Name},
		{"general.description", "synthetic random-weight model written by quoka: produces noise, for benchmarking only"},
		{"general.file_type", fileType},
		{a + ".vocab_size", uint32(len(vocab))},
		{a + ".context_length", uint32(p.Context)},
		{a + ".embedding_length", uint32(p.Embd)},
		{a + ".block_count", uint32(p.Layers)},
		{a + ".feed_forward_length", uint32(p.FFN)},
		{a + ".rope.dimension_count", uint32(p.HeadDim)},
		{a + ".rope.freq_base", float32(synthRopeFreqBase)},
		{a + ".attention.head_count", uint32(p.Heads)},
		{a + ".attention.head_count_kv", uint32(p.KVHeads)},
		{a + ".attention.key_length", uint32(p.HeadDim)},
		{a + ".attention.value_length", uint32(p.HeadDim)},
		{a + ".attention.layer_norm_rms_epsilon", float32(synthRMSEps)},
	}
	if p.SlidingWindow > 0 {
		kvs = append(kvs, ggufKV{a + ".attention.sliding_window", uint32(p.SlidingWindow)})
	}
	if p.SWAPattern > 0 {
		kvs = append(kvs, ggufKV{a + ".attention.sliding_window_pattern", uint32(p.SWAPattern)})
	}
	if a == ArchLFM2 {
		// per layer: KV heads in attention layers, 0 in short-convolution ones
		kvHeads := make([]int32, p.Layers)
		for i := range kvHeads {
			if p.isAttn(i) {
				kvHeads[i] = int32(p.KVHeads)
			}
		}
		for i := range kvs {
			if kvs[i].Key == a+".attention.head_count_kv" {
				kvs[i].Value = kvHeads
			}
		}
		kvs = append(kvs, ggufKV{a + ".shortconv.l_cache", uint32(lfm2ConvCache)})
	}
	if a == ArchDeepSeek2 {
		// the cache's head: compressed KV + RoPE'd part for K, compressed KV for V
		set := map[string]any{
			a + ".attention.key_length":    uint32(p.KVLoraRank + p.RopeDim),
			a + ".attention.value_length":  uint32(p.KVLoraRank),
			a + ".rope.dimension_count":    uint32(p.RopeDim),
			a + ".attention.head_count_kv": uint32(1),
		}
		for i := range kvs {
			if v, ok := set[kvs[i].Key]; ok {
				kvs[i].Value = v
			}
		}
		kvs = append(kvs,
			ggufKV{a + ".attention.key_length_mla", uint32(p.HeadDim)},
			ggufKV{a + ".attention.value_length_mla", uint32(p.HeadDim - p.RopeDim)},
			ggufKV{a + ".attention.q_lora_rank", uint32(0)},
			ggufKV{a + ".attention.kv_lora_rank", uint32(p.KVLoraRank)},
			ggufKV{a + ".leading_dense_block_count", uint32(p.Layers)},
			ggufKV{a + ".expert_feed_forward_length", uint32(p.FFN)},
			ggufKV{a + ".expert_shared_count", uint32(0)})
	}
	if a == ArchGPTOSS {
		kvs = append(kvs,
			ggufKV{a + ".expert_count", uint32(p.Experts)},
			ggufKV{a + ".expert_used_count", uint32(p.ExpertsUsed)},
			ggufKV{a + ".expert_feed_forward_length", uint32(p.FFN)})
	}
	return append(kvs, []ggufKV{
		{"tokenizer.ggml.model", "llama"},
		{"tokenizer.ggml.tokens", vocab},
		{"tokenizer.ggml.scores", make([]float32, len(vocab))},
		{"tokenizer.ggml.token_type", byteVocabTypes()},
		{"tokenizer.ggml.bos_token_id", uint32(tokenBOS)},
		{"tokenizer.ggml.eos_token_id", uint32(tokenEOS)},
		{"tokenizer.ggml.unknown_token_id", uint32(tokenUNK)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
		{KeySynthetic, true},
		{KeySyntheticPreset, p.Name},
		{"quoka.synthetic.seed", seed},
	}...)
}

// chunkGen generates tensor data in parallel chunks into reusable buffers
// and writes them in order.
type chunkGen struct {
	bufs [][]byte
}

func newChunkGen() *chunkGen {
	n := min(runtime.GOMAXPROCS(0), 16)
	return &chunkGen{bufs: make([][]byte, n)}
}

// write generates the data of tensor t and writes it to g.
func (c *chunkGen) write(g *ggufWriter, t synthTensor, seed uint64) error {
	total := int(t.Elements())
	nChunks := (total + chunkElems - 1) / chunkElems
	if nChunks == 0 {
		return errors.New("empty tensor")
	}
	for first := 0; first < nChunks; first += len(c.bufs) {
		last := min(first+len(c.bufs), nChunks)
		var wg sync.WaitGroup
		for k := first; k < last; k++ {
			n := min(chunkElems, total-k*chunkElems)
			size := int(typeBytes(t.Type, uint64(n)))
			if cap(c.bufs[k-first]) < size {
				c.bufs[k-first] = make([]byte, typeBytes(t.Type, chunkElems))
			}
			buf := c.bufs[k-first][:size]
			wg.Go(func() { fillChunk(buf, t.Type, t.Fill, chunkRNG(seed, k)) })
		}
		wg.Wait()
		for k := first; k < last; k++ {
			n := min(chunkElems, total-k*chunkElems)
			g.write(c.bufs[k-first][:typeBytes(t.Type, uint64(n))])
		}
		if g.err != nil {
			return g.err
		}
	}
	return nil
}

// fillChunk fills buf with little-endian values of ggml type typ: 1.0 for
// fillOnes, approxNormal(rng.next(), synthStd) for fillRandom, the same scaled
// to sinkStd for fillSink (F32 only).
func fillChunk(buf []byte, typ uint32, fill fillKind, rng splitMix64) {
	switch {
	case typ == ggmlTypeQ8_0:
		fillQ8_0(buf, rng)
	case typ == ggmlTypeF16 && fill == fillRandom:
		tbl := f16NormalTable()
		for i := 0; i+1 < len(buf); i += 2 {
			binary.LittleEndian.PutUint16(buf[i:i+2], tbl[irwinHall(rng.next())])
		}
	case typ == ggmlTypeF16:
		one := f32ToF16(1)
		for i := 0; i+1 < len(buf); i += 2 {
			binary.LittleEndian.PutUint16(buf[i:i+2], one)
		}
	case fill == fillRandom || fill == fillSink:
		tbl := f32NormalTable()
		scale := float32(1)
		if fill == fillSink {
			scale = sinkStd / synthStd
		}
		for i := 0; i+3 < len(buf); i += 4 {
			binary.LittleEndian.PutUint32(buf[i:i+4], math.Float32bits(scale*tbl[irwinHall(rng.next())]))
		}
	default:
		one := math.Float32bits(1)
		for i := 0; i+3 < len(buf); i += 4 {
			binary.LittleEndian.PutUint32(buf[i:i+4], one)
		}
	}
}

// fillQ8_0 fills buf with Q8_0 blocks of approxNormal(rng.next(), synthStd) weights, quantized as
// ggml's quantize_row_q8_0_ref does: d = max|x|/127 (stored as F16), q = round(x/d).
func fillQ8_0(buf []byte, rng splitMix64) {
	tbl := f32NormalTable()
	var x [qk8_0]float32
	for b := 0; b+blockQ8_0Size <= len(buf); b += blockQ8_0Size {
		amax := float32(0)
		for i := range x {
			x[i] = tbl[irwinHall(rng.next())]
			amax = max(amax, float32(math.Abs(float64(x[i]))))
		}
		d := amax / 127
		id := float32(0)
		if d != 0 {
			id = 1 / d
		}
		binary.LittleEndian.PutUint16(buf[b:b+2], f32ToF16(d))
		for i, v := range x {
			buf[b+2+i] = byte(int8(math.Round(float64(v * id))))
		}
	}
}
