#include "shim.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "_cgo_export.h"

// ---- logging ---------------------------------------------------------------

#define QUOKA_ERRBUF_SIZE 4096

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static int  log_min_level = QUOKA_LOG_OFF;
static int  log_last_level = GGML_LOG_LEVEL_INFO; // level that GGML_LOG_LEVEL_CONT continues
static char log_errbuf[QUOKA_ERRBUF_SIZE];
static size_t log_errlen = 0;

static void quoka_log_callback(enum ggml_log_level level, const char * text, void * user_data) {
    (void) user_data;
    pthread_mutex_lock(&log_mu);
    if (level == GGML_LOG_LEVEL_CONT) {
        level = (enum ggml_log_level) log_last_level;
    } else {
        log_last_level = level;
    }
    if (level == GGML_LOG_LEVEL_ERROR && text != NULL) {
        size_t n = strlen(text);
        if (n > QUOKA_ERRBUF_SIZE - 1 - log_errlen) {
            // full: start over, keeping the newest message (its tail if too long)
            log_errlen = 0;
            if (n > QUOKA_ERRBUF_SIZE - 1) {
                text += n - (QUOKA_ERRBUF_SIZE - 1);
                n = QUOKA_ERRBUF_SIZE - 1;
            }
        }
        memcpy(log_errbuf + log_errlen, text, n);
        log_errlen += n;
        log_errbuf[log_errlen] = '\0';
    }
    if ((int) level >= log_min_level && text != NULL) {
        fputs(text, stderr);
        fflush(stderr);
    }
    pthread_mutex_unlock(&log_mu);
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

void quoka_log_errors_reset(void) {
    pthread_mutex_lock(&log_mu);
    log_errlen = 0;
    log_errbuf[0] = '\0';
    pthread_mutex_unlock(&log_mu);
}

size_t quoka_log_errors(char * buf, size_t n) {
    if (n == 0) {
        return 0;
    }
    pthread_mutex_lock(&log_mu);
    size_t m = log_errlen < n - 1 ? log_errlen : n - 1;
    memcpy(buf, log_errbuf, m);
    buf[m] = '\0';
    pthread_mutex_unlock(&log_mu);
    return m;
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
