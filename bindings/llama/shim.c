#include "shim.h"
#include "ggml.h"
#include "ggml-backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "_cgo_export.h"

// ---- logging ---------------------------------------------------------------

#define QUOKA_ERRBUF_SIZE 4096

// The log callback has no context pointer, so the error capture is per
// thread: llama.cpp logs a failing call's errors on the thread that made the
// call, and a cgo call runs on one OS thread from start to end. Go brackets
// each call with quoka_log_capture_begin/end on a locked OS thread, which
// makes the capture that call's own, without serialising concurrent calls.
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER; // serialises stderr and the level
static int log_min_level = QUOKA_LOG_OFF;

static __thread int    tl_last_level = GGML_LOG_LEVEL_INFO; // level that GGML_LOG_LEVEL_CONT continues
static __thread int    tl_capturing  = 0;
static __thread size_t tl_errlen     = 0;
static __thread char   tl_errbuf[QUOKA_ERRBUF_SIZE];

static void quoka_log_capture_append(const char * text) {
    size_t n = strlen(text);
    if (n > QUOKA_ERRBUF_SIZE - 1 - tl_errlen) {
        // full: start over, keeping the newest message (its tail if too long)
        tl_errlen = 0;
        if (n > QUOKA_ERRBUF_SIZE - 1) {
            text += n - (QUOKA_ERRBUF_SIZE - 1);
            n = QUOKA_ERRBUF_SIZE - 1;
        }
    }
    memcpy(tl_errbuf + tl_errlen, text, n);
    tl_errlen += n;
    tl_errbuf[tl_errlen] = '\0';
}

static void quoka_log_callback(enum ggml_log_level level, const char * text, void * user_data) {
    (void) user_data;
    if (text == NULL) {
        return;
    }
    if (level == GGML_LOG_LEVEL_CONT) {
        level = (enum ggml_log_level) tl_last_level;
    } else {
        tl_last_level = level;
    }
    if (level == GGML_LOG_LEVEL_ERROR && tl_capturing) {
        quoka_log_capture_append(text);
    }
    pthread_mutex_lock(&log_mu);
    if ((int) level >= log_min_level) {
        fputs(text, stderr);
        fflush(stderr);
    }
    pthread_mutex_unlock(&log_mu);
}

void quoka_log_capture_begin(void) {
    tl_errlen = 0;
    tl_errbuf[0] = '\0';
    tl_capturing = 1;
}

size_t quoka_log_capture_end(char * buf, size_t n) {
    tl_capturing = 0;
    if (n == 0) {
        return 0;
    }
    size_t m = tl_errlen < n - 1 ? tl_errlen : n - 1;
    memcpy(buf, tl_errbuf, m);
    buf[m] = '\0';
    tl_errlen = 0;
    return m;
}

void quoka_log_install(int min_level) {
    quoka_log_set_level(min_level);
    llama_log_set(quoka_log_callback, NULL); // also sets ggml's logger
}

void quoka_log_set_level(int min_level) {
    pthread_mutex_lock(&log_mu);
    log_min_level = min_level;
    pthread_mutex_unlock(&log_mu);
}

// ---- abort -----------------------------------------------------------------

static bool quoka_abort_callback(void * data) {
    return __atomic_load_n((int *) data, __ATOMIC_ACQUIRE) != 0;
}

int * quoka_abort_flag_new(void) {
    return (int *) calloc(1, sizeof(int));
}

void quoka_abort_flag_free(int * flag) {
    free(flag);
}

void quoka_abort_flag_store(int * flag, int value) {
    __atomic_store_n(flag, value, __ATOMIC_RELEASE);
}

void quoka_set_abort_callback(struct llama_context * ctx, int * flag) {
    llama_set_abort_callback(ctx, quoka_abort_callback, flag);
}

// ---- model load progress ---------------------------------------------------

static bool quoka_progress_callback(float progress, void * user_data) {
    return quokaGoProgress(progress, (uintptr_t) user_data);
}

void quoka_model_params_set_progress(struct llama_model_params * params, uintptr_t handle) {
    params->progress_callback = quoka_progress_callback;
    params->progress_callback_user_data = (void *) handle;
}

// ---- tensor capture ----------------------------------------------------------

#define QUOKA_CAPTURE_MAX_NAMES 16

struct quoka_captured {
    char    name[GGML_MAX_NAME];
    int     type;
    int64_t ne[4];
    void *  data;
    size_t  size;
};

struct quoka_capture {
    char   names[QUOKA_CAPTURE_MAX_NAMES][GGML_MAX_NAME];
    int    n_names;
    struct quoka_captured * items;
    size_t n, cap;
};

struct quoka_capture * quoka_capture_new(void) {
    return calloc(1, sizeof(struct quoka_capture));
}

void quoka_capture_clear(struct quoka_capture * c) {
    for (size_t i = 0; i < c->n; ++i) {
        free(c->items[i].data);
    }
    c->n = 0;
}

void quoka_capture_free(struct quoka_capture * c) {
    if (c) {
        quoka_capture_clear(c);
        free(c->items);
        free(c);
    }
}

void quoka_capture_add_name(struct quoka_capture * c, const char * name) {
    if (c->n_names < QUOKA_CAPTURE_MAX_NAMES) {
        snprintf(c->names[c->n_names++], GGML_MAX_NAME, "%s", name);
    }
}

static bool quoka_capture_wanted(const struct quoka_capture * c, const char * name) {
    for (int i = 0; i < c->n_names; ++i) {
        if (strcmp(c->names[i], name) == 0) {
            return true;
        }
    }
    return false;
}

static bool quoka_capture_cb(struct ggml_tensor * t, bool ask, void * user_data) {
    struct quoka_capture * c = user_data;
    if (!quoka_capture_wanted(c, t->name)) {
        return ask ? false : true;
    }
    if (ask) {
        return true;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2*c->cap : 16;
        struct quoka_captured * items = realloc(c->items, cap*sizeof(*items));
        if (!items) {
            return true; // out of memory: skip, keep computing
        }
        c->items = items;
        c->cap = cap;
    }
    struct quoka_captured * it = &c->items[c->n];
    it->size = ggml_nbytes(t);
    it->data = malloc(it->size);
    if (!it->data) {
        return true;
    }
    ggml_backend_tensor_get(t, it->data, 0, it->size);
    snprintf(it->name, sizeof(it->name), "%s", t->name);
    it->type = t->type;
    for (int d = 0; d < 4; ++d) {
        it->ne[d] = t->ne[d];
    }
    c->n++;
    return true;
}

void quoka_capture_install(struct llama_context_params * p, struct quoka_capture * c) {
    p->cb_eval = quoka_capture_cb;
    p->cb_eval_user_data = c;
}

size_t quoka_capture_count(const struct quoka_capture * c) { return c->n; }
const char * quoka_capture_name(const struct quoka_capture * c, size_t i) { return c->items[i].name; }
const char * quoka_capture_type(const struct quoka_capture * c, size_t i) { return ggml_type_name(c->items[i].type); }
int64_t quoka_capture_ne(const struct quoka_capture * c, size_t i, int dim) { return c->items[i].ne[dim]; }
const void * quoka_capture_data(const struct quoka_capture * c, size_t i, size_t * size) {
    *size = c->items[i].size;
    return c->items[i].data;
}
