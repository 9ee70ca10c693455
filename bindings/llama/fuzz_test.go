package llama

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/ggufedit"
	"github.com/quoka-llm/quoka/internal/sharedtest"
)

// fuzzBaseNames are the shared models whose bytes complete the fuzz inputs:
// two architectures' worth of metadata (the f32 twins add nothing new).
var fuzzBaseNames = []string{"models/stories260K.gguf", "models/passkey-llama-3L256d-f16.gguf"}

var (
	fuzzBasesOnce sync.Once
	fuzzBases     [][]byte
)

// loadFuzzBases reads the shared models once, at test time (they are never
// copied into the repository); none when ../shared is absent.
func loadFuzzBases() [][]byte {
	fuzzBasesOnce.Do(func() {
		for _, name := range fuzzBaseNames {
			if data, err := os.ReadFile(filepath.Join(sharedtest.Dir(), filepath.FromSlash(name))); err == nil {
				fuzzBases = append(fuzzBases, data)
			}
		}
	})
	return fuzzBases
}

// fuzzFile assembles a fuzz input: prefix, then the base model's bytes from
// offset resume on. With resume = len(prefix) the prefix overwrites the
// start of the model; a rewritten header resumes at the model's data.
func fuzzFile(base uint8, prefix []byte, resume uint32) []byte {
	out := append([]byte(nil), prefix...)
	if bases := loadFuzzBases(); len(bases) > 0 {
		b := bases[int(base)%len(bases)]
		out = append(out, b[min(int(resume), len(b)):]...)
	}
	return out
}

// addFuzzSeeds seeds f from the shared models: byte-level mutations of the
// fixed header (version, counts, the first key) and the metadata mutations
// of ggufedit, each with the model's own data behind it.
func addFuzzSeeds(f *testing.F) {
	for bi, base := range loadFuzzBases() {
		b := uint8(bi)
		f.Add(b, base[:24], uint32(24)) // the model itself
		for _, m := range []struct {
			off int
			val []byte
		}{
			{4, []byte{1, 0, 0, 0}},                         // version 1
			{8, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}}, // tensor count
			{16, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}},
			{24, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}}, // first key's length
		} {
			p := append([]byte(nil), base[:64]...)
			copy(p[m.off:], m.val)
			f.Add(b, p, uint32(len(p)))
		}
		g, err := ggufedit.Parse(base)
		if err != nil {
			continue
		}
		dataStart := uint32(len(base) - len(g.Data))
		for _, mut := range ggufedit.Mutations() {
			g, _ := ggufedit.Parse(base)
			mut.Apply(g)
			enc := g.Bytes()
			f.Add(b, enc[:len(enc)-len(g.Data)], dataStart)
		}
	}
}

// maxFuzzPrefix bounds the mutated prefix: the shared models' headers
// (metadata and tensor infos) are smaller.
const maxFuzzPrefix = 64 << 10

// FuzzLoadModel feeds mutated GGUF headers and metadata to LoadModel: every
// input must load or fail with an error, never crash or abort the process
// (llama.cpp's loader asserts on some malformed metadata, which the Go
// pre-validation must reject first). A model that loads must tokenize.
// Run it with a short minimisation, the inputs are large:
//
//	go test -run '^$' -fuzz FuzzLoadModel -fuzztime 3m -fuzzminimizetime 5s -parallel 1 ./bindings/llama
func FuzzLoadModel(f *testing.F) {
	initBackend()
	addFuzzSeeds(f)
	dir := f.TempDir()
	var n int
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, base uint8, prefix []byte, resume uint32) {
		if len(prefix) > maxFuzzPrefix {
			return // headers are smaller; long inputs only slow the fuzzer down
		}
		mu.Lock()
		n++
		path := filepath.Join(dir, fmt.Sprintf("fuzz-%d.gguf", n))
		mu.Unlock()
		require.NoError(t, os.WriteFile(path, fuzzFile(base, prefix, resume), 0o644))
		defer os.Remove(path)
		m, err := LoadModel(path, ModelParams{})
		if err != nil {
			require.NotEmpty(t, err.Error())
			return
		}
		defer m.Free()
		_, err = m.Tokenize(goldenPrompt, true, false)
		require.NoError(t, err)
		_ = m.Desc()
	})
}
