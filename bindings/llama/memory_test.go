package llama

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quoka-llm/quoka/internal/sharedtest"
)

// rss is the process's resident set size in bytes, from /proc/self/statm.
func rss(t testing.TB) int64 {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(data))
	require.GreaterOrEqual(t, len(fields), 2)
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

func TestFreeReleasesMemory(t *testing.T) {
	if testing.Short() {
		sharedtest.Skipf(t, "200 load/free cycles")
	}
	path := storiesPath(t)
	cycle := func() {
		m, err := LoadModel(path, ModelParams{})
		require.NoError(t, err)
		c, err := NewContext(m, ContextParams{NCtx: 512, Threads: 1})
		require.NoError(t, err)
		toks, err := c.Tokenize(goldenPrompt, true, false)
		require.NoError(t, err)
		require.NoError(t, c.Prefill(t.Context(), toks, nil))
		c.Free()
		m.Free()
	}
	for range 10 { // warm-up: allocator arenas, OpenMP threads, caches
		cycle()
	}
	before := rss(t)
	for range 200 {
		cycle()
	}
	after := rss(t)
	const limit = 16 << 20
	t.Logf("RSS %.1f MiB -> %.1f MiB over 200 cycles", float64(before)/(1<<20), float64(after)/(1<<20))
	assert.Less(t, after-before, int64(limit), "RSS grew by %d bytes", after-before)
}

// BenchmarkGenerationRSS runs 1,000 short generations (a fresh KV cache, a
// short prompt, 8 greedy tokens) on one context and reports the resident
// set size before and after, and its growth, as metrics: a figure to read,
// not a pass/fail threshold. Run it with
//
//	go test -run '^$' -bench GenerationRSS -benchtime 1x ./bindings/llama
func BenchmarkGenerationRSS(b *testing.B) {
	m := loadStories(b)
	c := newTestContext(b, m, ContextParams{NCtx: 256, Threads: 1})
	generate := func() {
		c.ClearKV()
		_, _, err := c.Generate(b.Context(), goldenPrompt, GenerateOptions{MaxTokens: 8})
		require.NoError(b, err)
	}
	for range 20 { // warm-up: allocator arenas, thread pools, caches
		generate()
	}
	const generations = 1000
	for b.Loop() {
		before := rss(b)
		for range generations {
			generate()
		}
		after := rss(b)
		b.ReportMetric(float64(before)/(1<<20), "MiB-rss-before")
		b.ReportMetric(float64(after)/(1<<20), "MiB-rss-after")
		b.ReportMetric(float64(after-before)/(1<<20), "MiB-rss-growth")
		b.Logf("RSS %.1f MiB -> %.1f MiB over %d generations (%+.2f MiB)", float64(before)/(1<<20),
			float64(after)/(1<<20), generations, float64(after-before)/(1<<20))
	}
}
