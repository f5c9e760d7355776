// Cost of a jitter buffer per packet (insert) and per tick (get), tutti against
// SpeexDSP's jitter buffer, replaying the same seeded Wi-Fi trace
// (network_trace.hpp: gamma jitter, loss, duplicates, reordering) in real-time
// order: at every 20 ms tick the packets that arrived are inserted, then one
// tick is taken. 48 kHz mono, 20 ms packets.
//   tick/<jb>        one iteration = one tick: its packets inserted (1 on
//                    average) and one get; automatic timing, so the CPU column
//                    is the cost per tick even on a loaded machine
//   insert/<jb>      per packet: tutti insert() / jitter_buffer_put() (which
//                    mallocs a copy of the payload)
//   get/<jb>         per tick: tutti get() / jitter_buffer_get() + decode or
//                    conceal + jitter_buffer_tick()
//   get_opus/<jb>    the same with a real Opus decoder (48 kHz, 20 ms): what a
//                    tick costs in practice, decoding included
// The split benchmarks time each call with steady_clock (UseManualTime) and
// also report `net_ns`: the MEDIAN per-call time minus the median cost of an
// empty timed region (timer_overhead), which preemption on a busy machine does
// not skew the way it skews the mean. Every tick uses a trivial decoder that
// writes a constant unless named _opus, so the jitter buffers' own work is measured.
// Medians of 5 repetitions (fixed below).
#include <benchmark/benchmark.h>
#include <speex/speex_jitter.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <algorithm>
#include <memory>
#include <numbers>
#include <vector>

#include "network_trace.hpp"
#include "tutti/codec.hpp"
#include "tutti/codecs/opus.hpp"
#include "tutti/jitter_buffer.hpp"

