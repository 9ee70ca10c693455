package models

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	gguf "github.com/gpustack/gguf-parser-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSynthRoundTrip(t *testing.T) {
	p, err := LookupPreset("tiny")
	require.NoError(t, err)
	path := synthFile(t, "tiny", 42)

	info, err := ReadInfo(path)
	require.NoError(t, err)

	st, err := os.Stat(path)
	require.NoError(t, err)
	tensors := synthTensors(p)
	var params int64
	for _, ts := range tensors {
		params += int64(ts.Elements())
	}

	tests := []struct {
		name string
		got  any
		want any
	}{
		{"path", info.Path, path},
		{"file size", info.FileSize, st.Size()},
		{"architecture", info.Architecture, "llama"},
		{"name", info.Name, "quoka-synth-tiny"},
		{"layers", info.Layers, p.Layers},
		{"embedding", info.EmbeddingLength, p.Embd},
		{"ffn", info.FeedForwardLength, p.FFN},
		{"heads", info.Heads, p.Heads},
		{"kv heads", info.KVHeads, p.KVHeads},
		{"head dim", info.HeadDim, p.HeadDim},
		{"context", info.ContextLength, p.Context},
		{"vocab", info.VocabSize, byteVocabSize},
		{"rope base", info.RopeFreqBase, float64(synthRopeFreqBase)},
		{"file type", info.FileType, "MOSTLY_F32"},
		{"tensor types", info.TensorTypes, map[string]int{"F32": len(tensors)}},
		{"tensor count", info.TensorCount, 3 + 9*p.Layers},
		{"parameters", info.Parameters, params},
		{"chat template", info.ChatTemplate, ""},
		{"synthetic", info.Synthetic, true},
		{"synthetic preset", info.SyntheticPreset, "tiny"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.got)
		})
	}
}

func TestSynthGemma3(t *testing.T) {
	p := Preset{Name: "g3-toy", Layers: 3, Embd: 64, Heads: 2, KVHeads: 1, HeadDim: 32, FFN: 128, Context: 512,
		Type: TypeF16, Arch: ArchGemma3, SlidingWindow: 32, SWAPattern: 3}
	_, info, gf := synthToy(t, p)
	assert.Equal(t, "gemma3", info.Architecture)
	assert.Equal(t, 32, info.SlidingWindow)
	assert.Contains(t, rowMap(info.Rows())["Sliding window"], "32")
	assert.Equal(t, p.Layers, info.Layers)
	assert.Equal(t, p.HeadDim, info.HeadDim)
	assert.Equal(t, p.KVHeads, info.KVHeads)
	// gemma3 adds Q/K norms and the post-attention and post-FFN norms to each block
	assert.Equal(t, 3+13*p.Layers, info.TensorCount)
	assert.Equal(t, map[string]int{"F16": 2 + 7*p.Layers, "F32": 1 + 6*p.Layers}, info.TensorTypes)
	assertUint32Keys(t, gf, map[string]uint32{"gemma3.attention.sliding_window": 32, "gemma3.attention.sliding_window_pattern": 3})
	_, ok := gf.Header.MetadataKV.Get("llama.block_count")
	assert.False(t, ok, "llama keys in a gemma3 file")
}

func TestSynthGPTOSS(t *testing.T) {
	p := Preset{Name: "oss-toy", Layers: 2, Embd: 64, Heads: 4, KVHeads: 2, HeadDim: 16, FFN: 32, Context: 512,
		Type: TypeF16, Arch: ArchGPTOSS, SlidingWindow: 32, Experts: 4, ExpertsUsed: 2}
	path, info, gf := synthToy(t, p)
	assert.Equal(t, "gpt-oss", info.Architecture)
	assert.Equal(t, 32, info.SlidingWindow)
	assert.Equal(t, []int{4, 2}, []int{info.Experts, info.ExpertsUsed})
	assert.Equal(t, "4 (2 per token)", rowMap(info.Rows())["Experts"])
	// per block: 2 norms, Q/K/V/output weights and biases, sinks, the router (weight, bias) and
	// the gate/up/down experts (weights, biases)
	assert.Equal(t, 3+19*p.Layers, info.TensorCount)
	assert.Equal(t, map[string]int{"F16": 2 + 7*p.Layers, "F32": 1 + 12*p.Layers}, info.TensorTypes)
	assertUint32Keys(t, gf, map[string]uint32{"gpt-oss.expert_count": 4, "gpt-oss.expert_used_count": 2,
		"gpt-oss.expert_feed_forward_length": 32, "gpt-oss.attention.sliding_window": 32})
	// the sinks are logits of a few units, not weights of 0.02
	buf, _ := tensorData(t, path, gf, "blk.0.attn_sinks.weight")
	maxAbs := 0.0
	for i := 0; i < p.Heads; i++ {
		maxAbs = math.Max(maxAbs, math.Abs(float64(math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:])))))
	}
	assert.Greater(t, maxAbs, 0.5)
}

