// Kernel throughput at every dispatch level this CPU runs, beside the
// baselines measured in the same process: memcpy, a streaming read (the best
// this core can pull from cache), and the scalar reference compiled with
// -fno-tree-vectorize (the per-sample loop PBXes run today).
//
// Names: <kernel>/<level>/N:<inputs>/frame:<samples>. Every run prints the
// active and best dispatch levels in its context; bench/report.py turns the
// JSON output into the tables in bench/README.md.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "tutti/buffer.hpp"
#include "tutti/kernels.hpp"
#include "tutti/limiter.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using tutti::simd_level;

const std::size_t frames[] = {80, 160, 320, 960};     // 10 ms at 8 kHz .. 20 ms at 48 kHz
const std::size_t inputs[] = {1, 3, 10, 100, 1000};   // mixed streams

std::vector<simd_level> levels() {
    std::vector<simd_level> out;
    for (simd_level l : {simd_level::scalar, simd_level::sse2, simd_level::avx2, simd_level::avx512, simd_level::neon})
        if (tutti::kernels_for(l) != nullptr) out.push_back(l);
    return out;
}

// N streams of `frame` samples, each starting on its own cache line, like
// per-participant buffers.
template <class T>
struct streams {
    streams(std::size_t n, std::size_t frame) : stride((frame * sizeof(T) + 63) / 64 * 64 / sizeof(T)), data(n * stride) {
        std::mt19937 rng(7);
        std::uniform_real_distribution<float> d(-0.5f, 0.5f);
        for (auto& x : data) x = static_cast<T>(d(rng) * (sizeof(T) == 2 ? 32767.0f : 1.0f));
        for (std::size_t i = 0; i < n; ++i) ptrs.push_back(data.data() + i * stride);
    }
    std::size_t stride;
    tutti::aligned_buffer<T> data;
    std::vector<const T*> ptrs;
};

void set_rates(benchmark::State& state, std::size_t bytes, std::size_t samples) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples));
}

// --- baselines ------------------------------------------------------------

// The fastest read of `bytes` this core does: eight independent vector sums
// (AVX2 where available), so the loop is bound by loads, not by add latency.
#if defined(__x86_64__)
__attribute__((target("avx2"))) float read_sum_avx2(const float* p, std::size_t n) {
    __m256 a[8];
    for (auto& v : a) v = _mm256_setzero_ps();
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64)
        for (int k = 0; k < 8; ++k) a[k] = _mm256_add_ps(a[k], _mm256_loadu_ps(p + i + 8 * k));
    for (; i + 8 <= n; i += 8) a[1] = _mm256_add_ps(a[1], _mm256_loadu_ps(p + i));
    for (int k = 1; k < 8; ++k) a[0] = _mm256_add_ps(a[0], a[k]);
    float lanes[8];
    _mm256_storeu_ps(lanes, a[0]);
    float s = 0;
    for (float x : lanes) s += x;
    for (; i < n; ++i) s += p[i];
    return s;
}
#endif
float read_sum(const float* p, std::size_t n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return read_sum_avx2(p, n);
#endif
    float a[8] = {};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; ++k) a[k] += p[i + k];
    for (; i < n; ++i) a[0] += p[i];
    return a[0] + a[1] + a[2] + a[3] + a[4] + a[5] + a[6] + a[7];
}

void bm_read_sum(benchmark::State& state, std::size_t n, std::size_t frame) {
    streams<float> s(n, frame);
    const std::size_t total = s.data.size();
    for (auto _ : state) benchmark::DoNotOptimize(read_sum(s.data.data(), total));
    set_rates(state, n * frame * sizeof(float), n * frame);
}

void bm_memcpy(benchmark::State& state, std::size_t n, std::size_t frame) {
    streams<float> s(n, frame);
    tutti::aligned_buffer<float> dst(s.data.size());
    for (auto _ : state) {
        std::memcpy(dst.data(), s.data.data(), n * frame * sizeof(float));
        benchmark::ClobberMemory();
    }
    set_rates(state, n * frame * sizeof(float), n * frame);
}

// --- mixing ------------------------------------------------------------------