namespace {

constexpr std::uint32_t rate = 48000;
constexpr std::size_t frame = 960;  // 20 ms at 48 kHz
constexpr std::uint32_t frame_us = 20000;

// Decoder that costs (almost) nothing: every payload decodes to one frame of a constant.
class null_decoder final : public tutti::decoder {
public:
    tutti::audio_format format() const noexcept override { return {rate, 1, frame_us}; }
    std::ptrdiff_t frames_in(std::span<const std::uint8_t> p) const noexcept override {
        return p.empty() ? tutti::as_count(tutti::status::malformed) : static_cast<std::ptrdiff_t>(frame);
    }
    std::ptrdiff_t decode(std::span<const std::uint8_t> p, tutti::interleaved_view<float> pcm) noexcept override {
        if (p.empty() || pcm.frames() < frame) return tutti::as_count(tutti::status::malformed);
        std::fill_n(pcm.data(), frame, static_cast<float>(p[0]) / 512.0f);
        return static_cast<std::ptrdiff_t>(frame);
    }
    std::ptrdiff_t conceal(tutti::interleaved_view<float> pcm) noexcept override {
        std::fill_n(pcm.data(), pcm.frames(), 0.0f);
        return static_cast<std::ptrdiff_t>(pcm.frames());
    }
    void reset() noexcept override {}
};

// The replayed stream: the trace and one payload per frame.
struct stream {
    tutti_bench::network_trace trace;
    std::vector<tutti_bench::trace_arrival> arrivals;
    std::vector<std::vector<std::uint8_t>> payloads;
};

const stream& null_stream() {
    static const stream s = [] {
        stream x;
        x.trace = tutti_bench::make_trace("wifi", 42, 3000, 48000, frame_us);
        x.arrivals = x.trace.arrivals();
        x.payloads.resize(3000);
        for (std::size_t f = 0; f < 3000; ++f) x.payloads[f].assign(80, static_cast<std::uint8_t>(f));  // a typical Opus size
        return x;
    }();
    return s;
}

// A voiced, speech-like test signal (harmonics of a wandering 120-180 Hz pitch,
// syllable-rate envelope) coded with Opus at 48 kHz, 32 kb/s.
const stream& opus_stream() {
    static const stream s = [] {
        stream x;
        x.trace = tutti_bench::make_trace("wifi", 42, 3000, 48000, frame_us);
        x.arrivals = x.trace.arrivals();
        tutti::opus_encoder_config c;
        c.complexity = 5;
        c.inband_fec = true;
        c.expected_loss_percent = 10;
        std::unique_ptr<tutti::opus_encoder> enc;
        if (tutti::make_opus_encoder(c, enc) != tutti::status::ok) std::abort();
        std::vector<float> pcm(frame);
        std::vector<std::uint8_t> buf(1500);
        double phase = 0;
        for (std::size_t f = 0; f < 3000; ++f) {
            for (std::size_t i = 0; i < frame; ++i) {
                const double t = static_cast<double>(f * frame + i) / rate;
                const double f0 = 150.0 + 30.0 * std::sin(2 * std::numbers::pi * 0.7 * t);
                phase += 2 * std::numbers::pi * f0 / rate;
                double v = 0;
                for (int h = 1; h <= 12; ++h) v += std::sin(h * phase) / h;
                pcm[i] = static_cast<float>(0.1 * v * (0.6 + 0.4 * std::sin(2 * std::numbers::pi * 4.0 * t)));
            }
            const std::ptrdiff_t n = enc->encode({pcm.data(), frame, 1}, buf);
            if (n <= 0) std::abort();
            x.payloads.emplace_back(buf.begin(), buf.begin() + n);
        }
        return x;
    }();
    return s;
}

using clock_type = std::chrono::steady_clock;
double since(clock_type::time_point t0) { return std::chrono::duration<double>(clock_type::now() - t0).count(); }

enum class part { insert, get, tick };

// Per-call durations (ns) of one benchmark run, for a median.
struct samples {
    std::vector<float> ns;
    samples() { ns.reserve(std::size_t{1} << 22); }
    void add(double seconds) {
        if (ns.size() < ns.capacity()) ns.push_back(static_cast<float>(seconds * 1e9));
    }
    double median() {
        if (ns.empty()) return 0.0;
        std::nth_element(ns.begin(), ns.begin() + static_cast<std::ptrdiff_t>(ns.size() / 2), ns.end());
        return ns[ns.size() / 2];
    }
};

// Median cost of an empty timed region (two clock reads), measured once.
double timer_median_ns() {
    static const double v = [] {
        samples s;
        for (int i = 0; i < 200000; ++i) {
            const auto t0 = clock_type::now();
            s.add(since(t0));
        }
        return s.median();
    }();
    return v;
}

void report(benchmark::State& state, samples& s, std::int64_t items, part which) {
    state.counters[which == part::insert ? "packets" : "ticks"] = static_cast<double>(items);
    if (which != part::tick) state.counters["net_ns"] = std::max(0.0, s.median() - timer_median_ns());
}

// tutti: one benchmark iteration is one tick of the replay; `which` says what is timed.
void run_tutti(benchmark::State& state, const stream& s, tutti::decoder& dec, part which) {
    tutti::jitter_buffer_config cfg;
    std::unique_ptr<tutti::jitter_buffer> jb;
    if (tutti::jitter_buffer::create(cfg, dec, jb) != tutti::status::ok) {
        state.SkipWithError("jitter_buffer::create failed");
        return;
    }
    std::vector<float> out(frame);
    std::size_t next = 0, tick = 0;
    std::int64_t items = 0;
    samples calls;
    for (auto _ : state) {
        if (next >= s.arrivals.size()) {  // the trace is over: start again
            jb->reset();
            next = 0;
            tick = 0;
        }
        const std::int64_t now = static_cast<std::int64_t>(tick) * frame_us + 7300;
        double timed = 0;
        for (; next < s.arrivals.size() && s.arrivals[next].arrival_us <= now; ++next) {
            const auto& p = s.trace.packets[s.arrivals[next].packet];
            const tutti::rtp_packet_info info{p.sequence, p.timestamp, p.ssrc, 111, p.marker};
            const auto t0 = clock_type::now();
            benchmark::DoNotOptimize(jb->insert(info, s.payloads[p.frame], s.arrivals[next].arrival_us));
            if (which == part::insert) {
                const double d = since(t0);
                timed += d;
                calls.add(d);
                ++items;
            }
        }
        const auto t0 = clock_type::now();
        benchmark::DoNotOptimize(jb->get({out.data(), frame, 1}, now));
        benchmark::ClobberMemory();
        if (which == part::get) {
            timed = since(t0);
            calls.add(timed);
        }
        if (which != part::insert) ++items;
        if (which != part::tick) state.SetIterationTime(timed);
        ++tick;
    }
    report(state, calls, items, which);
}

// SpeexDSP, used as VoIP applications use it (see jitter_eval.cpp).
void run_speex(benchmark::State& state, const stream& s, tutti::decoder& dec, part which) {
    const spx_int32_t span = 960;  // RTP units per packet (48 kHz)
    JitterBuffer* jb = jitter_buffer_init(span);
    std::vector<float> out(frame);
    std::vector<char> buf(4096);
    std::size_t next = 0, tick = 0;
    std::int64_t items = 0;
    samples calls;
    for (auto _ : state) {
        if (next >= s.arrivals.size()) {
            jitter_buffer_reset(jb);
            dec.reset();
            next = 0;
            tick = 0;
        }
        const std::int64_t now = static_cast<std::int64_t>(tick) * frame_us + 7300;
        double timed = 0;
        for (; next < s.arrivals.size() && s.arrivals[next].arrival_us <= now; ++next) {
            const auto& p = s.trace.packets[s.arrivals[next].packet];
            const auto& payload = s.payloads[p.frame];
            JitterBufferPacket jp{};
            jp.data = reinterpret_cast<char*>(const_cast<std::uint8_t*>(payload.data()));
            jp.len = static_cast<spx_uint32_t>(payload.size());
            jp.timestamp = p.timestamp;
            jp.span = static_cast<spx_uint32_t>(span);
            jp.sequence = p.sequence;
            const auto t0 = clock_type::now();
            jitter_buffer_put(jb, &jp);
            if (which == part::insert) {
                const double d = since(t0);
                timed += d;
                calls.add(d);
                ++items;
            }
        }
        const auto t0 = clock_type::now();
        JitterBufferPacket jp{};
        jp.data = buf.data();
        jp.len = static_cast<spx_uint32_t>(buf.size());
        spx_int32_t offset = 0;
        const tutti::interleaved_view<float> view(out.data(), frame, 1);
        if (jitter_buffer_get(jb, &jp, span, &offset) == JITTER_BUFFER_OK)
            benchmark::DoNotOptimize(dec.decode({reinterpret_cast<const std::uint8_t*>(jp.data), jp.len}, view));
        else
            benchmark::DoNotOptimize(dec.conceal(view));
        jitter_buffer_tick(jb);
        benchmark::ClobberMemory();
        if (which == part::get) {
            timed = since(t0);
            calls.add(timed);
        }
        if (which != part::insert) ++items;
        if (which != part::tick) state.SetIterationTime(timed);
        ++tick;
    }
    jitter_buffer_destroy(jb);
    report(state, calls, items, which);
}

std::unique_ptr<tutti::decoder> opus_decoder() {
    std::unique_ptr<tutti::decoder> d;
    if (tutti::make_opus_decoder(tutti::opus_decoder_config{}, d) != tutti::status::ok) std::abort();
    return d;
}

void timer_overhead(benchmark::State& state) {
    samples calls;
    for (auto _ : state) {
        const auto t0 = clock_type::now();
        const double d = since(t0);
        calls.add(d);
        state.SetIterationTime(d);
    }
    state.counters["median_ns"] = calls.median();
}

void tick_tutti(benchmark::State& state) { null_decoder d; run_tutti(state, null_stream(), d, part::tick); }
void tick_speex(benchmark::State& state) { null_decoder d; run_speex(state, null_stream(), d, part::tick); }
void insert_tutti(benchmark::State& state) { null_decoder d; run_tutti(state, null_stream(), d, part::insert); }
void insert_speex(benchmark::State& state) { null_decoder d; run_speex(state, null_stream(), d, part::insert); }
void get_tutti(benchmark::State& state) { null_decoder d; run_tutti(state, null_stream(), d, part::get); }
void get_speex(benchmark::State& state) { null_decoder d; run_speex(state, null_stream(), d, part::get); }
void get_opus_tutti(benchmark::State& state) { auto d = opus_decoder(); run_tutti(state, opus_stream(), *d, part::get); }
void get_opus_speex(benchmark::State& state) { auto d = opus_decoder(); run_speex(state, opus_stream(), *d, part::get); }

void manual(benchmark::internal::Benchmark* b) {
    b->UseManualTime()->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kNanosecond);
}
void automatic(benchmark::internal::Benchmark* b) {
    b->Repetitions(5)->ReportAggregatesOnly(true)->Unit(benchmark::kNanosecond);
}

}  // namespace

BENCHMARK(timer_overhead)->Name("timer_overhead")->Apply(manual);
BENCHMARK(tick_tutti)->Name("tick/tutti")->Apply(automatic);
BENCHMARK(tick_speex)->Name("tick/speex")->Apply(automatic);
BENCHMARK(insert_tutti)->Name("insert/tutti")->Apply(manual);
BENCHMARK(insert_speex)->Name("insert/speex")->Apply(manual);
BENCHMARK(get_tutti)->Name("get/tutti")->Apply(manual);
BENCHMARK(get_speex)->Name("get/speex")->Apply(manual);
BENCHMARK(get_opus_tutti)->Name("get_opus/tutti")->Apply(manual);
BENCHMARK(get_opus_speex)->Name("get_opus/speex")->Apply(manual);

BENCHMARK_MAIN();