func TestSynthRefact(t *testing.T) {
	p := Preset{Name: "refact-toy", Layers: 2, Embd: 64, Heads: 4, KVHeads: 2, HeadDim: 16, FFN: 128, Context: 512,
		Type: TypeF16, Arch: ArchRefact}
	_, info, _ := synthToy(t, p)
	assert.Equal(t, "refact", info.Architecture)
	assert.Equal(t, 4, info.Heads)
	// llama's tensors (the ALiBi bias has no weights)
	assert.Equal(t, 3+9*p.Layers, info.TensorCount)
}

func TestSynthDeepSeek2(t *testing.T) {
	p := Preset{Name: "mla-toy", Layers: 2, Embd: 64, Heads: 4, KVHeads: 1, HeadDim: 24, FFN: 128, Context: 512,
		Type: TypeF16, Arch: ArchDeepSeek2, KVLoraRank: 32, RopeDim: 8}
	_, info, gf := synthToy(t, p)
	assert.Equal(t, "deepseek2", info.Architecture)
	assert.Equal(t, 1, info.KVHeads)
	assert.Equal(t, 32, info.KVLoraRank)
	assert.Contains(t, rowMap(info.Rows())["Latent KV (MLA)"], "32")
	assert.NotContains(t, rowMap(info.Rows()), "Experts")
	// per block: attn_norm, kv_a_norm, q, kv_a_mqa, k_b, v_b, output, ffn_norm, gate, up, down
	assert.Equal(t, 3+11*p.Layers, info.TensorCount)
	assertUint32Keys(t, gf, map[string]uint32{"deepseek2.attention.key_length": 40, "deepseek2.attention.value_length": 32,
		"deepseek2.attention.key_length_mla": 24, "deepseek2.attention.value_length_mla": 16,
		"deepseek2.attention.kv_lora_rank": 32, "deepseek2.rope.dimension_count": 8,
		"deepseek2.leading_dense_block_count": 2})
}

func TestSynthQ8_0(t *testing.T) {
	// FFN 48: ffn_down's rows (48 weights) are not whole Q8_0 blocks and stay F16
	p := Preset{Name: "q8-toy", Layers: 1, Embd: 64, Heads: 2, KVHeads: 1, HeadDim: 32, FFN: 48, Context: 128, Type: TypeQ8_0}
	path, info, gf := synthToy(t, p)
	assert.Equal(t, "MOSTLY_Q8_0", info.FileType)
	assert.Equal(t, map[string]int{"Q8_0": 2 + 6*p.Layers, "F16": p.Layers, "F32": 1 + 2*p.Layers}, info.TensorTypes)

	// the blocks decode to weights of about synthStd
	buf, ti := tensorData(t, path, gf, "blk.0.ffn_gate.weight")
	require.Equal(t, gguf.GGMLTypeQ8_0, ti.Type)
	sum2, maxQ := 0.0, 0
	for b := 0; b < len(buf); b += blockQ8_0Size {
		d := f16ToF32(binary.LittleEndian.Uint16(buf[b:]))
		for i := 0; i < qk8_0; i++ {
			q := int(int8(buf[b+2+i]))
			maxQ = max(maxQ, q, -q)
			v := float64(d) * float64(q)
			sum2 += v * v
		}
	}
	assert.Equal(t, 127, maxQ, "each block's largest weight is +-127")
	assert.InDelta(t, synthStd, math.Sqrt(sum2/float64(ti.Elements())), 0.1*synthStd, "weights' standard deviation")
}

func TestSynthF16TensorTypes(t *testing.T) {
	p := Preset{Name: "f16-toy", Layers: 1, Embd: 32, Heads: 2, KVHeads: 1, HeadDim: 16, FFN: 64, Context: 128, Type: TypeF16}
	path := filepath.Join(t.TempDir(), "f16.gguf")
	require.NoError(t, Synth(path, p, 1))

	info, err := ReadInfo(path)
	require.NoError(t, err)
	assert.Equal(t, "MOSTLY_F16", info.FileType)
	// Norms stay F32: attn_norm, ffn_norm per layer plus output_norm.
	assert.Equal(t, map[string]int{"F16": 2 + 7*p.Layers, "F32": 1 + 2*p.Layers}, info.TensorTypes)
	assert.Equal(t, "f16-toy", info.SyntheticPreset)
}

