// Package llama binds llama.cpp (built as static libraries under build/) for
// quoka. It is the project's only cgo package.
//
// The low-level API mirrors llama.h with Go types: LoadModel gives a Model,
// NewContext a Session (a llama.cpp context) that decodes Batches, prefills prompts in n_batch
// pieces (each split by llama.cpp into n_ubatch chunks) and generates with a
// Sampler chain. Decoding honours context.Context cancellation between
// ubatches through llama.cpp's abort callback. New and the LLama type offer a
// go-llama.cpp-compatible surface on top.
//
// Models, contexts, batches and samplers own C memory: call Free when done.
// A cleanup registered with the runtime frees forgotten objects eventually,
// but only as a safety net. A Session (and anything using it) must not be used
// from several goroutines at once; distinct Sessions are independent.
package llama

/*
#cgo CFLAGS: -O2 -I${SRCDIR}/../../build/llama.cpp/include -I${SRCDIR}/../../build/llama.cpp/ggml/include
#cgo LDFLAGS: -L${SRCDIR}/../../build/llama-build/src -L${SRCDIR}/../../build/llama-build/ggml/src -L${SRCDIR}/../../build/llama-build/ggml/src/ggml-rpc
#cgo LDFLAGS: -Wl,--start-group -lllama -lggml -lggml-cpu -lggml-rpc -lggml-base -Wl,--end-group
#cgo LDFLAGS: -fopenmp -lstdc++ -lm -lpthread
#include "shim.h"
*/
import "C"

import (
	"os"
	"runtime"
	"strings"
	"sync"
)

var backendOnce sync.Once

// initBackend initialises llama.cpp once per process and installs the log
// router. Logs are silent unless QUOKA_LOG is set or SetVerbose(true) is
// called; llama.cpp's error messages are captured either way and used to
// enrich the errors this package returns.
func initBackend() {
	backendOnce.Do(func() {
		C.quoka_log_install(C.int(logLevelFromEnv(os.Getenv("QUOKA_LOG"))))
		C.llama_backend_init()
	})
}

// SetVerbose routes llama.cpp and ggml logs (info and above) to stderr, or
// silences them again. It overrides QUOKA_LOG.
func SetVerbose(verbose bool) {
	initBackend()
	level := C.QUOKA_LOG_OFF
	if verbose {
		level = C.GGML_LOG_LEVEL_INFO
	}
	C.quoka_log_set_level(C.int(level))
}

// logLevelFromEnv maps QUOKA_LOG to a minimum ggml log level: "" or "0" or
// "off" silence llama.cpp, "debug", "info", "warn" and "error" pick a level,
// and anything else (e.g. "1") means info.
func logLevelFromEnv(v string) int {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "0", "off", "false", "none":
		return C.QUOKA_LOG_OFF
	case "debug":
		return C.GGML_LOG_LEVEL_DEBUG
	case "warn", "warning":
		return C.GGML_LOG_LEVEL_WARN
	case "error":
		return C.GGML_LOG_LEVEL_ERROR
	default:
		return C.GGML_LOG_LEVEL_INFO
	}
}

// captureLogErrors runs f, which makes one llama.cpp (or ggml) call, and
// returns the most telling error line that call logged ("" when none).
//
// llama.cpp's log callback carries no context pointer, so the capture is per
// OS thread (see shim.c): the goroutine is locked to its thread for the
// call, and what the shim's thread-local buffer holds at the end is what
// this call logged, even while other goroutines' calls fail at the same
// time. Messages that llama.cpp logs from its own worker threads are not
// captured (its errors for a failing call are logged on the calling thread).
func captureLogErrors(f func()) string {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	C.quoka_log_capture_begin()
	f()
	var buf [4096]C.char
	n := C.quoka_log_capture_end(&buf[0], C.size_t(len(buf)))
	return pickLogError(C.GoStringN(&buf[0], C.int(n)))
}

// pickLogError chooses the most specific of llama.cpp's error lines: the
// loader's "error loading model: <cause>" when present, else the first line,
// stripped of its "function: " prefix.
func pickLogError(log string) string {
	const loadErr = "error loading model: "
	first := ""
	for _, line := range strings.Split(log, "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, loadErr); i >= 0 {
			return line[i+len(loadErr):]
		}
		if first == "" && line != "" {
			first = line
		}
	}
	if i := strings.Index(first, ": "); i > 0 && !strings.Contains(first[:i], " ") {
		first = first[i+2:]
	}
	return first
}
