package llama

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestErrorCaptureIsPerCall fails llama.cpp calls in several goroutines at
// once, each in its own way, and checks that every error carries the text
// llama.cpp logged for that call, not another goroutine's.
func TestErrorCaptureIsPerCall(t *testing.T) {
	m := loadStories(t)
	files := badModels(t)
	const rounds = 60

	type failing struct {
		name string
		want string       // in every error of this goroutine
		run  func() error // one failing call
	}
	var cases []failing
	for _, tc := range []struct{ file, want string }{
		{"truncated data", "blk.1.ffn_down.weight"},
		{"last byte gone", "blk.4.ffn_norm.weight"},
	} {
		cases = append(cases, failing{
			name: tc.file, want: tc.want,
			run: func() error { _, err := loadModel(files[tc.file], ModelParams{}); return err },
		})
	}
	for g := range 3 {
		c := newTestContext(t, m, ContextParams{NCtx: 256, NBatch: 8})
		b, err := NewBatch(8, 1)
		require.NoError(t, err)
		t.Cleanup(b.Free)
		bad := Token(m.VocabSize() + 1000 + g) // out of the vocabulary: llama_decode rejects the batch
		require.NoError(t, b.Add(bad, 0, true))
		cases = append(cases, failing{
			name: fmt.Sprintf("decode %d", g), want: fmt.Sprintf("= %d", bad),
			run: func() error { return c.Decode(context.Background(), b) },
		})
	}

	var wg sync.WaitGroup
	errs := make([][]string, len(cases))
	for i, tc := range cases {
		wg.Go(func() {
			for range rounds {
				if err := tc.run(); err != nil {
					errs[i] = append(errs[i], err.Error())
				} else {
					errs[i] = append(errs[i], "<no error>")
				}
			}
		})
	}
	wg.Wait()
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Len(t, errs[i], rounds)
			bad := 0
			for _, e := range errs[i] {
				if !assert.Contains(t, e, tc.want) {
					bad++
				}
				if bad > 3 {
					t.Fatalf("more errors without %q: stopping", tc.want)
				}
			}
		})
	}
}