func TestSynthDeterminism(t *testing.T) {
	a := fileSHA256(t, synthFile(t, "tiny", 7))
	tests := []struct {
		name string
		seed uint64
		same bool
	}{
		{"same seed", 7, true},
		{"different seed", 8, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := fileSHA256(t, synthFile(t, "tiny", tc.seed))
			if tc.same {
				assert.Equal(t, a, b)
			} else {
				assert.NotEqual(t, a, b)
			}
		})
	}
}

func TestSynthLeavesNoTempFile(t *testing.T) {
	path := synthFile(t, "tiny", 1)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "tiny.gguf", entries[0].Name())
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
}

func TestSynthLayout(t *testing.T) {
	p, err := LookupPreset("tiny")
	require.NoError(t, err)
	path := synthFile(t, "tiny", 3)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)

	l, err := scanGGUF(f, st.Size())
	require.NoError(t, err)
	assert.Equal(t, uint32(3), l.Version)
	assert.Equal(t, uint64(3+9*p.Layers), l.TensorCount)
	assert.Zero(t, l.DataStart%ggufAlignment, "data section aligned")
	// Every tensor, the last included, is padded to the alignment.
	assert.Equal(t, st.Size(), l.DataEnd+(32-l.DataEnd%32)%32)
	for _, ts := range synthTensors(p) {
		assert.Zero(t, ts.Offset%ggufAlignment, ts.Name)
	}
}

func TestSynthRejectsBadPreset(t *testing.T) {
	base, err := LookupPreset("tiny")
	require.NoError(t, err)
	tests := []struct {
		name   string
		mutate func(p *Preset)
	}{
		{"no name", func(p *Preset) { p.Name = "" }},
		{"zero layers", func(p *Preset) { p.Layers = 0 }},
		{"too many layers", func(p *Preset) { p.Layers = 513 }},
		{"negative embd", func(p *Preset) { p.Embd = -1 }},
		{"heads not multiple of kv heads", func(p *Preset) { p.KVHeads = 3 }},
		{"odd head dim", func(p *Preset) { p.HeadDim = 15 }},
		{"bad type", func(p *Preset) { p.Type = "q4_0" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base
			tc.mutate(&p)
			path := filepath.Join(t.TempDir(), "bad.gguf")
			require.Error(t, Synth(path, p, 1))
			assert.NoFileExists(t, path)
		})
	}
}

func TestSynthBadDirectory(t *testing.T) {
	p, err := LookupPreset("tiny")
	require.NoError(t, err)
	err = Synth(filepath.Join(t.TempDir(), "missing", "x.gguf"), p, 1)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "models: synth")
}

func TestSynthTensorLayout(t *testing.T) {
	p := Preset{Name: "shape", Layers: 2, Embd: 96, Heads: 6, KVHeads: 2, HeadDim: 32, FFN: 160, Context: 256, Type: TypeF16}
	byName := map[string]synthTensor{}
	for _, ts := range synthTensors(p) {
		byName[ts.Name] = ts
	}
	require.Len(t, byName, 3+9*p.Layers)

	tests := []struct {
		name string
		dims []uint64
		typ  uint32
		fill fillKind
	}{
		{"token_embd.weight", []uint64{96, byteVocabSize}, ggmlTypeF16, fillRandom},
		{"output_norm.weight", []uint64{96}, ggmlTypeF32, fillOnes},
		{"output.weight", []uint64{96, byteVocabSize}, ggmlTypeF16, fillRandom},
		{"blk.1.attn_norm.weight", []uint64{96}, ggmlTypeF32, fillOnes},
		{"blk.1.attn_q.weight", []uint64{96, 6 * 32}, ggmlTypeF16, fillRandom},
		{"blk.1.attn_k.weight", []uint64{96, 2 * 32}, ggmlTypeF16, fillRandom},
		{"blk.1.attn_v.weight", []uint64{96, 2 * 32}, ggmlTypeF16, fillRandom},
		{"blk.1.attn_output.weight", []uint64{6 * 32, 96}, ggmlTypeF16, fillRandom},
		{"blk.1.ffn_norm.weight", []uint64{96}, ggmlTypeF32, fillOnes},
		{"blk.1.ffn_gate.weight", []uint64{96, 160}, ggmlTypeF16, fillRandom},
		{"blk.1.ffn_up.weight", []uint64{96, 160}, ggmlTypeF16, fillRandom},
		{"blk.1.ffn_down.weight", []uint64{160, 96}, ggmlTypeF16, fillRandom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, ok := byName[tc.name]
			require.True(t, ok)
			assert.Equal(t, tc.dims, ts.Dims)
			assert.Equal(t, tc.typ, ts.Type)
			assert.Equal(t, tc.fill, ts.Fill)
		})
	}
}

