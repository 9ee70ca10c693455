package main

import (
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal (progress bars and line
// editing only make sense there).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newBar returns a progress bar on w that clears itself when done, or nil
// when w is not a terminal. All bar helpers accept nil.
func newBar(w io.Writer, max int, description string) *progressbar.ProgressBar {
	if !isTerminal(w) {
		return nil
	}
	return progressbar.NewOptions(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(description),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionThrottle(50*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func finishBar(bar *progressbar.ProgressBar) {
	if bar != nil {
		_ = bar.Finish()
	}
}

// loadProgress returns a model-load progress callback drawing a bar on w
// (a terminal) and the function that clears it. keepGoing is polled to abort
// the load, e.g. on Ctrl-C.
func loadProgress(w io.Writer, keepGoing func() bool) (func(float32) bool, func()) {
	bar := newBar(w, 100, "loading model")
	return func(p float32) bool {
		if bar != nil {
			_ = bar.Set(int(p * 100))
		}
		return keepGoing()
	}, func() { finishBar(bar) }
}

// prefillProgress returns a Prefill progress callback that draws a bar on w
// (a terminal) for prompts of two n_batch pieces or more, and the function
// that clears it.
func prefillProgress(w io.Writer, promptTokens, nBatch int) (func(done, total int), func()) {
	if promptTokens < 2*nBatch {
		return nil, func() {}
	}
	bar := newBar(w, promptTokens, "prefill")
	if bar == nil {
		return nil, func() {}
	}
	return func(done, _ int) { _ = bar.Set(done) }, func() { finishBar(bar) }
}
