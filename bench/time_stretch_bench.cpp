// Cost of one time_stretcher call: what the jitter buffer pays on a tick
// where it decides to accelerate or stretch (at most one call per 20 ms tick,
// on the minimum block of 30 ms of decoded audio).
//
// Names: <call>/<signal>/rate:<Hz>
//   accelerate       one period removed (accelerate_mode::one_period)
//   accelerate_fast  up to 15 ms of whole periods removed (accelerate_mode::fast)
//   stretch          one period inserted
//   voiced           a synthetic vowel (harmonic complex, 1/k amplitudes up to
//                    3.4 kHz, f0 gliding 100..140 Hz) that the stretcher splices
//   noise            -20 dBov white noise: analysed, rejected and copied (the
//                    worst case for the caller: paid for and nothing gained)
// Every iteration takes the next 30 ms of a 2 s signal, so the pitch and the
// branch history change from call to call. Time is per call; the `applied`
// counter is the share of calls that spliced. Medians of 5 repetitions.
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <numbers>
#include <random>
#include <vector>

#include "tutti/time_stretch.hpp"

namespace {

enum class call { accelerate, accelerate_fast, stretch };
enum class signal { voiced, noise };

std::vector<float> make_signal(signal kind, std::uint32_t rate, std::size_t frames) {
    std::vector<float> x(frames);
    std::mt19937 rng(1);
    if (kind == signal::noise) {
        std::normal_distribution<float> d(0.0f, 0.1f);
        for (float& v : x) v = d(rng);
        return x;
    }
    std::normal_distribution<float> d(0.0f, 0.001f);
    double phase = 0.0;
    const double top = std::min(3400.0, 0.45 * rate);
    for (std::size_t i = 0; i < frames; ++i) {
        const double t = static_cast<double>(i) / rate;
        const double f0 = 120.0 + 20.0 * std::sin(2.0 * std::numbers::pi * 1.3 * t);
        phase += 2.0 * std::numbers::pi * f0 / rate;
        double s = 0.0;
        for (int k = 1; k * f0 < top; ++k) s += std::sin(k * phase) / k;
        x[i] = static_cast<float>(0.2 * s) + d(rng);
    }
    return x;
}

void run(benchmark::State& state, call what, signal kind) {
    const auto rate = static_cast<std::uint32_t>(state.range(0));
    std::unique_ptr<tutti::time_stretcher> t;
    if (tutti::time_stretcher::create({rate, 1}, t) != tutti::status::ok) {
        state.SkipWithError("create failed");
        return;
    }
    const std::size_t block = t->min_input_frames();
    const std::vector<float> x = make_signal(kind, rate, 2 * rate);
    std::vector<float> out(block + t->max_period_frames());
    const std::size_t blocks = x.size() / block;
    std::size_t next = 0, applied = 0, calls = 0;
    for (auto _ : state) {
        const tutti::interleaved_view<const float> in(x.data() + next * block, block, 1);
        tutti::time_stretch_result r;
        switch (what) {
            case call::accelerate: r = t->accelerate(in, {out.data(), block, 1}); break;
            case call::accelerate_fast:
                r = t->accelerate(in, {out.data(), block, 1}, tutti::accelerate_mode::fast);
                break;
            case call::stretch: r = t->stretch(in, {out.data(), out.size(), 1}); break;
        }
        benchmark::DoNotOptimize(r);
        benchmark::ClobberMemory();
        applied += r.applied;
        ++calls;
        next = next + 1 == blocks ? 0 : next + 1;
    }
    state.counters["applied"] = calls == 0 ? 0.0 : static_cast<double>(applied) / static_cast<double>(calls);
    state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * block));
}

void configure(benchmark::internal::Benchmark* b) {
    b->ArgName("rate")->Arg(8000)->Arg(16000)->Arg(48000);
    b->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(run, accelerate_voiced, call::accelerate, signal::voiced)->Name("accelerate/voiced")->Apply(configure);
BENCHMARK_CAPTURE(run, accelerate_fast_voiced, call::accelerate_fast, signal::voiced)
    ->Name("accelerate_fast/voiced")
    ->Apply(configure);
BENCHMARK_CAPTURE(run, stretch_voiced, call::stretch, signal::voiced)->Name("stretch/voiced")->Apply(configure);
BENCHMARK_CAPTURE(run, accelerate_noise, call::accelerate, signal::noise)->Name("accelerate/noise")->Apply(configure);
BENCHMARK_CAPTURE(run, stretch_noise, call::stretch, signal::noise)->Name("stretch/noise")->Apply(configure);

}  // namespace

BENCHMARK_MAIN();