func TestByteVocab(t *testing.T) {
	v, types := byteVocab(), byteVocabTypes()
	require.Len(t, v, byteVocabSize)
	require.Len(t, types, byteVocabSize)
	tests := []struct {
		id   int
		text string
		typ  int32
	}{
		{tokenUNK, "<unk>", tokenTypeUnknown},
		{tokenBOS, "<s>", tokenTypeControl},
		{tokenEOS, "</s>", tokenTypeControl},
		{3, "<0x00>", tokenTypeByte},
		{3 + '\n', "<0x0A>", tokenTypeByte},
		{3 + 0xff, "<0xFF>", tokenTypeByte},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.text, v[tc.id])
		assert.Equal(t, tc.typ, types[tc.id])
	}
}

func TestFillChunkMatchesDirectConversion(t *testing.T) {
	const n = 4096
	tests := []struct {
		name string
		typ  uint32
		fill fillKind
		want func(r uint64) []byte
	}{
		{"f16 random", ggmlTypeF16, fillRandom, func(r uint64) []byte {
			return binary.LittleEndian.AppendUint16(nil, f32ToF16(approxNormal(r, synthStd)))
		}},
		{"f32 random", ggmlTypeF32, fillRandom, func(r uint64) []byte {
			return binary.LittleEndian.AppendUint32(nil, math.Float32bits(approxNormal(r, synthStd)))
		}},
		{"f16 ones", ggmlTypeF16, fillOnes, func(uint64) []byte { return []byte{0x00, 0x3c} }},
		{"f32 ones", ggmlTypeF32, fillOnes, func(uint64) []byte { return []byte{0, 0, 0x80, 0x3f} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			size := 4
			if tc.typ == ggmlTypeF16 {
				size = 2
			}
			buf := make([]byte, n*size)
			fillChunk(buf, tc.typ, tc.fill, chunkRNG(9, 3))
			rng := chunkRNG(9, 3)
			var want []byte
			for i := 0; i < n; i++ {
				want = append(want, tc.want(rng.next())...)
			}
			assert.Equal(t, want, buf)
		})
	}
}

func BenchmarkFillChunkF16(b *testing.B) {
	buf := make([]byte, chunkElems*2)
	b.SetBytes(int64(len(buf)))
	for i := 0; b.Loop(); i++ {
		fillChunk(buf, ggmlTypeF16, fillRandom, chunkRNG(1, i))
	}
}

// synthToy synthesizes p into a temporary file and returns its path, info and parsed header.
func synthToy(t *testing.T, p Preset) (string, *Info, *gguf.GGUFFile) {
	t.Helper()
	path := filepath.Join(t.TempDir(), p.Name+".gguf")
	require.NoError(t, Synth(path, p, 1))
	info, err := ReadInfo(path)
	require.NoError(t, err)
	gf, err := gguf.ParseGGUFFile(path)
	require.NoError(t, err)
	return path, info, gf
}

// assertUint32Keys checks uint32 metadata values of gf.
func assertUint32Keys(t *testing.T, gf *gguf.GGUFFile, want map[string]uint32) {
	t.Helper()
	for key, w := range want {
		v, ok := gf.Header.MetadataKV.Get(key)
		if assert.True(t, ok, key) {
			assert.Equal(t, w, v.ValueUint32(), key)
		}
	}
}

// tensorData reads the data of tensor name of the file at path and returns it with its info.
func tensorData(t *testing.T, path string, gf *gguf.GGUFFile, name string) ([]byte, *gguf.GGUFTensorInfo) {
	t.Helper()
	var ti *gguf.GGUFTensorInfo
	for i := range gf.TensorInfos {
		if gf.TensorInfos[i].Name == name {
			ti = &gf.TensorInfos[i]
		}
	}
	require.NotNil(t, ti, name)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	buf := make([]byte, ti.Bytes())
	_, err = f.ReadAt(buf, gf.TensorDataStartOffset+int64(ti.Offset))
	require.NoError(t, err)
	return buf, ti
}