void bm_mix_sum(benchmark::State& state, simd_level level, std::size_t n, std::size_t frame) {
    const auto& k = *tutti::kernels_for(level);
    streams<float> s(n, frame);
    tutti::aligned_buffer<float> dst(frame);
    for (auto _ : state) {
        k.mix_sum(dst.data(), s.ptrs.data(), n, frame);
        benchmark::ClobberMemory();
    }
    set_rates(state, n * frame * sizeof(float), n * frame);  // bytes read: what the baseline reads
}

void bm_mix_saturate_s16(benchmark::State& state, simd_level level, std::size_t n, std::size_t frame) {
    const auto& k = *tutti::kernels_for(level);
    streams<std::int16_t> s(n, frame);
    tutti::aligned_buffer<std::int16_t> dst(frame);
    for (auto _ : state) {
        k.mix_saturate_s16(dst.data(), s.ptrs.data(), n, frame);
        benchmark::ClobberMemory();
    }
    set_rates(state, n * frame * sizeof(std::int16_t), n * frame);
}

// --- one-input kernels -------------------------------------------------------

template <class Body>
void one_input(benchmark::State& state, std::size_t frame, std::size_t bytes_per_sample, Body body) {
    for (auto _ : state) {
        body();
        benchmark::ClobberMemory();
    }
    set_rates(state, frame * bytes_per_sample, frame);
}

