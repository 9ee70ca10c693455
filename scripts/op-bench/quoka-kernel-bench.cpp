// Microbenchmark of the CPU QUOKA scoring kernels on cached keys, one thread: ns per key and KV
// head for the int16 filter's staging and scoring, the build's exact FP32 several-key kernel, and the
// staging alone streaming a cache-sized buffer (one and two threads). It includes the kernels'
// source (they are file-local), so it is built against the patched tree, with the build's flags:
// scripts/kernel-bench.sh.
//
// It also measures two prototypes that are not in the op (#12's "persistent smaller copy of the
// normalised keys", written once per cell): an 8-bit row format of its own and ggml's Q8_0, each
// scored with no staging, the whole filter over a cache-sized buffer against the int16 filter's,
// and how many candidates each one's error bound leaves for the exact re-scoring (with a check
// that no key's approximate score is further from its exact score than the bound says).
#include "ggml-cpu/quoka.cpp"
#include "ggml-quants.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

using bench_clock = std::chrono::steady_clock;

static double ns_since(bench_clock::time_point t0) {
    return std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count();
}


// wall time of fn(0) .. fn(nt - 1) run on nt threads, in ns
template <typename F>
static double on_threads(int nt, F fn) {
    const auto t0 = bench_clock::now();
    std::vector<std::thread> th;
    for (int it = 0; it < nt; ++it) {
        th.emplace_back(fn, it);
    }
    for (auto & x : th) {
        x.join();
    }
    return ns_since(t0);
}

// Prototype, not in the op: a persistent 8-bit copy of the keys (what #12 names as the last lever
// for the selection on AVX2 CPUs), written once per cell, scored without staging. Keys: s8 in
// [-63, 63] (s_k = 63/max|k_i|), queries: u8 (s_q = 127/max|q_i|, stored + 128), so that vpmaddubsw
// (u8 x s8 pairs into int16) cannot saturate (2*255*63 < 2^15). Per cell and KV head the copy holds
// the D bytes, 1/(s_k |k|) and 128*sum(k~) (the offset's correction, one per key: the maximum over
// queries commutes with it), and for the tightest bound |k~|_1 (D + 8 or D + 12 bytes).
struct i8_copy {
    std::vector<int8_t> k;    // [n][D]
    std::vector<float>  inv;  // [n] 1/(s_k |k|)
    std::vector<float>  err;  // [n] |k~|_1, for the bound's query rounding term
    std::vector<int32_t> corr; // [n] 128*sum(k~)
};

static void i8_write(const float * k, int64_t n, int64_t D, i8_copy & c) {
    c.k.resize(n*D); c.inv.resize(n); c.err.resize(n); c.corr.resize(n);
    for (int64_t j = 0; j < n; ++j) {
        const float * x = k + j*D;
        float amax = 0.0f, n2 = 0.0f, l1 = 0.0f;
        for (int64_t d = 0; d < D; ++d) { amax = std::max(amax, fabsf(x[d])); n2 += x[d]*x[d]; }
        const float sk = 63.0f/amax, nk = sqrtf(n2);
        int32_t sum = 0;
        for (int64_t d = 0; d < D; ++d) {
            const int v = (int) lrintf(x[d]*sk);
            c.k[j*D + d] = (int8_t) v; sum += v; l1 += fabsf((float) v);
        }
        c.inv[j]  = 1.0f/(sk*nk);
        c.err[j]  = l1;
        c.corr[j] = 128*sum;
    }
}

