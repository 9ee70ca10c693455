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
func rss(t *testing.T) int64 {
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
