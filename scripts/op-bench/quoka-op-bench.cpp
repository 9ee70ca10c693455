// quoka-op-bench: one layer's attention for one prefill chunk, dense flash_attn_ext versus QUOKA
// (quoka_select + get_rows + quoka_mask + flash_attn_ext), on identical inputs in the same run.
//
//   quoka-op-bench [-t threads] [-r reps] [--quick] [--backend CPU|CUDA0] [--csv]
//                  [--kv list] [--tokens list] [--hs list] [--gqa list] [--keep list] [--kv-heads N]
//                  [--mask] [--no-dense] [--type-kv f16|f32|bf16|q8_0|q4_0|...] [--queries N_Q]
//
// --keep sets the B_SA values (default: 1024 and 12% of n_kv).
//
// Prints a markdown table: both times (fastest of reps, runs interleaved), the speedup, and the share of the QUOKA
// time spent in the selection alone.

#include "ggml.h"
#include "ggml-alloc.h"
#include "ggml-backend.h"
#include "ggml-cpu.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

struct bench_case {
    int64_t hs, n_head, n_head_kv, n_tokens, n_kv;
    int     n_keep;
};


// one run of g, in milliseconds
static double time_graph(ggml_backend_t backend, ggml_cgraph * g) {
    const auto t0 = std::chrono::steady_clock::now();
    ggml_backend_graph_compute(backend, g);
    ggml_backend_synchronize(backend);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

static void fill_uniform(ggml_tensor * t, std::mt19937 & rng) {
    std::uniform_real_distribution<float> dis(-1.0f, 1.0f);
    std::vector<float> f(ggml_nelements(t));
    for (auto & x : f) {
        x = dis(rng);
    }
    if (t->type == GGML_TYPE_F32) {
        ggml_backend_tensor_set(t, f.data(), 0, f.size()*sizeof(float));
    } else {
        // F16, BF16 and the quantized types: rows of ne[0] values
        std::vector<char> h(ggml_nbytes(t));
        ggml_quantize_chunk(t->type, f.data(), h.data(), 0, ggml_nelements(t)/t->ne[0], t->ne[0], nullptr);
        ggml_backend_tensor_set(t, h.data(), 0, h.size());
    }
}

static bool with_mask = false; // --mask: also time the mask design
static bool no_dense  = false; // --no-dense: skip dense attention (a quick look at QUOKA and its selection)
static ggml_type type_kv = GGML_TYPE_F16; // --type-kv: the K/V cache type
static int n_query = 16;                  // --queries: N_Q, the kept queries per chunk

static bool run_case(ggml_backend_t backend, const bench_case & c, int reps, bool csv) {
    if (c.hs % ggml_blck_size(type_kv) != 0) {
        fprintf(stderr, "quoka-op-bench: hd %lld is not a multiple of %s's block size %lld: case skipped\n",
                (long long) c.hs, ggml_type_name(type_kv), (long long) ggml_blck_size(type_kv));
        return true;
    }
    const size_t n_tensors = 64;
    ggml_init_params ip = { ggml_tensor_overhead()*n_tensors + 4*ggml_graph_overhead(), nullptr, true };
    ggml_context * ctx = ggml_init(ip);

    // inputs laid out as in llama.cpp: K/V cache rows [hs, n_head_kv] per cell, the chunk at its end
    ggml_tensor * q4   = ggml_new_tensor_3d(ctx, GGML_TYPE_F32, c.hs, c.n_head, c.n_tokens);
    ggml_tensor * kc   = ggml_new_tensor_3d(ctx, type_kv, c.hs, c.n_head_kv, c.n_kv);
    ggml_tensor * vc   = ggml_new_tensor_3d(ctx, type_kv, c.hs, c.n_head_kv, c.n_kv);
    ggml_tensor * mask = ggml_new_tensor_2d(ctx, GGML_TYPE_F16, c.n_kv, c.n_tokens);
    ggml_tensor * own  = ggml_new_tensor_1d(ctx, GGML_TYPE_I64, c.n_tokens);

    ggml_backend_buffer_t buf = ggml_backend_alloc_ctx_tensors(ctx, backend);
    if (!buf) {
        fprintf(stderr, "quoka-op-bench: out of memory for n_kv %lld\n", (long long) c.n_kv);
        ggml_free(ctx);
        return false;
    }

    std::mt19937 rng(42);
    fill_uniform(q4, rng);
    fill_uniform(kc, rng);
    fill_uniform(vc, rng);
    {
        const int64_t past = c.n_kv - c.n_tokens;
        std::vector<ggml_fp16_t> m(c.n_kv*c.n_tokens);
        const ggml_fp16_t zero = ggml_fp32_to_fp16(0.0f), ninf = ggml_fp32_to_fp16(-INFINITY);
        for (int64_t t = 0; t < c.n_tokens; ++t) {
            for (int64_t j = 0; j < c.n_kv; ++j) {
                m[t*c.n_kv + j] = j < past + t + 1 ? zero : ninf;
            }
        }
        ggml_backend_tensor_set(mask, m.data(), 0, m.size()*sizeof(ggml_fp16_t));
        std::vector<int64_t> o(c.n_tokens);
        for (int64_t t = 0; t < c.n_tokens; ++t) {
            o[t] = past + t;
        }
        ggml_backend_tensor_set(own, o.data(), 0, o.size()*sizeof(int64_t));
    }

    ggml_tensor * q = ggml_permute(ctx, q4, 0, 2, 1, 3);
    ggml_tensor * k = ggml_permute(ctx, kc, 0, 2, 1, 3);
    ggml_tensor * v = ggml_permute(ctx, vc, 0, 2, 1, 3);
    const float scale = 1.0f/sqrtf((float) c.hs);

    ggml_tensor * dense = ggml_flash_attn_ext(ctx, q, k, v, mask, scale, 0.0f, 0.0f);
    ggml_prec_set_acc(dense, GGML_PREC_F32);
    // the gather design, as llama.cpp builds it: select, gather K/V (F16 as dense FA), compacted mask
    ggml_tensor * sel = ggml_quoka_select(ctx, q, k, mask, own, c.n_keep, n_query);
    ggml_tensor * kg  = ggml_cast(ctx, ggml_get_rows(ctx, k, sel), GGML_TYPE_F16);
    ggml_tensor * vg  = ggml_cast(ctx, ggml_get_rows(ctx, v, sel), GGML_TYPE_F16);
    ggml_tensor * mg  = ggml_quoka_mask(ctx, mask, sel, own, c.n_keep);
    ggml_tensor * sparse = ggml_flash_attn_ext(ctx, q, kg, vg, mg, scale, 0.0f, 0.0f);
    ggml_prec_set_acc(sparse, GGML_PREC_F32);

    // the mask design (upstream's sparse-attention pattern): the selection written into a full
    // -INF mask with set_rows, then flash attention over the whole cache with that mask. A mask
    // shared by all heads can hold one KV head's selection only: this times the design with KV
    // head 0's selection for every head (a lower bound of its cost)
    ggml_tensor * sel_idx = ggml_quoka_select(ctx, q, k, mask, own, c.n_keep, n_query);
    ggml_tensor * sel0  = ggml_view_1d(ctx, sel_idx, sel_idx->ne[0], 0);                   // [n_sel]
    ggml_tensor * maskT = ggml_cont(ctx, ggml_transpose(ctx, mask));                          // [n_tokens, n_kv]
    ggml_tensor * rows  = ggml_get_rows(ctx, maskT, sel0);                                    // [n_tokens, n_sel] F32
    ggml_tensor * blank = ggml_scale_bias(ctx, ggml_cast(ctx, maskT, GGML_TYPE_F32), 0.0f, -INFINITY);
    ggml_tensor * msp   = ggml_set_rows(ctx, blank, rows, sel0);                              // [n_tokens, n_kv]
    ggml_tensor * mspT  = ggml_cast(ctx, ggml_cont(ctx, ggml_transpose(ctx, msp)), GGML_TYPE_F16);
    ggml_tensor * masked = ggml_flash_attn_ext(ctx, q, k, v, mspT, scale, 0.0f, 0.0f);
    ggml_prec_set_acc(masked, GGML_PREC_F32);

    ggml_cgraph * gd = ggml_new_graph(ctx);
    ggml_build_forward_expand(gd, dense);
    ggml_cgraph * gq = ggml_new_graph(ctx);
    ggml_build_forward_expand(gq, sparse);
    ggml_cgraph * gs = ggml_new_graph(ctx);
    ggml_build_forward_expand(gs, sel);
    ggml_cgraph * gm = ggml_new_graph(ctx);
    ggml_build_forward_expand(gm, masked);

    // the graphs get their own allocators; their runs are interleaved (dense, quoka, select, mask,
    // dense, ...) so that a slow phase of a shared machine hits all of them alike
    const int n_graphs = with_mask ? 4 : 3;
    ggml_cgraph * graphs[4] = { gd, gq, gs, gm };
    ggml_gallocr_t ga[4] = { nullptr, nullptr, nullptr, nullptr };
    bool ok = true;
    for (int i = 0; i < n_graphs && ok; ++i) {
        ga[i] = ggml_gallocr_new(ggml_backend_get_default_buffer_type(backend));
        if (!ggml_gallocr_alloc_graph(ga[i], graphs[i])) {
            fprintf(stderr, "quoka-op-bench: graph allocation failed\n");
            ok = false;
        }
    }
    std::vector<double> times[4];
    for (int r = -1; r < reps && ok; ++r) { // r = -1: warm-up
        for (int i = no_dense ? 1 : 0; i < n_graphs; ++i) {
            const double t = time_graph(backend, graphs[i]);
            if (r >= 0) {
                times[i].push_back(t);
            }
        }
    }
    for (int i = 0; i < n_graphs; ++i) {
        ggml_gallocr_free(ga[i]);
    }
    // the fastest run: on a shared machine interference only ever adds time
    auto best = [](const std::vector<double> & v) {
        return v.empty() ? 0.0 : *std::min_element(v.begin(), v.end());
    };
    const double t_dense = best(times[0]), t_quoka = best(times[1]), t_sel = best(times[2]), t_mask = best(times[3]);

    if (ok) {
        const char * fmt = csv ? "%lld,%lld,%lld,%lld,%lld,%d,%.2f,%.2f,%.2f,%.2f,%.1f"
                               : "| %4lld | %3lld | %5lld | %6lld | %5lld | %5d | %10.2f | %9.2f | %9.2f | %6.2fx | %5.1f%% |";
        printf(fmt, (long long) c.hs, (long long) (c.n_head/c.n_head_kv), (long long) c.n_head,
                (long long) c.n_tokens, (long long) c.n_kv, c.n_keep, t_dense, t_quoka, t_sel,
                no_dense ? NAN : t_dense/t_quoka, 100.0*t_sel/t_quoka);
        if (with_mask) {
            printf(csv ? ",%.2f,%.2f" : " %9.2f | %6.2fx |", t_mask, t_dense/t_mask);
        }
        printf("\n");
        fflush(stdout);
    }

    ggml_backend_buffer_free(buf);
    ggml_free(ctx);
    return ok;
}

int main(int argc, char ** argv) {
    int n_threads = 2, reps = 3;
    bool quick = false, csv = false, gpu = false;
    std::string backend_name = "CPU";
    std::vector<int64_t> kvs = { 4096, 8192, 16384, 32768, 65536 };
    std::vector<int64_t> tokens = { 512, 128 };
    std::vector<int64_t> dims = { 128, 64 };
    std::vector<int64_t> gqas = { 4 };
    std::vector<int64_t> keeps;          // B_SA values; default: 1024 and 12% of n_kv
    int64_t n_head_kv = 8;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                fprintf(stderr, "quoka-op-bench: %s needs a value\n", a.c_str());
                exit(2);
            }
            return argv[++i];
        };
        auto list = [&](std::vector<int64_t> & out) {
            out.clear();
            std::string v = next();
            for (size_t p = 0; p <= v.size();) {
                size_t e = v.find(',', p);
                if (e == std::string::npos) e = v.size();
                out.push_back(atoll(v.substr(p, e - p).c_str()));
                p = e + 1;
            }
        };
        if (a == "-t") { n_threads = atoi(next().c_str()); }
        else if (a == "-r") { reps = atoi(next().c_str()); }
        else if (a == "--quick") { quick = true; }
        else if (a == "--csv") { csv = true; }
        else if (a == "--mask") { with_mask = true; }
        else if (a == "--no-dense") { no_dense = true; }
        else if (a == "--backend") { backend_name = next(); gpu = backend_name != "CPU"; }
        else if (a == "--kv") { list(kvs); }
        else if (a == "--tokens") { list(tokens); }
        else if (a == "--hs") { list(dims); }
        else if (a == "--gqa") { list(gqas); }
        else if (a == "--keep") { list(keeps); }
        else if (a == "--kv-heads") { n_head_kv = atoll(next().c_str()); }
        else if (a == "--queries") {
            n_query = atoi(next().c_str());
            if (n_query < 1) {
                fprintf(stderr, "quoka-op-bench: --queries must be at least 1\n");
                return 2;
            }
        }
        else if (a == "--type-kv") {
            const std::string name = next();
            int found = -1;
            for (int t = 0; t < GGML_TYPE_COUNT; ++t) {
                const char * tn = ggml_type_name((ggml_type) t);
                if (tn != nullptr && name == tn && ggml_type_size((ggml_type) t) > 0) {
                    found = t;
                }
            }
            if (found < 0) {
                fprintf(stderr, "quoka-op-bench: --type-kv %s: not a ggml type name (f16, f32, bf16, q8_0, q4_0, ...)\n", name.c_str());
                return 2;
            }
            type_kv = (ggml_type) found;
        }
        else {
            fprintf(stderr, "usage: %s [-t threads] [-r reps] [--quick] [--csv] [--backend NAME] [--kv list] [--tokens list] [--hs list] [--gqa list] [--keep list] [--kv-heads N] [--mask] [--no-dense] [--type-kv TYPE] [--queries N_Q]\n", argv[0]);
            return 2;
        }
    }
    if (quick) {
        kvs = { 4096, 8192 };
        tokens = { 128 };
        dims = { 64 };
    }

    ggml_backend_load_all();
    ggml_backend_t backend = gpu ? ggml_backend_init_by_name(backend_name.c_str(), nullptr)
                                 : ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, nullptr);
    if (!backend) {
        fprintf(stderr, "quoka-op-bench: cannot initialise backend %s\n", backend_name.c_str());
        return 1;
    }
    if (!gpu) {
        ggml_backend_cpu_set_n_threads(backend, n_threads);
    }

    printf(csv ? "# backend=%s threads=%d reps=%d n_query=%d K/V=%s\n"
               : "backend %s, %d threads, fastest of %d interleaved runs, N_Q %d, %s K/V, times in ms\n\n",
           ggml_backend_name(backend), n_threads, reps, n_query, ggml_type_name(type_kv));
    if (csv) {
        printf("head_dim,gqa,n_head,n_tokens,n_kv,b_sa,dense_ms,quoka_ms,select_ms,speedup,select_pct%s\n",
               with_mask ? ",mask_ms,mask_speedup" : "");
    } else {
        printf("| hd | gqa | heads | tokens |  n_kv |  B_SA |   dense ms |  quoka ms | select ms | speedup | select |%s\n",
               with_mask ? "   mask ms | mask speedup |" : "");
        printf("|---:|----:|------:|-------:|------:|------:|-----------:|----------:|----------:|--------:|-------:|%s\n",
               with_mask ? "----------:|-------------:|" : "");
    }

    bool ok = true;
    for (int64_t hs : dims) {
        for (int64_t gqa : gqas) {
            for (int64_t nt : tokens) {
                for (int64_t kv : kvs) {
                    const int64_t pct = (int) std::lround(0.12*(double) kv);
                    const std::vector<int64_t> ks = keeps.empty() ? std::vector<int64_t>{ 1024, pct } : keeps;
                    for (int64_t n_keep : ks) {
                        ok &= run_case(backend, { hs, n_head_kv*gqa, n_head_kv, nt, kv, (int) n_keep }, reps, csv);
                    }
                }
            }
        }
    }

    ggml_backend_free(backend);
    return ok ? 0 : 1;
}