// queries qa [NQp][D] as u8 with 8 queries in the lanes, 4 dims each: qb [NQp/8][D/4][8][4]
static float i8_queries(const float * qa, int64_t NQp, int64_t D, uint8_t * qb, float * ql1) {
    float amax = 0.0f;
    for (int64_t i = 0; i < NQp*D; ++i) amax = std::max(amax, fabsf(qa[i]));
    const float sq = 127.0f/amax;
    for (int64_t r = 0; r < NQp; ++r) {
        float l1 = 0.0f;
        for (int64_t d = 0; d < D; ++d) {
            l1 += fabsf(qa[r*D + d]);
            qb[(((r/8)*(D/4) + d/4)*8 + r%8)*4 + d%4] = (uint8_t) ((int) lrintf(qa[r*D + d]*sq) + 128);
        }
        ql1[r] = l1;
    }
    return sq;
}

#if defined(__AVX2__)
// 8 keys (rows of D s8) against one block of 8 queries; m[j] = max(m[j], dots)
static QUOKA_NOINLINE void i8_dot8(const uint8_t * q, const int8_t * k, int64_t D, __m256i * m) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
    for (int64_t p = 0; p < D/4; ++p) {
        const __m256i x = _mm256_loadu_si256((const __m256i *) (q + p*32));
#define I8_STEP(a, j) a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(x, _mm256_set1_epi32(*(const int32_t *) (k + (j)*D + 4*p))), ones))
        I8_STEP(a0, 0); I8_STEP(a1, 1); I8_STEP(a2, 2); I8_STEP(a3, 3);
        I8_STEP(a4, 4); I8_STEP(a5, 5); I8_STEP(a6, 6); I8_STEP(a7, 7);
#undef I8_STEP
    }
    m[0] = _mm256_max_epi32(m[0], a0); m[1] = _mm256_max_epi32(m[1], a1);
    m[2] = _mm256_max_epi32(m[2], a2); m[3] = _mm256_max_epi32(m[3], a3);
    m[4] = _mm256_max_epi32(m[4], a4); m[5] = _mm256_max_epi32(m[5], a5);
    m[6] = _mm256_max_epi32(m[6], a6); m[7] = _mm256_max_epi32(m[7], a7);
}

// approximate scores of n (multiple of 8) keys of the copy from index j0
static void i8_score(const uint8_t * qb, int64_t nb, int64_t D, float sq, const i8_copy & c, int64_t j0, int64_t n, float * out) {
    for (int64_t j = j0; j < j0 + n; j += 8) {
        __m256i m[8];
        for (int i = 0; i < 8; ++i) m[i] = _mm256_set1_epi32(INT32_MIN);
        for (int64_t b = 0; b < nb; ++b) {
            i8_dot8(qb + b*D*8, c.k.data() + j*D, D, m);
        }
        for (int i = 0; i < 8; ++i) {
            out[j - j0 + i] = (float) (quoka_hmax8_epi32(m[i]) - c.corr[j + i])*c.inv[j + i]/sq;
        }
    }
}
#endif

// Prototype, not in the op: the same idea on ggml's Q8_0 (blocks of 32, an F16 scale each), the
// copy written by upstream ops (ggml_l2_norm, then ggml_set_rows into a Q8_0 tensor). Queries s8
// (s_q = 127/max|q_i|) stored as |q| (u8) and their signs applied to the key bytes (vpsignb), so
// vpmaddubsw multiplies u8 |q| by s8 sign(q) k (2*127*127 < 2^15); per block the int32 sums are
// scaled by the key's block scale in FP32.
static float q8_queries(const float * qa, int64_t NQp, int64_t D, int8_t * qs8, float * qb1) {
    float amax = 0.0f;
    for (int64_t i = 0; i < NQp*D; ++i) amax = std::max(amax, fabsf(qa[i]));
    const float sq = 127.0f/amax;
    for (int64_t b = 0; b < D/32; ++b) qb1[b] = 0.0f;
    for (int64_t r = 0; r < NQp; ++r) {
        for (int64_t b = 0; b < D/32; ++b) {
            float l1 = 0.0f;
            for (int64_t d = 32*b; d < 32*b + 32; ++d) {
                l1 += fabsf(qa[r*D + d]);
                qs8[(((r/8)*(D/4) + d/4)*8 + r%8)*4 + d%4] = (int8_t) lrintf(qa[r*D + d]*sq);
            }
            qb1[b] = std::max(qb1[b], l1); // max over queries of each block's |q|_1
        }
    }
    return sq;
}

