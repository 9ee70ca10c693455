// Microbenchmark of the CPU QUOKA scoring kernels on cached keys, one thread: ns per key and KV
// head for the int16 filter's staging and scoring, the build's exact FP32 several-key kernel, and the
// staging alone streaming a cache-sized buffer (one and two threads). It includes the kernels'
// source (they are file-local), so it is built against the patched tree, with the build's flags:
// scripts/kernel-bench.sh.
#include "ggml-cpu/quoka.cpp"

#include <chrono>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

using bench_clock = std::chrono::steady_clock;

static double ns_since(bench_clock::time_point t0) {
    return std::chrono::duration<double, std::nano>(bench_clock::now() - t0).count();
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
            const auto t0 = bench_clock::now();
            std::vector<std::thread> th;
            for (int it = 0; it < nt; ++it) {
                th.emplace_back([&, it] {
                    std::vector<int16_t> k16(HK*16*D);
                    std::vector<float> nn(HK*16), sc(HK*16);
                    for (int64_t c = 16*it; c + 16 <= n_stream; c += 16*nt) {
                        quoka_stage16_i16_avx2<ggml_fp16_t>((const char *) (big.data() + c*HK*D), HK*D*sizeof(ggml_fp16_t),
                            D*sizeof(ggml_fp16_t), HK, D, 16, k16.data(), nn.data(), sc.data());
                    }
                });
            }
            for (auto & x : th) {
                x.join();
            }
            best = std::min(best, ns_since(t0));
        }
        printf("staging alone over %lld cells x %lld KV heads (%.0f MB of F16 keys), %d thread%s: %.2f ms, %.1f GB/s\n",
            (long long) n_stream, (long long) HK, big.size()*2/1e6, nt, nt > 1 ? "s" : "", best/1e6, big.size()*2/best);
    }
    return sink == 12345.0f;
#else
    GGML_UNUSED(D); GGML_UNUSED(NQp); GGML_UNUSED(HK); GGML_UNUSED(n_stream);
    fprintf(stderr, "quoka-kernel-bench: the int16 filter needs an AVX2 build\n");
    return 1;
#endif
}