void register_all() {
    const std::string best(tutti::to_string(tutti::best_simd_level()));
    benchmark::AddCustomContext("tutti_best_simd_level", best);
    benchmark::AddCustomContext("tutti_active_simd_level", std::string(tutti::to_string(tutti::active_simd_level())));

    for (std::size_t n : inputs)
        for (std::size_t f : frames) {
            const std::string suffix = "/N:" + std::to_string(n) + "/frame:" + std::to_string(f);
            benchmark::RegisterBenchmark(("read_sum/baseline" + suffix).c_str(), bm_read_sum, n, f);
            benchmark::RegisterBenchmark(("memcpy/baseline" + suffix).c_str(), bm_memcpy, n, f);
            for (simd_level l : levels()) {
                const std::string lv(tutti::to_string(l));
                benchmark::RegisterBenchmark(("mix_sum/" + lv + suffix).c_str(), bm_mix_sum, l, n, f);
                benchmark::RegisterBenchmark(("mix_saturate_s16/" + lv + suffix).c_str(), bm_mix_saturate_s16, l, n, f);
            }
        }

    // G.711 encoding as main did it before the G.711 kernels: the best level's
    // float_to_s16, then one table lookup per sample (the scalar encode_s16).
    for (std::size_t f : frames)
        for (const bool a_law : {false, true}) {
            const std::string name = std::string(a_law ? "g711_a_encode" : "g711_mu_encode") + "/baseline/N:1/frame:" + std::to_string(f);
            benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& st) {
                const auto& fastest = *tutti::kernels_for(tutti::best_simd_level());
                const auto& table = a_law ? tutti::kernels_for(simd_level::scalar)->a_law : tutti::kernels_for(simd_level::scalar)->mu_law;
                streams<float> a(1, f);
                std::vector<std::uint8_t> codes(f);
                one_input(st, f, 5, [&] {
                    std::int16_t s16[256];
                    for (std::size_t done = 0; done < f;) {
                        const std::size_t m = std::min<std::size_t>(256, f - done);
                        fastest.float_to_s16(a.data.data() + done, s16, m);
                        table.encode_s16(s16, codes.data() + done, m);
                        done += m;
                    }
                });
            });
        }

    for (std::size_t f : frames)
        for (simd_level l : levels()) {
            const std::string name_tail = "/" + std::string(tutti::to_string(l)) + "/N:1/frame:" + std::to_string(f);
            const tutti::kernel_table* k = tutti::kernels_for(l);
            auto reg = [&](const char* kernel, std::size_t bytes_per_sample, auto body) {
                benchmark::RegisterBenchmark((kernel + name_tail).c_str(), [=](benchmark::State& st) {
                    streams<float> a(2, f);
                    streams<std::int16_t> b(2, f);
                    float* fa = a.data.data();
                    float* fb = a.data.data() + a.stride;
                    std::int16_t* sa = b.data.data();
                    std::int16_t* sb = b.data.data() + b.stride;
                    one_input(st, f, bytes_per_sample, [&] { body(*k, fa, fb, sa, sb, f); });
                });
            };
            using table = tutti::kernel_table;
            reg("s16_to_float", 6, [](const table& t, float* x, float*, std::int16_t* s, std::int16_t*, std::size_t n) { t.s16_to_float(s, x, n); });
            reg("float_to_s16", 6, [](const table& t, float* x, float*, std::int16_t* s, std::int16_t*, std::size_t n) { t.float_to_s16(x, s, n); });
            reg("add_saturate_s16", 6, [](const table& t, float*, float*, std::int16_t* s, std::int16_t* d, std::size_t n) { t.add_saturate_s16(d, s, n); });
            reg("accumulate", 12, [](const table& t, float* x, float* y, std::int16_t*, std::int16_t*, std::size_t n) { t.accumulate(y, x, n); });
            reg("accumulate_scaled", 12, [](const table& t, float* x, float* y, std::int16_t*, std::int16_t*, std::size_t n) { t.accumulate_scaled(y, x, 0.5f, n); });
            reg("mix_minus", 12, [](const table& t, float* x, float* y, std::int16_t*, std::int16_t*, std::size_t n) { t.mix_minus(y, y, x, 0.9f, n); });
            reg("gain_ramp", 8, [](const table& t, float* x, float*, std::int16_t*, std::int16_t*, std::size_t n) { t.gain_ramp(x, x, 1.0f, 1.0f, n); });
            reg("clamp", 8, [](const table& t, float* x, float*, std::int16_t*, std::int16_t*, std::size_t n) { t.clamp(x, x, 0.9f, n); });
            reg("peak_abs", 4, [](const table& t, float* x, float*, std::int16_t*, std::int16_t*, std::size_t n) { benchmark::DoNotOptimize(t.peak_abs(x, n)); });
            reg("sum_squares", 4, [](const table& t, float* x, float*, std::int16_t*, std::int16_t*, std::size_t n) { benchmark::DoNotOptimize(t.sum_squares(x, n)); });
            // G.711 (tutti/codecs/g711.hpp goes through these): floats -> codes,
            // codes -> floats, and the exact sum of squares behind g711_level_dbov.
            auto reg_g711 = [&](const char* kernel, std::size_t bytes_per_sample, auto body) {
                benchmark::RegisterBenchmark((kernel + name_tail).c_str(), [=](benchmark::State& st) {
                    streams<float> a(1, f);
                    std::vector<std::uint8_t> codes(f);
                    std::mt19937 rng(9);
                    for (auto& c : codes) c = static_cast<std::uint8_t>(rng());
                    one_input(st, f, bytes_per_sample, [&] { body(*k, a.data.data(), codes.data(), f); });
                });
            };
            reg_g711("g711_mu_encode", 5, [](const table& t, float* x, std::uint8_t* c, std::size_t n) { t.mu_law.encode(x, c, n); });
            reg_g711("g711_a_encode", 5, [](const table& t, float* x, std::uint8_t* c, std::size_t n) { t.a_law.encode(x, c, n); });
            reg_g711("g711_mu_decode", 5, [](const table& t, float* x, std::uint8_t* c, std::size_t n) { t.mu_law.decode(c, x, n); });
            reg_g711("g711_a_decode", 5, [](const table& t, float* x, std::uint8_t* c, std::size_t n) { t.a_law.decode(c, x, n); });
            reg_g711("g711_mu_sum_squares", 1, [](const table& t, float*, std::uint8_t* c, std::size_t n) { benchmark::DoNotOptimize(t.mu_law.sum_squares(c, n)); });
            reg_g711("g711_a_sum_squares", 1, [](const table& t, float*, std::uint8_t* c, std::size_t n) { benchmark::DoNotOptimize(t.a_law.sum_squares(c, n)); });
            reg("limiter", 8, [l](const table&, float* x, float*, std::int16_t*, std::int16_t*, std::size_t n) {
                // The limiter calls the active kernels: run it at this level.
                static tutti::limiter lim;
                tutti::set_simd_level(l);
                lim.process({x, n});
            });
        }
}

}  // namespace

int main(int argc, char** argv) {
    register_all();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