#if defined(__AVX2__)
// 4 keys (rows of D/32 Q8_0 blocks) against one block of 8 queries: FP32 dot products (times s_q)
static QUOKA_NOINLINE void q8_dot4(const int8_t * q, const block_q8_0 * const * k, int64_t D, __m256 * m) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 f0 = _mm256_setzero_ps(), f1 = f0, f2 = f0, f3 = f0;
    for (int64_t b = 0; b < D/32; ++b) {
        __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t p = 0; p < 8; ++p) {
            const __m256i x  = _mm256_loadu_si256((const __m256i *) (q + (8*b + p)*32));
            const __m256i ax = _mm256_sign_epi8(x, x);
#define Q8_STEP(a, j) a = _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(_mm256_set1_epi32(*(const int32_t *) (k[j][b].qs + 4*p)), x)), ones))
            Q8_STEP(a0, 0); Q8_STEP(a1, 1); Q8_STEP(a2, 2); Q8_STEP(a3, 3);
#undef Q8_STEP
        }
        f0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a0), _mm256_set1_ps(GGML_FP16_TO_FP32(k[0][b].d)), f0);
        f1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a1), _mm256_set1_ps(GGML_FP16_TO_FP32(k[1][b].d)), f1);
        f2 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a2), _mm256_set1_ps(GGML_FP16_TO_FP32(k[2][b].d)), f2);
        f3 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(a3), _mm256_set1_ps(GGML_FP16_TO_FP32(k[3][b].d)), f3);
    }
    m[0] = _mm256_max_ps(m[0], f0); m[1] = _mm256_max_ps(m[1], f1);
    m[2] = _mm256_max_ps(m[2], f2); m[3] = _mm256_max_ps(m[3], f3);
}

static void q8_score(const int8_t * qs8, int64_t nb, int64_t D, float sq, const block_q8_0 * rows, int64_t j0, int64_t n, float * out) {
    const int64_t nbk = D/32;
    for (int64_t j = j0; j < j0 + n; j += 4) {
        __m256 m[4];
        const block_q8_0 * k[4];
        for (int i = 0; i < 4; ++i) { m[i] = _mm256_set1_ps(-INFINITY); k[i] = rows + (j + i)*nbk; }
        for (int64_t b = 0; b < nb; ++b) {
            q8_dot4(qs8 + b*D*8, k, D, m);
        }
        for (int i = 0; i < 4; ++i) {
            __m128 x = _mm_max_ps(_mm256_castps256_ps128(m[i]), _mm256_extractf128_ps(m[i], 1));
            x = _mm_max_ps(x, _mm_movehl_ps(x, x));
            x = _mm_max_ss(x, _mm_movehdup_ps(x));
            out[j - j0 + i] = _mm_cvtss_f32(x)/sq;
        }
    }
}
#endif

static void q8_write(const float * k, int64_t n, int64_t D, std::vector<block_q8_0> & out) {
    out.resize(n*D/32);
    std::vector<float> t(D);
    for (int64_t j = 0; j < n; ++j) {
        double n2 = 0.0;
        for (int64_t d = 0; d < D; ++d) n2 += (double) k[j*D + d]*k[j*D + d];
        for (int64_t d = 0; d < D; ++d) t[d] = (float) (k[j*D + d]/sqrt(n2));
        quantize_row_q8_0_ref(t.data(), out.data() + j*D/32, D);
    }
}

