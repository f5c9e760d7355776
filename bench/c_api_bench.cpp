// The cost the C ABI (tutti.h) adds to a host's tick loop: the same room work
// (8 PCM participants at 16 kHz: push a frame each, tick, pull a frame each)
// through the C++ room and through the tutti_room_* functions, in one run.
// The ratio c/cpp is the C layer's overhead (handle checks, struct-free
// calls, the event dispatch check).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "tutti/conference.hpp"
#include "tutti/tutti.h"

namespace {

constexpr int people = 8;
constexpr std::size_t frames = 320;

// One tick of a tone per participant (different frequencies), as int16.
std::vector<std::vector<std::int16_t>> voices() {
    std::vector<std::vector<std::int16_t>> v(people, std::vector<std::int16_t>(frames));
    for (int p = 0; p < people; ++p)
        for (std::size_t i = 0; i < frames; ++i)
            v[p][i] = static_cast<std::int16_t>(3000.0 * std::sin(2 * 3.14159265 * (200.0 + 100.0 * p) * double(i) / 16000.0));
    return v;
}

void cpp_tick(benchmark::State& state) {
    std::unique_ptr<tutti::room> r;
    if (tutti::room::create({.mixing_rate_hz = 16000}, r) != tutti::status::ok) return state.SkipWithError("create");
    std::vector<tutti::participant_id> ids(people);
    for (auto& id : ids)
        if (r->join_pcm({.sample_rate_hz = 16000, .channels = 1}, id) != tutti::status::ok) return state.SkipWithError("join");
    const auto in = voices();
    std::vector<std::int16_t> out(frames);
    std::vector<tutti::room_event> events(64);
    std::int64_t now = 0;
    for (auto _ : state) {
        for (int p = 0; p < people; ++p)
            (void)r->push_pcm(ids[p], tutti::interleaved_view<const std::int16_t>(in[p].data(), frames, 1));
        (void)r->tick(now += 20000);
        (void)r->poll_events(events);
        for (int p = 0; p < people; ++p) (void)r->pull_pcm(ids[p], tutti::interleaved_view<std::int16_t>(out.data(), frames, 1));
        benchmark::DoNotOptimize(out.data());
    }
}

void c_tick(benchmark::State& state) {
    tutti_room_config config;
    tutti_room_config_init(&config);
    config.mixing_rate_hz = 16000;
    tutti_room* r = nullptr;
    if (tutti_room_create(&config, &r) != TUTTI_OK) return state.SkipWithError("create");
    tutti_pcm_participant_config pc;
    tutti_pcm_participant_config_init(&pc);
    std::vector<std::uint32_t> ids(people);
    for (auto& id : ids)
        if (tutti_room_join_pcm(r, &pc, &id) != TUTTI_OK) return state.SkipWithError("join");
    const auto in = voices();
    std::vector<std::int16_t> out(frames);
    std::vector<tutti_room_event> events(64);
    std::int64_t now = 0;
    for (auto _ : state) {
        for (int p = 0; p < people; ++p) (void)tutti_room_push_pcm(r, ids[p], in[p].data(), frames, 1);
        (void)tutti_room_tick(r, now += 20000);
        events[0].struct_size = sizeof(tutti_room_event);
        (void)tutti_room_poll_events(r, events.data(), events.size());
        for (int p = 0; p < people; ++p) (void)tutti_room_pull_pcm(r, ids[p], out.data(), frames, 1);
        benchmark::DoNotOptimize(out.data());
    }
    tutti_room_destroy(r);
}

BENCHMARK(cpp_tick);
BENCHMARK(c_tick);

}  // namespace

BENCHMARK_MAIN();
