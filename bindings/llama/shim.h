// Package llama's C shim: only what Go cannot do by calling llama.h directly,
// namely C function pointers (log, abort and progress callbacks). No logic
// that Go could hold lives here.
#ifndef QUOKA_SHIM_H
#define QUOKA_SHIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llama.h"

// quoka_log_off is a minimum level above every ggml_log_level: nothing is printed.
#define QUOKA_LOG_OFF 100

// Installs the shim's logger for llama.cpp and ggml. Messages at or above
// min_level (a ggml_log_level) go to stderr; error messages logged on a
// thread between quoka_log_capture_begin and _end are also kept, whatever
// the level, in that thread's buffer.
void quoka_log_install(int min_level);
void quoka_log_set_level(int min_level);

// Starts capturing the error messages logged on the calling thread (clearing
// what an earlier capture left) / stops and copies them into buf
// (NUL-terminated, truncated to n-1 bytes), returning the bytes copied. Both
// must be called on the same OS thread, around one llama.cpp call.
void   quoka_log_capture_begin(void);
size_t quoka_log_capture_end(char * buf, size_t n);

// Per-context abort flag polled by llama_decode between graph nodes.
int *  quoka_abort_flag_new(void);
void   quoka_abort_flag_free(int * flag);
void   quoka_abort_flag_store(int * flag, int value);
void   quoka_set_abort_callback(struct llama_context * ctx, int * flag);

// Routes llama's model-load progress to the Go callback registered under
// handle (a runtime/cgo.Handle).
void quoka_model_params_set_progress(struct llama_model_params * params, uintptr_t handle);

// Tensor capture: an eval callback that copies the graph tensors with the
// given exact names (e.g. "quoka_sel-0") into a store after they are computed.
struct quoka_capture;
struct quoka_capture * quoka_capture_new(void);
void   quoka_capture_free(struct quoka_capture * c);
void   quoka_capture_add_name(struct quoka_capture * c, const char * name);
void   quoka_capture_install(struct llama_context_params * p, struct quoka_capture * c);
size_t quoka_capture_count(const struct quoka_capture * c);
// i-th captured tensor: its name, ggml type name, shape and data
const char * quoka_capture_name(const struct quoka_capture * c, size_t i);
const char * quoka_capture_type(const struct quoka_capture * c, size_t i);
int64_t      quoka_capture_ne(const struct quoka_capture * c, size_t i, int dim);
const void * quoka_capture_data(const struct quoka_capture * c, size_t i, size_t * size);
void   quoka_capture_clear(struct quoka_capture * c);

#endif // QUOKA_SHIM_H