int main(int argc, char ** argv) {
    const int64_t D = 128, NQp = 16, HK = 8;
    const int64_t n_stream = argc > 1 ? atoll(argv[1]) : 131072; // cells streamed (the op bench's largest cache)
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> qa(NQp*D);
    for (auto & x : qa) {
        x = 0.1f*u(rng);
    }
    std::vector<int32_t> qt(NQp*D/2);
    const float qs = quoka_i16_qscale(qa.data(), NQp, D);
    quoka_queries_i16_avx2(qa.data(), NQp, D, qs, qt.data());
    std::vector<float> qf(NQp*D); // [NQp/16][D][16]
    for (int64_t r = 0; r < NQp; ++r) {
        for (int64_t d = 0; d < D; ++d) {
            qf[(r/16)*16*D + d*16 + r%16] = qa[r*D + d];
        }
    }
    const int64_t NC = 256; // cells: 512 KB of F16 keys, in L2
    std::vector<ggml_fp16_t> kc(NC*HK*D);
    for (auto & x : kc) {
        x = GGML_FP32_TO_FP16(u(rng));
    }
    std::vector<int16_t> ki(HK*16*D);
    std::vector<float> n2(HK*16), ks(HK*16), kf(16*D);
    float out[16], sink = 0.0f;
    const int reps = 2000;
    const double kh = (double) reps*NC*HK;
    double t_stage = 1e30, t_dot = 1e30, t_fp32 = 1e30;
    for (int t = 0; t < 5; ++t) {
        auto t0 = bench_clock::now();
        for (int r = 0; r < reps; ++r) {
            for (int64_t c = 0; c < NC; c += 16) {
                quoka_stage16_i16_avx2<ggml_fp16_t>((const char *) (kc.data() + c*HK*D), HK*D*sizeof(ggml_fp16_t), D*sizeof(ggml_fp16_t),
                    HK, D, 16, ki.data(), n2.data(), ks.data());
            }
        }
        t_stage = std::min(t_stage, ns_since(t0)/kh);
        t0 = bench_clock::now();
        for (int r = 0; r < reps; ++r) {
            for (int64_t c = 0; c < NC; c += 16) {
                for (int64_t hk = 0; hk < HK; ++hk) {
                    quoka_dot16_i16_avx2(qt.data(), NQp/8, D, ki.data() + hk*16*D, n2.data() + 16*hk, qs, 16, out);
                    sink += out[3];
                }
            }
        }
        t_dot = std::min(t_dot, ns_since(t0)/kh);
        t0 = bench_clock::now();
        for (int r = 0; r < reps; ++r) {
            for (int64_t c = 0; c < NC; c += 16) {
                for (int64_t hk = 0; hk < HK; ++hk) {
                    const char * rows[16];
                    for (int j = 0; j < 16; ++j) {
                        rows[j] = (const char *) (kc.data() + ((c + j)*HK + hk)*D);
                    }
                    quoka_exact16(qf.data(), NQp, NQp, D, GGML_TYPE_F16, rows, 16, kf.data(), nullptr, out, quoka_isa_best());
                    sink += out[2];
                }
            }
        }
        t_fp32 = std::min(t_fp32, ns_since(t0)/kh);
    }
    printf("cached keys, one thread, D %lld, %lld kept queries, ns per key and KV head:\n", (long long) D, (long long) NQp);
    printf("  int16 filter: staging %.2f + scoring %.2f = %.2f%s\n", t_stage, t_dot, t_stage + t_dot,
#if defined(__AVXVNNI__) || (defined(__AVX512VNNI__) && defined(__AVX512VL__))
        " (VNNI)"
#else
        " (madd + add)"
#endif
    );
    printf("  exact FP32 kernel of the build (%s): %.2f\n", quoka_isa_best() >= QUOKA_ISA_AVX512 ? "AVX-512 16-key" : "AVX2 4-key", t_fp32);

    // streaming: the staging alone over n_stream cells of HK heads (as the op reads a cache)
    std::vector<ggml_fp16_t> big(n_stream*HK*D);
    for (size_t i = 0; i < big.size(); ++i) {
        big[i] = GGML_FP32_TO_FP16(0.01f*(float) (i % 17));
    }
    for (int nt : { 1, 2 }) {
        double best = 1e30;
        for (int t = 0; t < 3; ++t) {
            best = std::min(best, on_threads(nt, [&](int it) {
                std::vector<int16_t> k16(HK*16*D);
                std::vector<float> nn(HK*16), sc(HK*16);
                for (int64_t c = 16*it; c + 16 <= n_stream; c += 16*nt) {
                    quoka_stage16_i16_avx2<ggml_fp16_t>((const char *) (big.data() + c*HK*D), HK*D*sizeof(ggml_fp16_t),
                        D*sizeof(ggml_fp16_t), HK, D, 16, k16.data(), nn.data(), sc.data());
                }
            }));
        }
        printf("staging alone over %lld cells x %lld KV heads (%.0f MB of F16 keys), %d thread%s: %.2f ms, %.1f GB/s\n",
            (long long) n_stream, (long long) HK, big.size()*2/1e6, nt, nt > 1 ? "s" : "", best/1e6, big.size()*2/best);
    }

    // prototype: a persistent 8-bit copy, scored with no staging (see i8_copy)
    {
        std::vector<uint8_t> qb(NQp*D);
        std::vector<float> ql1(NQp);
        const float sq = i8_queries(qa.data(), NQp, D, qb.data(), ql1.data());
        std::vector<float> kcf(NC*HK*D);
        for (size_t i = 0; i < kcf.size(); ++i) kcf[i] = GGML_FP16_TO_FP32(kc[i]);
        i8_copy c;
        i8_write(kcf.data(), NC*HK, D, c);
        std::vector<float> o8(NC*HK);
        double t_i8 = 1e30;
        for (int t = 0; t < 5; ++t) {
            const auto t0 = bench_clock::now();
            for (int r = 0; r < reps; ++r) {
                i8_score(qb.data(), NQp/8, D, sq, c, 0, NC*HK, o8.data());
                sink += o8[5];
            }
            t_i8 = std::min(t_i8, ns_since(t0)/kh);
        }
        printf("  prototype, persistent 8-bit copy (no staging): scoring %.2f\n", t_i8);
        std::vector<int8_t> qs8(NQp*D);
        std::vector<float> qb1(D/32);
        const float sq8 = q8_queries(qa.data(), NQp, D, qs8.data(), qb1.data());
        std::vector<block_q8_0> cq;
        q8_write(kcf.data(), NC*HK, D, cq);
        double t_q8 = 1e30;
        for (int t = 0; t < 5; ++t) {
            const auto t0 = bench_clock::now();
            for (int r = 0; r < reps; ++r) {
                q8_score(qs8.data(), NQp/8, D, sq8, cq.data(), 0, NC*HK, o8.data());
                sink += o8[5];
            }
            t_q8 = std::min(t_q8, ns_since(t0)/kh);
        }
        printf("  prototype, persistent Q8_0 copy of the normalised keys (no staging): scoring %.2f\n", t_q8);

        // the whole filter over a cache: int16 (staging + scoring) against the 8-bit copy
        std::vector<float> bigf(n_stream*HK*D);
        for (auto & x : bigf) x = u(rng);
        std::vector<ggml_fp16_t> bigh(bigf.size());
        for (size_t i = 0; i < bigf.size(); ++i) bigh[i] = GGML_FP32_TO_FP16(bigf[i]);
        i8_copy cb;
        i8_write(bigf.data(), n_stream*HK, D, cb);
        std::vector<block_q8_0> cbq;
        q8_write(bigf.data(), n_stream*HK, D, cbq);
        for (int nt : { 1, 2 }) {
            double b16 = 1e30, b8 = 1e30, bq = 1e30;
            for (int t = 0; t < 3; ++t) {
                b16 = std::min(b16, on_threads(nt, [&](int it) {
                    std::vector<int16_t> k16(HK*16*D);
                    std::vector<float> nn(HK*16), sc(HK*16), o(16);
                    for (int64_t cc = 16*it; cc + 16 <= n_stream; cc += 16*nt) {
                        for (int64_t a = 1; a <= 2; ++a) { // prefetch two blocks ahead, as the op does
                            const char * pf = (const char *) (bigh.data() + std::min(cc + 16*nt*a, n_stream - 16)*HK*D);
                            for (int64_t off = 0; off < 16*HK*D*2; off += 64*8) QUOKA_PREFETCH(pf + off);
                        }
                        quoka_stage16_i16_avx2<ggml_fp16_t>((const char *) (bigh.data() + cc*HK*D), HK*D*sizeof(ggml_fp16_t),
                            D*sizeof(ggml_fp16_t), HK, D, 16, k16.data(), nn.data(), sc.data());
                        for (int64_t hk = 0; hk < HK; ++hk) {
                            quoka_dot16_i16_avx2(qt.data(), NQp/8, D, k16.data() + hk*16*D, nn.data() + 16*hk, qs, 16, o.data());
                        }
                    }
                }));
                b8 = std::min(b8, on_threads(nt, [&](int it) {
                    std::vector<float> o(16*HK);
                    for (int64_t cc = 16*it; cc + 16 <= n_stream; cc += 16*nt) {
                        i8_score(qb.data(), NQp/8, D, sq, cb, cc*HK, 16*HK, o.data());
                    }
                }));
                bq = std::min(bq, on_threads(nt, [&](int it) {
                    std::vector<float> o(16*HK);
                    for (int64_t cc = 16*it; cc + 16 <= n_stream; cc += 16*nt) {
                        q8_score(qs8.data(), NQp/8, D, sq8, cbq.data(), cc*HK, 16*HK, o.data());
                    }
                }));
            }
            printf("whole filter over %lld cells x %lld KV heads, %d thread%s: int16 (F16 cache) %.2f ms, 8-bit copy %.2f ms (%.2fx), Q8_0 copy %.2f ms (%.2fx)\n",
                (long long) n_stream, (long long) HK, nt, nt > 1 ? "s" : "", b16/1e6, b8/1e6, b16/b8, bq/1e6, b16/bq);
        }

        // candidates left for the exact re-scoring, one KV head of the random cache, n_keep 1024:
        // the int16 and BF16 filters' global bounds (exact score within 2 eps of the threshold),
        // the 8-bit copy's per-key bound on its actual approximate scores
        const int64_t N = n_stream, keep = 1024;
        std::vector<float> ex(N), ap(N), e8(N);
        float qmax = 0.0f;
        for (int64_t r = 0; r < NQp; ++r) qmax = std::max(qmax, ql1[r]);
        std::vector<float> kh1(N*D);
        for (int64_t j = 0; j < N; ++j) memcpy(kh1.data() + j*D, bigf.data() + j*HK*D, D*sizeof(float));
        i8_copy c1;
        i8_write(kh1.data(), N, D, c1);
        i8_score(qb.data(), NQp/8, D, sq, c1, 0, N, ap.data());
        for (int64_t j = 0; j < N; ++j) {
            const float * x = kh1.data() + j*D;
            double n2 = 0.0, best = -1e30;
            for (int64_t d = 0; d < D; ++d) n2 += (double) x[d]*x[d];
            for (int64_t r = 0; r < NQp; ++r) {
                double dot = 0.0;
                for (int64_t d = 0; d < D; ++d) dot += (double) qa[r*D + d]*x[d];
                best = std::max(best, dot);
            }
            ex[j] = (float) (best/sqrt(n2));
            e8[j] = c1.inv[j]*(0.501f*qmax*sq + 0.501f*(c1.err[j] + 0.501f*(float) D) + 0.2511f*(float) D)/sq + 1e-6f;
        }
        std::vector<float> srt(ex);
        std::nth_element(srt.begin(), srt.begin() + keep - 1, srt.end(), std::greater<float>());
        const float tau = srt[keep - 1];
        auto band = [&](float eps) { int64_t n = 0; for (float v : ex) n += v >= tau - 2*eps; return n; };
        std::vector<float> lo(N);
        for (int64_t j = 0; j < N; ++j) lo[j] = ap[j] - e8[j];
        std::nth_element(lo.begin(), lo.begin() + keep - 1, lo.end(), std::greater<float>());
        const float t8 = lo[keep - 1];
        int64_t n8 = 0, miss = 0;
        double emax = 0.0, eb = 0.0;
        for (int64_t j = 0; j < N; ++j) {
            n8 += ap[j] + e8[j] >= t8;
            emax = std::max(emax, (double) fabsf(ap[j] - ex[j]));
            eb += e8[j];
            miss += fabsf(ap[j] - ex[j]) > e8[j];
        }
        // the Q8_0 copy: per-key bound from its block scales (see q8_queries), and that bound's
        // largest value over the keys used as one global eps
        std::vector<block_q8_0> c1q;
        q8_write(kh1.data(), N, D, c1q);
        std::vector<float> aq(N), eq(N);
        q8_score(qs8.data(), NQp/8, D, sq8, c1q.data(), 0, N, aq.data());
        float eqmax = 0.0f;
        int64_t missq = 0;
        double emaxq = 0.0;
        for (int64_t j = 0; j < N; ++j) {
            float e = 0.5f*sqrtf((float) D)/sq8 + 4.0f*(float) D/16777216.0f + 1e-6f;
            for (int64_t b = 0; b < D/32; ++b) {
                e += 0.57f*GGML_FP16_TO_FP32(c1q[j*D/32 + b].d)*(qb1[b] + 16.0f/sq8);
            }
            eq[j] = e;
            eqmax = std::max(eqmax, e);
            emaxq = std::max(emaxq, (double) fabsf(aq[j] - ex[j]));
            missq += fabsf(aq[j] - ex[j]) > e;
        }
        for (int64_t j = 0; j < N; ++j) lo[j] = aq[j] - eq[j];
        std::nth_element(lo.begin(), lo.begin() + keep - 1, lo.end(), std::greater<float>());
        int64_t nq8 = 0;
        for (int64_t j = 0; j < N; ++j) nq8 += aq[j] + eq[j] >= lo[keep - 1];
        std::vector<float> ag(aq);
        std::nth_element(ag.begin(), ag.begin() + keep - 1, ag.end(), std::greater<float>());
        int64_t nq8g = 0;
        for (int64_t j = 0; j < N; ++j) nq8g += aq[j] >= ag[keep - 1] - 2*eqmax;
        printf("  Q8_0 copy: per-key bound %lld candidates (largest error seen %.4f, over the bound %lld), its largest value as one eps (%.4f): %lld\n",
            (long long) nq8, emaxq, (long long) missq, eqmax, (long long) nq8g);
        const float qn = quoka_qnorm_max(qa.data(), NQp, D);
        printf("candidates re-scored of %lld keys (keep %lld, threshold %.4f): BF16 bound %lld (eps %.4f), int16 %lld (eps %.5f), "
            "8-bit copy %lld (mean eps %.4f, largest error seen %.4f, over the bound %lld)\n",
            (long long) N, (long long) keep, tau, (long long) band(quoka_bf16_eps(qn, D)), quoka_bf16_eps(qn, D),
            (long long) band(quoka_i16_eps(qs, D)), quoka_i16_eps(qs, D), (long long) n8, eb/N, emax, (long long) miss);
    }
    return sink == 12345.0f;
#else
    GGML_UNUSED(D); GGML_UNUSED(NQp); GGML_UNUSED(HK); GGML_UNUSED(n_stream);
    fprintf(stderr, "quoka-kernel-bench: the int16 filter needs an AVX2 build\n");
    return 1;
#endif
}
